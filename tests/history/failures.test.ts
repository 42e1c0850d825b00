import assert, { deepStrictEqual, equal } from "node:assert/strict";
import {
  type BlockWriter,
  createRecorder,
  openHistory,
  type RecordingGap,
} from "../../core/history/mod.ts";
import { createBlockWriter } from "../../core/history/block_writer.ts";
import type { TradeEvent } from "../../core/events.ts";
import { collect, withTempDir } from "./helpers.ts";

const T = Date.UTC(2026, 11, 7, 9);

function trade(i: number): TradeEvent {
  return {
    type: "trade",
    exchange: "binance",
    symbol: "BTCUSDT",
    eventTime: T + i,
    receiveTime: T + i,
    price: 60000 + i / 100,
    quantity: 0.5,
    timestamp: new Date(T + i).toISOString(),
    tradeId: i,
    side: "buy",
    raw: { t: i },
  };
}

Deno.test("an unwritable folder is reported through stats and onError; record never throws", async () => {
  const errors: string[] = [];
  // A folder below a regular file can never be created (root ignores permission bits).
  const file = Deno.makeTempFileSync();
  try {
    const recorder = createRecorder({
      dir: `${file}/history`,
      onError: (_err, context) => errors.push(context),
    });
    for (let i = 0; i < 100; i++) recorder.record({ exchange: "binance", item: trade(i) });
    await recorder.flush();
    const stats = recorder.stats();
    equal(stats.healthy, false);
    assert(stats.errors >= 1);
    assert(stats.lastError?.context.includes(`${file}/history`), "the error says which folder");
    equal(stats.dropped, 100, "every item counted as dropped");
    assert(errors.length >= 1, "onError was called");
    await recorder.close();
  } finally {
    Deno.removeSync(file);
  }
});

Deno.test("a full disk drops and counts, then the recording resumes with a gap marker where the hole is", async () => {
  await withTempDir(async (dir) => {
    let full = false;
    const failing = (options: Parameters<typeof createBlockWriter>[0]): BlockWriter => {
      const real = createBlockWriter(options);
      return {
        ...real,
        writeDay(day, items) {
          if (full) throw new Error("database or disk is full");
          return real.writeDay(day, items);
        },
      };
    };
    const recorder = createRecorder({ dir, writer: failing });
    for (let i = 0; i < 10; i++) recorder.record({ exchange: "binance", item: trade(i) });
    await recorder.flush();
    full = true;
    for (let i = 10; i < 30; i++) recorder.record({ exchange: "binance", item: trade(i) });
    await recorder.flush();
    let stats = recorder.stats();
    equal(stats.dropped, 20);
    equal(stats.healthy, false);
    equal(stats.lastError?.message, "database or disk is full");
    full = false;
    for (let i = 30; i < 40; i++) recorder.record({ exchange: "binance", item: trade(i) });
    await recorder.close();
    stats = recorder.stats();
    equal(stats.written, 20);
    equal(stats.healthy, true);

    const history = openHistory(dir);
    const back = await collect(history.events({ from: 0, to: Infinity }));
    deepStrictEqual(back.map((r) => r.item.type === "trade" ? r.item.tradeId : r.item.type), [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
      "recording_gap",
      30,
      31,
      32,
      33,
      34,
      35,
      36,
      37,
      38,
      39,
    ]);
    const gap = back[10].item as RecordingGap;
    deepStrictEqual(
      {
        fromSeq: gap.fromSeq,
        toSeq: gap.toSeq,
        dropped: gap.dropped,
        fromTime: gap.fromTime,
        toTime: gap.toTime,
      },
      { fromSeq: 11, toSeq: 30, dropped: 20, fromTime: T + 10, toTime: T + 29 },
    );
    assert(gap.reason.includes("disk is full"));
    history.close();
  });
});

Deno.test("a bounded queue drops and counts what does not fit, without waiting", async () => {
  await withTempDir(async (dir) => {
    const recorder = createRecorder({ dir, maxQueueItems: 100 });
    const started = performance.now();
    for (let i = 0; i < 500; i++) recorder.record({ exchange: "binance", item: trade(i) });
    const took = performance.now() - started;
    let stats = recorder.stats();
    equal(stats.recorded, 100);
    equal(stats.dropped, 400);
    equal(stats.queued, 100);
    assert(took < 200, `record() of 500 items took ${took} ms`);
    await recorder.close();
    stats = recorder.stats();
    equal(stats.written, 100);
    const history = openHistory(dir);
    const back = await collect(history.events({ from: 0, to: Infinity }));
    equal(back.length, 101);
    const gap = back[100].item as RecordingGap;
    equal(gap.type, "recording_gap");
    deepStrictEqual([gap.fromSeq, gap.toSeq, gap.dropped, gap.reason], [
      101,
      500,
      400,
      "recording queue full",
    ]);
    history.close();
  });
});

Deno.test("a byte-bounded queue counts big book updates against its limit", async () => {
  const file = Deno.makeTempFileSync();
  try {
    const recorder = createRecorder({
      dir: `${file}/x`,
      maxQueueBytes: 100_000,
      onError: () => {},
    });
    const levels: [number, number][] = Array.from({ length: 1000 }, (_, i) => [i + 1, 1]);
    for (let i = 0; i < 10; i++) {
      recorder.record({
        exchange: "binance",
        item: {
          type: "book",
          exchange: "binance",
          symbol: "BTCUSDT",
          eventTime: T,
          receiveTime: T,
          snapshot: true,
          bids: levels,
          asks: [],
          timestamp: new Date(T).toISOString(),
        },
      });
    }
    const stats = recorder.stats();
    equal(stats.recorded, 2, "two 48 KB snapshots fit in 100 KB");
    equal(stats.dropped, 8);
    assert(stats.queuedBytes <= 100_000);
    await recorder.close();
  } finally {
    Deno.removeSync(file);
  }
});

Deno.test("a damaged block or a truncated file is skipped and counted, never thrown", async () => {
  await withTempDir(async (dir) => {
    const recorder = createRecorder({ dir, compactMs: 0 });
    for (let i = 0; i < 3000; i++) recorder.record({ exchange: "binance", item: trade(i) });
    await recorder.close();
    // Damage one block's bytes in place.
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${dir}/2026-12-07.sqlite`);
    db.prepare(
      "UPDATE blocks SET data = substr(data, 1, length(data) - 5) || x'0102030405' WHERE id = 2",
    ).run();
    db.close();
    const history = openHistory(dir);
    const back = await collect(history.events({ from: 0, to: Infinity }));
    equal(history.problems().corruptBlocks, 1);
    assert(back.length > 1000 && back.length < 3000, `the other blocks read (${back.length})`);
    history.close();
    // Truncate the file: reading still does not throw.
    const path = `${dir}/2026-12-07.sqlite`;
    const size = Deno.statSync(path).size;
    Deno.truncateSync(path, Math.floor(size / 2));
    Deno.writeFileSync(`${dir}/2026-12-06.sqlite`, new TextEncoder().encode("not a database"));
    const again = openHistory(dir);
    await collect(again.events({ from: 0, to: Infinity }));
    again.catalog();
    await again.bookAt("binance", "BTCUSDT", T + 100);
    assert(again.problems().unreadableDays + again.problems().corruptBlocks >= 1);
    again.close();
  });
});

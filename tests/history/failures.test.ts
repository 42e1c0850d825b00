import assert, { deepStrictEqual, equal } from "node:assert/strict";
import {
  type BlockWriter,
  createRecorder,
  openHistory,
  type RecordingGap,
} from "../../core/history/mod.ts";
import { createBlockWriter } from "../../core/history/block_writer.ts";
import type { BookUpdate, TradeEvent } from "../../core/events.ts";
import { createBooks } from "../../core/books/books.ts";
import { topN } from "../../core/books/book.ts";
import type { Delivery } from "../../core/delivery/policy.ts";
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
    // Still full: the gap marker cannot be written either and widens.
    for (let i = 30; i < 35; i++) recorder.record({ exchange: "binance", item: trade(i) });
    await recorder.flush();
    equal(recorder.stats().dropped, 25);
    full = false;
    for (let i = 35; i < 40; i++) recorder.record({ exchange: "binance", item: trade(i) });
    await recorder.close();
    stats = recorder.stats();
    equal(stats.written, 15);
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
      { fromSeq: 11, toSeq: 35, dropped: 25, fromTime: T + 10, toTime: T + 34 },
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

Deno.test("after a recording gap the hub's books are stored, so bookAt is exact again at once", async () => {
  await withTempDir(async (dir) => {
    const books = createBooks({} as Delivery, () => {});
    let full = false;
    const failing = (options: Parameters<typeof createBlockWriter>[0]): BlockWriter => {
      const real = createBlockWriter(options);
      return {
        ...real,
        writeDay(day, items, snapshots) {
          if (full) throw new Error("database or disk is full");
          return real.writeDay(day, items, snapshots);
        },
      };
    };
    const recorder = createRecorder({
      dir,
      writer: failing,
      books: () =>
        [{ exchange: "binance", symbol: "BTCUSDT" }].map(({ exchange, symbol }) => {
          const entry = books.get(exchange, symbol)!;
          return { exchange, symbol, updateId: entry.book.updateId, ...topN(entry.book, Infinity) };
        }),
    });
    // The hub applies each update, then records it.
    const update = (i: number, snapshot = false): BookUpdate => ({
      type: "book",
      exchange: "binance",
      symbol: "BTCUSDT",
      eventTime: T + i,
      receiveTime: T + i,
      snapshot,
      bids: snapshot ? [[100, 1], [99, 2]] : [[100 - (i % 5), i]],
      asks: snapshot ? [[101, 1], [102, 2]] : [[101 + (i % 7), i]],
      updateId: i,
      timestamp: new Date(T + i).toISOString(),
    });
    const feed = (i: number, snapshot = false) => {
      const u = update(i, snapshot);
      books.apply(u);
      recorder.record({ exchange: "binance", item: u });
    };
    feed(0, true);
    for (let i = 1; i < 50; i++) feed(i);
    await recorder.flush();
    full = true;
    for (let i = 50; i < 80; i++) feed(i);
    await recorder.flush();
    full = false;
    for (let i = 80; i < 100; i++) feed(i);
    await recorder.close();
    equal(recorder.stats().dropped, 30);

    const history = openHistory(dir);
    const live = books.get("binance", "BTCUSDT")!;
    const after = await history.bookAt("binance", "BTCUSDT", T + 99);
    deepStrictEqual(
      { synced: after!.synced, updateId: after!.updateId, bids: after!.bids, asks: after!.asks },
      { synced: true, updateId: 99, ...topN(live.book, Infinity) },
    );
    equal((await history.bookAt("binance", "BTCUSDT", T + 49))!.synced, true, "before the gap");
    equal(
      (await history.bookAt("binance", "BTCUSDT", T + 85))!.synced,
      false,
      "unknown inside the gap",
    );
    history.close();
  });
});

/**
 * A batch holding items of several UTC days: every day is written, whatever becomes of
 * finishing (merging, vacuuming) the day before, and whatever permissions Deno runs with.
 */
import assert, { deepStrictEqual, equal } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type BlockWriter, createRecorder, openHistory } from "../../core/history/mod.ts";
import { createBlockWriter } from "../../core/history/block_writer.ts";
import { dayPath, listDays } from "../../core/history/day_store.ts";
import type { TradeEvent } from "../../core/events.ts";
import { collect, withTempDir } from "./helpers.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12);
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function trade(t: number, id: string): TradeEvent {
  return {
    type: "trade",
    exchange: "kraken",
    symbol: "XBT/USD",
    eventTime: t,
    receiveTime: t,
    price: 61000,
    quantity: 1,
    timestamp: new Date(t).toISOString(),
    tradeId: id,
    side: "sell",
  };
}

Deno.test("without -A (as deno task start runs) a multi-day batch writes every day and vacuums the finished ones", async () => {
  await withTempDir(async (dir) => {
    const ages = [10, 8, 6, 1, 0];
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        `--allow-write=${dir}`,
        new URL("./days_child.ts", import.meta.url).pathname,
        dir,
        ...ages.map(String),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, `the child failed: ${stderr}`);
    const stats = JSON.parse(new TextDecoder().decode(out.stdout));
    const why = `recorder stats: ${JSON.stringify(stats)}`;
    equal(stats.errors, 0, why);
    equal(stats.written, ages.length * 200, why);
    deepStrictEqual(listDays(dir), ages.map((a) => dayOf(NOW - a * DAY)), why);
    // A finished day (all but the last) has no free pages left.
    const db = new DatabaseSync(dayPath(dir, dayOf(NOW - 10 * DAY)), { readOnly: true });
    try {
      const free = db.prepare("PRAGMA freelist_count").get() as { freelist_count: number };
      equal(free.freelist_count, 0, "the finished day was vacuumed");
    } finally {
      db.close();
    }
  });
});

Deno.test("a day that cannot be finished (file locked while merging) is reported, and the next days of the batch are still written", async () => {
  await withTempDir(async (dir) => {
    const days = [3, 2, 1].map((a) => dayOf(NOW - a * DAY));
    let lock: DatabaseSync | undefined;
    // Another connection holds the first day's write lock while the writer switches days.
    const locking = (options: Parameters<typeof createBlockWriter>[0]): BlockWriter => {
      const real = createBlockWriter(options);
      return {
        ...real,
        writeDay(day, items, snapshots) {
          if (day === days[1]) {
            lock = new DatabaseSync(dayPath(dir, days[0]));
            lock.exec("BEGIN IMMEDIATE");
          }
          try {
            return real.writeDay(day, items, snapshots);
          } finally {
            lock?.exec("ROLLBACK");
            lock?.close();
            lock = undefined;
          }
        },
      };
    };
    const recorder = createRecorder({ dir, writer: locking });
    const recorded: number[] = [];
    for (const day of days) {
      for (let i = 0; i < 50; i++) {
        recorder.record({
          exchange: "kraken",
          item: trade(Date.parse(day) + 3_600_000 + i, `${day}-${i}`),
        });
        recorded.push(Date.parse(day) + 3_600_000 + i);
      }
    }
    await recorder.close();
    const stats = recorder.stats();
    const why = `recorder stats: ${JSON.stringify(stats)}`;
    deepStrictEqual(listDays(dir), days, why);
    equal(stats.written, 150, why);
    equal(stats.dropped, 0, why);
    assert(stats.errors >= 1, `the unfinished day is reported: ${why}`);
    assert(stats.lastError?.message.includes(days[0]), `the error names the day: ${why}`);
    equal(stats.healthy, true, `nothing was lost: ${why}`);
    const history = openHistory(dir);
    try {
      const back = await collect(history.events({ from: 0, to: Infinity }));
      deepStrictEqual(back.map((e) => e.receiveTime), recorded, "every item reads back, in order");
    } finally {
      history.close();
    }
  });
});

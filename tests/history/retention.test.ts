import assert, { deepStrictEqual, equal } from "node:assert/strict";
import { applyRetention, createRecorder, openHistory } from "../../core/history/mod.ts";
import { listDays } from "../../core/history/day_store.ts";
import { dayBytes } from "../../core/history/retention.ts";
import { DAY, recordTradesOnDays, withTempDir } from "./helpers.ts";

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Records 200 trades on each day `ages` days before `now` in one batch, then closes; throws
 * with the recorder's stats unless every item was written. Returns the stats, as JSON,
 * for the messages of later assertions.
 */
async function recordDays(dir: string, now: number, ages: number[]): Promise<string> {
  const recorder = createRecorder({ dir });
  recordTradesOnDays(recorder, now, ages);
  await recorder.close();
  const stats = recorder.stats();
  const why = `recorder stats: ${JSON.stringify(stats)}`;
  equal(stats.errors, 0, why);
  equal(stats.written, ages.length * 200, why);
  deepStrictEqual(listDays(dir), ages.map((a) => dayOf(now - a * DAY)), why);
  return why;
}

Deno.test("retention by days deletes the oldest days and keeps the last N", async () => {
  await withTempDir(async (dir) => {
    const now = Date.UTC(2026, 11, 7, 12);
    const why = await recordDays(dir, now, [10, 8, 6, 1, 0]);
    const deleted = applyRetention(dir, { retentionDays: 7 }, now, dayOf(now));
    deepStrictEqual(deleted, [dayOf(now - 10 * DAY), dayOf(now - 8 * DAY)], why);
    deepStrictEqual(listDays(dir), [dayOf(now - 6 * DAY), dayOf(now - DAY), dayOf(now)], why);
    assert(
      !Deno.readDirSync(dir).some((e) => e.name.startsWith(dayOf(now - 8 * DAY))),
      "WAL files go too",
    );
  });
});

Deno.test("retention by bytes deletes oldest first until under the limit, never today", async () => {
  await withTempDir(async (dir) => {
    const now = Date.UTC(2026, 11, 7, 12);
    const why = await recordDays(dir, now, [3, 2, 1, 0]);
    const history = openHistory(dir);
    equal(history.catalog().days.length, 4, why);
    history.close();
    const sizes = listDays(dir).map((d) => dayBytes(dir, d));
    const limit = sizes[2] + sizes[3];
    const deleted = applyRetention(dir, { maxBytes: limit }, now, dayOf(now));
    deepStrictEqual(deleted, [dayOf(now - 3 * DAY), dayOf(now - 2 * DAY)]);
    applyRetention(dir, { maxBytes: 1 }, now, dayOf(now));
    deepStrictEqual(listDays(dir), [dayOf(now)], "today stays even over the limit");
  });
});

Deno.test("the recorder applies retention itself and reports the days it deleted", async () => {
  await withTempDir(async (dir) => {
    const now = Date.now();
    const why = await recordDays(dir, now, [5, 4]);
    const recorder = createRecorder({ dir, retentionDays: 3 });
    recorder.record({
      exchange: "kraken",
      item: { type: "status", state: "connected" },
      receiveTime: now,
    });
    await recorder.flush();
    const stats = () => `${why}; retention recorder stats: ${JSON.stringify(recorder.stats())}`;
    deepStrictEqual(
      recorder.stats().deletedDays,
      [dayOf(now - 5 * DAY), dayOf(now - 4 * DAY)],
      stats(),
    );
    await recorder.close();
    deepStrictEqual(listDays(dir), [dayOf(now)], stats());
  });
});

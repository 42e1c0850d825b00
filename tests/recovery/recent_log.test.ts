/**
 * The recent log (core/recovery/recent_log.ts): per stream, the items of the recovery window
 * with their positions; `since` says exactly what a reconnecting client can still get.
 */
import assert from "node:assert/strict";
import { createRecentLog, type RecentEntry } from "../../core/recovery/recent_log.ts";
import type { TradeEvent } from "../../core/events.ts";

const ID = "trade|binance|BTCUSDT";
const T0 = 1_796_638_000_000;

/** A trade of id `tradeId` received at `at`. */
function trade(tradeId: number, at = T0): TradeEvent {
  return {
    type: "trade",
    exchange: "binance",
    symbol: "BTCUSDT",
    price: 100,
    quantity: 1,
    timestamp: new Date(at).toISOString(),
    tradeId,
    side: "buy",
    eventTime: at,
    receiveTime: at,
  };
}

/** Entries at `seqs` chained by prev (first prev: `firstPrev`), trade ids = seq, received at T0 + seq ms. */
function chain(seqs: number[], firstPrev = 0): RecentEntry[] {
  return seqs.map((seq, i) => ({
    seq,
    prev: i === 0 ? firstPrev : seqs[i - 1],
    item: trade(seq, T0 + seq),
  }));
}

const seqsOf = (entries: RecentEntry[]) => entries.map((e) => e.seq);

Deno.test("recent log: since returns the entries after a position, complete when the chain reaches back", () => {
  const log = createRecentLog({ seconds: 300, maxPerStream: 100, now: () => T0 });
  for (const e of chain([3, 5, 9, 12])) log.append(ID, e);
  assert.deepEqual(seqsOf(log.since(ID, 5).entries), [9, 12]);
  assert.equal(log.since(ID, 5).complete, true);
  assert.deepEqual(seqsOf(log.since(ID, 0).entries), [3, 5, 9, 12]);
  assert.equal(log.since(ID, 0).complete, true, "the first item has prev 0");
  // A position between two items of the stream (another stream's item): still complete.
  assert.deepEqual(seqsOf(log.since(ID, 7).entries), [9, 12]);
  assert.equal(log.since(ID, 7).complete, true);
  assert.deepEqual(log.since(ID, 12), { entries: [], complete: true }, "nothing newer");
  assert.deepEqual(log.since("trade|binance|ETHUSDT", 4), { entries: [], complete: true });
  assert.equal(log.first(ID)?.seq, 3);
  assert.equal(log.last(ID)?.seq, 12);
});

Deno.test("recent log: past RECOVERY_MAX_PER_STREAM the oldest go, and since says what is lost", () => {
  const log = createRecentLog({ seconds: 300, maxPerStream: 3, now: () => T0 });
  for (const e of chain([1, 2, 3, 4, 5, 6, 7])) log.append(ID, e);
  assert.deepEqual(seqsOf(log.since(ID, 0).entries), [5, 6, 7]);
  assert.equal(log.since(ID, 0).complete, false, "1..4 are gone");
  assert.equal(log.since(ID, 3).complete, false, "4 is gone");
  assert.equal(log.since(ID, 4).complete, true, "everything after 4 is held");
  assert.equal(log.since(ID, 4).entries[0].prev, 4);
  assert.equal(log.first(ID)?.seq, 5);
  assert.equal(log.size(), 3);
});

Deno.test("recent log: items older than RECOVERY_SECONDS go, the newest of a stream stays", () => {
  let now = T0 + 10;
  const log = createRecentLog({ seconds: 1, maxPerStream: 100, now: () => now });
  for (const e of chain([1, 2, 3])) log.append(ID, e);
  assert.deepEqual(seqsOf(log.since(ID, 0).entries), [1, 2, 3]);
  // An append trims by the appended item's receive time.
  log.append(ID, { seq: 10, prev: 3, item: trade(10, T0 + 1003) });
  assert.deepEqual(seqsOf(log.since(ID, 0).entries), [3, 10], "1 and 2 are older than 1 s");
  assert.equal(log.since(ID, 0).complete, false);
  assert.equal(log.since(ID, 2).complete, true);
  // A quiet stream keeps its newest item, so a client learns exactly what it lost.
  now = T0 + 60_000;
  log.sweep();
  assert.deepEqual(seqsOf(log.since(ID, 0).entries), [10]);
  assert.equal(log.since(ID, 0).entries[0].prev, 3, "positions up to 3 are lost");
  assert.equal(log.since(ID, 3).complete, true);
});

Deno.test("recent log: RECOVERY_MAX_PER_STREAM 0 keeps nothing but still knows what was lost", () => {
  const log = createRecentLog({ seconds: 300, maxPerStream: 0, now: () => T0 });
  for (const e of chain([1, 2])) log.append(ID, e);
  assert.deepEqual(log.since(ID, 0), { entries: [], complete: false });
  assert.deepEqual(log.since(ID, 2), { entries: [], complete: true });
  assert.equal(log.first(ID), undefined);
  assert.equal(log.last(ID), undefined);
});

Deno.test("recent log: prepend puts older entries (an edge's backfill) before the held ones", () => {
  const log = createRecentLog({ seconds: 300, maxPerStream: 100, now: () => T0 });
  for (const e of chain([20, 21], 15)) log.append(ID, e);
  assert.equal(log.since(ID, 10).complete, false, "15 is not held");
  // Entries at or after the first held one are ignored (already there).
  log.prepend(ID, [...chain([12, 15], 10), ...chain([20])]);
  assert.deepEqual(seqsOf(log.since(ID, 10).entries), [12, 15, 20, 21]);
  assert.equal(log.since(ID, 10).complete, true);
  assert.equal(log.first(ID)?.seq, 12);
  // Prepending to a stream with nothing held starts it.
  log.prepend("quote|binance|BTCUSDT", chain([4], 0));
  assert.equal(log.first("quote|binance|BTCUSDT")?.seq, 4);
});

Deno.test("recent log: drop forgets a stream", () => {
  const log = createRecentLog({ seconds: 300, maxPerStream: 100, now: () => T0 });
  for (const e of chain([1, 2])) log.append(ID, e);
  log.drop(ID);
  assert.equal(log.first(ID), undefined);
  assert.deepEqual(log.since(ID, 0), { entries: [], complete: true });
});

Deno.test("recent log: many appends keep memory bounded (the trimmed prefix is compacted)", () => {
  const log = createRecentLog({ seconds: 300, maxPerStream: 1000, now: () => T0 });
  for (let seq = 1; seq <= 50_000; seq++) {
    log.append(ID, { seq, prev: seq - 1, item: trade(seq, T0) });
  }
  assert.equal(log.size(), 1000);
  const { entries, complete } = log.since(ID, 49_000);
  assert.equal(entries.length, 1000);
  assert.equal(entries[0].seq, 49_001);
  assert.equal(complete, true);
  assert.equal(log.since(ID, 48_999).complete, false);
});

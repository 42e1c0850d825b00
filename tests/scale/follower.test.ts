/**
 * The edge's subject follower with injected fakes: a live subscription the test pushes
 * envelopes into, a JetStream log that is an array, and a clock the test advances.
 */
import assert from "node:assert/strict";
import {
  createFollower,
  type Follower,
  type FollowerClock,
  type FollowerDeps,
  REPAIR_TIMEOUT_MS,
} from "../../core/scale/follower.ts";
import type { MdEnvelope } from "../../core/scale/envelope.ts";
import type { FeedItem } from "../../core/feed/messages.ts";
import type { BookUpdate, QuoteEvent, TradeEvent } from "../../core/events.ts";
import { waitFor } from "../helpers.ts";

const EPOCH = "e1";

function trade(tradeId: number): TradeEvent {
  return {
    type: "trade",
    exchange: "binance",
    symbol: "BTCUSDT",
    price: 100 + tradeId,
    quantity: 1,
    timestamp: new Date(1_700_000_000_000 + tradeId).toISOString(),
    tradeId,
    side: "buy",
    eventTime: 1_700_000_000_000 + tradeId,
    receiveTime: 1_700_000_000_000 + tradeId,
  };
}

function book(snapshot: boolean, price: number): BookUpdate {
  return {
    type: "book",
    exchange: "binance",
    symbol: "BTCUSDT",
    snapshot,
    bids: [[price, 1]],
    asks: [[price + 1, 1]],
    timestamp: new Date(1_700_000_000_000).toISOString(),
    eventTime: 1_700_000_000_000,
    receiveTime: 1_700_000_000_000,
  };
}

function env(seq: number, prev: number, item: FeedItem, epoch = EPOCH): MdEnvelope {
  return { v: 1, epoch, seq, prev, exchange: "binance", item };
}

/** A clock the test moves: sleeps resolve when the time passes their end. */
function manualClock(): FollowerClock & { advance(ms: number): Promise<void>; sleeping(): number } {
  let now = 0;
  const sleepers = new Set<{ at: number; wake: () => void }>();
  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        const sleeper = { at: now + ms, wake: () => (sleepers.delete(sleeper), resolve()) };
        sleepers.add(sleeper);
        signal.addEventListener("abort", sleeper.wake);
      }),
    async advance(ms) {
      now += ms;
      for (const s of [...sleepers]) if (s.at <= now) s.wake();
      await settle();
    },
    sleeping: () => sleepers.size,
  };
}

/** Lets pending promise work run (the follower's async reads). */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

interface Rig {
  follower: Follower;
  /** The JetStream log the follower repairs from (the test adds to it). */
  log: MdEnvelope[];
  /** The booksnap the follower starts from. */
  snap: { current?: MdEnvelope };
  live(e: MdEnvelope): void;
  delivered: MdEnvelope[];
  /** What an `after` start caught up on (for the recent log, not for clients). */
  backfilled: MdEnvelope[];
  clock: ReturnType<typeof manualClock>;
  reads: number;
}

function rig(channel: FollowerDeps["channel"], log: MdEnvelope[] = []): Rig {
  const clock = manualClock();
  let onLive: ((e: MdEnvelope) => void) | undefined;
  const delivered: MdEnvelope[] = [];
  const backfilled: MdEnvelope[] = [];
  const snap: { current?: MdEnvelope } = {};
  const r: Rig = {
    log,
    snap,
    delivered,
    backfilled,
    clock,
    reads: 0,
    live: (e) => onLive?.(e),
    follower: createFollower({
      subject: `md.binance.${channel}.BTCUSDT`,
      channel,
      exchange: "binance",
      symbol: "BTCUSDT",
      subscribe(fn) {
        onLive = fn;
        return () => onLive = undefined;
      },
      async *readRange(_subject, after, until) {
        r.reads++;
        await Promise.resolve();
        for (const e of [...log]) {
          if (until !== undefined && e.seq >= until) return;
          if (e.seq > after) yield e;
        }
      },
      lastSnapshot: () => Promise.resolve(snap.current),
      deliver: (e) => delivered.push(e),
      backfill: (e) => backfilled.push(e),
      clock,
    }),
  };
  return r;
}

const seqs = (r: Rig) => r.delivered.map((e) => e.seq);

Deno.test("follower: live messages are delivered in order and a repeated seq is dropped", async () => {
  const r = rig("trade");
  await r.follower.start({ from: "live" });
  r.live(env(5, 2, trade(1))); // the first message starts the chain, whatever its prev
  r.live(env(7, 5, trade(2)));
  r.live(env(7, 5, trade(2))); // duplicate (a republish)
  r.live(env(5, 2, trade(1))); // older than the last delivered
  r.live(env(9, 7, trade(3)));
  assert.deepEqual(seqs(r), [5, 7, 9]);
  assert.equal(r.follower.stats().duplicates, 2);
  assert.equal(r.follower.stats().holes, 0);
  assert.equal(r.reads, 0, "no JetStream read without a hole");
  r.follower.close();
});

Deno.test("follower: a hole in the prev chain is filled from the log and live messages wait behind it", async () => {
  const r = rig("trade", [env(5, 2, trade(1)), env(7, 5, trade(2)), env(8, 7, trade(3))]);
  await r.follower.start({ from: "live" });
  r.live(env(5, 2, trade(1)));
  r.live(env(11, 8, trade(4))); // prev 8: seqs 7 and 8 were missed
  r.live(env(12, 11, trade(5))); // held until the hole is filled
  await waitFor(() => r.delivered.length === 5, 2000, "the hole repaired from the log");
  assert.deepEqual(seqs(r), [5, 7, 8, 11, 12]);
  assert.deepEqual(r.delivered.map((e) => (e.item as TradeEvent).tradeId), [1, 2, 3, 4, 5]);
  assert.deepEqual(r.follower.stats(), {
    delivered: 5,
    duplicates: 0,
    holes: 1,
    repaired: 1,
    gaps: 0,
  });
  r.follower.close();
});

Deno.test("follower: a hole the ingest republishes a moment later is filled by a retry, with no gap", async () => {
  const log = [env(5, 2, trade(1))];
  const r = rig("trade", log);
  await r.follower.start({ from: "live" });
  r.live(env(5, 2, trade(1)));
  r.live(env(9, 7, trade(3)));
  await waitFor(() => r.reads === 1 && r.clock.sleeping() === 1, 2000, "first read, then a pause");
  assert.deepEqual(seqs(r), [5], "nothing past the hole is delivered yet");
  await r.clock.advance(2_000);
  await r.clock.advance(2_000);
  log.push(env(7, 5, trade(2))); // the ingest republishes after its reconnect
  await r.clock.advance(250);
  await waitFor(() => r.delivered.length === 3, 2000, "the republished message delivered");
  assert.deepEqual(seqs(r), [5, 7, 9]);
  assert.equal(r.delivered.some((e) => e.item.type === "gap"), false);
  assert.equal(r.follower.stats().repaired, 1);
  r.follower.close();
});

Deno.test("follower: a trade hole that stays is reported after 10 s as a gap with the exact trade ids", async () => {
  const r = rig("trade", [env(5, 2, trade(100))]);
  await r.follower.start({ from: "live" });
  r.live(env(5, 2, trade(100)));
  r.live(env(20, 12, trade(104))); // trades 101..103 (seqs up to 12) never reach the log
  r.live(env(21, 20, trade(105)));
  await waitFor(() => r.clock.sleeping() === 1, 2000, "the first repair read");
  for (let t = 250; t < REPAIR_TIMEOUT_MS; t += 250) await r.clock.advance(250);
  assert.deepEqual(seqs(r), [5], "no gap before the repair timeout");
  await r.clock.advance(250);
  await waitFor(() => r.delivered.length === 4, 2000, "gap then the held trades");
  const gap = r.delivered[1];
  assert.deepEqual(gap.item, {
    type: "gap",
    exchange: "binance",
    symbol: "BTCUSDT",
    channel: "trade",
    fromId: 101,
    toId: 103,
    reason: "nats_gap",
    receiveTime: REPAIR_TIMEOUT_MS,
  });
  // The gap takes the place of the missing seqs: pos = the prev of the next trade.
  assert.equal(gap.seq, 12);
  assert.equal(gap.prev, 5);
  assert.deepEqual(seqs(r), [5, 12, 20, 21]);
  assert.equal(r.follower.stats().gaps, 1);
  r.follower.close();
});

Deno.test("follower: a book starts from the booksnap, then the deltas after it from the log, then live", async () => {
  const r = rig("book", [env(9, 8, book(false, 1)), env(11, 10, book(false, 3))]);
  r.snap.current = env(10, 9, book(true, 2)); // includes the deltas up to seq 10
  r.log.push(env(12, 11, book(false, 4)));
  const started = r.follower.start({ from: "snapshot" });
  r.live(env(12, 11, book(false, 4))); // arrives live while the log is read
  r.live(env(13, 12, book(false, 5)));
  await started;
  r.live(env(14, 13, book(false, 6)));
  assert.deepEqual(seqs(r), [10, 11, 12, 13, 14]);
  assert.equal((r.delivered[0].item as BookUpdate).snapshot, true, "the snapshot comes first");
  assert.equal(r.follower.stats().duplicates, 1);
  r.follower.close();
});

Deno.test("follower: a book hole that stays means resyncing, then the book restarts from a booksnap covering it", async () => {
  const r = rig("book");
  r.snap.current = env(10, 9, book(true, 2));
  await r.follower.start({ from: "snapshot" });
  r.live(env(11, 10, book(false, 3)));
  r.live(env(15, 14, book(false, 5))); // 12..14 lost
  await waitFor(() => r.clock.sleeping() === 1, 2000, "the first repair read");
  for (let t = 0; t < REPAIR_TIMEOUT_MS; t += 250) await r.clock.advance(250);
  await waitFor(() => r.delivered.length === 3, 2000, "resyncing");
  assert.deepEqual(r.delivered[2].item, {
    type: "book_status",
    symbol: "BTCUSDT",
    state: "resyncing",
    reason: "nats_gap",
  });
  // The ingest publishes a booksnap that includes seq 14 (it holds the whole book).
  r.snap.current = env(14, 10, book(true, 4));
  await r.clock.advance(250);
  await waitFor(() => r.delivered.length === 5, 2000, "snapshot, then the held delta");
  assert.deepEqual(seqs(r), [10, 11, 14, 14, 15]);
  assert.equal((r.delivered[3].item as BookUpdate).snapshot, true);
  assert.equal(r.follower.stats().gaps, 1);
  r.follower.close();
});

Deno.test("follower: a quote hole that stays is skipped after the timeout (quotes just continue)", async () => {
  const quote: QuoteEvent = {
    type: "quote",
    exchange: "binance",
    symbol: "BTCUSDT",
    bidPrice: 1,
    bidQuantity: 1,
    askPrice: 2,
    askQuantity: 1,
    timestamp: new Date(1_700_000_000_000).toISOString(),
    eventTime: 1_700_000_000_000,
    receiveTime: 1_700_000_000_000,
  };
  const r = rig("quote");
  await r.follower.start({ from: "live" });
  r.live(env(1, 0, quote));
  r.live(env(4, 3, quote));
  await waitFor(() => r.clock.sleeping() === 1, 2000, "the first repair read");
  for (let t = 0; t < REPAIR_TIMEOUT_MS; t += 250) await r.clock.advance(250);
  await waitFor(() => r.delivered.length === 2, 2000, "the held quote");
  assert.deepEqual(seqs(r), [1, 4]);
  r.follower.close();
});

Deno.test("follower: starting after a seq backfills the subject's later messages from the log, then goes live", async () => {
  const r = rig("trade", [
    env(3, 0, trade(1)),
    env(6, 3, trade(2)),
    env(8, 6, trade(3)),
  ]);
  const started = r.follower.start({ from: "after", seq: 4 });
  r.live(env(8, 6, trade(3)));
  r.live(env(10, 8, trade(4)));
  await started;
  assert.deepEqual(
    r.backfilled.map((e) => e.seq),
    [6, 8],
    "the first one after 4 starts the chain",
  );
  assert.deepEqual(seqs(r), [10], "then live");
  r.follower.close();
});

Deno.test("follower: a message of a new epoch starts a new chain", async () => {
  const r = rig("trade");
  await r.follower.start({ from: "live" });
  r.live(env(50, 40, trade(1)));
  r.live(env(3, 1, trade(2), "e2"));
  r.live(env(4, 3, trade(3), "e2"));
  assert.deepEqual(seqs(r), [50, 3, 4]);
  assert.equal(r.reads, 0);
  r.follower.close();
});

Deno.test("follower: closing ends the live subscription and a pending repair", async () => {
  const r = rig("trade");
  await r.follower.start({ from: "live" });
  r.live(env(1, 0, trade(1)));
  r.live(env(5, 3, trade(3)));
  await waitFor(() => r.clock.sleeping() === 1, 2000, "the first repair read");
  r.follower.close();
  await settle();
  assert.equal(r.clock.sleeping(), 0, "the repair pause ended");
  r.live(env(6, 5, trade(4)));
  assert.deepEqual(seqs(r), [1]);
});

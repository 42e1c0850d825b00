/**
 * A plugin Worker's outbox: collects what the plugin emits into numbered batches for the
 * hub, and holds back when the hub falls behind.
 *
 * The hub acknowledges the batches it has handled. While the oldest unacknowledged batch
 * is more than `maxLagMs` (20 ms) old or more than `maxUnacked` (256) batches are
 * unacknowledged (the main thread is busy fanning out), the outbox stops posting and,
 * for what it keeps meanwhile, replaces an older quote (per symbol) or candle update (per
 * symbol, interval and open time) with the newer one — the same conflation a slow client
 * gets. Trades, book updates and reports are never dropped or reordered; a replaced
 * update is removed from its place and the newer one kept at its own.
 * @module
 */
import type { FeedItem } from "./messages.ts";

/** Most items one batch carries; larger bursts are split into several batches. */
export const MAX_BATCH = 4096;

/** Batches posted but not yet acknowledged above which the outbox holds back. */
export const MAX_UNACKED_BATCHES = 256;

/** Age of the oldest unacknowledged batch above which the outbox holds back, ms. */
export const MAX_HUB_LAG_MS = 20;

/** A batch as posted to the hub. */
export interface OutboxBatch {
  type: "batch";
  seq: number;
  items: FeedItem[];
  /** When the oldest item was emitted (epoch ms, sub-ms precision). */
  at: number;
  /** Items replaced by newer ones so far (cumulative). */
  conflated: number;
}

/** The outbox of one Worker. */
export interface Outbox {
  /** Adds an item; it is posted at the end of the current task unless the hub is behind. */
  add(item: FeedItem): void;
  /** The hub has handled every batch up to `seq`. */
  ack(seq: number): void;
  /** Posts what may be posted now. */
  flush(): void;
  /** Posts everything, held or not (the plugin has stopped). */
  flushAll(): void;
  /** Items replaced by newer ones while holding back. */
  readonly conflated: () => number;
  /** True while holding back. */
  readonly holding: () => boolean;
}

/** Options; the defaults fit the gateway, tests pass small numbers. */
export interface OutboxOptions {
  maxUnacked?: number;
  maxLagMs?: number;
  maxBatch?: number;
  /** Clock (epoch ms). */
  now?: () => number;
  /** Schedules the end-of-task flush. */
  schedule?: (fn: () => void) => void;
}

/** Creates an outbox that posts with `post`. */
export function createOutbox(post: (batch: OutboxBatch) => void, o: OutboxOptions = {}): Outbox {
  const maxUnacked = o.maxUnacked ?? MAX_UNACKED_BATCHES;
  const maxLagMs = o.maxLagMs ?? MAX_HUB_LAG_MS;
  /** When each unacknowledged batch was posted: postedAt[i] is batch acked + 1 + i. */
  let postedAt: number[] = [];
  const maxBatch = o.maxBatch ?? MAX_BATCH;
  const now = o.now ?? (() => performance.timeOrigin + performance.now());
  const schedule = o.schedule ?? queueMicrotask;
  let pending: (FeedItem | null)[] = [];
  /** While holding: conflation key → index in `pending`. */
  const latest = new Map<string, number>();
  let seq = 0;
  let acked = 0;
  let holding = false;
  let scheduled = false;
  let firstAt = 0;
  let conflated = 0;

  /** The hub is behind: too many batches unacknowledged, or the oldest too old. */
  const behind = () =>
    seq - acked >= maxUnacked || (postedAt.length > 0 && now() - postedAt[0] > maxLagMs);

  /** Indexes what is held (conflating duplicates among it): positions moved. */
  const reindex = () => {
    latest.clear();
    for (let i = 0; i < pending.length; i++) {
      const item = pending[i];
      const key = item === null ? undefined : conflationKey(item);
      if (key === undefined) continue;
      const before = latest.get(key);
      if (before !== undefined) {
        pending[before] = null;
        conflated++;
      }
      latest.set(key, i);
    }
  };

  const flush = (force = false) => {
    scheduled = false;
    // Judged once, before posting: a long burst posted now ages its own first batches.
    const lagging = behind();
    while (pending.length > 0) {
      if (!force && (lagging || seq - acked >= maxUnacked)) {
        if (!holding) {
          holding = true;
          reindex();
        }
        return;
      }
      const n = Math.min(maxBatch, pending.length);
      const chunk = n === pending.length ? pending : pending.splice(0, n);
      if (chunk === pending) {
        pending = [];
        latest.clear();
      } else {
        // What is still held moved n places forward.
        for (const [key, i] of latest) {
          if (i < n) latest.delete(key);
          else latest.set(key, i - n);
        }
      }
      const items = conflated > 0
        ? chunk.filter((x): x is FeedItem => x !== null)
        : chunk as FeedItem[];
      if (items.length > 0) {
        post({ type: "batch", seq: ++seq, items, at: firstAt, conflated });
        postedAt.push(now());
      }
    }
    holding = false;
  };

  return {
    add(item) {
      if (pending.length === 0) firstAt = now();
      if (holding) {
        const key = conflationKey(item);
        if (key !== undefined) {
          const at = latest.get(key);
          if (at !== undefined) {
            pending[at] = null;
            conflated++;
          }
          latest.set(key, pending.length);
        }
      }
      pending.push(item);
      if (!scheduled && !holding) {
        scheduled = true;
        schedule(() => flush());
      }
    },
    ack(n) {
      if (n > acked) {
        postedAt = postedAt.slice(n - acked);
        acked = n;
      }
      if (holding && !behind()) flush();
    },
    flush: () => flush(),
    flushAll: () => flush(true),
    conflated: () => conflated,
    holding: () => holding,
  };
}

/** What a newer item may replace: a quote per symbol, a candle per symbol/interval/open time. */
function conflationKey(item: FeedItem): string | undefined {
  switch (item.type) {
    case "quote":
      return `q|${item.symbol}`;
    case "kline":
      return `k|${item.symbol}|${item.interval}|${item.openTime}`;
    default:
      return undefined;
  }
}

/**
 * The recent log: per stream (`streamId`, e.g. `trade|binance|BTCUSDT`), the items of the
 * last RECOVERY_SECONDS (at most RECOVERY_MAX_PER_STREAM of them) with their positions, so a
 * client that reconnects with `since` gets what it missed ({@link ../delivery/session.ts}).
 * Every trade, quote, kline and gap item is appended whether or not anyone follows the stream.
 *
 * Cheap on the hot path: an append is one map lookup and an array push; old entries are
 * skipped by moving a head index and the array is compacted only once the skipped part is
 * as long as the live one (amortized O(1)). The newest entry of a stream is always kept, so
 * the log can tell a client exactly which positions it lost even after a quiet spell.
 * @module
 */
import type { GapEvent, KlineEvent, QuoteEvent, TradeEvent } from "../events.ts";

/** One item of a stream with its position and the position of the stream's item before it. */
export interface RecentEntry {
  /** Hub sequence number of the item (the client's `pos`). */
  seq: number;
  /** `seq` of the stream's previous item, 0 if none in this epoch. */
  prev: number;
  item: TradeEvent | QuoteEvent | KlineEvent | GapEvent;
}

/** The recent items of every stream. */
export interface RecentLog {
  /** Appends the newest item of stream `id` (seq above every held one). */
  append(id: string, entry: RecentEntry): void;
  /** Entries with seq > after, and whether nothing between `after` and them is missing. */
  since(id: string, after: number): { entries: RecentEntry[]; complete: boolean };
  /** Older entries before the first held one (edge backfill from JetStream), in seq order. */
  prepend(id: string, entries: RecentEntry[]): void;
  first(id: string): RecentEntry | undefined;
  last(id: string): RecentEntry | undefined;
  drop(id: string): void;
}

/** Bounds of a {@link RecentLog}. */
export interface RecentLogOptions {
  /** Items older than this (by receive time against the clock) are dropped; RECOVERY_SECONDS. */
  seconds: number;
  /** Most items held per stream, oldest dropped first; RECOVERY_MAX_PER_STREAM (0: none held). */
  maxPerStream: number;
  /** Clock for reads, ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/** A {@link RecentLog} that can also be swept of expired entries (the gateway does so now and then). */
export interface SweptRecentLog extends RecentLog {
  /** Drops expired entries of every stream (the newest of each is kept). */
  sweep(): void;
  /** Entries held over all streams. */
  size(): number;
}

/** One stream's entries: `entries[head..]` are held. */
interface StreamLog {
  entries: RecentEntry[];
  head: number;
  /** Highest seq ever dropped from this stream (0: none). */
  dropped: number;
}

/**
 * Creates an empty recent log.
 * @example
 * ```ts
 * const recent = createRecentLog({ seconds: 300, maxPerStream: 10_000 });
 * recent.append("trade|binance|BTCUSDT", { seq: 7, prev: 0, item: trade });
 * recent.since("trade|binance|BTCUSDT", 0); // { entries: [{ seq: 7, ... }], complete: true }
 * ```
 */
export function createRecentLog(options: RecentLogOptions): SweptRecentLog {
  const { seconds, maxPerStream } = options;
  const windowMs = seconds * 1000;
  const now = options.now ?? Date.now;
  const streams = new Map<string, StreamLog>();

  /** Moves `log`'s head past entries over the count bound or older than `cutoff`; keeps the newest. */
  const trim = (log: StreamLog, cutoff: number) => {
    const { entries } = log;
    const end = entries.length;
    let head = log.head;
    while (end - head > maxPerStream) head++;
    while (end - head > 1 && entries[head].item.receiveTime < cutoff) head++;
    if (head === log.head) return;
    log.dropped = Math.max(log.dropped, entries[head - 1].seq);
    if (head === end) {
      entries.length = 0;
      log.head = 0;
    } else if (head * 2 >= end) {
      entries.splice(0, head);
      log.head = 0;
    } else log.head = head;
  };

  const held = (id: string, at = now()) => {
    const log = streams.get(id);
    if (log) trim(log, at - windowMs);
    return log;
  };

  return {
    append(id, entry) {
      let log = streams.get(id);
      if (!log) {
        log = { entries: [], head: 0, dropped: 0 };
        streams.set(id, log);
      }
      log.entries.push(entry);
      // The appended item's receive time is the clock here: no clock read per item.
      if (log.entries.length - log.head > maxPerStream) {
        trim(log, entry.item.receiveTime - windowMs);
      } else if (log.entries[log.head].item.receiveTime < entry.item.receiveTime - windowMs) {
        trim(log, entry.item.receiveTime - windowMs);
      }
    },
    since(id, after) {
      const log = held(id);
      if (!log) return { entries: [], complete: true };
      const { entries } = log;
      // Binary search for the first held entry with seq > after.
      let lo = log.head;
      let hi = entries.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (entries[mid].seq > after) hi = mid;
        else lo = mid + 1;
      }
      const found = entries.slice(lo);
      const complete = found.length > 0 ? found[0].prev <= after : log.dropped <= after;
      return { entries: found, complete };
    },
    prepend(id, older) {
      if (older.length === 0) return;
      let log = streams.get(id);
      if (!log) {
        log = { entries: [], head: 0, dropped: 0 };
        streams.set(id, log);
      }
      const firstHeld = log.entries[log.head]?.seq ?? Infinity;
      const fitting = older.filter((e) => e.seq < firstHeld);
      log.entries = [...fitting, ...log.entries.slice(log.head)];
      log.head = 0;
      trim(log, now() - windowMs);
    },
    first: (id) => {
      const log = held(id);
      return log?.entries[log.head];
    },
    last: (id) => {
      const log = streams.get(id);
      return log && log.entries.length > log.head ? log.entries[log.entries.length - 1] : undefined;
    },
    drop(id) {
      streams.delete(id);
    },
    sweep() {
      const cutoff = now() - windowMs;
      for (const log of streams.values()) trim(log, cutoff);
    },
    size() {
      let n = 0;
      for (const log of streams.values()) n += log.entries.length - log.head;
      return n;
    },
  };
}

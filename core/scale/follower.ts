/**
 * One subject follower of an edge node: the live core subscription of one market-data
 * subject (`md.<exchange>.<channel>.<symbol>`), checked against the `prev` chain of its
 * envelopes, with holes repaired from the JetStream log.
 *
 * - Duplicates (`seq` ≤ the last delivered) are dropped.
 * - A message whose `prev` is newer than the last delivered `seq` reveals a hole: live
 *   messages are held and the missing ones are read from JetStream, retried for up to
 *   {@link REPAIR_TIMEOUT_MS} (the ingest may still be republishing them). A hole that
 *   stays is never silent: on a trade subject a `gap` item with the exact missing trade-id
 *   range (reason `nats_gap`); on a book subject `book_status` resyncing, then the book
 *   restarts from the newest booksnap that covers the hole; quotes and candles continue.
 * - Start modes: `live` (the first live message starts the chain), `snapshot` (book: the
 *   newest booksnap first, then the deltas after it from JetStream, then live) and `after`
 *   (everything after a sequence number from JetStream, then live: the recovery backfill).
 *
 * The follower knows nothing of NATS: the live subscription, the JetStream reads and the
 * clock are injected, so it is tested with fakes.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";
import type { GapEvent } from "../events.ts";
import type { MdEnvelope } from "./envelope.ts";

/** How long a hole is retried from JetStream before it is reported, ms. */
export const REPAIR_TIMEOUT_MS = 10_000;

/** Pause between two repair reads, ms. */
export const REPAIR_RETRY_MS = 250;

/** Reason of the `gap` items and `book_status` a follower reports for an unrepairable hole. */
export const NATS_GAP_REASON = "nats_gap";

/** The channels a follower follows (the per-symbol data subjects). */
export type FollowedChannel = "trade" | "quote" | "kline" | "book";

/** Time for the follower: its wall clock and an abortable pause. */
export interface FollowerClock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The wall clock. */
export const systemClock: FollowerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
    }),
};

/** Where a follower starts. */
export type FollowStart =
  /** With the first live message. */
  | { from: "live" }
  /** Book: from the newest booksnap, then the deltas after it from JetStream, then live. */
  | { from: "snapshot" }
  /**
   * After `seq` (a client's `since`): the subject's messages after it from JetStream (to
   * `backfill`), then live.
   */
  | { from: "after"; seq: number };

/** What a follower is built from. */
export interface FollowerDeps {
  /** The subject followed. */
  subject: string;
  channel: FollowedChannel;
  exchange: string;
  /** Exchange-native symbol. */
  symbol: string;
  /** Starts the live (core) subscription; returns its end. */
  subscribe(onMessage: (envelope: MdEnvelope) => void): () => void;
  /**
   * The subject's messages with `afterSeq < seq` (and `seq < untilSeq` when given) as the
   * JetStream log holds them, in log order; ends at the end of the log.
   */
  readRange(
    subject: string,
    afterSeq: number,
    untilSeq: number | undefined,
    signal: AbortSignal,
  ): AsyncIterable<MdEnvelope>;
  /** The newest booksnap of the symbol (its `seq` = that of the last book message it includes). */
  lastSnapshot?(signal: AbortSignal): Promise<MdEnvelope | undefined>;
  /** Receives every item in order (synthetic `gap` / `book_status` items too, as envelopes). */
  deliver(envelope: MdEnvelope): void;
  /**
   * Receives, instead of `deliver`, what an `after` start catches up on before it goes live
   * (the recovery backfill: it belongs in the recent log, not in front of clients). Default
   * `deliver`.
   */
  backfill?(envelope: MdEnvelope): void;
  /** The subject's messages switched to another epoch (what was delivered before is another lineage). */
  onNewEpoch?(epoch: string): void;
  clock?: FollowerClock;
  /** Default {@link REPAIR_TIMEOUT_MS}. */
  repairTimeoutMs?: number;
  /** Default {@link REPAIR_RETRY_MS}. */
  retryMs?: number;
  /** Where repairs, gaps and failed reads are reported. */
  log?: {
    info(message: string, properties?: Record<string, unknown>): void;
    warning(message: string, properties?: Record<string, unknown>): void;
  };
}

/** What a follower did since it started. */
export interface FollowerStats {
  /** Items handed on (JetStream reads and live). */
  delivered: number;
  /** Messages dropped because their seq was already delivered. */
  duplicates: number;
  /** Holes found in the prev chain. */
  holes: number;
  /** Holes filled from JetStream. */
  repaired: number;
  /** Holes that stayed and were reported (gap / resync / skipped). */
  gaps: number;
}

/** A running follower. */
export interface Follower {
  readonly subject: string;
  /** Starts the live subscription and the catch-up of `start`; resolves once caught up. */
  start(start: FollowStart): Promise<void>;
  /**
   * Reads what the log holds after the last delivered message (after a NATS reconnect:
   * messages lost on the core subscription surface without waiting for the next live one).
   */
  catchUp(): Promise<void>;
  /** Seq of the last delivered message (0 before the first). */
  lastSeq(): number;
  stats(): FollowerStats;
  /** Ends the subscription and any repair. */
  close(): void;
}

/** Creates a follower of one subject (not started). */
export function createFollower(deps: FollowerDeps): Follower {
  const clock = deps.clock ?? systemClock;
  const repairTimeoutMs = deps.repairTimeoutMs ?? REPAIR_TIMEOUT_MS;
  const retryMs = deps.retryMs ?? REPAIR_RETRY_MS;
  const aborter = new AbortController();
  const { signal } = aborter;
  const stats: FollowerStats = { delivered: 0, duplicates: 0, holes: 0, repaired: 0, gaps: 0 };

  /** Seq of the last delivered message. */
  let last = 0;
  /** False until the chain has a start: the next message is taken whatever its prev. */
  let anchored = false;
  /** The lineage followed; a message of another epoch restarts the chain. */
  let epoch: string | undefined;
  /** Trade id of the last delivered trade (or last id of a delivered gap): gap ranges start after it. */
  let lastTradeId: number | string | undefined;
  /** Messages waiting for the chain to reach them, by seq. */
  let held: MdEnvelope[] = [];
  /** True while a start, catch-up or repair runs: live messages are held. */
  let working = false;
  let stopLive: (() => void) | undefined;
  /** Bumped on an epoch change: a read of the old lineage is discarded. */
  let generation = 0;
  /** An `after` start's log read reached this seq: messages up to it go to `backfill`. */
  let backfillUpTo = 0;

  const emit = (env: MdEnvelope) => {
    last = env.seq;
    anchored = true;
    epoch = env.epoch;
    const item = env.item;
    if (item.type === "trade") lastTradeId = item.tradeId;
    else if (item.type === "gap") lastTradeId = item.toId;
    stats.delivered++;
    if (env.seq <= backfillUpTo && deps.backfill) deps.backfill(env);
    else deps.deliver(env);
  };

  /** Delivers `env` if the chain reaches it; true when it was consumed (delivered or a duplicate). */
  const take = (env: MdEnvelope): boolean => {
    if (anchored && env.seq <= last) {
      stats.duplicates++;
      return true;
    }
    if (!anchored && env.seq <= last) return true; // before a start point (`after`)
    if (anchored && env.prev > last) return false;
    emit(env);
    return true;
  };

  /** Adds `env` to the held messages in seq order, once. */
  const hold = (env: MdEnvelope) => {
    if (env.seq <= last && anchored) {
      stats.duplicates++;
      return;
    }
    let i = held.length;
    while (i > 0 && held[i - 1].seq > env.seq) i--;
    if (i > 0 && held[i - 1].seq === env.seq) {
      stats.duplicates++;
      return;
    }
    held.splice(i, 0, env);
  };

  /** Delivers held messages while the chain reaches them. */
  const drain = () => {
    while (held.length > 0 && take(held[0])) held.shift();
  };

  /** A message of a new epoch: the old chain (and what was held of it) ends. */
  const newLineage = (env: MdEnvelope) => {
    deps.log?.info("{subject}: new epoch {epoch} (was {previous}): following its chain", {
      subject: deps.subject,
      epoch: env.epoch,
      previous: epoch,
    });
    generation++;
    epoch = env.epoch;
    last = 0;
    anchored = false;
    held = held.filter((h) => h.epoch === env.epoch);
    deps.onNewEpoch?.(env.epoch);
  };

  const onLive = (env: MdEnvelope) => {
    if (signal.aborted) return;
    if (epoch !== undefined && env.epoch !== epoch) newLineage(env);
    if (working) return hold(env);
    if (take(env)) return;
    hold(env);
    void settle();
  };

  /** Reads the log after `after` (until `until`) into the held messages; returns the last seq read. */
  const readInto = async (after: number, until: number | undefined): Promise<number> => {
    const gen = generation;
    let lastRead = after;
    try {
      for await (const env of deps.readRange(deps.subject, after, until, signal)) {
        if (signal.aborted || gen !== generation) return lastRead;
        if (until !== undefined && env.seq >= until) break;
        if (env.seq <= after) continue;
        if (epoch !== undefined && env.epoch !== epoch) continue;
        epoch ??= env.epoch;
        hold(env);
        lastRead = Math.max(lastRead, env.seq);
      }
    } catch (err) {
      if (signal.aborted) return lastRead;
      deps.log?.warning("{subject}: reading the log after {after} failed: {error}", {
        subject: deps.subject,
        after,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return lastRead;
  };

  /** Delivers what is held, repairing holes from the log; reports a hole that stays. */
  const settle = async () => {
    if (working) return;
    working = true;
    try {
      let hole: { after: number; deadline: number } | undefined;
      while (!signal.aborted) {
        drain();
        if (held.length === 0) {
          if (hole) stats.repaired++;
          break;
        }
        if (hole?.after !== last) {
          if (hole) stats.repaired++; // that one was filled; the chain stops at a later one
          hole = { after: last, deadline: clock.now() + repairTimeoutMs };
          stats.holes++;
          deps.log?.info("{subject}: hole after seq {after} (next held: seq {seq}, prev {prev})", {
            subject: deps.subject,
            after: last,
            seq: held[0].seq,
            prev: held[0].prev,
          });
        }
        await readInto(last, held[0].seq);
        drain();
        if (held.length === 0 || held[0].prev <= last) continue;
        if (hole.after !== last) continue;
        if (clock.now() >= hole.deadline) {
          await giveUp();
          hole = undefined;
          continue;
        }
        await clock.sleep(retryMs, signal);
      }
    } finally {
      working = false;
    }
  };

  /** The hole before `held[0]` stays: report it and continue after it. */
  const giveUp = async () => {
    const next = held[0];
    stats.gaps++;
    const base = { v: 1 as const, epoch: next.epoch, exchange: deps.exchange };
    switch (deps.channel) {
      case "trade": {
        const gap = tradeGap(lastTradeId, next.item, deps.exchange, deps.symbol, clock.now());
        deps.log?.warning(
          "{subject}: seqs {from}..{to} missing from the log after {seconds} s: {what}",
          {
            subject: deps.subject,
            from: last + 1,
            to: next.prev,
            seconds: repairTimeoutMs / 1000,
            what: gap
              ? `trade ids ${gap.fromId}..${gap.toId} reported as a gap`
              : `no trade-id range to report (last ${lastTradeId ?? "none"}, next ${
                describeItem(next.item)
              })`,
          },
        );
        if (gap) emit({ ...base, seq: next.prev, prev: last, item: gap });
        else skipTo(next.prev);
        return;
      }
      case "book":
        deps.log?.warning(
          "{subject}: book seqs {from}..{to} missing from the log after {seconds} s: resynchronizing from the booksnap",
          { subject: deps.subject, from: last + 1, to: next.prev, seconds: repairTimeoutMs / 1000 },
        );
        emit({
          ...base,
          seq: next.prev,
          prev: last,
          item: {
            type: "book_status",
            symbol: deps.symbol,
            state: "resyncing",
            reason: NATS_GAP_REASON,
          },
        });
        await resyncBook();
        return;
      default:
        deps.log?.info("{subject}: seqs {from}..{to} missing from the log: continuing", {
          subject: deps.subject,
          from: last + 1,
          to: next.prev,
        });
        skipTo(next.prev);
    }
  };

  /** Continues the chain after `seq` without delivering anything for the hole. */
  const skipTo = (seq: number) => {
    last = seq;
  };

  /** Waits for a booksnap that covers everything up to the held messages, and delivers it. */
  const resyncBook = async () => {
    let warned = false;
    while (!signal.aborted && held.length > 0) {
      const needed = held[0].prev;
      const snap = await snapshot();
      if (snap && snap.seq >= needed) {
        emit(snap);
        return;
      }
      if (!warned) {
        deps.log?.info("{subject}: waiting for a booksnap at seq {needed} or later", {
          subject: deps.subject,
          needed,
        });
        warned = true;
      }
      await clock.sleep(retryMs, signal);
    }
  };

  const snapshot = async (): Promise<MdEnvelope | undefined> => {
    try {
      return await deps.lastSnapshot?.(signal);
    } catch (err) {
      if (!signal.aborted) {
        deps.log?.warning("{subject}: reading the booksnap failed: {error}", {
          subject: deps.subject,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      return undefined;
    }
  };

  return {
    subject: deps.subject,
    async start(start) {
      working = true;
      try {
        stopLive = deps.subscribe(onLive);
        if (start.from === "snapshot") {
          const snap = await snapshot();
          if (snap && !signal.aborted) {
            emit(snap);
            await readInto(snap.seq, undefined);
          }
        } else if (start.from === "after") {
          last = start.seq;
          backfillUpTo = await readInto(start.seq, undefined);
        }
      } finally {
        working = false;
      }
      await settle();
    },
    async catchUp() {
      if (working || !anchored || signal.aborted) return;
      working = true;
      try {
        await readInto(last, undefined);
      } finally {
        working = false;
      }
      await settle();
    },
    lastSeq: () => last,
    stats: () => ({ ...stats }),
    close() {
      if (signal.aborted) return;
      aborter.abort();
      stopLive?.();
      held = [];
    },
  };
}

/**
 * The trades missing between the last delivered trade id and the next item of the subject,
 * as a `gap` item; undefined when the ids are not numbers or none is missing.
 */
export function tradeGap(
  lastTradeId: number | string | undefined,
  next: MdEnvelope["item"],
  exchange: string,
  symbol: string,
  now: number,
): GapEvent | undefined {
  const nextId = next.type === "trade"
    ? next.tradeId
    : next.type === "gap"
    ? next.fromId
    : undefined;
  const lastId = typeof lastTradeId === "string" && /^\d+$/.test(lastTradeId)
    ? Number(lastTradeId)
    : lastTradeId;
  const nextNum = typeof nextId === "string" && /^\d+$/.test(nextId) ? Number(nextId) : nextId;
  if (typeof lastId !== "number" || typeof nextNum !== "number") return undefined;
  if (nextNum <= lastId + 1) return undefined;
  return {
    type: "gap",
    exchange,
    symbol,
    channel: "trade",
    fromId: lastId + 1,
    toId: nextNum - 1,
    reason: NATS_GAP_REASON,
    receiveTime: now,
  };
}

function describeItem(item: FeedItem | MdEnvelope["item"]): string {
  if (item.type === "trade") return `trade ${item.tradeId}`;
  if (item.type === "gap") return `gap ${item.fromId}..${item.toId}`;
  return item.type;
}

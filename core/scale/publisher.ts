/**
 * The ingest node's publisher: turns hub items into market-data envelopes on NATS
 * subjects while this node leads its group, and holds them while it does not.
 *
 * - **leading**: every hub item goes to its subject with the next `seq` (its own counter,
 *   continuing the log's last seq, not the local hub's) and `prev` = the last seq on that
 *   subject; it is kept in a per-subject published ring (RECOVERY_SECONDS,
 *   RECOVERY_MAX_PER_STREAM). A `booksnap` (rolled up) follows every book snapshot and every
 *   1,000 deltas or 5 s per book, under the seq of its last book message; `status` (rolled
 *   up) on every feed state change and every 5 s; `instruments` rolled up. The rolled-up
 *   `status` and `instruments` take no position of their own: their `seq` is the last seq
 *   given out (the log position they were published at, 0 before any), their `prev` 0, and
 *   they never advance the counter — the stream keeps only the newest of each, so a
 *   position of theirs would vanish from the log.
 * - **standby** (lease not held), **paused** (NATS down while holding the lease) and
 *   **resuming**: items go to a pending ring per subject, unpublished.
 * - **resume** (on becoming leader, and after every NATS reconnect while leading): read the
 *   log's last state, then (a) republish own published items the log lacks (same seq/prev,
 *   seq order), (b) publish pending items with new seqs: trades only after the last stored
 *   trade id (a `gap` with the exact missing ids first when the pending items do not reach
 *   back to it), quotes/klines only newer than the last stored, books as one fresh snapshot
 *   of the local book, then the current status and instruments; then live.
 *
 * There is no NATS in here: `publish` and `readLogState` are injected, so the state machine
 * is tested with fakes (tests/scale/publisher.test.ts).
 * @module
 */
import type { BookUpdate, GapEvent, InstrumentsEvent } from "../events.ts";
import type { FeedItem } from "../feed/messages.ts";
import type { FeedInfo } from "../ingest/supervisor.ts";
import type { HubItem } from "../ingest/taps.ts";
import type { FeedInfoItem, MdEnvelope } from "./envelope.ts";
import { subjectOf } from "./subjects.ts";
import { type BoundedRing, createRing } from "./ring.ts";
import { getLogger } from "../server/log.ts";

/** Publishes one envelope (core publish; `rollup` keeps only the newest of the subject). */
export type PublishFn = (subject: string, envelope: MdEnvelope, opts: { rollup: boolean }) => void;

/** What the log (the JetStream stream) holds now, as a resume needs it. */
export interface LogState {
  /** The epoch to publish under (the stored one, or a fresh one for an empty log). */
  epoch: string;
  /** True when `epoch` was just made (the log was empty or had none). */
  newEpoch: boolean;
  /** Highest envelope seq in the log (0 when empty). */
  lastSeq: number;
  /** The newest stored envelope of every subject. */
  last: ReadonlyMap<string, MdEnvelope>;
}

/** Where the publisher's transitions are logged. */
export interface PublisherLog {
  info(message: string, properties?: Record<string, unknown>): void;
  warning(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

/** What the publisher is built from. */
export interface PublisherOptions {
  publish: PublishFn;
  /** Reads the log's last state; throws while the stream does not answer (retried). */
  readLogState(): Promise<LogState>;
  /** The local full book of a symbol as a snapshot update, or undefined when it is not synced. */
  bookSnapshot(exchange: string, symbol: string): BookUpdate | undefined;
  /** The current state of every feed. */
  feeds(): FeedInfo[];
  /** Seconds of items kept per subject (published ring and pending ring). */
  recoverySeconds: number;
  /** Most items kept per subject. */
  maxPerStream: number;
  now?: () => number;
  log?: PublisherLog;
  /** A booksnap after this many deltas of a book (default 1,000). */
  bookSnapDeltas?: number;
  /** A booksnap at least this often while a book changes, ms (default 5,000). */
  bookSnapMs?: number;
  /** Status of every feed republished this often, ms (default 5,000). */
  statusMs?: number;
  /** First wait before reading the log state again when it failed, ms (default 200; doubles to 5 s). */
  retryMs?: number;
}

/** What the publisher does with hub items now. */
export type PublisherMode = "standby" | "paused" | "resuming" | "leading";

/** What one resume did (logged, and returned for tests). */
export interface ResumeSummary {
  reason: string;
  epoch: string;
  newEpoch: boolean;
  /** Own published items the log lacked, published again with their seqs. */
  republished: number;
  /** Held items published with new seqs (gap items and fresh book snapshots included). */
  published: number;
  /** Gap items made because held trades did not reach back to the log's last trade. */
  gaps: number;
  /** Held items the log already had (or older than it). */
  skipped: number;
  /** Fresh book snapshots published from the local books. */
  snapshots: number;
  /** The last seq after the resume. */
  lastSeq: number;
}

/** The publisher's state, for /health. */
export interface PublisherState {
  mode: PublisherMode;
  epoch?: string;
  /** Last seq published (or read from the log). */
  lastSeq: number;
  /** Envelopes published since start (republished ones included). */
  published: number;
  /** Items held unpublished now. */
  pending: number;
}

/** The ingest publisher. */
export interface Publisher {
  /** The hub tap: every item the hub handled, in hub order. */
  tap(entry: HubItem): void;
  /** A feed's state changed (published at once while leading). */
  feedState(info: FeedInfo): void;
  /**
   * Starts publishing: reads the log state (retrying until the stream answers), republishes
   * and publishes what the log lacks, then goes live. Resolves with what it did, or undefined
   * when a later `standby`/`pause`/`resume` superseded it.
   */
  resume(reason: string): Promise<ResumeSummary | undefined>;
  /** The lease is lost: stop publishing at once; what was published is no longer ours to repair. */
  standby(reason: string): void;
  /** NATS is down while the lease is held: stop publishing at once, keep what was published. */
  pause(reason: string): void;
  /** Time-driven work (status every 5 s, booksnap of quiet books, ring eviction); call every ~1 s. */
  tick(): void;
  state(): PublisherState;
}

/** The subject a hub item is published on, or undefined for items that are not published. */
export function subjectOfItem(exchange: string, item: FeedItem): string | undefined {
  switch (item.type) {
    case "trade":
    case "gap":
      return subjectOf(exchange, "trade", item.symbol);
    case "quote":
      return subjectOf(exchange, "quote", item.symbol);
    case "kline":
      return subjectOf(exchange, "kline", item.symbol);
    case "book":
    case "book_status":
      return subjectOf(exchange, "book", item.symbol);
    case "instruments":
      return subjectOf(exchange, "instruments");
    case "status":
      // The feed's own events, in order (the recorder keeps them: emulator or exchange);
      // the current state goes separately as the `status` rollup (feed_info).
      return subjectOf(exchange, "feed");
    default:
      return undefined; // malformed, log
  }
}

/** A trade id as a number, when it is one (numeric strings included). */
export function numericTradeId(id: number | string): number | undefined {
  if (typeof id === "number") return Number.isFinite(id) ? id : undefined;
  return /^\d{1,15}$/.test(id) ? Number(id) : undefined;
}

interface Published {
  subject: string;
  envelope: MdEnvelope;
  rollup: boolean;
}

/** `status` and `instruments`: rolled up, at the current position, never one of their own. */
const isMeta = (item: MdEnvelope["item"]): boolean =>
  item.type === "feed_info" || item.type === "instruments";

interface Held {
  /** Arrival order across all subjects. */
  order: number;
  subject: string;
  exchange: string;
  item: FeedItem;
}

/** Where a subject stands: the last trade id / event time published or stored on it. */
interface Cursor {
  id?: number;
  key?: number | string;
  eventTime?: number;
}

interface BookCadence {
  exchange: string;
  symbol: string;
  deltas: number;
  lastSnapAt: number;
}

/** JSON with object keys sorted and undefined values left out (content comparison). */
function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
        : v,
  );
}

const cursorOf = (item: MdEnvelope["item"] | undefined): Cursor => {
  if (!item) return {};
  switch (item.type) {
    case "trade":
      return { id: numericTradeId(item.tradeId), key: item.tradeId, eventTime: item.eventTime };
    case "gap":
      return { id: item.toId };
    case "quote":
    case "kline":
      return { eventTime: item.eventTime };
    default:
      return {};
  }
};

/** Creates the publisher in standby. */
export function createPublisher(o: PublisherOptions): Publisher {
  const now = o.now ?? Date.now;
  const log = o.log ?? getLogger(["quant-saas", "ingest"]);
  const snapDeltas = o.bookSnapDeltas ?? 1_000;
  const snapMs = o.bookSnapMs ?? 5_000;
  const statusMs = o.statusMs ?? 5_000;
  const retryMs = o.retryMs ?? 200;
  const maxAgeMs = o.recoverySeconds * 1_000;

  let mode: PublisherMode = "standby";
  /** The mode as it is now (after calls that may change it). */
  const modeNow = (): PublisherMode => mode;
  let epoch: string | undefined;
  /** Last seq given out (or read from the log). */
  let counter = 0;
  let publishedCount = 0;
  /** Bumped by every transition: a resume that finds it changed gives up. */
  let generation = 0;
  let order = 0;
  let lastStatusAt = 0;
  /** The log's last seq when this node's current tenure (its run of own publications) began. */
  let tenureFloor = 0;
  /** Set when the lease was lost since the last resume: another node may have published. */
  let leaseBroken = false;

  /** Seq of the last message on each subject (what the next one's `prev` is). */
  const prevs = new Map<string, number>();
  /** Seq of the last message this node published on each subject in this leadership. */
  const own = new Map<string, number>();
  const publishedRings = new Map<string, BoundedRing<Published>>();
  const pendingRings = new Map<string, BoundedRing<Held>>();
  const books = new Map<string, BookCadence>();
  const instruments = new Map<string, InstrumentsEvent>();

  const ringOf = <T>(rings: Map<string, BoundedRing<T>>, subject: string, rollup: boolean) => {
    let ring = rings.get(subject);
    if (!ring) {
      ring = createRing<T>(rollup ? 1 : o.maxPerStream, maxAgeMs);
      rings.set(subject, ring);
    }
    return ring;
  };
  const pendingCount = () => {
    let n = 0;
    for (const ring of pendingRings.values()) n += ring.size();
    return n;
  };

  /** Publishes unless paused (a failed publish pauses: the item stays in the published ring). */
  const send = (subject: string, envelope: MdEnvelope, rollup: boolean): boolean => {
    if (mode === "paused" || mode === "standby") return false;
    try {
      o.publish(subject, envelope, { rollup });
      publishedCount++;
      return true;
    } catch (err) {
      log.error(
        "publishing {subject} seq {seq} failed: {error}; holding items until NATS is back",
        {
          subject,
          seq: envelope.seq,
          error: err instanceof Error ? err.message : String(err),
        },
      );
      pause("publish failed");
      return false;
    }
  };

  /** Publishes one envelope with the given seq, remembering it as ours. */
  const emit = (
    subject: string,
    exchange: string,
    item: MdEnvelope["item"],
    seq: number,
    rollup: boolean,
  ): MdEnvelope => {
    const envelope: MdEnvelope = {
      v: 1,
      epoch: epoch!,
      seq,
      prev: prevs.get(subject) ?? 0,
      exchange,
      item,
    };
    prevs.set(subject, seq);
    own.set(subject, seq);
    counter = Math.max(counter, seq);
    ringOf(publishedRings, subject, rollup).push({ subject, envelope, rollup }, now());
    send(subject, envelope, rollup);
    return envelope;
  };

  /** Publishes the local full book as the booksnap of a symbol (seq = its last book message). */
  const bookSnap = (cadence: BookCadence) => {
    const bookSubject = subjectOf(cadence.exchange, "book", cadence.symbol);
    const snapSubject = subjectOf(cadence.exchange, "booksnap", cadence.symbol);
    const seq = prevs.get(bookSubject);
    if (seq === undefined || seq <= (prevs.get(snapSubject) ?? 0)) return;
    const snapshot = o.bookSnapshot(cadence.exchange, cadence.symbol);
    if (!snapshot) return;
    emit(snapSubject, cadence.exchange, snapshot, seq, true);
    cadence.deltas = 0;
    cadence.lastSnapAt = now();
  };

  /**
   * Publishes a rolled-up `status` or `instruments` at the current position: `seq` = the
   * last seq given out, `prev` 0; the counter does not move.
   */
  const emitMeta = (subject: string, exchange: string, item: FeedInfoItem | InstrumentsEvent) => {
    const envelope: MdEnvelope = { v: 1, epoch: epoch!, seq: counter, prev: 0, exchange, item };
    own.set(subject, counter);
    ringOf(publishedRings, subject, true).push({ subject, envelope, rollup: true }, now());
    send(subject, envelope, true);
  };

  const publishStatus = (info: FeedInfo) => {
    emitMeta(subjectOf(info.exchange, "status"), info.exchange, { type: "feed_info", info });
  };
  const publishAllStatus = () => {
    for (const info of o.feeds()) publishStatus(info);
    lastStatusAt = now();
  };

  /** Publishes one hub item live (leading), with its booksnap cadence. */
  const publishLive = (subject: string, exchange: string, item: FeedItem) => {
    if (item.type === "instruments") return emitMeta(subject, exchange, item);
    emit(subject, exchange, item as MdEnvelope["item"], counter + 1, false);
    if (item.type !== "book") return;
    const cadence = books.get(`${exchange}|${item.symbol}`)!;
    if (item.snapshot) bookSnap(cadence);
    else {
      cadence.deltas++;
      if (cadence.deltas >= snapDeltas || now() - cadence.lastSnapAt >= snapMs) bookSnap(cadence);
    }
  };

  function pause(reason: string) {
    if (mode === "standby" || mode === "paused") return;
    generation++;
    mode = "paused";
    log.warning("ingest publisher paused ({reason}): holding items until NATS is back", {
      reason,
      lastSeq: counter,
    });
  }

  const readLog = async (gen: number): Promise<LogState | undefined> => {
    let wait = retryMs;
    for (;;) {
      try {
        const state = await o.readLogState();
        return gen === generation ? state : undefined;
      } catch (err) {
        if (gen !== generation) return undefined;
        log.warning("reading the log state failed ({error}); retrying in {wait} ms", {
          error: err instanceof Error ? err.message : String(err),
          wait,
        });
      }
      await new Promise((r) => setTimeout(r, wait));
      if (gen !== generation) return undefined;
      wait = Math.min(5_000, wait * 2);
    }
  };

  /**
   * True when the log holds messages another leader published after this node's tenure
   * began: a seq beyond this node's last, a subject's last message beyond what this node
   * published there, or one this node cannot prove its own (not in its published ring with
   * the same content). Doubtful cases count as foreign: that costs a gap item, never a
   * seq given out twice.
   */
  const foreignSince = (st: LogState): boolean => {
    if (st.lastSeq > counter) return true;
    for (const [subject, env] of st.last) {
      if (env.seq <= tenureFloor) continue; // from before this node's tenure
      const mine = own.get(subject);
      if (mine === undefined || env.seq > mine) return true;
      const entry = publishedRings.get(subject)?.values().find((p) => p.envelope.seq === env.seq);
      if (!entry || canonical(entry.envelope) !== canonical(env)) return true;
    }
    return false;
  };

  /** Everything after the log state is known: synchronous, so no item slips in between. */
  const finishResume = (reason: string, st: LogState): ResumeSummary => {
    if (epoch !== st.epoch || (leaseBroken && foreignSince(st))) {
      // Another lineage, or another leader published since this node did: what this node
      // published before is not its to repair (its seqs may have been given out again).
      for (const ring of publishedRings.values()) ring.clear();
      own.clear();
      prevs.clear();
    }
    if (own.size === 0) tenureFloor = st.lastSeq;
    leaseBroken = false;
    epoch = st.epoch;
    counter = Math.max(counter, st.lastSeq);
    for (const [subject, env] of st.last) {
      if (isMeta(env.item)) continue; // no prev chain: always prev 0
      prevs.set(subject, Math.max(prevs.get(subject) ?? 0, env.seq));
    }
    const cursors = new Map<string, Cursor>();
    for (const [subject, env] of st.last) cursors.set(subject, cursorOf(env.item));
    const summary: ResumeSummary = {
      reason,
      epoch: st.epoch,
      newEpoch: st.newEpoch,
      republished: 0,
      published: 0,
      gaps: 0,
      skipped: 0,
      snapshots: 0,
      lastSeq: 0,
    };

    // (a) Own published items the log lacks: same seq and prev, in seq order (status and
    // instruments: the current ones are published at the end instead).
    const missing: Published[] = [];
    for (const [subject, ring] of publishedRings) {
      const stored = st.last.get(subject)?.seq ?? 0;
      for (const p of ring.values()) {
        if (p.envelope.seq > stored && !isMeta(p.envelope.item)) missing.push(p);
      }
    }
    // A booksnap has the seq of the book message it follows: it goes after it.
    missing.sort((a, b) => a.envelope.seq - b.envelope.seq || Number(a.rollup) - Number(b.rollup));
    for (const p of missing) {
      send(p.subject, p.envelope, p.rollup);
      summary.republished++;
      prevs.set(p.subject, Math.max(prevs.get(p.subject) ?? 0, p.envelope.seq));
      cursors.set(p.subject, cursorOf(p.envelope.item));
    }

    // (b) Held items, in arrival order, with new seqs.
    const held: Held[] = [];
    for (const ring of pendingRings.values()) held.push(...ring.values());
    pendingRings.clear();
    held.sort((a, b) => a.order - b.order);
    const bookTouched = new Map<string, Held | undefined>();
    const tradeStarted = new Set<string>();
    const tradeOverlap = new Set<string>();
    // A publish failing from here on pauses the publisher; what follows still goes into the
    // published ring, so the next resume republishes it.
    const publishHeld = (h: Held, item: MdEnvelope["item"] = h.item as MdEnvelope["item"]) => {
      emit(h.subject, h.exchange, item, counter + 1, false);
      cursors.set(h.subject, cursorOf(item));
    };
    for (const h of held) {
      const { item, subject } = h;
      const last = cursors.get(subject) ?? {};
      switch (item.type) {
        case "trade": {
          const id = numericTradeId(item.tradeId);
          if (id !== undefined && last.id !== undefined) {
            if (id <= last.id) {
              summary.skipped++;
              tradeOverlap.add(subject);
              continue;
            }
            if (!tradeStarted.has(subject) && !tradeOverlap.has(subject) && id > last.id + 1) {
              const gap: GapEvent = {
                type: "gap",
                exchange: h.exchange,
                symbol: item.symbol,
                channel: "trade",
                fromId: last.id + 1,
                toId: id - 1,
                reason: "ingest failover: trades not captured by any ingest node",
                receiveTime: now(),
              };
              publishHeld(h, gap);
              summary.gaps++;
              log.warning("trade gap on {exchange} {symbol} after failover: ids {fromId}..{toId}", {
                ...gap,
              });
            }
          } else if (last.eventTime !== undefined && id === undefined) {
            // Ids that are not numbers: order by event time.
            if (
              item.eventTime < last.eventTime ||
              (item.eventTime === last.eventTime && item.tradeId === last.key)
            ) {
              summary.skipped++;
              tradeOverlap.add(subject);
              continue;
            }
          }
          tradeStarted.add(subject);
          publishHeld(h);
          summary.published++;
          break;
        }
        case "gap": {
          if (last.id !== undefined && item.toId <= last.id) {
            summary.skipped++;
            tradeOverlap.add(subject);
            continue;
          }
          tradeStarted.add(subject);
          publishHeld(
            h,
            last.id !== undefined ? { ...item, fromId: Math.max(item.fromId, last.id + 1) } : item,
          );
          summary.published++;
          break;
        }
        case "quote":
        case "kline":
          if (last.eventTime !== undefined && item.eventTime <= last.eventTime) {
            summary.skipped++;
            continue;
          }
          publishHeld(h);
          summary.published++;
          break;
        case "book":
        case "book_status": {
          // Replaced by one fresh snapshot of the local book below (or its last status).
          const prior = bookTouched.get(subject);
          bookTouched.set(subject, item.type === "book_status" ? h : prior);
          summary.skipped++;
          break;
        }
        default:
          // instruments: the current list is published below; a standby's own feed events
          // describe its connection, not the log's (the current state goes out as status).
          summary.skipped++;
      }
    }

    // Books: a fresh snapshot where the log's book state is not this node's own.
    for (const cadence of books.values()) {
      const subject = subjectOf(cadence.exchange, "book", cadence.symbol);
      const touched = bookTouched.has(subject);
      if (!touched && own.get(subject) === (prevs.get(subject) ?? 0)) continue;
      const snapshot = o.bookSnapshot(cadence.exchange, cadence.symbol);
      if (snapshot) {
        emit(subject, cadence.exchange, snapshot, counter + 1, false);
        summary.snapshots++;
        bookSnap(cadence);
        continue;
      }
      const status = bookTouched.get(subject);
      if (status) {
        publishHeld(status);
        summary.published++;
      }
    }

    // Each feed's state as a feed event, in the sequence: the recording learns from it
    // that this node's data starts here, and whether it comes from an emulator.
    for (const info of o.feeds()) {
      emit(
        subjectOf(info.exchange, "feed"),
        info.exchange,
        {
          type: "status",
          state: info.state,
          reason: `publishing from this ingest node (${reason})`,
          emulator: info.emulator,
        },
        counter + 1,
        false,
      );
    }
    // Current instruments and status of every exchange, at the position reached.
    for (const [exchange, item] of instruments) {
      emitMeta(subjectOf(exchange, "instruments"), exchange, item);
    }
    publishAllStatus();
    summary.lastSeq = counter;
    if (mode === "resuming") mode = "leading";
    return summary;
  };

  return {
    tap({ exchange, item }) {
      const subject = subjectOfItem(exchange, item);
      if (subject === undefined) return;
      if (item.type === "book") {
        const key = `${exchange}|${item.symbol}`;
        if (!books.has(key)) {
          books.set(key, { exchange, symbol: item.symbol, deltas: 0, lastSnapAt: now() });
        }
      } else if (item.type === "instruments") instruments.set(exchange, item);
      if (mode === "leading") return publishLive(subject, exchange, item);
      ringOf(pendingRings, subject, false).push(
        { order: ++order, subject, exchange, item },
        now(),
      );
    },
    feedState(info) {
      if (mode === "leading") publishStatus(info);
    },
    async resume(reason) {
      const gen = ++generation;
      mode = "resuming";
      log.info("ingest publisher resuming ({reason}): reading the log state", { reason });
      const st = await readLog(gen);
      if (st === undefined || gen !== generation) return undefined;
      const summary = finishResume(reason, st);
      if (modeNow() !== "leading") return undefined; // a publish failed: paused again
      log.info(
        "ingest publisher leading ({reason}): epoch {epoch}{fresh}, republished {republished}, published {published} held items, gaps {gaps}, skipped {skipped}, book snapshots {snapshots}, last seq {lastSeq}",
        { ...summary, fresh: summary.newEpoch ? " (new epoch)" : "" },
      );
      return summary;
    },
    standby(reason) {
      generation++;
      const was = mode;
      mode = "standby";
      // Another node may publish from now on: the next resume checks the log before it
      // republishes anything of this node's (see `foreignSince`).
      leaseBroken = true;
      if (was !== "standby") {
        log.warning("ingest publisher standing by ({reason}): holding items, publishing nothing", {
          reason,
          lastSeq: counter,
        });
      }
    },
    pause,
    tick() {
      const t = now();
      for (const ring of publishedRings.values()) ring.evict(t);
      for (const ring of pendingRings.values()) ring.evict(t);
      if (mode !== "leading") return;
      if (t - lastStatusAt >= statusMs) publishAllStatus();
      for (const cadence of books.values()) {
        if (mode !== "leading") return;
        if (cadence.deltas > 0 && t - cadence.lastSnapAt >= snapMs) bookSnap(cadence);
      }
    },
    state: () => ({
      mode,
      epoch,
      lastSeq: counter,
      published: publishedCount,
      pending: pendingCount(),
    }),
  };
}

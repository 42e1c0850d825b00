/**
 * The edge's item source: the gateway's feeds replaced by the NATS market-data log.
 *
 * - Feed states and instrument lists of every exchange: the last of each subject at start
 *   (`md.*.status.*`, `md.*.instruments.*`), then core subscriptions to them. `/health`
 *   shows the feeds as the ingest last published them (emulator flag kept); while NATS is
 *   disconnected every feed shows `reconnecting` ("NATS disconnected").
 * - Streams: one {@link Follower} per subject while clients want it (the gateway's interest
 *   hook): trade/quote/kline their own subject; book the book subject, started from the
 *   booksnap; consolidated the quote and book subjects of every exchange's native symbol of
 *   that unified name. A subject no one wants any more is left after EDGE_LINGER_SECONDS.
 * - `since` recovery: before the gateway answers, the recent log is backfilled from
 *   JetStream back to `since` (a subject not followed yet is followed from `since` on).
 * - Epoch: the group's (`md_meta`) at start, then the one the envelopes carry.
 * @module
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { FeedItem } from "../feed/messages.ts";
import type { InstrumentsEvent } from "../events.ts";
import type { FeedInfo } from "../ingest/supervisor.ts";
import type { StreamKey } from "../delivery/subscriptions.ts";
import { streamId } from "../delivery/subscriptions.ts";
import type { ItemSource, SourceHandlers } from "../server/gateway.ts";
import type { RecentEntry, RecentLog } from "../recovery/recent_log.ts";
import type { MdEnvelope } from "./envelope.ts";
import {
  decodeEnvelope,
  lastOfSubject,
  lastPerSubject,
  readSubject,
  type StoredEnvelope,
  streamSeqAfter,
} from "./log.ts";
import { readEpoch } from "./epoch.ts";
import { subjectOf } from "./subjects.ts";
import {
  createFollower,
  type FollowedChannel,
  type Follower,
  type FollowerClock,
  type FollowerStats,
  type FollowStart,
} from "./follower.ts";
import { getLogger } from "../server/log.ts";

/** Reason of every feed's state while the edge has no NATS connection. */
export const NATS_DISCONNECTED = "NATS disconnected";

/** What an edge source is built from. */
export interface EdgeSourceOptions {
  /** A connection from `connectNats` (the source does not close it). */
  nc: NatsConnection;
  /** The market-data stream (NATS_STREAM). */
  stream: string;
  /** The ingest group whose epoch the edge reads (INGEST_GROUP). */
  group: string;
  /** Seconds a subject is still followed after its last client left (EDGE_LINGER_SECONDS). */
  lingerSeconds: number;
  /** Follower settings for tests. */
  follower?: { clock?: FollowerClock; repairTimeoutMs?: number; retryMs?: number };
}

/** One followed subject as `/health` shows it. */
export interface FollowedSubject extends FollowerStats {
  subject: string;
  /** Streams of clients that need it (0: lingering, or prepared for a recovery). */
  holders: number;
  /** Caught up with its start, and NATS has the subscription. */
  ready: boolean;
  lastSeq: number;
}

/** The edge's part of `/health` (`scale`). */
export interface EdgeHealth {
  role: "edge";
  nats: { connected: boolean; server: string };
  epoch: string;
  followed: FollowedSubject[];
  /** Holes repaired from JetStream, over every follower (closed ones included). */
  repairs: number;
  /** Holes reported as gaps, book resyncs or skipped quotes/candles. */
  gaps: number;
  /** JetStream reads that filled the recent log for `since` recoveries (one per subject at a time). */
  backfills: number;
}

/** An opened edge source: the gateway's `source` factory and the edge's health. */
export interface EdgeSource {
  /** Pass as `GatewayOptions.source` (called once). */
  readonly source: (handlers: SourceHandlers, recent: RecentLog) => ItemSource;
  health(): EdgeHealth;
}

interface Followed {
  follower: Follower;
  channel: FollowedChannel;
  exchange: string;
  symbol: string;
  holders: number;
  /** Resolves once the follower caught up with its start and NATS has its subscription. */
  started: Promise<void>;
  ready: boolean;
  linger?: ReturnType<typeof setTimeout>;
}

/**
 * Subscribes to the feed states and instrument lists of every exchange and reads their
 * last values and the group's epoch; the returned `source` then feeds a gateway.
 */
export async function openEdgeSource(o: EdgeSourceOptions): Promise<EdgeSource> {
  const { nc, stream } = o;
  const log = getLogger(["quant-saas", "edge"]);
  const js: JetStreamClient = jetstream(nc);
  const jsm: JetStreamManager = await js.jetstreamManager();

  let handlers: SourceHandlers | undefined;
  let recent: RecentLog | undefined;
  let connected = !nc.isClosed();
  let epoch = await readEpoch(nc, o.group).catch((err) => {
    log.warning("cannot read the epoch of group {group}: {error}", {
      group: o.group,
      error: String(err),
    });
    return undefined;
  }) ?? "";
  const feeds = new Map<string, FeedInfo>();
  const instruments = new Map<string, InstrumentsEvent>();
  /** Per status/instruments subject: the seq and epoch applied last. */
  const applied = new Map<string, { seq: number; epoch: string }>();
  const followed = new Map<string, Followed>();
  /** Per interest (stream id): the subjects it holds. */
  const holds = new Map<string, { stream: StreamKey; subjects: Set<string> }>();
  const totals = { repairs: 0, gaps: 0, backfills: 0 };
  let stopped = false;
  const closers: (() => void)[] = [];

  const noteEpoch = (env: MdEnvelope) => {
    if (env.epoch === epoch) return;
    log.info("epoch {epoch} (was {previous})", { epoch: env.epoch, previous: epoch || "none" });
    epoch = env.epoch;
  };

  /** A feed as clients see it: while NATS is down, reconnecting. */
  const shown = (info: FeedInfo): FeedInfo =>
    connected ? info : { ...info, state: "reconnecting", reason: NATS_DISCONNECTED };

  /** Status/instruments subjects a live message reached while the stored ones were read. */
  const liveDuringRead = new Set<string>();

  /**
   * Applies a status or instruments message (the newest per subject wins). Several can sit
   * at one position (published with no data in between): a later one at the same seq
   * replaces the earlier one — except a stored one read while a live one arrived (`stored`:
   * it may be the older of the two).
   */
  const applyMeta = (subject: string, env: MdEnvelope, stored = false) => {
    const before = applied.get(subject);
    if (
      before && before.epoch === env.epoch &&
      (env.seq < before.seq || (env.seq === before.seq && stored && liveDuringRead.has(subject)))
    ) return;
    applied.set(subject, { seq: env.seq, epoch: env.epoch });
    noteEpoch(env);
    const item = env.item;
    if (item.type === "feed_info") {
      const info = { ...item.info, exchange: env.exchange };
      feeds.set(env.exchange, info);
      handlers?.onState(shown(info));
    } else if (item.type === "instruments") {
      instruments.set(env.exchange, item);
      handlers?.onItem(env.exchange, item, { seq: env.seq, prev: env.prev });
      reviewConsolidated();
    }
  };

  /** A core subscription delivering decoded envelopes (bad ones logged and dropped). */
  const subscribe = (subject: string, onEnvelope: (subject: string, env: MdEnvelope) => void) => {
    const sub: Subscription = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          log.warning("subscription {subject} failed: {error}", { subject, error: err.message });
          return;
        }
        let env: MdEnvelope;
        try {
          env = decodeEnvelope(msg.data);
        } catch (e) {
          log.warning("dropped a bad message on {subject}: {error}", {
            subject: msg.subject,
            error: e instanceof Error ? e.message : String(e),
          });
          return;
        }
        onEnvelope(msg.subject, env);
      },
    });
    return () => sub.unsubscribe();
  };

  /** The last status and instruments of every exchange (at start, and after a reconnect). */
  const readMeta = async () => {
    liveDuringRead.clear();
    const found: StoredEnvelope[] = [];
    for (const filter of ["md.*.status.*", "md.*.instruments.*"]) {
      for (const s of (await lastPerSubject(js, stream, filter)).values()) found.push(s);
    }
    found.sort((a, b) => a.streamSeq - b.streamSeq);
    for (const s of found) applyMeta(s.subject, s.envelope, true);
  };

  const liveMeta = (subject: string, env: MdEnvelope) => {
    liveDuringRead.add(subject);
    applyMeta(subject, env);
  };
  closers.push(subscribe("md.*.status.*", liveMeta));
  closers.push(subscribe("md.*.instruments.*", liveMeta));
  try {
    await readMeta();
  } catch (err) {
    log.warning("cannot read the feed states and instruments from stream {stream}: {error}", {
      stream,
      error: String(err),
    });
  }

  /** The subject's messages after `afterSeq` (before `untilSeq`) from JetStream. */
  async function* readRange(
    subject: string,
    afterSeq: number,
    untilSeq: number | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<MdEnvelope> {
    const from = await streamSeqAfter(jsm, stream, afterSeq);
    if (from === undefined || signal.aborted) return;
    for await (const s of readSubject(js, stream, subject, from, { untilSeq, signal })) {
      if (s.envelope.seq > afterSeq) yield s.envelope;
    }
  }

  const deliver = (env: MdEnvelope) => {
    if (stopped || !handlers || env.item.type === "feed_info") return;
    noteEpoch(env);
    handlers.onItem(env.exchange, env.item as FeedItem, { seq: env.seq, prev: env.prev });
  };

  /** Starts following `subject` (not held by anyone yet). */
  const follow = (
    channel: FollowedChannel,
    exchange: string,
    symbol: string,
    start: FollowStart,
  ): Followed => {
    const subject = subjectOf(exchange, channel, symbol);
    const follower = createFollower({
      subject,
      channel,
      exchange,
      symbol,
      subscribe: (onMessage) => subscribe(subject, (_s, env) => onMessage(env)),
      readRange,
      lastSnapshot: async () =>
        (await lastOfSubject(jsm, stream, subjectOf(exchange, "booksnap", symbol)))?.envelope,
      deliver,
      backfill: (env) => {
        const item = env.item;
        if (
          stopped || !recent ||
          (item.type !== "trade" && item.type !== "quote" && item.type !== "kline" &&
            item.type !== "gap")
        ) return deliver(env);
        noteEpoch(env);
        const id = streamId(channel, exchange, symbol);
        if ((recent.last(id)?.seq ?? 0) < env.seq) {
          recent.append(id, { seq: env.seq, prev: env.prev, item });
        }
      },
      onNewEpoch: () => {
        if (channel !== "book") recent?.drop(streamId(channel, exchange, symbol));
      },
      log,
      ...o.follower,
    });
    const entry: Followed = {
      follower,
      channel,
      exchange,
      symbol,
      holders: 0,
      ready: false,
      started: follower.start(start).then(() => nc.flush()).then(
        () => void (entry.ready = true),
        (err) => {
          log.error("following {subject} failed to start: {error}", {
            subject,
            error: String(err),
          });
        },
      ),
    };
    followed.set(subject, entry);
    log.info("following {subject} ({start})", {
      subject,
      start: start.from === "after" ? `after ${start.seq}` : start.from,
    });
    return entry;
  };

  /** Ends following a subject (its recent items go: the log would have a hole). */
  const unfollow = (subject: string) => {
    const entry = followed.get(subject);
    if (!entry) return;
    clearTimeout(entry.linger);
    followed.delete(subject);
    const s = entry.follower.stats();
    totals.repairs += s.repaired;
    totals.gaps += s.gaps;
    entry.follower.close();
    if (entry.channel !== "book") {
      recent?.drop(streamId(entry.channel, entry.exchange, entry.symbol));
    } else if (handlers && !stopped) {
      // The hub's copy of the book stops changing: not synced until followed again.
      handlers.onItem(entry.exchange, {
        type: "book_status",
        symbol: entry.symbol,
        state: "resyncing",
        reason: "no longer followed by this edge",
      });
    }
    log.info("no longer following {subject}", { subject });
  };

  /** Leaves a subject no one holds after the linger time. */
  const armLinger = (subject: string, entry: Followed) => {
    clearTimeout(entry.linger);
    entry.linger = setTimeout(() => {
      if (entry.holders === 0) unfollow(subject);
    }, o.lingerSeconds * 1000);
  };

  const acquire = (channel: FollowedChannel, exchange: string, symbol: string) => {
    const subject = subjectOf(exchange, channel, symbol);
    const entry = followed.get(subject) ??
      follow(channel, exchange, symbol, { from: channel === "book" ? "snapshot" : "live" });
    entry.holders++;
    clearTimeout(entry.linger);
    entry.linger = undefined;
  };

  const release = (subject: string) => {
    const entry = followed.get(subject);
    if (!entry) return;
    entry.holders = Math.max(0, entry.holders - 1);
    if (entry.holders === 0) armLinger(subject, entry);
  };

  /** The subjects a client stream needs. */
  const subjectsOf = (s: StreamKey): [FollowedChannel, string, string][] => {
    if (s.channel !== "consolidated") return [[s.channel, s.exchange, s.symbol]];
    const out: [FollowedChannel, string, string][] = [];
    const unified = s.symbol.toUpperCase();
    for (const [exchange, list] of instruments) {
      for (const inst of list.instruments) {
        if (inst.unified.toUpperCase() !== unified || !list.streamed.includes(inst.symbol)) {
          continue;
        }
        out.push(["quote", exchange, inst.symbol], ["book", exchange, inst.symbol]);
      }
    }
    return out;
  };

  /** Makes interest `id` hold exactly the subjects `stream` needs now. */
  const hold = (id: string, stream: StreamKey) => {
    const held = holds.get(id) ?? { stream, subjects: new Set<string>() };
    holds.set(id, held);
    const wanted = new Map<string, [FollowedChannel, string, string]>();
    for (const parts of subjectsOf(stream)) {
      wanted.set(subjectOf(parts[1], parts[0], parts[2]), parts);
    }
    for (const [subject, parts] of wanted) {
      if (held.subjects.has(subject)) continue;
      held.subjects.add(subject);
      acquire(...parts);
    }
    for (const subject of [...held.subjects]) {
      if (wanted.has(subject)) continue;
      held.subjects.delete(subject);
      release(subject);
    }
  };

  /** New instrument lists: consolidated interests may need other subjects. */
  function reviewConsolidated() {
    for (const [id, held] of holds) {
      if (held.stream.channel === "consolidated") hold(id, held.stream);
    }
  }

  /** Makes the recent log of one stream reach back to `since`. */
  const prepareStream = async (s: StreamKey, since: number) => {
    if (s.channel !== "trade" && s.channel !== "quote" && s.channel !== "kline") return;
    const subject = subjectOf(s.exchange, s.channel, s.symbol);
    const entry = followed.get(subject);
    if (!entry) {
      // Not followed yet: follow from `since` on (the log fills as the follower catches up).
      // Lingers from when it caught up: the client's subscription then holds it.
      const fresh = follow(s.channel, s.exchange, s.symbol, { from: "after", seq: since });
      await fresh.started;
      if (fresh.holders === 0 && followed.get(subject) === fresh) armLinger(subject, fresh);
      return;
    }
    await entry.started;
    // Many clients reconnecting at once (their edge died) share one read per subject.
    const running = backfills.get(subject);
    if (running && running.since <= since) return await running.done;
    const id = streamId(s.channel, s.exchange, s.symbol);
    const first = recent?.first(id);
    if (first && first.prev <= since) return;
    totals.backfills++;
    const done = (async () => {
      const older: RecentEntry[] = [];
      const abort = new AbortController();
      for await (const env of readRange(subject, since, first?.seq, abort.signal)) {
        const item = env.item;
        if (
          item.type === "trade" || item.type === "quote" || item.type === "kline" ||
          item.type === "gap"
        ) older.push({ seq: env.seq, prev: env.prev, item });
      }
      // Another backfill may have prepended meanwhile: only what is still older than the log.
      const head = recent?.first(id);
      const fresh = head ? older.filter((e) => e.seq < head.seq) : older;
      if (fresh.length > 0) recent?.prepend(id, fresh);
    })();
    backfills.set(subject, { since, done });
    try {
      await done;
    } finally {
      if (backfills.get(subject)?.done === done) backfills.delete(subject);
    }
  };
  /** Backfills from JetStream in flight, per subject, with the position each reads after. */
  const backfills = new Map<string, { since: number; done: Promise<void> }>();

  /** Connection changes: feeds show reconnecting while NATS is down; followers catch up after. */
  (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect" && connected) {
        connected = false;
        for (const info of feeds.values()) handlers?.onState(shown(info));
      } else if (status.type === "reconnect" && !connected) {
        connected = true;
        for (const info of feeds.values()) handlers?.onState(shown(info));
        readMeta().catch((err) =>
          log.warning("re-reading feed states after a reconnect failed: {error}", {
            error: String(err),
          })
        );
        for (const entry of followed.values()) void entry.follower.catchUp();
      }
    }
  })().catch(() => {});

  const itemSource = (h: SourceHandlers, r: RecentLog): ItemSource => {
    handlers = h;
    recent = r;
    // What was read before the gateway existed, once it has its source.
    queueMicrotask(() => {
      for (const [exchange, item] of instruments) {
        const at = applied.get(subjectOf(exchange, "instruments"));
        h.onItem(exchange, item, at ? { seq: at.seq, prev: 0 } : undefined);
      }
      for (const info of feeds.values()) h.onState(shown(info));
    });
    return {
      info: () => [...feeds.values()].map(shown),
      get: (exchange) => {
        const info = feeds.get(exchange);
        return info ? shown(info) : undefined;
      },
      stop() {
        stopped = true;
        for (const subject of [...followed.keys()]) unfollow(subject);
        for (const close of closers) close();
        return Promise.resolve();
      },
      epoch: () => epoch,
      interest(s, open) {
        if (stopped) return;
        const id = streamId(s.channel, s.exchange, s.symbol);
        if (open) return hold(id, s);
        const held = holds.get(id);
        if (!held) return;
        holds.delete(id);
        for (const subject of held.subjects) release(subject);
      },
      async prepareRecovery(streams, since) {
        if (stopped) return;
        await Promise.all(streams.map((s) => prepareStream(s, since)));
      },
    };
  };

  return {
    source: itemSource,
    health() {
      const list: FollowedSubject[] = [];
      let repairs = totals.repairs;
      let gaps = totals.gaps;
      for (const [subject, entry] of followed) {
        const s = entry.follower.stats();
        repairs += s.repaired;
        gaps += s.gaps;
        list.push({
          subject,
          holders: entry.holders,
          ready: entry.ready,
          lastSeq: entry.follower.lastSeq(),
          ...s,
        });
      }
      return {
        role: "edge",
        nats: { connected, server: nc.getServer() },
        epoch,
        followed: list,
        repairs,
        gaps,
        backfills: totals.backfills,
      };
    },
  };
}

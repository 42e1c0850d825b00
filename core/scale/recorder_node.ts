/**
 * The recorder node (ROLE=recorder): records the market-data log from NATS into
 * RECORD_DIR with the existing recording (`core/server/recording.ts`), every item
 * under its hub sequence number (the envelope `seq`), so a recording made here
 * numbers items exactly as the edges' clients see them (`pos`).
 *
 * - Reads with one durable pull consumer `recorder_<group>` on `md.>` (ack explicit):
 *   a restart resumes after the last acknowledged message.
 * - Records in envelope-seq order. The ingest's seqs are consecutive over everything
 *   it publishes except the rolled-up messages, which take no position of their own (a
 *   `booksnap` reuses its book message's seq; `status` and `instruments` carry the last seq
 *   given out), but after a NATS restart JetStream holds newer seqs before the older ones
 *   the ingest republished: a seq that comes early is held, unacknowledged
 *   (`core/scale/seq_order.ts`), until the seqs before it arrive. When they do not come
 *   within `reorderWaitMs` (or `reorderMaxHeld` seqs are held), a `recording_gap` marker
 *   covers the missing seqs and recording continues.
 * - A hole the consumer does not fill (after a NATS crash the server may store messages
 *   under stream seqs the durable consumer counts as delivered) is looked for in the
 *   stream itself every `reorderWaitMs / 4` (at most 1 s) before it is given up.
 * - At start it waits (up to `reorderWaitMs`, or until it has read what the stream holds)
 *   for the lowest seq above the recording's last one, and starts there.
 * - Skips `status`, `instruments` and `booksnap` messages (no seq of their own: the
 *   recording numbers every item with a seq above the last one, so they cannot be recorded
 *   at a data message's seq; a replay uses the live catalog's instruments), and every seq at
 *   or below the last recorded one (redeliveries, republished messages).
 * - A new epoch (another lineage of seqs) is recorded from where its seqs exceed the
 *   recording's last seq; its lower seqs are skipped (logged): the recording's seqs must
 *   keep increasing. Use a new RECORD_DIR after a new epoch restarted the seqs.
 * - Books: a symbol's deltas are recorded only onto a known book. Before the first
 *   delta of a symbol without one, the newest `booksnap` (the ingest's full book) that
 *   reaches up to that delta's `prev` is recorded, merged with the delta, as a
 *   snapshot under the delta's seq; deltas the booksnap already includes are skipped.
 *   A break in a book subject's `prev` chain starts this again.
 * - Acknowledges a message once the recording has written its item (a flush every
 *   250 ms), so nothing acknowledged is lost when the node dies.
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import { ConfigError, type CoreConfig } from "../server/config.ts";
import { type RecordingHealth, startRecording } from "../server/recording.ts";
import { getLogger } from "../server/log.ts";
import type { BookUpdate, Level } from "../events.ts";
import type { FeedItem } from "../feed/messages.ts";
import type { MdEnvelope } from "./envelope.ts";
import { connectNats } from "./connect.ts";
import {
  decodeEnvelope,
  ensureLog,
  lastOfSubject,
  LOG_SUBJECTS,
  type StoredEnvelope,
} from "./log.ts";
import { parseSubject, subjectOf } from "./subjects.ts";
import { createSeqOrder, type Released } from "./seq_order.ts";

/** A delivered message waiting for its turn. */
interface Taken {
  env: MdEnvelope;
  parts: NonNullable<ReturnType<typeof parseSubject>>;
  subject: string;
  /** JetStream seq of the message. */
  streamSeq: number;
  /** Acknowledges the durable consumer's message (nothing for one read to repair a hole). */
  ack: () => void;
}

/** Settings of {@link startRecorderNode}. */
export interface RecorderNodeOptions {
  /** The node's configuration: RECORD_DIR (required), NATS_*, INGEST_GROUP, RECORD_*. */
  config: CoreConfig;
  /** A NATS connection to use (kept open on close); by default the node connects itself. */
  nc?: NatsConnection;
  /** How often recorded items are flushed and their messages acknowledged, ms (default 250). */
  ackEveryMs?: number;
  /** Longest wait for a missing seq while later ones are held, ms (default 10,000). */
  reorderWaitMs?: number;
  /** Most messages held for ordering (default 200,000). */
  reorderMaxHeld?: number;
}

/** The recorder node's part of `/health`. */
export interface RecorderNodeHealth {
  role: "recorder";
  /** Durable consumer name. */
  consumer: string;
  nats: { connected: boolean; server?: string };
  /** Hub seq of the last recorded item. */
  lastSeq: number;
  /** Items recorded since start. */
  recorded: number;
  /** Messages skipped because their seq was already recorded. */
  duplicates: number;
  /** Messages held until the seqs before them arrive. */
  heldForOrder: number;
  /** Runs of seqs that never came (each recorded as a `recording_gap` marker). */
  holes: number;
  /** Messages of an epoch left behind (a newer epoch was seen), not recorded. */
  staleEpoch: number;
  /** Book deltas not recorded because no known book was under them. */
  unseededBookDeltas: number;
  /** Undecodable messages skipped. */
  bad: number;
  /** Messages recorded but not yet acknowledged. */
  pendingAcks: number;
  recording: RecordingHealth;
}

/** A running recorder node. */
export interface RecorderNode {
  /** Stops reading, writes and acknowledges what was taken, closes the recording. */
  close(): Promise<void>;
  health(): RecorderNodeHealth;
}

/** Most messages delivered and not yet acknowledged. */
const MAX_ACK_PENDING = 300_000;
/** When the server redelivers an unacknowledged message, ms. */
const ACK_WAIT_MS = 60_000;
/** Pause before reading again after a failure, ms. */
const RETRY_MS = 1_000;

/** The durable consumer name of a group's recorder. */
export function recorderConsumerName(group: string): string {
  return `recorder_${group}`;
}

/**
 * Starts recording the market-data log. Throws {@link ConfigError} without RECORD_DIR.
 * NATS or the stream being unavailable is not an error: the node retries and logs.
 */
export async function startRecorderNode(o: RecorderNodeOptions): Promise<RecorderNode> {
  const { config } = o;
  if (config.recordDir === undefined) {
    throw new ConfigError(
      "ROLE=recorder needs RECORD_DIR (--record-dir): the folder the recording is written to",
    );
  }
  const log = getLogger(["quant-saas", "recorder-node"]);
  const recording = startRecording({
    dir: config.recordDir,
    retentionDays: config.recordRetentionDays,
    maxBytes: config.recordMaxBytes,
    log: getLogger(["quant-saas", "recording"]),
  });
  const ownConnection = o.nc === undefined;
  const nc = o.nc ?? await connectNats(config, "quant-saas-recorder");
  const stream = config.natsStream;
  const name = recorderConsumerName(config.ingestGroup);
  const startSeq = recording.startSeq;

  let lastSeq = startSeq;
  let recorded = 0, duplicates = 0, unseeded = 0, bad = 0;
  let holes = 0, staleEpoch = 0;
  let closed = false;
  let unacked: Array<() => void> = [];
  let stopReading: (() => void) | undefined;
  const books = bookSeeding(startSeq, () => recording.history());
  const reorderWaitMs = o.reorderWaitMs ?? 10_000;
  const order = createSeqOrder<Taken>({
    floor: startSeq,
    maxHeld: o.reorderMaxHeld,
    maxWaitMs: reorderWaitMs,
  });
  /** Epoch of the seqs being ordered, and epochs left behind. */
  let epoch: string | undefined;
  const oldEpochs = new Set<string>();
  /** Whether the last message delivered was the stream's last one for now. */
  let caughtUp = false;
  let jsmNow: JetStreamManager | undefined;

  const record = (env: MdEnvelope, item: MdEnvelope["item"], ack: () => void) => {
    const receiveTime = "receiveTime" in item && typeof item.receiveTime === "number"
      ? item.receiveTime
      : Date.now();
    recording.tap({
      seq: env.seq,
      exchange: env.exchange,
      item: item as FeedItem,
      receiveTime,
    });
    lastSeq = env.seq;
    recorded++;
    unacked.push(ack);
  };

  /** Records one message whose turn it is (its seq is the next one). */
  const take = async ({ env, parts, subject, ack }: Taken) => {
    if (parts.channel === "book" && env.item.type === "book" && parts.symbol !== undefined) {
      const item = jsmNow &&
        await books.itemFor(env, env.item, parts.exchange, parts.symbol, jsmNow, stream);
      if (item === undefined) {
        unseeded++;
        lastSeq = env.seq;
        ack();
        return;
      }
      record(env, item, ack);
      return;
    }
    if (parts.channel === "book") books.passed(subject, env);
    record(env, env.item, ack);
  };

  /** Records everything the ordering releases now; missing runs become gap markers. */
  const releaseAll = async (released: Released<Taken>[]) => {
    for (const r of released) {
      if ("gap" in r) {
        const { fromSeq, toSeq, reason } = r.gap;
        holes++;
        recording.gap({
          fromSeq,
          toSeq,
          time: Date.now(),
          reason: `seqs missing from the NATS log (${reason})`,
        });
        lastSeq = toSeq;
        books.reset();
        log.warning(
          "seqs {from}..{to} never arrived ({why}); recorded a recording_gap for them and continued at {next} ({held} messages still held, epoch {epoch})",
          {
            from: fromSeq,
            to: toSeq,
            why: reason === "full"
              ? `${order.held()} messages held for ordering`
              : `waited ${reorderWaitMs} ms`,
            next: toSeq + 1,
            held: order.held(),
            epoch: epoch ?? "none",
          },
        );
      } else await take(r.value);
    }
  };

  /** A message that became a new lineage's first: what was held goes first. */
  const newEpoch = async (env: MdEnvelope) => {
    const before = epoch;
    if (before !== undefined) oldEpochs.add(before);
    epoch = env.epoch;
    if (before === undefined) return;
    await releaseAll(order.restart(lastSeq, Date.now()));
    log.warning(
      "new epoch {epoch} after {before} at seq {seq}: a new lineage of seqs; its seqs at or below {last} (the recording's last) are not recorded",
      { epoch: env.epoch, before, seq: env.seq, last: lastSeq },
    );
  };

  const handle = async (m: JsMsg) => {
    const parts = parseSubject(m.subject);
    caughtUp = m.info.pending === 0;
    let env: MdEnvelope;
    try {
      if (!parts) throw new Error("not a market-data subject");
      env = decodeEnvelope(m.data);
    } catch (err) {
      bad++;
      log.warning("skipped message {streamSeq} on {subject}: {error}", {
        streamSeq: m.seq,
        subject: m.subject,
        error: err instanceof Error ? err.message : String(err),
      });
      m.ack();
      return;
    }
    if (parts.channel === "booksnap") {
      books.sawSnapshot(m.subject, env);
      m.ack();
      return;
    }
    if (!positioned(m.subject)) {
      m.ack(); // status, instruments: at another message's seq, not recorded here
      return;
    }
    if (oldEpochs.has(env.epoch)) {
      staleEpoch++;
      m.ack();
      return;
    }
    if (env.epoch !== epoch) await newEpoch(env);
    const offered = order.offer(
      env.seq,
      { env, parts, subject: m.subject, streamSeq: m.seq, ack: () => m.ack() },
      (held) => held.streamSeq === m.seq,
    );
    if (offered === "duplicate") {
      duplicates++;
      m.ack();
      return;
    }
    await releaseAll(order.release(Date.now(), caughtUp));
  };

  // Serialized: messages and the hole timer release in turn.
  let work: Promise<void> = Promise.resolve();
  const serial = (fn: () => Promise<void>): Promise<void> => {
    work = work.then(fn).catch((err) =>
      log.error("recording a message failed: {error}", {
        error: err instanceof Error ? err.message : String(err),
      })
    );
    return work;
  };
  const repairEveryMs = Math.max(10, Math.min(1_000, Math.floor(reorderWaitMs / 4)));
  let repairing = false, lastRepair = 0;
  /**
   * A hole the durable consumer does not fill: after a NATS crash the server may store
   * messages under stream seqs the consumer counts as delivered already. Reads the stream
   * before the held messages for the missing seqs (not acknowledged: not the consumer's).
   */
  const repair = async () => {
    const hole = order.hole();
    const now = Date.now();
    if (!hole || repairing || closed || !jsmNow) return;
    if (now - hole.since < repairEveryMs || now - lastRepair < repairEveryMs) return;
    repairing = true;
    lastRepair = now;
    try {
      let from = Infinity;
      for (const t of order.values()) from = Math.min(from, t.streamSeq);
      const wanted = new Set(order.missing(REPAIR_MAX_SEQS));
      const found = await findSeqs(nc, jsmNow, stream, wanted, Math.max(1, from - REPAIR_BACK));
      if (found.length === 0) return;
      log.info(
        "found {n} of {wanted} missing seqs (from {from}) by reading the stream: recording them",
        { n: found.length, wanted: wanted.size, from: hole.fromSeq },
      );
      await serial(async () => {
        if (closed) return;
        for (const f of found) {
          const parts = parseSubject(f.subject);
          if (!parts) continue;
          order.offer(f.envelope.seq, {
            env: f.envelope,
            parts,
            subject: f.subject,
            streamSeq: f.streamSeq,
            ack: () => {},
          });
        }
        await releaseAll(order.release(Date.now(), caughtUp));
      });
    } catch (err) {
      log.warning("reading the stream for seqs {from}..{to} failed: {error}", {
        from: hole.fromSeq,
        to: hole.toSeq,
        error: err instanceof Error ? err.message : String(err),
      });
    } finally {
      repairing = false;
    }
  };
  let repairRun: Promise<void> = Promise.resolve();
  const holeTimer = setInterval(() => {
    if (!repairing) repairRun = repair();
    serial(() => releaseAll(order.release(Date.now(), caughtUp)));
  }, repairEveryMs);

  // Acknowledge in batches once the recording wrote the items.
  let acking: Promise<void> = Promise.resolve();
  const ackWritten = () => {
    acking = acking.then(async () => {
      if (unacked.length === 0) return;
      const batch = unacked;
      unacked = [];
      await recording.flush();
      for (const ack of batch) ack();
    }).catch((err) =>
      log.error("acknowledging recorded messages failed: {error}", { error: String(err) })
    );
    return acking;
  };
  const ackTimer = setInterval(ackWritten, o.ackEveryMs ?? 250);

  const read = async (js: JetStreamClient, jsm: JetStreamManager) => {
    await ensureLog(jsm, {
      stream,
      maxAgeSeconds: config.natsMaxAge,
      maxBytes: config.natsMaxBytes,
      storage: config.natsStorage,
    });
    await ensureConsumer(jsm, stream, name);
    const consumer = await js.consumers.get(stream, name);
    const messages = await consumer.consume({ max_messages: 1_000 });
    stopReading = () => messages.stop();
    jsmNow = jsm;
    if (closed) messages.stop();
    log.info("recording stream {stream} with consumer {name} into {dir} after seq {seq}", {
      stream,
      name,
      dir: config.recordDir,
      seq: lastSeq,
    });
    for await (const m of messages) {
      if (closed) break;
      await serial(() => handle(m));
    }
  };

  const reading = (async () => {
    while (!closed && !nc.isClosed()) {
      try {
        await read(jetstream(nc), await jetstreamManager(nc));
      } catch (err) {
        if (closed) break;
        log.warning("reading stream {stream} failed, retrying in {ms} ms: {error}", {
          stream,
          ms: RETRY_MS,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      if (!closed) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  })();

  return {
    async close() {
      if (closed) return;
      closed = true;
      stopReading?.();
      await reading;
      clearInterval(ackTimer);
      clearInterval(holeTimer);
      await repairRun;
      await work;
      await ackWritten();
      if (!nc.isClosed()) await nc.flush().catch(() => {});
      await recording.close();
      if (ownConnection) await nc.close();
    },
    health: () => ({
      role: "recorder",
      consumer: name,
      nats: { connected: !nc.isClosed(), server: nc.isClosed() ? undefined : nc.getServer() },
      lastSeq,
      recorded,
      duplicates,
      heldForOrder: order.held(),
      holes,
      staleEpoch,
      unseededBookDeltas: unseeded,
      bad,
      pendingAcks: unacked.length,
      recording: recording.health(),
    }),
  };
}

/** How many stream messages before the held ones a hole repair reads. */
const REPAIR_BACK = 100_000;
/** Most missing seqs one hole repair looks for. */
const REPAIR_MAX_SEQS = 10_000;

/** Whether a subject's messages have a seq of their own (not rolled up at another's seq). */
function positioned(subject: string): boolean {
  const channel = parseSubject(subject)?.channel;
  return channel !== "booksnap" && channel !== "status" && channel !== "instruments";
}

/**
 * The stored messages (booksnaps, status and instruments aside) whose envelope seq is
 * `wanted`, reading the stream from `fromStreamSeq` to its current end with an ordered
 * consumer.
 */
async function findSeqs(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  wanted: Set<number>,
  fromStreamSeq: number,
): Promise<StoredEnvelope[]> {
  if (wanted.size === 0) return [];
  const info = await jsm.streams.info(stream);
  const last = info.state.last_seq;
  if (last < fromStreamSeq) return [];
  const consumer = await jetstream(nc).consumers.get(stream, {
    filter_subjects: LOG_SUBJECTS[0],
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(fromStreamSeq, info.state.first_seq),
  });
  const messages = await consumer.consume({ max_messages: 1_000 });
  const found: StoredEnvelope[] = [];
  const got = new Set<number>();
  try {
    for await (const m of messages) {
      if (positioned(m.subject)) {
        try {
          const envelope = decodeEnvelope(m.data);
          if (wanted.has(envelope.seq) && !got.has(envelope.seq)) {
            got.add(envelope.seq);
            found.push({ streamSeq: m.seq, subject: m.subject, envelope });
          }
        } catch { /* undecodable: the consumer reports it */ }
      }
      if (got.size === wanted.size || m.info.pending === 0 || m.seq >= last) break;
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => {});
  }
  return found;
}

/** Creates the durable consumer when missing. */
async function ensureConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<void> {
  const existing = await jsm.consumers.info(stream, name).catch(() => undefined);
  if (existing) {
    // Messages held for ordering stay unacknowledged: older consumers allowed fewer.
    if ((existing.config.max_ack_pending ?? 0) < MAX_ACK_PENDING) {
      await jsm.consumers.update(stream, name, { max_ack_pending: MAX_ACK_PENDING });
    }
    return;
  }
  await jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: LOG_SUBJECTS[0],
    max_ack_pending: MAX_ACK_PENDING,
    ack_wait: ACK_WAIT_MS * 1_000_000,
  });
}

/**
 * Which book items can be recorded: per book subject, whether the recording holds
 * the book up to the subject's last message (its seq), and the newest booksnap seen.
 */
function bookSeeding(startSeq: number, history: ReturnType<typeof startRecording>["history"]) {
  const log = getLogger(["quant-saas", "recorder-node"]);
  /** Book subject → seq of its last message taken (recorded or covered by a snapshot). */
  const last = new Map<string, number>();
  /** Book subject → true once the recording holds its book. */
  const seeded = new Set<string>();
  /** Booksnap subject → the newest booksnap seen. */
  const snaps = new Map<string, MdEnvelope>();
  const warned = new Set<string>();

  /** After a restart: does the recording already hold this symbol's book? */
  const recordedBefore = (exchange: string, symbol: string): boolean => {
    if (startSeq === 0) return false;
    const reader = history();
    if (!reader) return false;
    try {
      return reader.catalog().streams.some((s) =>
        s.exchange === exchange && s.symbol === symbol && s.kind === "book"
      );
    } finally {
      reader.close();
    }
  };

  const sawSnapshot = (subject: string, env: MdEnvelope) => {
    const held = snaps.get(subject);
    if (!held || held.seq < env.seq) snaps.set(subject, env);
  };

  return {
    sawSnapshot,
    /** After a gap in the recording: every book is seeded again from its booksnap. */
    reset() {
      seeded.clear();
    },
    /** A non-book item of a book subject (book_status) was recorded. */
    passed(subject: string, env: MdEnvelope) {
      if (seeded.has(subject) && last.get(subject) === env.prev) last.set(subject, env.seq);
      else seeded.delete(subject);
    },
    /** The item to record for a book message (a delta seeded into a snapshot), or undefined to skip it. */
    async itemFor(
      env: MdEnvelope,
      item: BookUpdate,
      exchange: string,
      symbol: string,
      jsm: JetStreamManager,
      stream: string,
    ): Promise<BookUpdate | undefined> {
      const subject = subjectOf(exchange, "book", symbol);
      const continues = seeded.has(subject)
        ? last.get(subject) === env.prev
        : !last.has(subject) && env.prev > 0 && env.prev <= startSeq &&
          recordedBefore(exchange, symbol);
      if (item.snapshot || continues) {
        seeded.add(subject);
        last.set(subject, env.seq);
        return item;
      }
      seeded.delete(subject);
      const snapSubject = subjectOf(exchange, "booksnap", symbol);
      let snap = snaps.get(snapSubject);
      if (!snap || snap.seq < env.prev) {
        const stored = await lastOfSubject(jsm, stream, snapSubject).catch(() => undefined);
        if (stored) sawSnapshot(snapSubject, stored.envelope);
        snap = snaps.get(snapSubject);
      }
      if (snap && snap.item.type === "book" && snap.seq >= env.seq) {
        last.set(subject, env.seq); // already in the booksnap: taken, not recorded
        return undefined;
      }
      if (snap && snap.item.type === "book" && snap.seq >= env.prev) {
        seeded.add(subject);
        last.set(subject, env.seq);
        warned.delete(subject);
        log.info("book of {exchange} {symbol} seeded from the booksnap at seq {snap}", {
          exchange,
          symbol,
          snap: snap.seq,
        });
        return mergeDelta(snap.item, item);
      }
      last.delete(subject);
      if (!warned.has(subject)) {
        warned.add(subject);
        log.warning(
          "book deltas of {exchange} {symbol} are not recorded until a snapshot covers them (delta seq {seq}, prev {prev}; newest booksnap {snap})",
          { exchange, symbol, seq: env.seq, prev: env.prev, snap: snap?.seq ?? "none" },
        );
      }
      return undefined;
    },
  };
}

/** A full-book snapshot: `snap` with `delta`'s levels applied (absolute quantities, 0 removes). */
export function mergeDelta(snap: BookUpdate, delta: BookUpdate): BookUpdate {
  const side = (base: Level[], changes: Level[], descending: boolean): Level[] => {
    const levels = new Map<number, number>(base.map(([p, q]) => [p, q]));
    for (const [p, q] of changes) {
      if (q === 0) levels.delete(p);
      else levels.set(p, q);
    }
    return [...levels].sort((a, b) => descending ? b[0] - a[0] : a[0] - b[0]) as Level[];
  };
  return {
    ...delta,
    snapshot: true,
    bids: side(snap.bids, delta.bids, true),
    asks: side(snap.asks, delta.asks, false),
  };
}

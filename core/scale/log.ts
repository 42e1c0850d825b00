/**
 * The market-data log on NATS JetStream: the `MD` stream that captures every
 * core-published `md.>` message, the envelope codec, and the reads a node needs
 * to catch up (last message of a subject, last of every subject, where a hub
 * sequence number sits in the stream, a subject's messages from a point on).
 *
 * Live data is core-published ({@link publishEnvelope}); JetStream only stores it.
 * @module
 */
import { headers, type NatsConnection } from "@nats-io/transport-node";
import {
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
  type StreamUpdateConfig,
} from "@nats-io/jetstream";
import { z } from "zod";
import type { MdEnvelope } from "./envelope.ts";
import { getLogger } from "../server/log.ts";

/** Settings of the market-data stream (from NATS_STREAM, NATS_MAX_AGE, NATS_MAX_BYTES, NATS_STORAGE). */
export interface LogSettings {
  /** Stream name, e.g. `MD`. */
  stream: string;
  /** Oldest message kept, seconds. */
  maxAgeSeconds: number;
  /** Most bytes kept; the oldest messages go first. */
  maxBytes: number;
  storage: "file" | "memory";
}

/** One envelope as stored in the stream. */
export interface StoredEnvelope {
  /** JetStream sequence number of the message (not the hub `seq`). */
  streamSeq: number;
  subject: string;
  envelope: MdEnvelope;
}

/** Subjects the market-data stream captures. */
export const LOG_SUBJECTS = ["md.>"];
/**
 * Window in which the stream drops a message republished with the same `Nats-Msg-Id`, ms
 * (shortened to max_age when that is shorter).
 */
export const DUPLICATE_WINDOW_MS = 120_000;

const NANOS_PER_MS = 1_000_000;

/**
 * Creates the market-data stream, or updates its limits when it exists.
 * Throws when NATS or JetStream cannot be reached (the caller retries).
 */
export async function ensureLog(jsm: JetStreamManager, s: LogSettings): Promise<void> {
  const limits: Partial<StreamUpdateConfig> = {
    subjects: LOG_SUBJECTS,
    max_age: s.maxAgeSeconds * 1_000 * NANOS_PER_MS,
    max_bytes: s.maxBytes,
    discard: DiscardPolicy.Old,
    allow_direct: true,
    allow_rollup_hdrs: true,
    // The server refuses a duplicate window longer than max_age (0 = no age limit).
    duplicate_window:
      (s.maxAgeSeconds > 0
        ? Math.min(DUPLICATE_WINDOW_MS, s.maxAgeSeconds * 1_000)
        : DUPLICATE_WINDOW_MS) * NANOS_PER_MS,
  };
  const existing = await jsm.streams.info(s.stream).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (existing === undefined) {
    await jsm.streams.add({
      ...limits,
      name: s.stream,
      retention: RetentionPolicy.Limits,
      storage: s.storage === "memory" ? StorageType.Memory : StorageType.File,
    });
    getLogger(["quant-saas", "nats"]).info(
      "created stream {stream} ({storage}, max age {age} s, max {bytes} bytes)",
      { stream: s.stream, storage: s.storage, age: s.maxAgeSeconds, bytes: s.maxBytes },
    );
    return;
  }
  const c = existing.config;
  const same = c.max_age === limits.max_age && c.max_bytes === limits.max_bytes &&
    c.discard === limits.discard && c.allow_direct === true && c.allow_rollup_hdrs === true &&
    c.duplicate_window === limits.duplicate_window &&
    c.subjects.length === 1 && c.subjects[0] === LOG_SUBJECTS[0];
  if (same) return;
  // Storage cannot change on an existing stream: it keeps the one it has.
  await jsm.streams.update(s.stream, limits);
  getLogger(["quant-saas", "nats"]).info("updated the limits of stream {stream}", {
    stream: s.stream,
  });
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error &&
    (err.name === "StreamNotFoundError" || /stream not found/i.test(err.message));
}

/** An envelope that could not be decoded; `reason` says what is wrong with it. */
export class EnvelopeError extends Error {
  constructor(readonly reason: string) {
    super(`bad market-data envelope: ${reason}`);
    this.name = "EnvelopeError";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The wire bytes of an envelope (JSON). */
export function encodeEnvelope(env: MdEnvelope): Uint8Array {
  return encoder.encode(JSON.stringify(env));
}

const seqNumber = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const name = z.string().min(1).max(128);
const time = z.number();

// Per item type, only the fields readers rely on (subjects, dedupe, gaps, book seeding);
// the rest of the item passes through unchecked so decoding stays cheap.
const itemSchema = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("trade"),
    symbol: name,
    tradeId: z.union([z.number(), z.string()]),
    receiveTime: time,
  }),
  z.looseObject({ type: z.literal("quote"), symbol: name, eventTime: time, receiveTime: time }),
  z.looseObject({
    type: z.literal("kline"),
    symbol: name,
    interval: z.string(),
    eventTime: time,
    receiveTime: time,
  }),
  z.looseObject({
    type: z.literal("book"),
    symbol: name,
    snapshot: z.boolean(),
    bids: z.array(z.unknown()),
    asks: z.array(z.unknown()),
  }),
  z.looseObject({
    type: z.literal("gap"),
    symbol: name,
    fromId: z.number(),
    toId: z.number(),
  }),
  z.looseObject({ type: z.literal("instruments"), instruments: z.array(z.unknown()) }),
  z.looseObject({ type: z.literal("status"), state: z.string() }),
  z.looseObject({ type: z.literal("book_status"), symbol: name, state: z.string() }),
  z.looseObject({ type: z.literal("feed_info"), info: z.looseObject({}) }),
  z.looseObject({ type: z.literal("malformed"), reason: z.string() }),
  z.looseObject({ type: z.literal("log"), message: z.string() }),
]);

/** Item types published at the current position, without one of their own. */
const ROLLED_UP_AT_POSITION = new Set(["feed_info", "instruments"]);

const envelopeSchema = z.object({
  v: z.literal(1),
  epoch: z.string().min(1).max(64),
  seq: seqNumber,
  prev: seqNumber,
  exchange: z.string().min(1).max(32).regex(/^[a-z0-9_-]+$/),
  item: itemSchema,
}).refine(
  // Rolled-up `status` and `instruments` sit at the position they were published at
  // (`prev` 0, `seq` the last one given out, 0 on a fresh log); everything else has its own.
  (e) => e.prev < e.seq || (e.prev === 0 && ROLLED_UP_AT_POSITION.has(e.item.type)),
  { message: "prev must be below seq", path: ["prev"] },
);

/**
 * Parses and validates an envelope: the envelope fields, and the item's `type`
 * with the fields readers rely on (not a deep schema of every item).
 * Throws {@link EnvelopeError} with the reason for anything else.
 */
export function decodeEnvelope(data: Uint8Array): MdEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new EnvelopeError(`not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnvelopeError(`${issue.path.join(".") || "envelope"}: ${issue.message}`);
  }
  return parsed.data as MdEnvelope;
}

function stored(m: StoredMsg): StoredEnvelope {
  return { streamSeq: m.seq, subject: m.subject, envelope: decodeEnvelope(m.data) };
}

/** The newest message of one subject (direct get `last_by_subj`), or undefined when it has none. */
export async function lastOfSubject(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<StoredEnvelope | undefined> {
  const m = await jsm.direct.getMessage(stream, { last_by_subj: subject });
  return m ? stored(m) : undefined;
}

/**
 * The newest message of every subject matching `filter` (one subject or a
 * wildcard such as `md.>`), by subject. Undecodable messages are left out and logged.
 */
export async function lastPerSubject(
  js: JetStreamClient,
  stream: string,
  filter: string,
): Promise<Map<string, StoredEnvelope>> {
  const out = new Map<string, StoredEnvelope>();
  const consumer = await js.consumers.get(stream, {
    filter_subjects: filter,
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  const info = await consumer.info(true);
  if (info.num_pending === 0) {
    await consumer.delete().catch(() => {});
    return out;
  }
  const messages = await consumer.consume({ max_messages: 1_000 });
  try {
    for await (const m of messages) {
      try {
        out.set(m.subject, {
          streamSeq: m.seq,
          subject: m.subject,
          envelope: decodeEnvelope(m.data),
        });
      } catch (err) {
        logSkipped(stream, m.subject, m.seq, err);
      }
      if (m.info.pending === 0) break;
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => {});
  }
  return out;
}

/**
 * The JetStream sequence of the first stored message whose envelope `seq` is above
 * `afterSeq`, or undefined when there is none. A binary search over the stream by
 * direct get (hub seqs grow with stream seqs); deleted or rolled-up stream seqs are
 * stepped over with `next_by_subj`.
 */
export async function streamSeqAfter(
  jsm: JetStreamManager,
  stream: string,
  afterSeq: number,
): Promise<number | undefined> {
  const { state } = await jsm.streams.info(stream);
  if (state.messages === 0) return undefined;
  /** The first readable message at or after stream seq `at` (its stream seq and hub seq). */
  const at = async (seq: number): Promise<{ streamSeq: number; seq: number } | undefined> => {
    for (let from = seq; from <= state.last_seq;) {
      const m = await jsm.direct.getMessage(stream, { seq: from, next_by_subj: LOG_SUBJECTS[0] });
      if (!m) return undefined;
      try {
        return { streamSeq: m.seq, seq: decodeEnvelope(m.data).seq };
      } catch (err) {
        logSkipped(stream, m.subject, m.seq, err);
        from = m.seq + 1;
      }
    }
    return undefined;
  };
  let lo = state.first_seq;
  let hi = state.last_seq;
  let found: number | undefined;
  // Invariant: every readable message below `lo` has seq <= afterSeq; `found` is the
  // lowest stream seq seen so far with seq > afterSeq.
  while (lo <= hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const m = await at(mid);
    if (!m || m.streamSeq > hi) {
      hi = mid - 1;
      continue;
    }
    if (m.seq > afterSeq) {
      found = m.streamSeq;
      hi = mid - 1;
    } else {
      lo = m.streamSeq + 1;
    }
  }
  return found;
}

/** Options of {@link readSubject}. */
export interface ReadSubjectOptions {
  /** Stop before the first envelope whose `seq` is at or above this. */
  untilSeq?: number;
  /** Stop when aborted. */
  signal?: AbortSignal;
}

/**
 * The stored messages of one subject from JetStream seq `fromStreamSeq` on, in order
 * (an ordered consumer). Ends at the end of the stream as it was when reading
 * began, before an envelope with `seq >= untilSeq`, or when `signal` aborts.
 * Undecodable messages are skipped with a log line.
 */
export async function* readSubject(
  js: JetStreamClient,
  stream: string,
  subject: string,
  fromStreamSeq: number,
  opts: ReadSubjectOptions = {},
): AsyncGenerator<StoredEnvelope> {
  if (opts.signal?.aborted) return;
  const jsm = await js.jetstreamManager();
  const last = await jsm.direct.getMessage(stream, { last_by_subj: subject });
  if (!last || last.seq < fromStreamSeq) return;
  const consumer = await js.consumers.get(stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, fromStreamSeq),
  });
  const messages = await consumer.consume({ max_messages: 500 });
  const abort = () => messages.stop();
  opts.signal?.addEventListener("abort", abort, { once: true });
  try {
    for await (const m of messages) {
      if (opts.signal?.aborted) return;
      let envelope: MdEnvelope | undefined;
      try {
        envelope = decodeEnvelope(m.data);
      } catch (err) {
        logSkipped(stream, m.subject, m.seq, err);
      }
      if (envelope) {
        if (opts.untilSeq !== undefined && envelope.seq >= opts.untilSeq) return;
        yield { streamSeq: m.seq, subject: m.subject, envelope };
      }
      if (m.info.pending === 0 || m.seq >= last.seq) return;
    }
  } finally {
    opts.signal?.removeEventListener("abort", abort);
    messages.stop();
    await consumer.delete().catch(() => {});
  }
}

/**
 * Core-publishes one envelope (JetStream captures it). `rollup` adds
 * `Nats-Rollup: sub`: the stream then keeps only this message of the subject.
 */
export function publishEnvelope(
  nc: NatsConnection,
  subject: string,
  env: MdEnvelope,
  opts: { rollup?: boolean } = {},
): void {
  if (opts.rollup) {
    const h = headers();
    h.set("Nats-Rollup", "sub");
    nc.publish(subject, encodeEnvelope(env), { headers: h });
  } else {
    nc.publish(subject, encodeEnvelope(env));
  }
}

function logSkipped(stream: string, subject: string, streamSeq: number, err: unknown): void {
  getLogger(["quant-saas", "nats"]).warning(
    "skipped message {streamSeq} of {subject} in stream {stream}: {error}",
    { stream, subject, streamSeq, error: err instanceof Error ? err.message : String(err) },
  );
}

/**
 * The recorder: the hub hands it every item with {@link Recorder.record}, which
 * only appends to a bounded in-memory queue and never throws. A timer drains the
 * queue at least every second into the {@link BlockWriter}. When the queue is
 * full or a write fails, items are dropped and counted, and a `recording_gap`
 * marker covering them is written as soon as writing works again.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";
import { type BlockWriter, type BlockWriterOptions, createBlockWriter } from "./block_writer.ts";
import { applyRetention, type RetentionOptions } from "./retention.ts";
import { dayOf, type RecordableItem, type RecordedItem, type RecordInput } from "./types.ts";

/** Settings of {@link createRecorder}. */
export interface RecorderOptions extends BlockWriterOptions, RetentionOptions {
  /** Queue drain period, ms (default 250; at most 1000). */
  flushMs?: number;
  /** Most items waiting in memory (default 1,000,000). */
  maxQueueItems?: number;
  /** Most estimated bytes waiting in memory (default 256 MiB). */
  maxQueueBytes?: number;
  /** Called on every failure with what was being done; never required. */
  onError?: (error: unknown, context: string) => void;
  /** Replaces the SQLite writer (tests inject a failing one). */
  writer?: (options: BlockWriterOptions) => BlockWriter;
}

/** What the recorder did so far. */
export interface RecorderStats {
  /** Items accepted into the queue. */
  recorded: number;
  /** Items written to disk. */
  written: number;
  /** Items dropped (queue full or write failed). */
  dropped: number;
  /** Items left out because they held values that cannot be recorded (not JSON-like). */
  rejected: number;
  /** Items waiting in the queue, and their estimated bytes. */
  queued: number;
  queuedBytes: number;
  /** Failed writes (and failed opens or retention passes). */
  errors: number;
  /** The last error, with context. */
  lastError?: { message: string; context: string; at: number };
  /** Days deleted by retention. */
  deletedDays: string[];
  /** Whether the writer works right now. */
  healthy: boolean;
}

/** The recorder's entry points. */
export interface Recorder {
  /**
   * Queues one item; returns its hub sequence number (assigned when `input.seq` is
   * absent). Never throws and never waits: a full queue drops and counts the item.
   */
  record(input: RecordInput): number;
  /** Writes everything queued now. */
  flush(): void;
  stats(): RecorderStats;
  /** Flushes and closes. Idempotent. */
  close(): void;
}

const NOT_RECORDED = new Set(["log", "malformed"]);

/** Rough memory cost of an item in the queue (what the byte bound counts). */
export function estimateBytes(item: FeedItem | RecordableItem): number {
  if (item.type === "book") return 160 + (item.bids.length + item.asks.length) * 48;
  if (item.type === "instruments") return 200 + item.instruments.length * 160;
  return item.type === "trade" || item.type === "quote" || item.type === "kline" ? 400 : 160;
}

/**
 * Starts a recorder writing to `options.dir`. Opening errors are reported through
 * `onError`/`stats()` (the recorder then drops and counts until a write works).
 *
 * @example
 * ```ts
 * const recorder = createRecorder({ dir: "/var/lib/quant/history", retentionDays: 30 });
 * // in the hub, for every item of every feed, in hub order:
 * recorder.record({ exchange: "binance", item });
 * ```
 */
export function createRecorder(options: RecorderOptions): Recorder {
  const flushMs = Math.min(Math.max(options.flushMs ?? 250, 10), 1000);
  const maxItems = options.maxQueueItems ?? 1_000_000;
  const maxBytes = options.maxQueueBytes ?? 256 * 1024 * 1024;
  const makeWriter = options.writer ?? createBlockWriter;
  const stats: RecorderStats = {
    recorded: 0,
    written: 0,
    dropped: 0,
    rejected: 0,
    queued: 0,
    queuedBytes: 0,
    errors: 0,
    deletedDays: [],
    healthy: true,
  };
  const report = (error: unknown, context: string) => {
    stats.errors++;
    stats.healthy = false;
    const message = error instanceof Error ? error.message : String(error);
    stats.lastError = { message, context, at: Date.now() };
    try {
      options.onError?.(error, context);
    } catch { /* a failing hook must not break recording */ }
  };

  let writer: BlockWriter | undefined;
  let nextSeq = 1;
  const openWriter = () => {
    try {
      writer = makeWriter(options);
      nextSeq = Math.max(nextSeq, writer.lastSeq() + 1);
      return true;
    } catch (err) {
      report(err, `opening the recording in ${options.dir}`);
      return false;
    }
  };
  openWriter();

  let queue: RecordedItem[] = [];
  let queueBytes = 0;
  let gap: Extract<RecordableItem, { type: "recording_gap" }> | undefined;
  let closed = false;
  let lastRetention = 0;
  let retentionDay = "";

  const drop = (items: readonly RecordedItem[], reason: string) => {
    for (const it of items) {
      stats.dropped++;
      if (!gap) {
        gap = {
          type: "recording_gap",
          fromSeq: it.seq,
          toSeq: it.seq,
          dropped: 0,
          fromTime: it.receiveTime,
          toTime: it.receiveTime,
          reason,
        };
      }
      gap.toSeq = Math.max(gap.toSeq, it.seq);
      gap.fromSeq = Math.min(gap.fromSeq, it.seq);
      gap.toTime = Math.max(gap.toTime, it.receiveTime);
      gap.fromTime = Math.min(gap.fromTime, it.receiveTime);
      gap.dropped++;
    }
  };

  const retention = (now: number) => {
    if (options.retentionDays === undefined && options.maxBytes === undefined) return;
    const today = dayOf(now);
    if (today === retentionDay && now - lastRetention < 3_600_000) return;
    lastRetention = now;
    retentionDay = today;
    try {
      stats.deletedDays.push(...applyRetention(options.dir, options, now, today));
    } catch (err) {
      report(err, "applying retention");
    }
  };

  const flush = () => {
    if (queue.length === 0 && !gap) return;
    if (!writer && !openWriter()) {
      drop(queue, "recording unavailable");
      queue = [];
      queueBytes = 0;
      stats.queued = 0;
      stats.queuedBytes = 0;
      return;
    }
    const batch = queue;
    queue = [];
    queueBytes = 0;
    stats.queued = 0;
    stats.queuedBytes = 0;
    if (gap) {
      // The marker takes the first lost sequence number: a replay shows it where the hole began.
      batch.unshift({ seq: gap.fromSeq, exchange: "", receiveTime: gap.fromTime, item: gap });
    }
    const marker = gap;
    gap = undefined;
    let day = "";
    let part: RecordedItem[] = [];
    const writePart = () => {
      if (part.length === 0) return;
      try {
        const rejected = writer!.writeDay(day, part);
        stats.written += part.length - (part[0].item === marker ? 1 : 0) - rejected;
        stats.healthy = true;
        if (rejected > 0) {
          stats.rejected += rejected;
          report(
            new TypeError(`${rejected} items held values that cannot be recorded`),
            `encoding items of ${day}`,
          );
          stats.healthy = true;
        }
      } catch (err) {
        report(err, `writing ${part.length} items of ${day} to ${options.dir}`);
        const lost = part.filter((it) => it.item !== marker);
        // The marker was not written either: keep it, and widen it by what this write lost.
        if (marker && part[0].item === marker) gap = { ...marker };
        drop(lost, `write failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      part = [];
    };
    for (const it of batch) {
      const d = dayOf(it.receiveTime);
      if (d !== day) {
        writePart();
        day = d;
      }
      part.push(it);
    }
    writePart();
    retention(Date.now());
  };

  const timer = setInterval(() => {
    try {
      flush();
    } catch (err) {
      report(err, "flushing the recording queue");
    }
  }, flushMs);
  Deno.unrefTimer(timer);

  return {
    record(input) {
      let seq = nextSeq;
      try {
        if (input.seq !== undefined && input.seq >= nextSeq) seq = input.seq;
        nextSeq = seq + 1;
        const item = input.item;
        if (closed || NOT_RECORDED.has(item.type)) return seq;
        const receiveTime = input.receiveTime ??
          ("receiveTime" in item && typeof item.receiveTime === "number"
            ? item.receiveTime
            : Date.now());
        const entry: RecordedItem = {
          seq,
          exchange: input.exchange,
          receiveTime,
          item: item as RecordableItem,
        };
        const bytes = estimateBytes(item);
        if (queue.length >= maxItems || queueBytes + bytes > maxBytes) {
          drop([entry], "recording queue full");
          return seq;
        }
        queue.push(entry);
        queueBytes += bytes;
        stats.recorded++;
        stats.queued = queue.length;
        stats.queuedBytes = queueBytes;
      } catch (err) {
        report(err, "queueing an item");
      }
      return seq;
    },
    flush() {
      try {
        flush();
      } catch (err) {
        report(err, "flushing the recording queue");
      }
    },
    stats: () => ({ ...stats, deletedDays: [...stats.deletedDays] }),
    close() {
      if (closed) return;
      clearInterval(timer);
      try {
        flush();
      } catch (err) {
        report(err, "flushing the recording queue");
      }
      closed = true;
      try {
        writer?.close();
      } catch (err) {
        report(err, "closing the recording");
      }
    },
  };
}

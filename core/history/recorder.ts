/**
 * The recorder: the hub hands it every item with {@link Recorder.record}, which
 * only appends to a bounded in-memory queue and never throws. A timer drains the
 * queue at least every second to the writer, by default in a Worker (see
 * `sink.ts`). When the queue is full or a write fails, items are dropped and
 * counted, and a `recording_gap` marker covering them is written as soon as
 * writing works again.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";
import {
  type BlockWriter,
  type BlockWriterOptions,
  createBlockWriter,
  lastRecordedSeq,
} from "./block_writer.ts";
import { applyRetention, type RetentionOptions } from "./retention.ts";
import { type DayPart, inlineSink, type PartResult, workerSink, type WriteSink } from "./sink.ts";
import {
  dayOf,
  type LiveBook,
  type RecordableItem,
  type RecordedItem,
  type RecordingGap,
  type RecordInput,
} from "./types.ts";

/** Settings of {@link createRecorder}. */
export interface RecorderOptions extends BlockWriterOptions, RetentionOptions {
  /** Queue drain period, ms (default 250; at most 1000). */
  flushMs?: number;
  /** Most items waiting in memory, queued or being written (default 1,000,000). */
  maxQueueItems?: number;
  /** Most estimated bytes waiting in memory (default 256 MiB). */
  maxQueueBytes?: number;
  /** Write in a Worker (default true); false writes on the calling thread. */
  worker?: boolean;
  /** Called on every failure with what was being done; never required. */
  onError?: (error: unknown, context: string) => void;
  /** Replaces the SQLite writer, written on the calling thread (tests inject a failing one). */
  writer?: (options: BlockWriterOptions) => BlockWriter;
  /**
   * The hub's books as they are now (e.g. from `core/books/books.ts`). When recording resumes
   * after a gap, every book is stored from here, so `bookAt` is exact again right away instead of
   * waiting for the exchange's next snapshot. Call order matters: `record()` each item after the
   * hub applied it, so the books match the last recorded item.
   */
  books?: () => Iterable<LiveBook>;
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
  /** Items waiting in memory (queued or being written), and their estimated bytes. */
  queued: number;
  queuedBytes: number;
  /** Failed writes (and failed opens or retention passes). */
  errors: number;
  /** The last error, with context. */
  lastError?: { message: string; context: string; at: number };
  /** Days deleted by retention. */
  deletedDays: string[];
  /** Whether the last write worked. */
  healthy: boolean;
}

/** The recorder's entry points. */
export interface Recorder {
  /**
   * Queues one item; returns its hub sequence number (assigned when `input.seq` is
   * absent). Never throws and never waits: a full queue drops and counts the item.
   */
  record(input: RecordInput): number;
  /** Hands everything queued to the writer; resolves once it is written (or failed). */
  flush(): Promise<void>;
  stats(): RecorderStats;
  /** Flushes and closes. Idempotent. */
  close(): Promise<void>;
}

const NOT_RECORDED = new Set(["log", "malformed"]);

/** Rough memory cost of an item in the queue (what the byte bound counts). */
function estimateBytes(item: FeedItem | RecordableItem): number {
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
 * const seq = recorder.record({ exchange: "binance", item });
 * await recorder.close(); // at shutdown
 * ```
 */
export function createRecorder(options: RecorderOptions): Recorder {
  const flushMs = Math.min(Math.max(options.flushMs ?? 250, 10), 1000);
  const maxItems = options.maxQueueItems ?? 1_000_000;
  const maxBytes = options.maxQueueBytes ?? 256 * 1024 * 1024;
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

  // The sequence continues after the last recorded item, across restarts and crashes.
  let nextSeq = 1;
  try {
    nextSeq = lastRecordedSeq(options.dir) + 1;
  } catch (err) {
    report(err, `reading the last sequence number in ${options.dir}`);
  }
  const writerOptions: BlockWriterOptions = {
    dir: options.dir,
    level: options.level,
    maxBlockMs: options.maxBlockMs,
    maxBlockItems: options.maxBlockItems,
    snapshotEvery: options.snapshotEvery,
    snapshotIntervalMs: options.snapshotIntervalMs,
    compactMs: options.compactMs,
  };
  let sink: WriteSink | undefined;
  const openSink = (): WriteSink | undefined => {
    try {
      if (options.writer || options.worker === false) {
        sink = inlineSink((options.writer ?? createBlockWriter)(writerOptions));
      } else {
        sink = workerSink(
          writerOptions,
          (message) => report(new Error(message), `opening the recording in ${options.dir}`),
        );
      }
    } catch (err) {
      report(err, `opening the recording in ${options.dir}`);
    }
    return sink;
  };
  openSink();

  let queue: RecordedItem[] = [];
  let queueBytes = 0;
  /** Items and bytes handed to the writer and not settled yet. */
  let inflight = 0, inflightBytes = 0;
  let gap: RecordingGap | undefined;
  let closed = false;
  let lastRetention = 0;
  let retentionDay = "";
  const updateQueued = () => {
    stats.queued = queue.length + inflight;
    stats.queuedBytes = queueBytes + inflightBytes;
  };

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

  /** Books the results of one batch: written, rejected, or dropped into the gap. */
  const settle = (
    parts: DayPart[],
    results: PartResult[],
    marker: RecordingGap | undefined,
    bytes: number,
  ) => {
    for (let i = 0; i < parts.length; i++) {
      const { day, items } = parts[i];
      const result = results[i];
      const hasMarker = items[0].item === marker;
      // Problems that lost nothing (a finished day left unmerged): reported, still healthy.
      for (const warning of result.warnings ?? []) {
        report(new Error(warning), `writing ${items.length} items of ${day} to ${options.dir}`);
        stats.healthy = true;
      }
      if (result.ok) {
        stats.written += items.length - (hasMarker ? 1 : 0) - result.rejected;
        stats.healthy = true;
        if (result.rejected > 0) {
          stats.rejected += result.rejected;
          report(
            new TypeError(`${result.rejected} items held values that cannot be recorded`),
            `encoding items of ${day}`,
          );
          stats.healthy = true;
        }
      } else {
        report(
          new Error(result.error),
          `writing ${items.length} items of ${day} to ${options.dir}`,
        );
        // The marker was not written either: keep it, and widen it by what this write lost.
        if (marker && hasMarker) {
          gap = gap
            ? {
              ...gap,
              fromSeq: Math.min(gap.fromSeq, marker.fromSeq),
              toSeq: Math.max(gap.toSeq, marker.toSeq),
              fromTime: Math.min(gap.fromTime, marker.fromTime),
              toTime: Math.max(gap.toTime, marker.toTime),
              dropped: gap.dropped + marker.dropped,
            }
            : { ...marker };
        }
        drop(items.filter((it) => it.item !== marker), `write failed: ${result.error}`);
      }
    }
    inflight -= parts.reduce((a, p) => a + p.items.length, 0);
    inflightBytes -= bytes;
    updateQueued();
    retention(Date.now());
  };

  const flushNow = () => {
    if (queue.length === 0 && !gap) return;
    const target = sink ?? openSink();
    if (!target) {
      drop(queue, "recording unavailable");
      queue = [];
      queueBytes = 0;
      updateQueued();
      return;
    }
    const batch = queue;
    const bytes = queueBytes;
    queue = [];
    queueBytes = 0;
    const marker = gap;
    gap = undefined;
    // The marker takes the first lost sequence number: a replay shows it where the hole began.
    if (marker) {
      batch.unshift({
        seq: marker.fromSeq,
        exchange: "",
        receiveTime: marker.fromTime,
        item: marker,
      });
    }
    const parts: DayPart[] = [];
    for (const it of batch) {
      const day = dayOf(it.receiveTime);
      const last = parts[parts.length - 1];
      if (last?.day === day) last.items.push(it);
      else parts.push({ day, items: [it] });
    }
    if (marker && options.books) {
      // The hub's books now are the books after the last item handed over: anchor them there.
      const lastPart = parts[parts.length - 1];
      const after = lastPart.items[lastPart.items.length - 1];
      const seq = Math.max(after.seq, marker.toSeq);
      try {
        lastPart.snapshots = [...options.books()].map((b) => ({
          exchange: b.exchange,
          symbol: b.symbol,
          t: Math.max(after.receiveTime, marker.toTime),
          seq,
          book: { bids: b.bids, asks: b.asks, updateId: b.updateId },
        }));
      } catch (err) {
        report(err, "reading the hub's books after a recording gap");
      }
    }
    inflight += batch.length;
    inflightBytes += bytes;
    updateQueued();
    target.write(parts, (results) => settle(parts, results, marker, bytes));
  };

  const timer = setInterval(() => {
    try {
      flushNow();
    } catch (err) {
      report(err, "flushing the recording queue");
    }
  }, flushMs);
  Deno.unrefTimer(timer);

  const flush = async () => {
    try {
      flushNow();
    } catch (err) {
      report(err, "flushing the recording queue");
    }
    await sink?.idle();
  };

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
        if (
          queue.length + inflight >= maxItems || queueBytes + inflightBytes + bytes > maxBytes
        ) {
          drop([entry], "recording queue full");
          return seq;
        }
        queue.push(entry);
        queueBytes += bytes;
        stats.recorded++;
        stats.queued = queue.length + inflight;
        stats.queuedBytes = queueBytes + inflightBytes;
      } catch (err) {
        report(err, "queueing an item");
      }
      return seq;
    },
    flush,
    stats: () => ({ ...stats, deletedDays: [...stats.deletedDays] }),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await flush();
      try {
        const warnings = await sink?.close() ?? [];
        for (const warning of warnings) report(new Error(warning), "closing the recording");
      } catch (err) {
        report(err, "closing the recording");
      }
      sink = undefined;
    },
  };
}

/**
 * Recording in the running gateway: the glue between the hub's taps and the
 * history engine (`core/history/`). Creates the recorder, numbers the hub from
 * the folder's last sequence, records every hub item under its tap sequence
 * number without ever blocking the live path, reports what it does (`/health`,
 * `/metrics`, the log) and offers readers of the recording to the history
 * endpoints and to replays.
 * @module
 */
import { Counter, Gauge, type Registry } from "prom-client";
import {
  createRecorder,
  type HistoryReader,
  openHistory,
  type Recorder,
  type RecorderOptions,
  type RecorderStats,
} from "../history/mod.ts";
import { lastRecordedSeq } from "../history/block_writer.ts";
import { listDays } from "../history/day_store.ts";
import { dayBytes } from "../history/retention.ts";
import type { HubItem, HubTap } from "../ingest/taps.ts";
import type { Logger } from "./log.ts";

/** Settings of {@link startRecording}. */
export interface RecordingOptions {
  /** Recording folder (created when missing). */
  dir: string;
  /** Days kept, counting today. */
  retentionDays?: number;
  /** Most bytes on disk; oldest days go first. */
  maxBytes?: number;
  /** Where falling behind, failures and recoveries are reported. */
  log: Logger;
  /** Registry the recording's metrics join (the gateway's). */
  registry?: Registry;
  /** How often the state is checked for the log, ms (default 1000). */
  checkMs?: number;
  /** Engine settings for tests (flush period, queue bounds, a failing writer...). */
  recorder?: Partial<RecorderOptions>;
}

/** The `recording` section of `/health`: the recorder's counters, and where and how much is on disk. */
export interface RecordingHealth extends Omit<RecorderStats, "lastError"> {
  enabled: true;
  dir: string;
  /** False while writes fail or items are being dropped. */
  healthy: boolean;
  /** The last error, with its time as ISO 8601. */
  lastError?: { message: string; context: string; at: string };
  /** Hub sequence number up to which items are on disk (or counted as dropped). */
  flushedSeq: number;
  /** Bytes of the recording on disk, and its days (oldest first). */
  bytes: number;
  days: string[];
  retentionDays?: number;
  maxBytes?: number;
}

/**
 * A running recording. This is also what a replay needs: `history()` to read
 * the past and `flush()`/`flushedSeq()` to know up to which hub sequence number
 * the recording is complete on disk (a replay reads up to there, then continues
 * from the live taps).
 */
export interface Recording {
  readonly dir: string;
  /** The folder's last recorded sequence number at start: the hub continues after it. */
  readonly startSeq: number;
  /** The hub tap that records (add it to `gateway.taps`). */
  readonly tap: HubTap;
  /**
   * Records a `recording_gap` marker for hub seqs `fromSeq..toSeq` that will never be
   * recorded (the recorder node's lost seqs); recording goes on after `toSeq`.
   */
  gap(gap: { fromSeq: number; toSeq: number; reason: string; time: number }): void;
  /**
   * A fresh reader of the recording (sees every day file written so far);
   * the caller closes it. Undefined once the recording is closed.
   */
  history(): HistoryReader | undefined;
  /** Hub sequence number up to which every item is written (or dropped and marked). */
  flushedSeq(): number;
  /** Writes everything queued; resolves with the new {@link Recording.flushedSeq}. */
  flush(): Promise<number>;
  /** The recorder's counters. */
  stats(): RecorderStats;
  health(): RecordingHealth;
  /** Flushes and closes the recorder. Idempotent. */
  close(): Promise<void>;
}

/** Share of the queue bound above which the recording counts as falling behind. */
const BEHIND_SHARE = 0.5;
/** Least time between two repeated warnings about the same trouble, ms. */
const REPEAT_MS = 30_000;
/** How long the disk figures of `/health` are reused, ms. */
const DISK_CACHE_MS = 5_000;

/**
 * Starts recording into `options.dir`. Never throws for an unusable folder:
 * the recorder then drops and counts, and `/health` and the log say why.
 */
export function startRecording(options: RecordingOptions): Recording {
  const { dir, log } = options;
  let startSeq = 0;
  try {
    startSeq = lastRecordedSeq(dir);
  } catch { /* unreadable folder: the recorder reports it */ }
  const maxQueueItems = options.recorder?.maxQueueItems ?? 1_000_000;
  let lastErrorLogged = 0;
  let suppressed = 0;
  const recorder: Recorder = createRecorder({
    dir,
    retentionDays: options.retentionDays,
    maxBytes: options.maxBytes,
    ...options.recorder,
    onError(error, context) {
      // Every failure counts in stats(); the log gets the first and then one every REPEAT_MS.
      options.recorder?.onError?.(error, context);
      const now = Date.now();
      if (now - lastErrorLogged < REPEAT_MS) {
        suppressed++;
        return;
      }
      lastErrorLogged = now;
      log.error(
        "recording failed while {context}: {error}{more} (live clients are unaffected; items are dropped and counted until writing works again)",
        {
          context,
          error: error instanceof Error ? error.message : String(error),
          more: suppressed > 0 ? ` (${suppressed} more failures since the last report)` : "",
        },
      );
      suppressed = 0;
    },
  });
  log.info(
    "recording to {dir} (retention: {days}, {bytes}), hub sequence continues after {seq}",
    {
      dir,
      days: options.retentionDays === undefined ? "no age limit" : `${options.retentionDays} days`,
      bytes: options.maxBytes === undefined ? "no size limit" : `at most ${options.maxBytes} bytes`,
      seq: startSeq,
    },
  );

  let lastSeq = startSeq;
  let flushed = startSeq;
  let closed = false;
  const tap: HubTap = (entry: HubItem) => {
    lastSeq = entry.seq;
    recorder.record({
      exchange: entry.exchange,
      item: entry.item,
      seq: entry.seq,
      receiveTime: entry.receiveTime,
    });
  };

  // The log: falling behind, dropping, recovering. Checked once a second, off the hot path.
  let trouble: "none" | "behind" | "dropping" = "none";
  let troubleSince = 0, lastWarned = 0, droppedAtStart = 0;
  let lastDropped = 0;
  let flushing = false;
  const check = () => {
    const s = recorder.stats();
    const now = Date.now();
    // Nothing queued or in flight: everything recorded so far is settled. Otherwise a
    // flush (what the recorder's own timer does every 250 ms) tells when it is.
    if (s.queued === 0) flushed = Math.max(flushed, lastSeq);
    else if (!flushing && !closed) {
      flushing = true;
      flush().finally(() => flushing = false);
    }
    const newDrops = s.dropped - lastDropped;
    lastDropped = s.dropped;
    const state = newDrops > 0 || !s.healthy
      ? "dropping"
      : s.queued > maxQueueItems * BEHIND_SHARE
      ? "behind"
      : "none";
    if (state !== "none" && (state !== trouble || now - lastWarned >= REPEAT_MS)) {
      if (trouble === "none") {
        troubleSince = now;
        droppedAtStart = s.dropped - newDrops;
      }
      lastWarned = now;
      log.warning(
        state === "dropping"
          ? "recording is dropping items: {dropped} dropped so far ({queued} queued, last error: {error}); live clients are unaffected"
          : "recording is falling behind: {queued} items queued of at most {max}; items will be dropped when the queue is full",
        {
          dropped: s.dropped,
          queued: s.queued,
          max: maxQueueItems,
          error: s.lastError ? `${s.lastError.message} (${s.lastError.context})` : "none",
        },
      );
    } else if (state === "none" && trouble !== "none") {
      log.info(
        "recording recovered after {seconds} s: {dropped} items were dropped (a recording_gap marker covers them)",
        {
          seconds: Math.round((now - troubleSince) / 1000),
          dropped: s.dropped - droppedAtStart,
        },
      );
    }
    trouble = state;
  };
  const checker = setInterval(() => {
    try {
      check();
    } catch { /* reporting must never break the gateway */ }
  }, options.checkMs ?? 1000);
  Deno.unrefTimer(checker);

  let disk = { at: 0, bytes: 0, days: [] as string[] };
  const diskUsage = () => {
    if (Date.now() - disk.at < DISK_CACHE_MS) return disk;
    let days: string[] = [];
    let bytes = 0;
    try {
      days = listDays(dir);
      for (const d of days) bytes += dayBytes(dir, d);
    } catch { /* unreadable folder: reported through the recorder */ }
    disk = { at: Date.now(), bytes, days };
    return disk;
  };

  if (options.registry) registerMetrics(options.registry, recorder, diskUsage);

  const flush = async () => {
    const upTo = lastSeq;
    await recorder.flush();
    flushed = Math.max(flushed, upTo);
    return flushed;
  };

  return {
    dir,
    startSeq,
    tap,
    gap({ fromSeq, toSeq, reason, time }) {
      lastSeq = toSeq;
      recorder.record({
        exchange: "",
        seq: fromSeq,
        receiveTime: time,
        item: {
          type: "recording_gap",
          fromSeq,
          toSeq,
          dropped: toSeq - fromSeq + 1,
          fromTime: time,
          toTime: time,
          reason,
        },
      });
    },
    history: () => closed ? undefined : openHistory(dir),
    flushedSeq: () => flushed,
    flush,
    stats: () => recorder.stats(),
    health() {
      const s = recorder.stats();
      const { bytes, days } = diskUsage();
      return {
        enabled: true,
        dir,
        healthy: s.healthy && s.dropped === lastDropped,
        recorded: s.recorded,
        written: s.written,
        dropped: s.dropped,
        rejected: s.rejected,
        queued: s.queued,
        queuedBytes: s.queuedBytes,
        errors: s.errors,
        lastError: s.lastError && {
          message: s.lastError.message,
          context: s.lastError.context,
          at: new Date(s.lastError.at).toISOString(),
        },
        flushedSeq: flushed,
        bytes,
        days,
        deletedDays: s.deletedDays,
        retentionDays: options.retentionDays,
        maxBytes: options.maxBytes,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(checker);
      const upTo = lastSeq;
      await recorder.close();
      flushed = Math.max(flushed, upTo);
      const s = recorder.stats();
      log.info("recording closed: {written} items written, {dropped} dropped, in {dir}", {
        written: s.written,
        dropped: s.dropped,
        dir,
      });
    },
  };
}

/** Recording counters on the gateway's `/metrics`, read from the recorder at scrape time. */
function registerMetrics(
  registry: Registry,
  recorder: Recorder,
  diskUsage: () => { bytes: number },
): void {
  const reported = { written: 0, dropped: 0, rejected: 0, errors: 0 };
  new Counter({
    name: "quant_recording_items_total",
    help: "Hub items handled by the recorder, by result (written, dropped, rejected)",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      const s = recorder.stats();
      for (const result of ["written", "dropped", "rejected"] as const) {
        const delta = s[result] - reported[result];
        if (delta > 0) this.inc({ result }, delta);
        else this.inc({ result }, 0);
        reported[result] = s[result];
      }
    },
  });
  new Counter({
    name: "quant_recording_errors_total",
    help: "Failed recording writes, opens and retention passes",
    registers: [registry],
    collect() {
      const errors = recorder.stats().errors;
      this.inc(Math.max(0, errors - reported.errors));
      reported.errors = errors;
    },
  });
  new Gauge({
    name: "quant_recording_queued_items",
    help: "Items waiting in memory to be written by the recorder",
    registers: [registry],
    collect() {
      this.set(recorder.stats().queued);
    },
  });
  new Gauge({
    name: "quant_recording_healthy",
    help: "1 while the last recording write worked, else 0",
    registers: [registry],
    collect() {
      this.set(recorder.stats().healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: "quant_recording_disk_bytes",
    help: "Bytes the recording takes on disk",
    registers: [registry],
    collect() {
      this.set(diskUsage().bytes);
    },
  });
}

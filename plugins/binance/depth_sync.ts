/**
 * Local order-book sync for one symbol, following Binance's current documented
 * procedure ("How to manage a local order book correctly", 2025-11-12):
 *
 * 1. buffer diff events, note the first event's `U`;
 * 2. fetch a depth snapshot; if its `lastUpdateId` < that first `U`, fetch again;
 * 3. drop buffered events with `u <= lastUpdateId`;
 * 4. the book is the snapshot, its update id `lastUpdateId`;
 * 5. apply the remaining events, then every new one: `u` < book id (or equal:
 *    a duplicate) → ignore; `U` > book id + 1 → events were missed: discard the
 *    book and restart; otherwise apply and set the book id to `u`.
 *
 * The book itself is not kept here: every applied change is emitted as a
 * `BookUpdate` (the snapshot with `snapshot: true`, then one per event), which
 * is exactly what a consumer needs to rebuild it.
 * @module
 */
import {
  type BookStatusUpdate,
  type BookUpdate,
  type FeedLogger,
  isoTime,
  sleep,
} from "../../mod.ts";
import type { DepthSnapshot } from "./rest_mapper.ts";
import { EXCHANGE } from "./mapper.ts";

/** What a depth sync needs from the feed. */
export interface DepthSyncDeps {
  symbol: string;
  /** Fetches a validated snapshot, or `undefined` when that failed (already reported). */
  fetchSnapshot(): Promise<DepthSnapshot | undefined>;
  emit(update: BookUpdate): void;
  bookStatus(update: BookStatusUpdate): void;
  /** Delay before snapshot attempt `attempt` (0-based) after a failed or stale one. */
  retryDelayMs(attempt: number): number;
  /** Most diff events buffered while waiting for a snapshot (oldest dropped beyond). */
  maxBuffered: number;
  now(): number;
  log: FeedLogger;
  signal: AbortSignal;
}

/** Sync states: waiting for a first event, buffering for a snapshot, synced, or synced but unverified after a reconnect. */
export type DepthSyncState = "idle" | "buffering" | "synced" | "suspect";

/** One symbol's book sync. */
export interface DepthSync {
  /** Feeds one diff event (from the mapper: `firstUpdateId` = U, `updateId` = u). */
  onEvent(event: BookUpdate): void;
  /** The stream was interrupted: the book is kept but must prove continuity (`U <= id + 1`) before it counts as synced again. */
  onDisconnect(reason: string): void;
  state(): DepthSyncState;
  /** Update id of the book, once there is one. */
  bookId(): number | undefined;
}

/** Creates the sync for one symbol; it reports `syncing` at once. */
export function createDepthSync(deps: DepthSyncDeps): DepthSync {
  const { symbol, log } = deps;
  let state: DepthSyncState = "idle";
  let id: number | undefined;
  let buffer: BookUpdate[] = [];
  let generation = 0;

  deps.bookStatus({ symbol, state: "syncing" });

  const apply = (e: BookUpdate) => {
    deps.emit(e);
    id = e.updateId!;
  };

  /** Step 5 for one event; false when it revealed a gap (a resync has started). */
  const step = (e: BookUpdate): boolean => {
    const U = e.firstUpdateId!, u = e.updateId!;
    if (u <= id!) return true; // older than the book, or a duplicate
    if (U > id! + 1) {
      resync(e, `missed depth events: book at ${id}, next event U=${U}`);
      return false;
    }
    apply(e);
    return true;
  };

  const resync = (first: BookUpdate | undefined, reason: string) => {
    log.warn(`book ${symbol}: resyncing`, { symbol, reason });
    deps.bookStatus({ symbol, state: "resyncing", reason });
    state = "buffering";
    id = undefined;
    buffer = first ? [first] : [];
    if (first) void snapshotLoop(++generation);
  };

  const snapshotLoop = async (gen: number) => {
    for (let attempt = 0; !deps.signal.aborted && gen === generation; attempt++) {
      if (attempt > 0 && !await sleep(deps.retryDelayMs(attempt - 1), deps.signal)) return;
      if (gen !== generation) return;
      const snap = await deps.fetchSnapshot();
      if (gen !== generation || deps.signal.aborted) return;
      if (!snap) continue;
      const firstU = buffer[0]?.firstUpdateId;
      if (firstU !== undefined && snap.lastUpdateId < firstU) {
        log.info(`book ${symbol}: snapshot older than the buffered events; fetching again`, {
          symbol,
          lastUpdateId: snap.lastUpdateId,
          firstBufferedU: firstU,
        });
        continue;
      }
      applySnapshot(snap);
      return;
    }
  };

  const applySnapshot = (snap: DepthSnapshot) => {
    const pending = buffer.filter((e) => e.updateId! > snap.lastUpdateId);
    buffer = [];
    const t = deps.now();
    id = snap.lastUpdateId;
    state = "synced";
    deps.emit({
      type: "book",
      exchange: EXCHANGE,
      symbol,
      eventTime: t,
      receiveTime: t,
      snapshot: true,
      bids: snap.bids,
      asks: snap.asks,
      updateId: snap.lastUpdateId,
      timestamp: isoTime(t),
    });
    for (const e of pending) if (!step(e)) return;
    deps.bookStatus({ symbol, state: "synced" });
  };

  return {
    onEvent(e) {
      if (state === "synced") {
        step(e);
        return;
      }
      if (state === "suspect") {
        if (e.updateId! <= id!) return;
        if (e.firstUpdateId! > id! + 1) {
          resync(e, `stream interrupted: book at ${id}, next event U=${e.firstUpdateId}`);
          return;
        }
        state = "synced";
        // Report first: the core accepts updates to a resyncing book only once it is synced again.
        deps.bookStatus({ symbol, state: "synced", reason: "continuity verified after reconnect" });
        apply(e);
        return;
      }
      buffer.push(e);
      if (buffer.length > deps.maxBuffered) buffer.splice(0, buffer.length - deps.maxBuffered);
      if (state === "idle") {
        state = "buffering";
        void snapshotLoop(++generation);
      }
    },
    onDisconnect(reason) {
      if (state !== "synced") return;
      state = "suspect";
      deps.bookStatus({ symbol, state: "resyncing", reason });
    },
    state: () => state,
    bookId: () => id,
  };
}

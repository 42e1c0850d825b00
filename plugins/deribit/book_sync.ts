/**
 * Order book of one instrument, kept the way Deribit's `book.{instrument}.{interval}`
 * channel prescribes: the first notification is a snapshot; every later one carries
 * `prev_change_id`, which must equal the previous notification's `change_id`
 * (docs.deribit.com). A break discards the book, reports `resyncing` and asks the
 * feed for a fresh snapshot (unsubscribe + subscribe).
 * @module
 */
import { type BookStatusUpdate, type BookUpdate, type FeedLogger, isoTime } from "../../mod.ts";
import { type DeribitBookMessage, EXCHANGE } from "./mapper.ts";

/** `syncing` until the first snapshot, `synced`, or `resyncing` while waiting for a new one. */
export type BookSyncState = "syncing" | "synced" | "resyncing";

/** What a book sync needs from the feed. */
export interface BookSyncDeps {
  symbol: string;
  emit(update: BookUpdate): void;
  bookStatus(update: BookStatusUpdate): void;
  /** The book is gone: get a fresh snapshot. */
  resync(reason: string): void;
  log: FeedLogger;
}

/** One instrument's book. */
export interface BookSync {
  onMessage(message: DeribitBookMessage): void;
  /** The connection is gone: the next snapshot (after resubscribing) replaces the book. */
  onDisconnect(reason: string): void;
  state(): BookSyncState;
  /** Continuity breaks seen so far. */
  breaks(): number;
}

/**
 * Creates the book of one instrument; it reports `syncing` at once.
 *
 * @example
 * ```ts
 * import { createBookSync } from "./book_sync.ts";
 *
 * const sync = createBookSync({
 *   symbol: "BTC-PERPETUAL", emit: () => {}, bookStatus: () => {}, resync: () => {},
 *   log: { debug() {}, info() {}, warn() {}, error() {} },
 * });
 * console.log(sync.state()); // "syncing"
 * ```
 */
export function createBookSync(deps: BookSyncDeps): BookSync {
  const { symbol, log } = deps;
  let state: BookSyncState = "syncing";
  let lastChangeId: number | undefined;
  let breaks = 0;
  deps.bookStatus({ symbol, state: "syncing" });

  const emit = (m: DeribitBookMessage) =>
    deps.emit({
      type: "book",
      exchange: EXCHANGE,
      symbol,
      eventTime: m.eventTime,
      receiveTime: m.receiveTime,
      snapshot: m.snapshot,
      bids: m.bids,
      asks: m.asks,
      updateId: m.changeId,
      ...(m.prevChangeId !== undefined ? { firstUpdateId: m.prevChangeId + 1 } : {}),
      timestamp: isoTime(m.eventTime),
      raw: m.raw,
    });

  return {
    onMessage(m) {
      if (m.snapshot) {
        const was = state;
        lastChangeId = m.changeId;
        state = "synced";
        emit(m);
        deps.bookStatus({
          symbol,
          state: "synced",
          reason: was === "resyncing" ? "fresh snapshot" : undefined,
        });
        return;
      }
      if (state !== "synced") return; // changes of a discarded subscription
      if (m.prevChangeId !== lastChangeId) {
        breaks++;
        const reason =
          `change_id gap: prev_change_id ${m.prevChangeId} after change_id ${lastChangeId}`;
        state = "resyncing";
        lastChangeId = undefined;
        log.warn(`book ${symbol}: ${reason}; resyncing`, { symbol, reason });
        deps.bookStatus({ symbol, state: "resyncing", reason });
        deps.resync(reason);
        return;
      }
      lastChangeId = m.changeId;
      if (m.bids.length > 0 || m.asks.length > 0) emit(m);
    },
    onDisconnect(reason) {
      if (state === "synced") deps.bookStatus({ symbol, state: "resyncing", reason });
      state = "resyncing";
      lastChangeId = undefined;
    },
    state: () => state,
    breaks: () => breaks,
  };
}

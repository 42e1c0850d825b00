/**
 * Order book of one symbol, kept the way Kraken's v2 guide prescribes: apply
 * every level of a message, truncate to the subscribed depth, then verify the
 * message's CRC32 checksum (snapshots and updates alike). Only verified
 * changes are emitted; a mismatch discards the book, reports `resyncing` and
 * asks the feed for a fresh snapshot (unsubscribe + subscribe).
 *
 * Emitted updates carry the message's levels plus a `qty 0` for every level
 * the truncation dropped, so a consumer applying them gets exactly this book
 * (Kraken itself never sends removals for levels that fall out of range).
 * @module
 */
import {
  applySnapshot,
  applyUpdate,
  type BookSide,
  type BookStatusUpdate,
  type BookUpdate,
  createBook,
  type FeedLogger,
  type Level,
  type OrderBook,
  topN,
  truncate,
} from "../../mod.ts";
import { bookChecksum } from "./checksum.ts";
import { EXCHANGE, type KrakenBookMessage } from "./mapper.ts";
import { isoTime } from "./time.ts";

/** Price and quantity decimals of a pair (from the `instrument` channel). */
export interface Precision {
  price: number;
  qty: number;
}

/** What a book sync needs from the feed. */
export interface BookSyncDeps {
  symbol: string;
  /** Subscribed depth (10, 25, 100, 500 or 1000). */
  depth: number;
  /** The pair's current precisions. */
  precision(): Precision | undefined;
  emit(update: BookUpdate): void;
  bookStatus(update: BookStatusUpdate): void;
  /** The book is gone: get a fresh snapshot (unsubscribe + subscribe). */
  resync(reason: string): void;
  log: FeedLogger;
}

/** `syncing` until the first snapshot, `synced`, or `resyncing` while waiting for a new one. */
export type BookSyncState = "syncing" | "synced" | "resyncing";

/** One symbol's book. */
export interface BookSync {
  /** Feeds one validated `book` data entry of this symbol. */
  onMessage(message: KrakenBookMessage): void;
  /** The connection is gone: the next snapshot (after resubscribing) replaces the book. */
  onDisconnect(reason: string): void;
  state(): BookSyncState;
  /** The verified book (tests compare it). */
  book(): OrderBook;
  /** Checksum mismatches seen so far. */
  mismatches(): number;
}

/** Creates the book of one symbol; it reports `syncing` at once. */
export function createBookSync(deps: BookSyncDeps): BookSync {
  const { symbol, depth, log } = deps;
  let state: BookSyncState = "syncing";
  let book = createBook();
  let mismatches = 0;
  deps.bookStatus({ symbol, state: "syncing" });

  const fail = (reason: string) => {
    state = "resyncing";
    book = createBook();
    log.warn(`book ${symbol}: ${reason}; resyncing`, { symbol, reason });
    deps.bookStatus({ symbol, state: "resyncing", reason });
    deps.resync(reason);
  };

  /** True when the book matches `expected`; otherwise starts a resync. */
  const verify = (expected: number, what: string): boolean => {
    const precision = deps.precision();
    if (precision === undefined) {
      fail(`no precision known for ${symbol}: cannot verify the ${what} checksum`);
      return false;
    }
    const actual = bookChecksum(book, precision.price, precision.qty);
    if (actual === expected) return true;
    mismatches++;
    fail(`${what} checksum mismatch: expected ${expected}, computed ${actual}`);
    return false;
  };

  const onSnapshot = (m: KrakenBookMessage) => {
    applySnapshot(book, m.bids, m.asks);
    truncate(book, depth);
    if (!verify(m.checksum, "snapshot")) return;
    const top = topN(book, depth);
    deps.emit({
      type: "book",
      exchange: EXCHANGE,
      symbol,
      eventTime: m.eventTime,
      receiveTime: m.receiveTime,
      snapshot: true,
      bids: top.bids,
      asks: top.asks,
      timestamp: isoTime(m.eventTime),
      raw: m.raw,
    });
    const was = state;
    state = "synced";
    deps.bookStatus({
      symbol,
      state: "synced",
      reason: was === "resyncing" ? "fresh snapshot verified" : undefined,
    });
  };

  const onUpdate = (m: KrakenBookMessage) => {
    applyUpdate(book, m);
    const droppedBids = beyondDepth(book.bids, depth);
    const droppedAsks = beyondDepth(book.asks, depth);
    if (droppedBids || droppedAsks) truncate(book, depth);
    if (!verify(m.checksum, "update")) return;
    const bids = droppedBids ? m.bids.concat(droppedBids) : m.bids;
    const asks = droppedAsks ? m.asks.concat(droppedAsks) : m.asks;
    if (bids.length === 0 && asks.length === 0) return;
    deps.emit({
      type: "book",
      exchange: EXCHANGE,
      symbol,
      eventTime: m.eventTime,
      receiveTime: m.receiveTime,
      snapshot: false,
      bids,
      asks,
      timestamp: isoTime(m.eventTime),
      raw: m.raw,
    });
  };

  return {
    onMessage(m) {
      try {
        if (m.snapshot) onSnapshot(m);
        else if (state === "synced") onUpdate(m);
        // Updates before a (new) snapshot belong to the discarded subscription.
      } catch (err) {
        fail(`book message rejected: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    onDisconnect(reason) {
      if (state === "synced") {
        deps.bookStatus({ symbol, state: "resyncing", reason });
      }
      state = "resyncing";
      book = createBook();
    },
    state: () => state,
    book: () => book,
    mismatches: () => mismatches,
  };
}

/** Removals (`qty 0`) for the levels beyond `depth` of a worst-first side, or undefined. */
function beyondDepth(side: BookSide, depth: number): Level[] | undefined {
  const excess = side.prices.length - depth;
  if (excess <= 0) return undefined;
  const out: Level[] = new Array(excess);
  for (let i = 0; i < excess; i++) out[i] = [side.prices[i], 0];
  return out;
}

/**
 * The recorder's copy of every book, kept with the hub's rules (a snapshot
 * replaces the book and syncs it; deltas apply only while synced; a book status
 * `resyncing` or a recording gap unsyncs it), so that periodic snapshots can be
 * written without asking the hub. Readers use the same rules ({@link applyItemToBook}).
 * @module
 */
import {
  applySnapshot,
  applyUpdate,
  BookError,
  createBook,
  type OrderBook,
} from "../books/book.ts";
import type { RecordableItem } from "./types.ts";

/** One mirrored book. */
export interface MirroredBook {
  book: OrderBook;
  synced: boolean;
}

/**
 * Applies one recorded item to a book the way the hub's books do. Returns true when
 * the book changed. A delta the book refuses (invalid, or while unsynced) changes nothing.
 */
export function applyItemToBook(entry: MirroredBook, item: RecordableItem): boolean {
  if (item.type === "book") {
    try {
      if (item.snapshot) {
        applySnapshot(entry.book, item.bids, item.asks, item.updateId);
        entry.synced = true;
        return true;
      }
      if (!entry.synced) return false;
      applyUpdate(entry.book, item);
      return true;
    } catch (err) {
      if (err instanceof BookError) return false;
      throw err;
    }
  }
  if (item.type === "book_status") {
    if (item.state === "resyncing") entry.synced = false;
    else if (item.state === "synced" && entry.book.updateId !== undefined) entry.synced = true;
    return false;
  }
  if (item.type === "recording_gap") entry.synced = false;
  return false;
}

/** A new, unsynced mirrored book. */
export function createMirroredBook(): MirroredBook {
  return { book: createBook(), synced: false };
}

/** When a snapshot is due. */
export interface SnapshotPolicy {
  /** Book updates between snapshots. */
  every: number;
  /** Longest time between snapshots of a changing book, ms. */
  intervalMs: number;
}

/** The books of every exchange + symbol, and when each last got a snapshot. */
export interface BookMirror {
  /**
   * Applies an item; returns the book when a snapshot of it is due now
   * (the state just after this item).
   */
  apply(exchange: string, item: RecordableItem, time: number): MirroredBook | undefined;
  /** Every synced book, for the snapshots that open a new day file. */
  synced(): Iterable<[exchange: string, symbol: string, book: MirroredBook]>;
  /** Notes that a snapshot of this book was stored at `time`. */
  stored(exchange: string, symbol: string, time: number): void;
}

interface Tracked extends MirroredBook {
  exchange: string;
  symbol: string;
  since: number;
  lastSnapshot: number;
}

/** Creates an empty mirror. */
export function createBookMirror(policy: SnapshotPolicy): BookMirror {
  const books = new Map<string, Tracked>();
  return {
    apply(exchange, item, time) {
      if (item.type === "recording_gap") {
        for (const b of books.values()) b.synced = false;
        return undefined;
      }
      if (item.type !== "book" && item.type !== "book_status") return undefined;
      const key = `${exchange}\u0000${item.symbol}`;
      let b = books.get(key);
      if (!b) {
        b = {
          ...createMirroredBook(),
          exchange,
          symbol: item.symbol,
          since: 0,
          lastSnapshot: time,
        };
        books.set(key, b);
      }
      if (!applyItemToBook(b, item)) return undefined;
      if (item.type === "book" && item.snapshot) {
        b.since = 0;
        b.lastSnapshot = time;
        return undefined;
      }
      b.since++;
      if (b.synced && (b.since >= policy.every || time - b.lastSnapshot >= policy.intervalMs)) {
        return b;
      }
      return undefined;
    },
    *synced() {
      for (const b of books.values()) if (b.synced) yield [b.exchange, b.symbol, b];
    },
    stored(exchange, symbol, time) {
      const b = books.get(`${exchange}\u0000${symbol}`);
      if (!b) return;
      b.since = 0;
      b.lastSnapshot = time;
    },
  };
}

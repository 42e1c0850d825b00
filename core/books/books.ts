/**
 * The gateway's order books: one core {@link OrderBook} per exchange and symbol,
 * fed by plugins' validated {@link BookUpdate}s, and the top-N views that
 * clients of the `book` channel follow (one view per distinct depth, so each
 * delta is computed and serialized once per depth, not once per client).
 * @module
 */
import type { BookUpdate, Level } from "../events.ts";
import {
  applySnapshot,
  applyUpdate,
  bestAsk,
  bestBid,
  BookError,
  createBook,
  isCrossed,
  type OrderBook,
  topN,
} from "./book.ts";
import { advanceView, type BookView, createBookView, resetView, viewSnapshot } from "./view.ts";
import type { Client, Delivery } from "../delivery/policy.ts";
import { bookFrame } from "../protocol/frames.ts";

/** Subscribers of one depth of one book. */
interface ViewGroup {
  view: BookView;
  raw: Set<Client>;
  plain: Set<Client>;
}

/** One exchange/symbol book and its views. */
export interface BookEntry {
  exchange: string;
  symbol: string;
  book: OrderBook;
  /** False until the first snapshot, and while the plugin resynchronizes. */
  synced: boolean;
  resyncs: number;
  lastEventTime: number;
  lastReceiveTime: number;
  views: Map<number, ViewGroup>;
}

/** The book store. */
export interface Books {
  /** Applies a plugin's update and sends the resulting frames to subscribers. Returns false if rejected. */
  apply(update: BookUpdate): boolean;
  /** Marks a book as resynchronizing (updates are refused until a snapshot or {@link Books.markSynced}). */
  markUnsynced(exchange: string, symbol: string): void;
  /**
   * The plugin verified that its stream continued without a gap (e.g. after a
   * reconnect), so the book held is still exact: updates are accepted again.
   * Returns false when there is no book to resume (a snapshot is then needed).
   */
  markSynced(exchange: string, symbol: string): boolean;
  /** Adds a subscriber at `depth`; sends it a snapshot at once if the book is synced. */
  subscribe(client: Client, exchange: string, symbol: string, depth: number, raw: boolean): void;
  unsubscribe(client: Client, exchange: string, symbol: string, depth: number): void;
  get(exchange: string, symbol: string): BookEntry | undefined;
  /** Top `depth` levels, with sequence and update id, for REST. */
  snapshot(exchange: string, symbol: string, depth: number): BookSnapshot | undefined;
  entries(): BookEntry[];
}

/** A book as `/api/book` returns it. */
export interface BookSnapshot {
  exchange: string;
  symbol: string;
  synced: boolean;
  /** Updates applied since the last snapshot from the exchange. */
  sequence: number;
  updateId?: number;
  resyncs: number;
  crossed: boolean;
  bestBid?: Level;
  bestAsk?: Level;
  bids: Level[];
  asks: Level[];
  eventTime: number;
  receiveTime: number;
}

const keyOf = (exchange: string, symbol: string) => `${exchange}|${symbol}`;

/** Creates the book store; frames go out through `delivery`. */
export function createBooks(
  delivery: Delivery,
  onReject: (update: BookUpdate, reason: string) => void,
  unifiedOf: (exchange: string, symbol: string) => string | undefined = () => undefined,
): Books {
  const entries = new Map<string, BookEntry>();

  const entryFor = (exchange: string, symbol: string): BookEntry => {
    const key = keyOf(exchange, symbol);
    let entry = entries.get(key);
    if (!entry) {
      entry = {
        exchange,
        symbol,
        book: createBook(),
        synced: false,
        resyncs: 0,
        lastEventTime: 0,
        lastReceiveTime: 0,
        views: new Map(),
      };
      entries.set(key, entry);
    }
    return entry;
  };

  const snapshotFrame = (entry: BookEntry, group: ViewGroup): string => {
    const snap = viewSnapshot(group.view);
    return bookFrame({
      exchange: entry.exchange,
      symbol: entry.symbol,
      unified: unifiedOf(entry.exchange, entry.symbol),
      snapshot: true,
      depth: group.view.depth,
      seq: snap.seq,
      bids: snap.bids,
      asks: snap.asks,
      updateId: entry.book.updateId,
      timestamp: new Date(entry.lastEventTime).toISOString(),
      eventTime: entry.lastEventTime,
      receiveTime: entry.lastReceiveTime,
    });
  };

  const conflateKey = (entry: BookEntry, depth: number) =>
    `book|${entry.exchange}|${entry.symbol}|${depth}`;

  const sendSnapshots = (entry: BookEntry) => {
    for (const group of entry.views.values()) {
      resetView(group.view, entry.book);
      const frame = snapshotFrame(entry, group);
      const key = conflateKey(entry, group.view.depth);
      for (const client of group.raw) delivery.send(client, frame, key);
      for (const client of group.plain) delivery.send(client, frame, key);
    }
  };

  const sendDeltas = (entry: BookEntry, update: BookUpdate) => {
    for (const group of entry.views.values()) {
      const delta = advanceView(group.view, entry.book);
      if (delta === null) continue;
      const base = {
        exchange: entry.exchange,
        symbol: entry.symbol,
        unified: unifiedOf(entry.exchange, entry.symbol),
        snapshot: false,
        depth: group.view.depth,
        seq: delta.seq,
        bids: delta.bids,
        asks: delta.asks,
        updateId: update.updateId,
        timestamp: update.timestamp,
        eventTime: update.eventTime,
        receiveTime: update.receiveTime,
      };
      const key = conflateKey(entry, group.view.depth);
      // A slow client cannot apply a delta it never got: it is sent a fresh snapshot instead.
      const catchUp = () => snapshotFrame(entry, group);
      if (group.plain.size > 0) {
        const text = bookFrame(base);
        for (const client of group.plain) {
          if (client.backlog !== null) delivery.send(client, catchUp, key);
          else delivery.send(client, text, key);
        }
      }
      if (group.raw.size > 0) {
        const text = bookFrame({ ...base, raw: update.raw });
        for (const client of group.raw) {
          if (client.backlog !== null) delivery.send(client, catchUp, key);
          else delivery.send(client, text, key);
        }
      }
    }
  };

  return {
    apply(update) {
      const entry = entryFor(update.exchange, update.symbol);
      try {
        if (update.snapshot) {
          applySnapshot(entry.book, update.bids, update.asks, update.updateId);
        } else {
          if (!entry.synced) return false;
          applyUpdate(entry.book, update);
        }
      } catch (err) {
        if (!(err instanceof BookError)) throw err;
        onReject(update, err.message);
        return false;
      }
      entry.lastEventTime = update.eventTime;
      entry.lastReceiveTime = update.receiveTime;
      if (update.snapshot) {
        entry.synced = true;
        sendSnapshots(entry);
      } else {
        sendDeltas(entry, update);
      }
      return true;
    },
    markUnsynced(exchange, symbol) {
      const entry = entryFor(exchange, symbol);
      entry.synced = false;
      entry.resyncs++;
    },
    markSynced(exchange, symbol) {
      const entry = entries.get(keyOf(exchange, symbol));
      if (!entry || entry.synced || entry.book.updateId === undefined) return false;
      entry.synced = true;
      return true;
    },
    subscribe(client, exchange, symbol, depth, raw) {
      const entry = entryFor(exchange, symbol);
      let group = entry.views.get(depth);
      if (!group) {
        group = {
          view: createBookView(entry.book, depth),
          raw: new Set(),
          plain: new Set(),
        };
        entry.views.set(depth, group);
      }
      (raw ? group.raw : group.plain).add(client);
      (raw ? group.plain : group.raw).delete(client);
      if (entry.synced) {
        delivery.send(client, snapshotFrame(entry, group), conflateKey(entry, depth));
      }
    },
    unsubscribe(client, exchange, symbol, depth) {
      const entry = entries.get(keyOf(exchange, symbol));
      const group = entry?.views.get(depth);
      if (!entry || !group) return;
      group.raw.delete(client);
      group.plain.delete(client);
      if (group.raw.size === 0 && group.plain.size === 0) entry.views.delete(depth);
    },
    get: (exchange, symbol) => entries.get(keyOf(exchange, symbol)),
    snapshot(exchange, symbol, depth) {
      const entry = entries.get(keyOf(exchange, symbol));
      if (!entry) return undefined;
      const top = topN(entry.book, depth);
      return {
        exchange,
        symbol,
        synced: entry.synced,
        sequence: entry.book.sequence,
        updateId: entry.book.updateId,
        resyncs: entry.resyncs,
        crossed: isCrossed(entry.book),
        bestBid: bestBid(entry.book),
        bestAsk: bestAsk(entry.book),
        bids: top.bids,
        asks: top.asks,
        eventTime: entry.lastEventTime,
        receiveTime: entry.lastReceiveTime,
      };
    },
    entries: () => [...entries.values()],
  };
}

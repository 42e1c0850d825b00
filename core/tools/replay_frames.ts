/**
 * Recorded hub items → the frames a live `/ws` client with a given subscription
 * would have received, built with the same code the live path uses: trades,
 * quotes and klines through {@link encodeOnce} (core/delivery/wire.ts), books
 * through the gateway's own book store and top-N views (core/books/books.ts),
 * feed and book status and gaps through core/protocol/frames.ts.
 *
 * Differences from a live connection, all inherent to a recording: feed `status`
 * frames carry the recorded change's receive time as `timestamp` and a reconnect
 * count from the replayed window; a book whose first snapshot lies before the
 * window is seeded from the history (`seedBook`) and sent as a snapshot, as a
 * client subscribing at that instant would get it.
 * @module
 */
import type { BookUpdate, Channel, Instrument } from "../events.ts";
import type { RecordedItem } from "../history/mod.ts";
import type { HistoricalBook } from "../history/mod.ts";
import { createBooks } from "../books/books.ts";
import type { Client, Delivery } from "../delivery/policy.ts";
import { encodeOnce } from "../delivery/wire.ts";
import { bookStatusFrame, feedStatusFrame, gapFrame } from "../protocol/frames.ts";

/** The subscription the frames are built for. */
export interface FrameOptions {
  /** Include each event's `raw` exchange payload (the live `raw: true` form). */
  raw: boolean;
  /** Book depth of the client's view (1..1000). */
  depth: number;
  /** Channels subscribed (all when undefined). */
  channels?: readonly Channel[];
}

/** Turns recorded items, in hub order, into wire frames. */
export interface FrameMapper {
  /** The frames item `rec` produces (often one, none for items a client never sees). */
  frames(rec: RecordedItem): string[];
  /** True until the book of `exchange`/`symbol` has been seen or seeded. */
  needsSeed(exchange: string, symbol: string): boolean;
  /** Starts a book from its historical state (before the first replayed item); returns its frames. */
  seedBook(book: HistoricalBook): string[];
  /** Takes an exchange's instrument list (unified names) and last feed state from before the window. */
  seedExchange(exchange: string, item: RecordedItem["item"]): void;
}

/** Creates a mapper for one replay. */
export function createFrameMapper(options: FrameOptions): FrameMapper {
  const wants = (c: Channel) => !options.channels || options.channels.includes(c);
  const unifiedNames = new Map<string, Map<string, string>>();
  const unifiedOf = (exchange: string, symbol: string) => unifiedNames.get(exchange)?.get(symbol);
  const feeds = new Map<string, { emulator: boolean; reconnects: number }>();
  let out: string[] = [];
  const delivery = {
    send(_client: Client, text: string | (() => string)) {
      out.push(typeof text === "string" ? text : text());
    },
  } as unknown as Delivery;
  // The one subscriber of every replayed book: never slow, so it gets every delta.
  const client = { backlog: null, closing: false, batch: null } as unknown as Client;
  const books = createBooks(delivery, () => {}, unifiedOf);
  const seen = new Set<string>();

  const setInstruments = (exchange: string, instruments: readonly Instrument[]) => {
    unifiedNames.set(exchange, new Map(instruments.map((i) => [i.symbol, i.unified])));
  };
  const feedOf = (exchange: string) => {
    let feed = feeds.get(exchange);
    if (!feed) feeds.set(exchange, feed = { emulator: false, reconnects: 0 });
    return feed;
  };
  const noteStatus = (exchange: string, item: { state: string; emulator?: boolean }) => {
    const feed = feedOf(exchange);
    if (item.emulator !== undefined) feed.emulator = item.emulator;
    if (item.state === "reconnecting") feed.reconnects++;
  };
  const ensureBook = (exchange: string, symbol: string) => {
    const key = `${exchange}|${symbol}`;
    if (seen.has(key)) return;
    seen.add(key);
    books.subscribe(client, exchange, symbol, options.depth, options.raw);
  };
  /** Runs `fn`, returning the frames the book store sent meanwhile. */
  const collect = (fn: () => void): string[] => {
    out = [];
    fn();
    const frames = out;
    out = [];
    return frames;
  };

  return {
    needsSeed: (exchange, symbol) => !seen.has(`${exchange}|${symbol}`),
    seedBook(book) {
      return collect(() => {
        ensureBook(book.exchange, book.symbol);
        if (!book.synced) return;
        const update: BookUpdate = {
          type: "book",
          exchange: book.exchange,
          symbol: book.symbol,
          snapshot: true,
          bids: book.bids,
          asks: book.asks,
          updateId: book.updateId,
          timestamp: new Date(book.time).toISOString(),
          eventTime: book.time,
          receiveTime: book.time,
        };
        books.apply(update);
      });
    },
    seedExchange(exchange, item) {
      if (item.type === "instruments") setInstruments(exchange, item.instruments);
      else if (item.type === "status") noteStatus(exchange, item);
    },
    frames(rec) {
      const { exchange, item } = rec;
      switch (item.type) {
        case "trade":
        case "quote":
        case "kline": {
          if (!wants(item.type)) return [];
          const encoded = encodeOnce(item, unifiedOf(exchange, item.symbol));
          return [options.raw ? encoded.withRaw() : encoded.plain()];
        }
        case "book": {
          if (!wants("book")) return [];
          return collect(() => {
            ensureBook(exchange, item.symbol);
            const wasSynced = books.get(exchange, item.symbol)?.synced ?? false;
            if (!books.apply(item)) return;
            if (item.snapshot && !wasSynced) {
              out.push(bookStatusFrame(exchange, item.symbol, "synced", item.receiveTime));
            }
          });
        }
        case "book_status": {
          if (!wants("book")) return [];
          ensureBook(exchange, item.symbol);
          if (item.state === "resyncing") books.markUnsynced(exchange, item.symbol);
          else if (item.state !== "synced" || !books.markSynced(exchange, item.symbol)) return [];
          return [
            bookStatusFrame(exchange, item.symbol, item.state, rec.receiveTime, item.reason),
          ];
        }
        case "gap":
          return wants("trade") ? [gapFrame(item)] : [];
        case "status": {
          noteStatus(exchange, item);
          const feed = feedOf(exchange);
          return [feedStatusFrame({
            exchange,
            state: item.state,
            emulator: feed.emulator,
            reason: item.reason,
            reconnects: feed.reconnects,
            since: rec.receiveTime,
          })];
        }
        case "instruments":
          setInstruments(exchange, item.instruments);
          return [];
        case "recording_gap":
          return [replayStatusFrame("recording_gap", {
            fromSeq: item.fromSeq,
            toSeq: item.toSeq,
            dropped: item.dropped,
            reason: item.reason,
            timestamp: new Date(item.fromTime).toISOString(),
          })];
        default:
          return [];
      }
    },
  };
}

/**
 * A `status` frame of the replay itself (`replay_start`, `replay_end`,
 * `recording_gap`), marked `"replay": true` so recorded data is never taken for live.
 * @example
 * ```json
 * {"type":"status","state":"replay_start","replay":true,"from":"2026-12-07T10:00:00.000Z","to":"…"}
 * ```
 */
export function replayStatusFrame(state: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: "status", state, replay: true, ...fields });
}

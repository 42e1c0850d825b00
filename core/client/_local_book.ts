/**
 * Local order books of the typed client, kept from `book` frames: a snapshot replaces the
 * view, a delta sets absolute quantities (0 removes the level) and must carry `seq` one more
 * than the frame before it on the same view (exchange, symbol, depth). A jump means a lost
 * frame: the view is marked unsynced and the caller asks for a fresh snapshot.
 * @module
 */
import type { BookFrame } from "./_frames.ts";

/** A local book as the client shows it: bids best (highest) first, asks best (lowest) first. */
export interface LocalBook {
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** `seq` of the last frame applied. */
  seq: number;
  /** Bid levels, best first. */
  bids: [number, number][];
  /** Ask levels, best first. */
  asks: [number, number][];
  /** False from a seq break, a `resyncing` status or a reconnect until the next snapshot. */
  synced: boolean;
  /** Fresh snapshots asked for after a seq break. */
  resnapshots: number;
  /** Exchange event time (ms) of the last frame applied. */
  time: number;
}

/** What {@link LocalBooks.apply} did with a frame. */
export type ApplyResult =
  /** Applied; the view changed. */
  | "applied"
  /** A delta whose seq is not the next one: the view is now unsynced, ask for a snapshot. */
  | "break"
  /** A delta on an unsynced view (waiting for its snapshot): dropped. */
  | "skipped";

/** One view: the public book, its level maps and the subscription it came from. */
export interface BookView {
  book: LocalBook;
  depth: number;
  unified?: string;
  /** Whether the deltas carried the exchange's frame (`raw`), as last seen. */
  raw?: boolean;
}

/** The local books of one client. */
export interface LocalBooks {
  /** Applies one `book` frame to its view (made on its first snapshot). */
  apply(frame: BookFrame): { result: ApplyResult; view: BookView };
  /** The deepest view of exchange + symbol (native or unified name). */
  get(exchange: string, symbol: string): BookView | undefined;
  /** Every view matching exchange (any when undefined) and symbol (native or unified). */
  find(exchange: string | undefined, symbol: string): BookView[];
  /** Marks views unsynced (until their next snapshot); returns those that changed. */
  unsync(views: Iterable<BookView>): BookView[];
  /** All views. */
  all(): BookView[];
  /** Forgets a view. */
  remove(view: BookView): void;
}

/**
 * Creates an empty set of local books.
 * @example
 * ```ts
 * const books = createLocalBooks();
 * books.apply({ type: "book", exchange: "binance", symbol: "BTCUSDT", snapshot: true, depth: 5,
 *   seq: 0, bids: [[100, 1]], asks: [[101, 2]], timestamp: "", eventTime: 1, receiveTime: 1 });
 * books.get("binance", "BTCUSDT")?.book.bids; // [[100, 1]]
 * ```
 */
export function createLocalBooks(): LocalBooks {
  const views = new Map<string, BookView>();
  const keyOf = (exchange: string, symbol: string, depth: number) =>
    `${exchange}|${symbol}|${depth}`;
  const matches = (v: BookView, exchange: string | undefined, symbol: string) =>
    (exchange === undefined || v.book.exchange === exchange) &&
    (v.book.symbol === symbol || v.unified === symbol);

  return {
    apply(frame) {
      const key = keyOf(frame.exchange, frame.symbol, frame.depth);
      let view = views.get(key);
      if (!view) {
        view = {
          book: {
            exchange: frame.exchange,
            symbol: frame.symbol,
            seq: frame.seq,
            bids: [],
            asks: [],
            synced: false,
            resnapshots: 0,
            time: frame.eventTime,
          },
          depth: frame.depth,
          unified: frame.unified,
        };
        views.set(key, view);
      }
      const book = view.book;
      if (frame.snapshot) {
        book.bids = frame.bids.filter(([, q]) => q > 0).map(([p, q]) => [p, q] as [number, number])
          .sort((a, b) => b[0] - a[0]);
        book.asks = frame.asks.filter(([, q]) => q > 0).map(([p, q]) => [p, q] as [number, number])
          .sort((a, b) => a[0] - b[0]);
      } else if (!book.synced) {
        return { result: "skipped", view };
      } else if (frame.seq !== book.seq + 1) {
        book.synced = false;
        return { result: "break", view };
      } else {
        view.raw = frame.raw !== undefined;
        // New arrays per change (a listener may keep the previous ones), updated in place.
        if (frame.bids.length > 0) book.bids = setLevels(book.bids.slice(), frame.bids, -1);
        if (frame.asks.length > 0) book.asks = setLevels(book.asks.slice(), frame.asks, 1);
      }
      book.seq = frame.seq;
      book.time = frame.eventTime;
      book.synced = true;
      return { result: "applied", view };
    },
    get(exchange, symbol) {
      let best: BookView | undefined;
      for (const v of views.values()) {
        if (matches(v, exchange, symbol) && (!best || v.depth > best.depth)) best = v;
      }
      return best;
    },
    find(exchange, symbol) {
      return [...views.values()].filter((v) => matches(v, exchange, symbol));
    },
    unsync(list) {
      const changed: BookView[] = [];
      for (const v of list) {
        if (v.book.synced) {
          v.book.synced = false;
          changed.push(v);
        }
      }
      return changed;
    },
    all: () => [...views.values()],
    remove(view) {
      views.delete(keyOf(view.book.exchange, view.book.symbol, view.depth));
    },
  };
}

/**
 * Applies absolute quantities to `levels`, sorted by price ascending (`order` 1) or descending
 * (`order` -1): binary search, then replace, insert or (quantity 0) remove.
 */
function setLevels(
  levels: [number, number][],
  changes: readonly [number, number][],
  order: 1 | -1,
): [number, number][] {
  for (const [price, quantity] of changes) {
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((levels[mid][0] - price) * order < 0) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < levels.length && levels[lo][0] === price;
    if (quantity === 0) {
      if (found) levels.splice(lo, 1);
    } else if (found) levels[lo] = [price, quantity];
    else levels.splice(lo, 0, [price, quantity]);
  }
  return levels;
}

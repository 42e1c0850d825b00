/**
 * Consolidated best bid and offer: for a unified symbol (`BTC/USDT`), the best
 * bid and the best ask across every exchange that streams it, with the
 * exchange of each side. Each venue's side comes from its synced order book
 * when there is one, else from its latest quote.
 * @module
 */
import type { Books } from "./books.ts";
import type { Catalog } from "../market/catalog.ts";
import type { MarketState } from "../market/state.ts";
import { bestAsk, bestBid } from "./book.ts";

/** One venue's best levels. */
export interface VenueTop {
  exchange: string;
  symbol: string;
  bidPrice?: number;
  bidQuantity?: number;
  askPrice?: number;
  askQuantity?: number;
  source: "book" | "quote";
}

/** The consolidated quote of one unified symbol. */
export interface ConsolidatedQuote {
  type: "consolidated";
  symbol: string;
  bidPrice?: number;
  bidQuantity?: number;
  bidExchange?: string;
  askPrice?: number;
  askQuantity?: number;
  askExchange?: string;
  /** True when the best bid is at or above the best ask (venues disagree). */
  crossed: boolean;
  venues: VenueTop[];
  timestamp: string;
}

/** The consolidator. */
export interface Consolidator {
  /** Recomputes the quote of the unified symbol that `exchange`/`native` belongs to; returns it if it changed. */
  update(exchange: string, native: string): ConsolidatedQuote | undefined;
  /** The current quote of a unified symbol (computed on demand). */
  get(unified: string): ConsolidatedQuote | undefined;
}

/**
 * Creates a consolidator over the gateway's books, quotes and catalog. `now` dates each
 * quote (default the wall clock; a replay passes the replayed item's receive time).
 */
export function createConsolidator(
  catalog: Catalog,
  books: Books,
  market: MarketState,
  now: () => number = Date.now,
): Consolidator {
  const last = new Map<string, string>();

  const venue = (exchange: string, symbol: string): VenueTop | undefined => {
    const entry = books.get(exchange, symbol);
    if (entry?.synced) {
      const bid = bestBid(entry.book);
      const ask = bestAsk(entry.book);
      if (bid || ask) {
        return {
          exchange,
          symbol,
          bidPrice: bid?.[0],
          bidQuantity: bid?.[1],
          askPrice: ask?.[0],
          askQuantity: ask?.[1],
          source: "book",
        };
      }
    }
    const quote = market.entry(exchange, symbol).quote;
    if (!quote) return undefined;
    return {
      exchange,
      symbol,
      bidPrice: quote.bidPrice,
      bidQuantity: quote.bidQuantity,
      askPrice: quote.askPrice,
      askQuantity: quote.askQuantity,
      source: "quote",
    };
  };

  const compute = (unified: string): ConsolidatedQuote | undefined => {
    const venues: VenueTop[] = [];
    for (const exchange of catalog.exchanges()) {
      const native = catalog.resolve(exchange, unified);
      if (native === undefined) continue;
      const top = venue(exchange, native);
      if (top) venues.push(top);
    }
    if (venues.length === 0) return undefined;
    let bid: VenueTop | undefined;
    let ask: VenueTop | undefined;
    for (const v of venues) {
      if (v.bidPrice !== undefined && (bid === undefined || v.bidPrice > bid.bidPrice!)) bid = v;
      if (v.askPrice !== undefined && (ask === undefined || v.askPrice < ask.askPrice!)) ask = v;
    }
    return {
      type: "consolidated",
      symbol: unified,
      bidPrice: bid?.bidPrice,
      bidQuantity: bid?.bidQuantity,
      bidExchange: bid?.exchange,
      askPrice: ask?.askPrice,
      askQuantity: ask?.askQuantity,
      askExchange: ask?.exchange,
      crossed: bid !== undefined && ask !== undefined && bid.bidPrice! >= ask.askPrice!,
      venues,
      timestamp: new Date(now()).toISOString(),
    };
  };

  return {
    update(exchange, native) {
      const unified = catalog.unified(exchange, native);
      if (unified === undefined) return undefined;
      const quote = compute(unified);
      if (!quote) return undefined;
      const key =
        `${quote.bidPrice}|${quote.bidQuantity}|${quote.bidExchange}|${quote.askPrice}|${quote.askQuantity}|${quote.askExchange}`;
      if (last.get(unified) === key) return undefined;
      last.set(unified, key);
      return quote;
    },
    get: (unified) => compute(unified.toUpperCase()),
  };
}

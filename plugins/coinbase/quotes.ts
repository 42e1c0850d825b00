/**
 * Quote delivery per product: from the `ticker` channel (sent on every match,
 * so many repeat the same best bid/ask: repeats are dropped) or derived from
 * the level2 book whenever its top changes.
 * @module
 */
import { bestAsk, bestBid, type BookUpdate, type OrderBook, type QuoteEvent } from "../../mod.ts";
import { EXCHANGE } from "./mapper.ts";

/** Per-product quote state. */
export interface QuoteTracker {
  /** A quote from the `ticker` channel. */
  onTicker(q: QuoteEvent): void;
  /** The book of `update.symbol` after `update` was applied. */
  onBook(book: OrderBook, update: BookUpdate): void;
}

/** Creates the tracker; `emit` receives the quotes to publish. */
export function createQuoteTracker(emit: (q: QuoteEvent) => void): QuoteTracker {
  const last = new Map<string, QuoteEvent>();
  const publish = (q: QuoteEvent) => {
    const prev = last.get(q.symbol);
    if (
      prev && prev.bidPrice === q.bidPrice && prev.bidQuantity === q.bidQuantity &&
      prev.askPrice === q.askPrice && prev.askQuantity === q.askQuantity
    ) return;
    last.set(q.symbol, q);
    emit(q);
  };
  return {
    onTicker: publish,
    onBook(book, update) {
      const bid = bestBid(book);
      const ask = bestAsk(book);
      if (!bid || !ask) return;
      publish({
        type: "quote",
        exchange: EXCHANGE,
        symbol: update.symbol,
        eventTime: update.eventTime,
        receiveTime: update.receiveTime,
        bidPrice: bid[0],
        bidQuantity: bid[1],
        askPrice: ask[0],
        askQuantity: ask[1],
        timestamp: update.timestamp,
      });
    },
  };
}

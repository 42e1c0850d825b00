/**
 * Latest trade and best bid/ask per exchange and symbol, with message counts,
 * as `/api/market_data` reports them.
 * @module
 */
import type { QuoteEvent, TradeEvent } from "../events.ts";

/** What the gateway last saw for one exchange and symbol. */
export interface SymbolState {
  exchange: string;
  symbol: string;
  unified?: string;
  lastTrade?: {
    price: number;
    quantity: number;
    side: string;
    tradeId: number | string;
    timestamp: string;
  };
  quote?: {
    bidPrice: number;
    bidQuantity: number;
    askPrice: number;
    askQuantity: number;
    updateId?: number;
    timestamp: string;
  };
  counts: { trade: number; quote: number; kline: number; book: number; gap: number };
  lastEventTime: number;
  lastReceiveTime: number;
}

/** The market-state store. */
export interface MarketState {
  entry(exchange: string, symbol: string): SymbolState;
  trade(event: TradeEvent): void;
  quote(event: QuoteEvent): void;
  all(): SymbolState[];
}

/** Creates an empty market-state store. */
export function createMarketState(): MarketState {
  const states = new Map<string, SymbolState>();
  const entry = (exchange: string, symbol: string): SymbolState => {
    const key = `${exchange}|${symbol}`;
    let state = states.get(key);
    if (!state) {
      state = {
        exchange,
        symbol,
        counts: { trade: 0, quote: 0, kline: 0, book: 0, gap: 0 },
        lastEventTime: 0,
        lastReceiveTime: 0,
      };
      states.set(key, state);
    }
    return state;
  };
  return {
    entry,
    trade(event) {
      const state = entry(event.exchange, event.symbol);
      state.counts.trade++;
      state.lastTrade = {
        price: event.price,
        quantity: event.quantity,
        side: event.side,
        tradeId: event.tradeId,
        timestamp: event.timestamp,
      };
      state.lastEventTime = event.eventTime;
      state.lastReceiveTime = event.receiveTime;
    },
    quote(event) {
      const state = entry(event.exchange, event.symbol);
      state.counts.quote++;
      state.quote = {
        bidPrice: event.bidPrice,
        bidQuantity: event.bidQuantity,
        askPrice: event.askPrice,
        askQuantity: event.askQuantity,
        updateId: event.updateId,
        timestamp: event.timestamp,
      };
      state.lastEventTime = event.eventTime;
      state.lastReceiveTime = event.receiveTime;
    },
    all: () => [...states.values()],
  };
}

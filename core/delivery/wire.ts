/**
 * Client wire format: each event is serialized at most once per distinct form
 * (with or without `raw`), never once per client.
 * @module
 */
import type { KlineEvent, QuoteEvent, TradeEvent } from "../events.ts";

/** Data events that are fanned out frame by frame. */
export type StreamEvent = TradeEvent | QuoteEvent | KlineEvent;

/** Lazily serialized forms of one event. */
export interface Encoded {
  /** With the `raw` field (the seed's default). */
  withRaw(): string;
  /** Without the `raw` field. */
  plain(): string;
}

/** Wraps an event so each form is serialized on first use and then reused. */
export function encodeOnce(event: StreamEvent, unified?: string): Encoded {
  let raw: string | undefined;
  let plain: string | undefined;
  return {
    withRaw: () => raw ??= JSON.stringify(toWire(event, true, unified)),
    plain: () => plain ??= JSON.stringify(toWire(event, false, unified)),
  };
}

/** The client-facing object of an event, with fields in the seed's order; `unified` is the `BASE/QUOTE` name. */
export function toWire(event: StreamEvent, withRaw: boolean, unified?: string): object {
  switch (event.type) {
    case "trade":
      return {
        type: "trade",
        symbol: event.symbol,
        price: event.price,
        quantity: event.quantity,
        timestamp: event.timestamp,
        exchange: event.exchange,
        unified,
        tradeId: event.tradeId,
        side: event.side,
        eventTime: event.eventTime,
        receiveTime: event.receiveTime,
        raw: withRaw ? event.raw : undefined,
      };
    case "quote":
      return {
        type: "quote",
        symbol: event.symbol,
        bidPrice: event.bidPrice,
        bidQuantity: event.bidQuantity,
        askPrice: event.askPrice,
        askQuantity: event.askQuantity,
        timestamp: event.timestamp,
        exchange: event.exchange,
        unified,
        updateId: event.updateId,
        eventTime: event.eventTime,
        receiveTime: event.receiveTime,
        raw: withRaw ? event.raw : undefined,
      };
    case "kline":
      return {
        type: "kline",
        symbol: event.symbol,
        interval: event.interval,
        openTime: event.openTime,
        closeTime: event.closeTime,
        open: event.open,
        high: event.high,
        low: event.low,
        close: event.close,
        volume: event.volume,
        quoteVolume: event.quoteVolume,
        trades: event.trades,
        closed: event.closed,
        timestamp: event.timestamp,
        exchange: event.exchange,
        unified,
        eventTime: event.eventTime,
        receiveTime: event.receiveTime,
        raw: withRaw ? event.raw : undefined,
      };
  }
}

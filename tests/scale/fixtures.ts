/**
 * Envelopes for the NATS tests: trades, quotes and book messages of a symbol with
 * consecutive hub seqs and a correct `prev` chain per subject.
 * @module
 */
import type { BookUpdate, QuoteEvent, TradeEvent } from "../../core/events.ts";
import type { MdEnvelope } from "../../core/scale/envelope.ts";
import { subjectOf } from "../../core/scale/subjects.ts";

/** Base time of the fixtures (epoch ms). */
export const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

/** A trade of `symbol` on `exchange` with trade id `tradeId`. */
export function trade(exchange: string, symbol: string, tradeId: number): TradeEvent {
  const t = T0 + tradeId;
  return {
    type: "trade",
    exchange,
    symbol,
    price: 100 + tradeId / 100,
    quantity: 1,
    timestamp: new Date(t).toISOString(),
    tradeId,
    side: tradeId % 2 ? "buy" : "sell",
    eventTime: t,
    receiveTime: t + 1,
  };
}

/** A quote of `symbol` at time offset `n`. */
export function quote(exchange: string, symbol: string, n: number): QuoteEvent {
  const t = T0 + n;
  return {
    type: "quote",
    exchange,
    symbol,
    bidPrice: 100,
    bidQuantity: n,
    askPrice: 101,
    askQuantity: 1,
    timestamp: new Date(t).toISOString(),
    eventTime: t,
    receiveTime: t + 1,
  };
}

/** A book snapshot (`snapshot: true`) or a delta of `symbol`. */
export function book(
  exchange: string,
  symbol: string,
  n: number,
  snapshot: boolean,
): BookUpdate {
  const t = T0 + n;
  return {
    type: "book",
    exchange,
    symbol,
    snapshot,
    bids: snapshot ? [[100, 1], [99, 2]] : [[100, n]],
    asks: snapshot ? [[101, 1], [102, 2]] : [[101, n]],
    timestamp: new Date(t).toISOString(),
    eventTime: t,
    receiveTime: t + 1,
  };
}

/**
 * Numbers envelopes like the leading ingest: one seq counter, `prev` per subject; status
 * and instruments (`rollup`) at the last seq given out with `prev` 0, the counter unmoved.
 */
export function envelopeWriter(epoch: string): {
  next(subject: string, exchange: string, item: MdEnvelope["item"]): MdEnvelope;
  rollup(exchange: string, item: MdEnvelope["item"]): MdEnvelope;
  lastSeq(): number;
} {
  let seq = 0;
  const last = new Map<string, number>();
  return {
    next(subject, exchange, item) {
      seq++;
      const prev = last.get(subject) ?? 0;
      last.set(subject, seq);
      return { v: 1, epoch, seq, prev, exchange, item };
    },
    rollup: (exchange, item) => ({ v: 1, epoch, seq, prev: 0, exchange, item }),
    lastSeq: () => seq,
  };
}

/** The subject of a trade envelope. */
export const tradeSubject = (exchange: string, symbol: string): string =>
  subjectOf(exchange, "trade", symbol);

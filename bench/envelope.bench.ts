/**
 * The market-data envelope codec (core/scale/log.ts): what encoding a message
 * costs the leading ingest and decoding (with validation) costs an edge, per
 * message, for a trade, a quote and a 10-level book delta; and plain
 * `JSON.parse` of the same bytes as the floor.
 * Run with `deno bench --config deno.dev.json bench/envelope.bench.ts`.
 * @module
 */
import { decodeEnvelope, encodeEnvelope } from "../core/scale/log.ts";
import type { MdEnvelope } from "../core/scale/envelope.ts";
import type { BookUpdate, QuoteEvent, TradeEvent } from "../core/events.ts";

const T = Date.UTC(2026, 11, 7, 12);
const tradeItem: TradeEvent = {
  type: "trade",
  exchange: "binance",
  symbol: "BTCUSDT",
  price: 67_012.34,
  quantity: 0.0123,
  timestamp: new Date(T).toISOString(),
  tradeId: 4_123_456_789,
  side: "buy",
  eventTime: T,
  receiveTime: T + 3,
};
const quoteItem: QuoteEvent = {
  type: "quote",
  exchange: "binance",
  symbol: "BTCUSDT",
  bidPrice: 67_012.3,
  bidQuantity: 1.5,
  askPrice: 67_012.4,
  askQuantity: 0.2,
  timestamp: new Date(T).toISOString(),
  updateId: 55_123_456_789,
  eventTime: T,
  receiveTime: T + 3,
};
const level = (i: number): [number, number] => [67_000 + i / 10, i / 7];
const deltaItem: BookUpdate = {
  type: "book",
  exchange: "binance",
  symbol: "BTCUSDT",
  snapshot: false,
  bids: Array.from({ length: 5 }, (_, i) => level(-i)),
  asks: Array.from({ length: 5 }, (_, i) => level(i + 1)),
  updateId: 55_123_456_790,
  firstUpdateId: 55_123_456_780,
  timestamp: new Date(T).toISOString(),
  eventTime: T,
  receiveTime: T + 3,
};
const envelope = (item: MdEnvelope["item"]): MdEnvelope => ({
  v: 1,
  epoch: "k3J9aQ0xZp7Lm2Ns",
  seq: 48_213_000,
  prev: 48_212_990,
  exchange: "binance",
  item,
});

const cases = { trade: tradeItem, quote: quoteItem, "book delta (10 levels)": deltaItem };
const decoder = new TextDecoder();

for (const [name, item] of Object.entries(cases)) {
  const env = envelope(item);
  const bytes = encodeEnvelope(env);
  Deno.bench({
    name: `encode ${name}`,
    group: `envelope ${name}`,
    fn: () => {
      encodeEnvelope(env);
    },
  });
  Deno.bench({
    name: `decode ${name}`,
    group: `envelope ${name}`,
    baseline: true,
    fn: () => {
      decodeEnvelope(bytes);
    },
  });
  Deno.bench({
    name: `JSON.parse only ${name}`,
    group: `envelope ${name}`,
    fn: () => {
      JSON.parse(decoder.decode(bytes));
    },
  });
}

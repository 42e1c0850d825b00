/**
 * Coinbase Advanced Trade message text: the envelope every market-data
 * message shares (`channel`, `client_id`, `timestamp`, `sequence_num`,
 * `events`), the events of each channel, and errors. Events are serialized
 * once per publication; only the per-connection `sequence_num` differs.
 * @module
 */
import type { BookSideName as Side } from "../../../testing.ts";
import type { Candle, MarketTrade, ProductMarket } from "./market.ts";
import { formatPrice, formatSize, formatUnits, type ProductSpec } from "./products.ts";

/** One message before its connection numbers it. */
export interface Envelope {
  /** Wire channel (`l2_data` for level2). */
  channel: string;
  /** RFC 3339 with nanoseconds. */
  timestamp: string;
  /** JSON text of the `events` array. */
  events: string;
}

/** The message text of `envelope` as sequence number `seq`. */
export function envelopeText(e: Envelope, seq: number): string {
  return `{"channel":"${e.channel}","client_id":"","timestamp":"${e.timestamp}",` +
    `"sequence_num":${seq},"events":${e.events}}`;
}

let nanoCounter = 0;

/** RFC 3339 with nine fraction digits for `ms` (`2023-02-09T20:19:35.396251350Z`). */
export function nanoTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // ...SS.mmmZ
  nanoCounter = (nanoCounter + 7_919) % 1_000_000;
  return iso.slice(0, -1) + String(nanoCounter).padStart(6, "0") + "Z";
}

/** RFC 3339 with six fraction digits (trade times). */
export function microTime(ms: number, micros: number): string {
  return new Date(ms).toISOString().slice(0, -1) + String(micros % 1000).padStart(3, "0") + "Z";
}

/** A level change as `[side, price ticks, size steps]`. */
export type LevelChange = [Side, number, number];

/** `l2_data` events: one `snapshot` or `update` of one product (`offer` for asks). */
export function level2Events(
  spec: ProductSpec,
  type: "snapshot" | "update",
  changes: readonly LevelChange[],
  eventTime: string,
): string {
  const updates = changes.map(([side, price, size]) => ({
    side: side === "bid" ? "bid" : "offer",
    event_time: eventTime,
    price_level: formatPrice(spec, price),
    new_quantity: formatSize(spec, size),
  }));
  return JSON.stringify([{ type, product_id: spec.productId, updates }]);
}

/** The full book of `market` as snapshot changes, bids then offers, each best first. */
export function bookChanges(market: ProductMarket): LevelChange[] {
  const out: LevelChange[] = [];
  for (const [p, q] of market.bids.levels()) out.push(["bid", p, q]);
  for (const [p, q] of market.asks.levels()) out.push(["ask", p, q]);
  return out;
}

/** A trade as Coinbase prints it. */
export interface WireTrade {
  trade_id: string;
  product_id: string;
  price: string;
  size: string;
  /** The maker's side, `BUY` or `SELL`. */
  side: string;
  time: string;
}

/** One trade as Coinbase prints it; `side` is the maker's side. */
export function wireTrade(spec: ProductSpec, t: MarketTrade): WireTrade {
  return {
    trade_id: String(t.id),
    product_id: spec.productId,
    price: formatPrice(spec, t.price),
    size: formatSize(spec, t.size),
    side: t.takerSide === "buy" ? "SELL" : "BUY",
    time: microTime(t.time, t.id),
  };
}

/** `market_trades` events; `trades` oldest first, sent newest first as Coinbase does. */
export function tradeEvents(
  spec: ProductSpec,
  type: "snapshot" | "update",
  trades: readonly MarketTrade[],
): string {
  const wire = [];
  for (let i = trades.length - 1; i >= 0; i--) wire.push(wireTrade(spec, trades[i]));
  return JSON.stringify([{ type, trades: wire }]);
}

/** `ticker` events for one product, with the current best bid/ask. */
export function tickerEvents(market: ProductMarket, type: "snapshot" | "update"): string {
  const spec = market.spec;
  const s = market.stats();
  const bb = market.bids.best(), ba = market.asks.best();
  const price = (t: number) => formatPrice(spec, t);
  const change = s.open > 0 ? ((s.last - s.open) / s.open) * 100 : 0;
  return JSON.stringify([{
    type,
    tickers: [{
      type: "ticker",
      product_id: spec.productId,
      price: price(s.last),
      volume_24_h: formatSize(spec, s.volume),
      low_24_h: price(s.low),
      high_24_h: price(s.high),
      low_52_w: price(s.low),
      high_52_w: price(s.high),
      price_percent_chg_24_h: String(change),
      best_bid: bb === undefined ? "" : price(bb),
      best_bid_quantity: bb === undefined ? "" : formatSize(spec, market.bids.qty(bb)),
      best_ask: ba === undefined ? "" : price(ba),
      best_ask_quantity: ba === undefined ? "" : formatSize(spec, market.asks.qty(ba)),
    }],
  }]);
}

/** `candles` events for one product (`start` is UNIX seconds as a string). */
export function candleEvents(
  spec: ProductSpec,
  type: "snapshot" | "update",
  c: Candle,
): string {
  return JSON.stringify([{
    type,
    candles: [{
      start: String(c.start),
      high: formatPrice(spec, c.high),
      low: formatPrice(spec, c.low),
      open: formatPrice(spec, c.open),
      close: formatPrice(spec, c.close),
      volume: formatSize(spec, c.volume),
      product_id: spec.productId,
    }],
  }]);
}

/** `heartbeats` events (`current_time` in Go's time format, as Coinbase sends it). */
export function heartbeatEvents(
  counter: number,
  asNumber: boolean,
  now: number,
  startedAt: number,
): string {
  const t = nanoTime(now);
  const goTime = `${t.slice(0, 10)} ${t.slice(11, -1)} +0000 UTC m=+${
    formatUnits(Math.max(0, now - startedAt) * 1_000_000 + 1, 9)
  }`;
  return JSON.stringify([{
    current_time: goTime,
    heartbeat_counter: asNumber ? counter : String(counter),
  }]);
}

/** `subscriptions` events: every subscription of the connection now. */
export function subscriptionsEvents(subs: Readonly<Record<string, readonly string[]>>): string {
  return JSON.stringify([{ subscriptions: subs }]);
}

/** An error message (no envelope, no sequence number). */
export function errorText(message: string): string {
  return JSON.stringify({ type: "error", message });
}

/**
 * Pure mapper for Coinbase Advanced Trade market-data WebSocket frames:
 * exchange text in, normalized events (or control / malformed results) out.
 * No I/O, no state; the feed, the tests and the benchmark call it directly.
 *
 * Every frame is an envelope `{channel, client_id, timestamp, sequence_num,
 * events[]}` except errors (`{"type":"error","message":...}`). The envelope's
 * `sequence_num` is returned whenever it is readable, even for a frame whose
 * content is malformed, so the feed can keep checking the per-connection
 * sequence.
 * @module
 */
import type { BookUpdate, KlineEvent, Level, QuoteEvent, Side, TradeEvent } from "../../mod.ts";
import { counter, decimal, isCount, isRecord } from "./checks.ts";
import { isoTime, parseTime } from "./time.ts";

/** Exchange id carried by every event. */
export const EXCHANGE = "coinbase";

/** The only candle interval Coinbase streams (5-minute buckets). */
export const KLINE_INTERVAL = "5m";

/** Length of one candle, ms. */
export const CANDLE_MS = 300_000;

/** What one frame turned into. */
export type CoinbaseFrame =
  /** `market_trades`: trades oldest first, `side` = taker side. */
  | { kind: "trades"; seq: number; trades: TradeEvent[] }
  /** `l2_data`: one update per event; `snapshot: true` replaces the product's book. */
  | { kind: "book"; seq: number; updates: BookUpdate[] }
  /** `ticker`: best bid/ask per ticker. */
  | { kind: "quotes"; seq: number; quotes: QuoteEvent[] }
  /** `candles`: 5-minute candles (`closed: false`; the feed marks closed ones). */
  | { kind: "candles"; seq: number; candles: KlineEvent[] }
  | { kind: "heartbeat"; seq: number; counter: number }
  /** The `subscriptions` acknowledgement: every subscription of the connection now. */
  | { kind: "subscriptions"; seq: number; subscriptions: Record<string, string[]> }
  | { kind: "error"; message: string }
  /** A well-formed message of a channel or type the feed does not use (Coinbase: ignore). */
  | { kind: "ignored"; seq?: number; channel: string }
  /**
   * Rejected. `seq`/`channel` are set when the envelope was readable;
   * `products` lists the known products the frame names (undefined when unreadable).
   */
  | { kind: "malformed"; reason: string; seq?: number; channel?: string; products?: string[] };

/** Largest frame accepted, in characters; anything longer is malformed (never parsed). */
export const MAX_FRAME_CHARS = 64 * 1024 * 1024;

/**
 * Maps one WebSocket text frame. Never throws: anything that is not a
 * well-formed Coinbase frame for a product in `products` becomes
 * `{kind:"malformed"}`.
 */
export function mapCoinbaseFrame(
  text: string,
  receiveTime: number,
  products: ReadonlySet<string>,
): CoinbaseFrame {
  if (text.length > MAX_FRAME_CHARS) {
    return {
      kind: "malformed",
      reason: `frame of ${text.length} characters exceeds ${MAX_FRAME_CHARS}`,
    };
  }
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: "malformed", reason: "invalid JSON" };
  }
  return mapCoinbaseMessage(msg, receiveTime, products);
}

/** Like {@link mapCoinbaseFrame}, for a message that is already parsed. */
export function mapCoinbaseMessage(
  msg: unknown,
  receiveTime: number,
  products: ReadonlySet<string>,
): CoinbaseFrame {
  if (!isRecord(msg)) return { kind: "malformed", reason: "frame is not an object" };
  const channel = msg.channel;
  if (typeof channel !== "string") {
    if (msg.type === "error") {
      const text = typeof msg.message === "string" && msg.message !== ""
        ? msg.message
        : typeof msg.reason === "string"
        ? msg.reason
        : "unknown error";
      return { kind: "error", message: text };
    }
    if (typeof msg.type === "string") {
      const seq = isCount(msg.sequence_num) ? msg.sequence_num : undefined;
      return { kind: "ignored", seq, channel: `type:${msg.type}` };
    }
    return { kind: "malformed", reason: "frame without channel" };
  }
  const seq = msg.sequence_num;
  if (!isCount(seq)) return { kind: "malformed", reason: `${channel}: bad sequence_num`, channel };
  const time = parseTime(msg.timestamp);
  const events = msg.events;
  const env: Envelope = { channel, seq, time, receiveTime, products };
  if (!(time >= 0)) return bad(env, "bad timestamp", undefined);
  if (!Array.isArray(events)) return bad(env, "events is not an array", undefined);
  switch (channel) {
    case "l2_data":
      return mapLevel2(env, events);
    case "market_trades":
      return mapTrades(env, events);
    case "ticker":
      return mapTickers(env, events);
    case "candles":
      return mapCandles(env, events);
    case "heartbeats":
      return mapHeartbeat(env, events);
    case "subscriptions":
      return mapSubscriptions(env, events);
    default:
      // ticker_batch, status, user, ... and anything new: Coinbase says to ignore them.
      return { kind: "ignored", seq, channel };
  }
}

/** The parts of the envelope every channel mapper needs. */
interface Envelope {
  channel: string;
  seq: number;
  /** `timestamp`, epoch ms. */
  time: number;
  receiveTime: number;
  products: ReadonlySet<string>;
}

function bad(env: Envelope, reason: string, products: string[] | undefined): CoinbaseFrame {
  return {
    kind: "malformed",
    reason: `${env.channel}: ${reason}`,
    seq: env.seq,
    channel: env.channel,
    products,
  };
}

/** The known products an unreadable frame names (for a targeted resync). */
function namedProducts(events: unknown[], products: ReadonlySet<string>): string[] | undefined {
  const named: string[] = [];
  for (const e of events) {
    if (!isRecord(e) || typeof e.product_id !== "string") return undefined;
    if (products.has(e.product_id) && !named.includes(e.product_id)) named.push(e.product_id);
  }
  return named;
}

function mapLevel2(env: Envelope, events: unknown[]): CoinbaseFrame {
  const updates: BookUpdate[] = [];
  const timestamp = isoTime(env.time);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const fail = (reason: string) => bad(env, reason, namedProducts(events, env.products));
    if (!isRecord(e)) return fail("event is not an object");
    const product = e.product_id;
    if (typeof product !== "string" || !env.products.has(product)) {
      return fail(`unexpected product ${str(product)}`);
    }
    const type = e.type;
    if (type !== "snapshot" && type !== "update") return fail(`bad event type ${str(type)}`);
    const raw = e.updates;
    if (!Array.isArray(raw)) return fail("updates is not an array");
    const bids: Level[] = [];
    const asks: Level[] = [];
    for (let j = 0; j < raw.length; j++) {
      const u = raw[j];
      if (!isRecord(u)) return fail("update is not an object");
      const price = decimal(u.price_level);
      const qty = decimal(u.new_quantity);
      if (!(price > 0 && price < Infinity)) return fail("bad price_level");
      if (!(qty >= 0 && qty < Infinity)) return fail("bad new_quantity");
      if (typeof u.event_time !== "string") return fail("bad event_time");
      const side = u.side;
      if (side === "bid") bids.push([price, qty]);
      else if (side === "offer") asks.push([price, qty]);
      else return fail(`bad side ${str(side)}`);
    }
    updates.push({
      type: "book",
      exchange: EXCHANGE,
      symbol: product,
      eventTime: env.time,
      receiveTime: env.receiveTime,
      snapshot: type === "snapshot",
      bids,
      asks,
      timestamp,
      raw: e,
    });
  }
  return { kind: "book", seq: env.seq, updates };
}

function mapTrades(env: Envelope, events: unknown[]): CoinbaseFrame {
  const trades: TradeEvent[] = [];
  const times: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (!isRecord(e)) return bad(env, "event is not an object", undefined);
    if (e.type !== "snapshot" && e.type !== "update") {
      return bad(env, `bad event type ${str(e.type)}`, undefined);
    }
    const list = e.trades;
    if (!Array.isArray(list)) return bad(env, "trades is not an array", undefined);
    for (let j = 0; j < list.length; j++) {
      const t = list[j];
      if (!isRecord(t)) return bad(env, "trade is not an object", undefined);
      const product = t.product_id;
      if (typeof product !== "string" || !env.products.has(product)) {
        return bad(env, `unexpected product ${str(product)}`, undefined);
      }
      const id = t.trade_id;
      if (!(typeof id === "string" ? id.length > 0 && id.length <= 64 : isCount(id))) {
        return bad(env, "bad trade_id", [product]);
      }
      const price = decimal(t.price);
      const quantity = decimal(t.size);
      if (!(price > 0 && price < Infinity)) return bad(env, "bad price", [product]);
      if (!(quantity > 0 && quantity < Infinity)) return bad(env, "bad size", [product]);
      const time = parseTime(t.time);
      if (!(time >= 0)) return bad(env, "bad time", [product]);
      // `side` is the maker's side: the taker did the opposite.
      let side: Side;
      if (t.side === "BUY") side = "sell";
      else if (t.side === "SELL") side = "buy";
      else return bad(env, `bad side ${str(t.side)}`, [product]);
      times.push(time);
      trades.push({
        type: "trade",
        exchange: EXCHANGE,
        symbol: product,
        eventTime: env.time,
        receiveTime: env.receiveTime,
        price,
        quantity,
        timestamp: isoTime(time),
        tradeId: id as string | number,
        side,
        raw: t,
      });
    }
  }
  return { kind: "trades", seq: env.seq, trades: oldestFirst(trades, times) };
}

/** Numeric value of a trade id (`"000123"` → 123), `NaN` when it is not all digits. */
export function numericTradeId(id: number | string): number {
  return typeof id === "number" ? id : counter(id);
}

/**
 * Orders trades oldest first: by trade time, then by numeric trade id.
 * Coinbase sends each batch newest first; an already ascending batch is kept as is.
 */
function oldestFirst(trades: TradeEvent[], times: number[]): TradeEvent[] {
  const n = trades.length;
  if (n < 2) return trades;
  const cmp = (a: number, b: number): number =>
    times[a] - times[b] ||
    (numericTradeId(trades[a].tradeId) - numericTradeId(trades[b].tradeId) || 0);
  let ascending = true;
  let descending = true;
  for (let i = 1; i < n && (ascending || descending); i++) {
    const c = cmp(i - 1, i);
    if (c > 0) ascending = false;
    if (c < 0) descending = false;
  }
  if (ascending) return trades;
  if (descending) return trades.reverse();
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => cmp(a, b) || a - b);
  return order.map((i) => trades[i]);
}

function mapTickers(env: Envelope, events: unknown[]): CoinbaseFrame {
  const quotes: QuoteEvent[] = [];
  const timestamp = isoTime(env.time);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (!isRecord(e)) return bad(env, "event is not an object", undefined);
    const list = e.tickers;
    if (!Array.isArray(list)) return bad(env, "tickers is not an array", undefined);
    for (let j = 0; j < list.length; j++) {
      const t = list[j];
      if (!isRecord(t)) return bad(env, "ticker is not an object", undefined);
      const product = t.product_id;
      if (typeof product !== "string" || !env.products.has(product)) {
        return bad(env, `unexpected product ${str(product)}`, undefined);
      }
      const bidPrice = decimal(t.best_bid);
      const bidQuantity = decimal(t.best_bid_quantity);
      const askPrice = decimal(t.best_ask);
      const askQuantity = decimal(t.best_ask_quantity);
      if (!(bidPrice > 0 && bidPrice < Infinity)) return bad(env, "bad best_bid", [product]);
      if (!(askPrice > 0 && askPrice < Infinity)) return bad(env, "bad best_ask", [product]);
      if (!(bidQuantity >= 0 && bidQuantity < Infinity)) {
        return bad(env, "bad best_bid_quantity", [product]);
      }
      if (!(askQuantity >= 0 && askQuantity < Infinity)) {
        return bad(env, "bad best_ask_quantity", [product]);
      }
      quotes.push({
        type: "quote",
        exchange: EXCHANGE,
        symbol: product,
        eventTime: env.time,
        receiveTime: env.receiveTime,
        bidPrice,
        bidQuantity,
        askPrice,
        askQuantity,
        timestamp,
        raw: t,
      });
    }
  }
  return { kind: "quotes", seq: env.seq, quotes };
}

function mapCandles(env: Envelope, events: unknown[]): CoinbaseFrame {
  const candles: KlineEvent[] = [];
  const timestamp = isoTime(env.time);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (!isRecord(e)) return bad(env, "event is not an object", undefined);
    const list = e.candles;
    if (!Array.isArray(list)) return bad(env, "candles is not an array", undefined);
    for (let j = 0; j < list.length; j++) {
      const c = list[j];
      if (!isRecord(c)) return bad(env, "candle is not an object", undefined);
      const product = c.product_id;
      if (typeof product !== "string" || !env.products.has(product)) {
        return bad(env, `unexpected product ${str(product)}`, undefined);
      }
      const start = counter(c.start);
      const open = decimal(c.open), high = decimal(c.high);
      const low = decimal(c.low), close = decimal(c.close);
      const volume = decimal(c.volume);
      if (!(start > 0 && start * 1000 <= 8.64e15)) return bad(env, "bad start", [product]);
      if (!(low > 0 && low < Infinity)) return bad(env, "bad low", [product]);
      if (!(high >= low && high < Infinity)) return bad(env, "bad high", [product]);
      if (!(open >= low && open <= high)) return bad(env, "bad open", [product]);
      if (!(close >= low && close <= high)) return bad(env, "bad close", [product]);
      if (!(volume >= 0 && volume < Infinity)) return bad(env, "bad volume", [product]);
      const openTime = start * 1000;
      candles.push({
        type: "kline",
        exchange: EXCHANGE,
        symbol: product,
        eventTime: env.time,
        receiveTime: env.receiveTime,
        interval: KLINE_INTERVAL,
        openTime,
        closeTime: openTime + CANDLE_MS - 1,
        open,
        high,
        low,
        close,
        volume,
        // Coinbase candles carry neither quote volume nor a trade count.
        quoteVolume: 0,
        trades: 0,
        closed: false,
        timestamp,
        raw: c,
      });
    }
  }
  return { kind: "candles", seq: env.seq, candles };
}

function mapHeartbeat(env: Envelope, events: unknown[]): CoinbaseFrame {
  const e = events[0];
  if (events.length !== 1 || !isRecord(e)) return bad(env, "expected one event", []);
  const n = counter(e.heartbeat_counter);
  if (Number.isNaN(n)) return bad(env, "bad heartbeat_counter", []);
  return { kind: "heartbeat", seq: env.seq, counter: n };
}

function mapSubscriptions(env: Envelope, events: unknown[]): CoinbaseFrame {
  const e = events[0];
  if (!isRecord(e) || !isRecord(e.subscriptions)) return bad(env, "no subscriptions object", []);
  const subscriptions: Record<string, string[]> = {};
  for (const [channel, ids] of Object.entries(e.subscriptions)) {
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) {
      return bad(env, `bad product list of ${str(channel)}`, []);
    }
    subscriptions[channel] = ids as string[];
  }
  return { kind: "subscriptions", seq: env.seq, subscriptions };
}

function str(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 24) ?? "undefined";
}

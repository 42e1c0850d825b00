/**
 * Pure mapper for Kraken Spot WebSocket v2 frames: exchange text in, normalized
 * events (or control / malformed results) out. No I/O, no state; the feed, the
 * tests and the benchmark call it directly. Book messages come out as
 * {@link KrakenBookMessage}s: their checksum is verified by the book sync,
 * which holds the book.
 * @module
 */
import type { KlineEvent, Level, QuoteEvent, TradeEvent } from "../../mod.ts";
import { isoTime, parseTime } from "./time.ts";

/** Exchange id carried by every event. */
export const EXCHANGE = "kraken";

/** Kline intervals: Binance notation → Kraken `ohlc` interval in minutes. */
export const KLINE_INTERVALS: ReadonlyMap<string, number> = new Map([
  ["1m", 1],
  ["5m", 5],
  ["15m", 15],
  ["30m", 30],
  ["1h", 60],
  ["4h", 240],
  ["1d", 1440],
  ["1w", 10080],
  ["15d", 21600],
]);

const INTERVAL_NAMES: ReadonlyMap<number, string> = new Map(
  [...KLINE_INTERVALS].map(([name, minutes]) => [minutes, name]),
);

/** One tradable pair from the `instrument` channel. */
export interface KrakenPair {
  symbol: string;
  base: string;
  quote: string;
  status: string;
  pricePrecision: number;
  qtyPrecision: number;
  /** `price_increment` (else the deprecated `tick_size`), when a positive number. */
  priceIncrement?: number;
  /** `qty_increment`, when a positive number. */
  qtyIncrement?: number;
  /** `qty_min`: smallest order quantity in base units, when a positive number. */
  qtyMin?: number;
  /** `cost_min`: smallest order value in quote units, when a positive number. */
  costMin?: number;
}

/** One `book` data entry, validated but not yet checked against its checksum. */
export interface KrakenBookMessage {
  symbol: string;
  snapshot: boolean;
  bids: Level[];
  asks: Level[];
  checksum: number;
  /** Book timestamp (ms), or the receive time when the message has none. */
  eventTime: number;
  receiveTime: number;
  raw: Record<string, unknown>;
}

/** A subscribe / unsubscribe acknowledgement (one per symbol) or its failure. */
export interface KrakenAck {
  method: "subscribe" | "unsubscribe";
  success: boolean;
  reqId?: number;
  channel?: string;
  symbol?: string;
  error?: string;
  warnings: string[];
}

/** What one frame turned into. */
export type KrakenFrame =
  | { kind: "trades"; snapshot: boolean; events: TradeEvent[] }
  | { kind: "quotes"; events: QuoteEvent[] }
  | { kind: "klines"; snapshot: boolean; events: KlineEvent[] }
  | { kind: "book"; books: KrakenBookMessage[] }
  | { kind: "instrument"; snapshot: boolean; pairs: KrakenPair[]; invalid: string[] }
  /** `connectionId` is kept as the digits of the text: it exceeds 2^53. */
  | { kind: "status"; system: string; version?: string; connectionId?: string }
  | { kind: "heartbeat" }
  | { kind: "pong"; reqId?: number; timeIn?: string; timeOut?: string }
  | { kind: "ack"; ack: KrakenAck }
  /** A request-level error that names no subscription (e.g. an unparsable request). */
  | { kind: "error"; reqId?: number; message: string }
  | { kind: "malformed"; reason: string };

type Json = Record<string, unknown>;

/** Largest frame accepted, in characters; anything longer is malformed (never parsed). */
export const MAX_FRAME_CHARS = 8 * 1024 * 1024;

/**
 * Maps one WebSocket text frame. Never throws: anything that is not a
 * well-formed Kraken v2 frame for a symbol in `symbols` becomes
 * `{kind:"malformed"}`.
 */
export function mapKrakenFrame(
  text: string,
  receiveTime: number,
  symbols: ReadonlySet<string>,
): KrakenFrame {
  if (text.length > MAX_FRAME_CHARS) {
    return malformed(`frame of ${text.length} characters exceeds ${MAX_FRAME_CHARS}`);
  }
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return malformed("invalid JSON");
  }
  if (!isRecord(msg)) return malformed("frame is not an object");
  const channel = msg.channel;
  if (channel !== undefined) {
    switch (channel) {
      case "book":
        return mapBook(msg, receiveTime, symbols);
      case "trade":
        return mapTrades(msg, receiveTime, symbols);
      case "ticker":
        return mapTicker(msg, receiveTime, symbols);
      case "ohlc":
        return mapOhlc(msg, receiveTime, symbols);
      case "heartbeat":
        return { kind: "heartbeat" };
      case "status":
        return mapStatus(msg, text);
      case "instrument":
        return mapInstrument(msg);
      default:
        return malformed(`unknown channel ${str(channel)}`);
    }
  }
  const method = msg.method;
  if (method === "pong") return mapPong(msg);
  if (method === "subscribe" || method === "unsubscribe") return mapAck(msg, method);
  if (msg.success === false && typeof msg.error === "string") {
    const reqId = msg.req_id;
    return { kind: "error", message: msg.error, reqId: isInt(reqId) ? reqId : undefined };
  }
  return malformed("frame has neither channel nor known method");
}

function messageType(msg: Json, channel: string): boolean | string {
  const type = msg.type;
  if (type === "snapshot") return true;
  if (type === "update") return false;
  return `${channel}: bad type ${str(type)}`;
}

function dataArray(msg: Json, channel: string): unknown[] | string {
  const data = msg.data;
  if (!Array.isArray(data)) return `${channel}: data is not an array`;
  return data;
}

function mapTrades(msg: Json, receiveTime: number, symbols: ReadonlySet<string>): KrakenFrame {
  const snapshot = messageType(msg, "trade");
  if (typeof snapshot === "string") return malformed(snapshot);
  const data = dataArray(msg, "trade");
  if (typeof data === "string") return malformed(data);
  const events: TradeEvent[] = [];
  for (const d of data) {
    if (!isRecord(d)) return malformed("trade: entry is not an object");
    const symbol = d.symbol, side = d.side, price = d.price, qty = d.qty, id = d.trade_id;
    if (typeof symbol !== "string" || !symbols.has(symbol)) {
      return malformed(`trade: unexpected symbol ${str(symbol)}`);
    }
    if (side !== "buy" && side !== "sell") return malformed("trade: bad side");
    if (!isPrice(price)) return malformed("trade: bad price");
    if (!(typeof qty === "number" && qty > 0 && qty < Infinity)) return malformed("trade: bad qty");
    if (!(isInt(id) && id >= 0)) return malformed("trade: bad trade_id");
    const time = parseTime(d.timestamp);
    if (!(time === time)) return malformed("trade: bad timestamp");
    events.push({
      type: "trade",
      exchange: EXCHANGE,
      symbol,
      eventTime: time,
      receiveTime,
      price,
      quantity: qty,
      timestamp: isoTime(time),
      tradeId: id,
      side,
      raw: d,
    });
  }
  return { kind: "trades", snapshot, events };
}

function mapTicker(msg: Json, receiveTime: number, symbols: ReadonlySet<string>): KrakenFrame {
  const snapshot = messageType(msg, "ticker");
  if (typeof snapshot === "string") return malformed(snapshot);
  const data = dataArray(msg, "ticker");
  if (typeof data === "string") return malformed(data);
  const events: QuoteEvent[] = [];
  for (const d of data) {
    if (!isRecord(d)) return malformed("ticker: entry is not an object");
    const symbol = d.symbol;
    if (typeof symbol !== "string" || !symbols.has(symbol)) {
      return malformed(`ticker: unexpected symbol ${str(symbol)}`);
    }
    const bid = d.bid, bidQty = d.bid_qty, ask = d.ask, askQty = d.ask_qty;
    if (!isPrice(bid)) return malformed("ticker: bad bid");
    if (!isPrice(ask)) return malformed("ticker: bad ask");
    if (!isQty(bidQty)) return malformed("ticker: bad bid_qty");
    if (!isQty(askQty)) return malformed("ticker: bad ask_qty");
    let time = receiveTime;
    if (d.timestamp !== undefined) {
      time = parseTime(d.timestamp);
      if (!(time === time)) return malformed("ticker: bad timestamp");
    }
    events.push({
      type: "quote",
      exchange: EXCHANGE,
      symbol,
      eventTime: time,
      receiveTime,
      bidPrice: bid,
      bidQuantity: bidQty,
      askPrice: ask,
      askQuantity: askQty,
      timestamp: isoTime(time),
      raw: d,
    });
  }
  return { kind: "quotes", events };
}

function mapOhlc(msg: Json, receiveTime: number, symbols: ReadonlySet<string>): KrakenFrame {
  const snapshot = messageType(msg, "ohlc");
  if (typeof snapshot === "string") return malformed(snapshot);
  const data = dataArray(msg, "ohlc");
  if (typeof data === "string") return malformed(data);
  let messageTime = receiveTime;
  if (msg.timestamp !== undefined) {
    messageTime = parseTime(msg.timestamp);
    if (!(messageTime === messageTime)) return malformed("ohlc: bad timestamp");
  }
  const events: KlineEvent[] = [];
  let newest = -Infinity;
  for (const d of data) {
    if (!isRecord(d)) return malformed("ohlc: entry is not an object");
    const symbol = d.symbol;
    if (typeof symbol !== "string" || !symbols.has(symbol)) {
      return malformed(`ohlc: unexpected symbol ${str(symbol)}`);
    }
    const { open, high, low, close, volume, vwap, trades } = d;
    const interval = INTERVAL_NAMES.get(d.interval as number);
    if (interval === undefined) return malformed("ohlc: bad interval");
    const openTime = parseTime(d.interval_begin);
    if (!(openTime === openTime)) return malformed("ohlc: bad interval_begin");
    if (!isPrice(open)) return malformed("ohlc: bad open");
    if (!isPrice(close)) return malformed("ohlc: bad close");
    if (!isPrice(low)) return malformed("ohlc: bad low");
    if (
      !(isPrice(high) && high >= low && high >= open && high >= close && low <= open &&
        low <= close)
    ) {
      return malformed("ohlc: bad high/low");
    }
    if (!isQty(volume)) return malformed("ohlc: bad volume");
    if (!isQty(vwap)) return malformed("ohlc: bad vwap");
    if (!(isInt(trades) && trades >= 0)) return malformed("ohlc: bad trades");
    if (openTime > newest) newest = openTime;
    events.push({
      type: "kline",
      exchange: EXCHANGE,
      symbol,
      eventTime: messageTime,
      receiveTime,
      interval,
      openTime,
      closeTime: openTime + KLINE_INTERVALS.get(interval)! * 60_000 - 1,
      open,
      high,
      low,
      close,
      volume,
      quoteVolume: volume * vwap,
      trades,
      closed: false,
      timestamp: isoTime(messageTime),
      raw: d,
    });
  }
  // A snapshot lists past candles too: every one older than the newest is final.
  if (snapshot) { for (const e of events) e.closed = e.openTime < newest; }
  return { kind: "klines", snapshot, events };
}

function mapBook(msg: Json, receiveTime: number, symbols: ReadonlySet<string>): KrakenFrame {
  const snapshot = messageType(msg, "book");
  if (typeof snapshot === "string") return malformed(snapshot);
  const data = dataArray(msg, "book");
  if (typeof data === "string") return malformed(data);
  const books: KrakenBookMessage[] = [];
  for (const d of data) {
    if (!isRecord(d)) return malformed("book: entry is not an object");
    const symbol = d.symbol;
    if (typeof symbol !== "string" || !symbols.has(symbol)) {
      return malformed(`book: unexpected symbol ${str(symbol)}`);
    }
    const checksum = d.checksum;
    if (!(isInt(checksum) && checksum >= 0 && checksum <= 0xffffffff)) {
      return malformed("book: bad checksum");
    }
    const bids = levels(d.bids);
    if (bids === undefined) return malformed("book: bad bids");
    const asks = levels(d.asks);
    if (asks === undefined) return malformed("book: bad asks");
    let time = receiveTime;
    if (d.timestamp !== undefined) {
      time = parseTime(d.timestamp);
      if (!(time === time)) return malformed("book: bad timestamp");
    }
    books.push({ symbol, snapshot, bids, asks, checksum, eventTime: time, receiveTime, raw: d });
  }
  return { kind: "book", books };
}

/** `[{price, qty}, ...]` → levels; `undefined` when any level is invalid. */
function levels(raw: unknown): Level[] | undefined {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return undefined;
  const n = raw.length;
  const out: Level[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const l = raw[i];
    if (!isRecord(l)) return undefined;
    const price = l.price, qty = l.qty;
    if (!isPrice(price) || !isQty(qty)) return undefined;
    out[i] = [price, qty];
  }
  return out;
}

function mapInstrument(msg: Json): KrakenFrame {
  const snapshot = messageType(msg, "instrument");
  if (typeof snapshot === "string") return malformed(snapshot);
  const data = msg.data;
  if (!isRecord(data)) return malformed("instrument: data is not an object");
  const raw = data.pairs;
  if (raw === undefined && !snapshot) {
    return { kind: "instrument", snapshot, pairs: [], invalid: [] };
  }
  if (!Array.isArray(raw)) return malformed("instrument: pairs is not an array");
  const pairs: KrakenPair[] = [];
  const invalid: string[] = [];
  for (const p of raw) {
    const pair = mapPair(p);
    if (typeof pair === "string") invalid.push(pair);
    else pairs.push(pair);
  }
  return { kind: "instrument", snapshot, pairs, invalid };
}

function mapPair(p: unknown): KrakenPair | string {
  if (!isRecord(p)) return "instrument: pair is not an object";
  const { symbol, base, quote, status } = p;
  const pp = p.price_precision, qp = p.qty_precision;
  if (typeof symbol !== "string" || symbol.length === 0) return "instrument: bad pair symbol";
  const what = `instrument ${symbol.slice(0, 24)}`;
  if (typeof base !== "string" || typeof quote !== "string") return `${what}: bad base/quote`;
  if (!(isInt(pp) && pp >= 0 && pp <= 18)) return `${what}: bad price_precision`;
  if (!(isInt(qp) && qp >= 0 && qp <= 18)) return `${what}: bad qty_precision`;
  const pair: KrakenPair = {
    symbol,
    base,
    quote,
    status: typeof status === "string" ? status : "unknown",
    pricePrecision: pp,
    qtyPrecision: qp,
  };
  // Optional rules: kept when they are positive numbers, left out otherwise.
  const priceIncrement = positive(p.price_increment) ?? positive(p.tick_size);
  const qtyIncrement = positive(p.qty_increment);
  const qtyMin = positive(p.qty_min), costMin = positive(p.cost_min);
  if (priceIncrement !== undefined) pair.priceIncrement = priceIncrement;
  if (qtyIncrement !== undefined) pair.qtyIncrement = qtyIncrement;
  if (qtyMin !== undefined) pair.qtyMin = qtyMin;
  if (costMin !== undefined) pair.costMin = costMin;
  return pair;
}

function mapStatus(msg: Json, text: string): KrakenFrame {
  const data = msg.data;
  if (!Array.isArray(data) || !isRecord(data[0])) return malformed("status: bad data");
  const d = data[0];
  if (typeof d.system !== "string") return malformed("status: bad system");
  // connection_id exceeds 2^53: JSON.parse rounds it, so keep the digits of the text.
  const id = /"connection_id"\s*:\s*(\d+)/.exec(text)?.[1];
  return {
    kind: "status",
    system: d.system,
    version: typeof d.version === "string" ? d.version : undefined,
    connectionId: id,
  };
}

function mapPong(msg: Json): KrakenFrame {
  const reqId = msg.req_id;
  if (reqId !== undefined && !isInt(reqId)) return malformed("pong: bad req_id");
  return {
    kind: "pong",
    reqId,
    timeIn: typeof msg.time_in === "string" ? msg.time_in : undefined,
    timeOut: typeof msg.time_out === "string" ? msg.time_out : undefined,
  };
}

function mapAck(msg: Json, method: "subscribe" | "unsubscribe"): KrakenFrame {
  const success = msg.success;
  if (typeof success !== "boolean") return malformed(`${method}: bad success`);
  const reqId = msg.req_id;
  if (reqId !== undefined && !isInt(reqId)) return malformed(`${method}: bad req_id`);
  const result = isRecord(msg.result) ? msg.result : undefined;
  const symbol = result?.symbol ?? msg.symbol;
  const channel = result?.channel ?? msg.channel;
  const warnings = Array.isArray(result?.warnings)
    ? (result.warnings as unknown[]).filter((w): w is string => typeof w === "string")
    : [];
  if (!success && typeof msg.error !== "string") {
    return malformed(`${method}: failure without error`);
  }
  return {
    kind: "ack",
    ack: {
      method,
      success,
      reqId,
      channel: typeof channel === "string" ? channel : undefined,
      symbol: typeof symbol === "string" ? symbol : undefined,
      error: typeof msg.error === "string" ? msg.error : undefined,
      warnings,
    },
  };
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

function isPrice(value: unknown): value is number {
  return typeof value === "number" && value > 0 && value < Infinity;
}

/** A positive finite number (Kraken sends the instrument rules as JSON numbers), else `undefined`. */
function positive(value: unknown): number | undefined {
  return isPrice(value) ? value : undefined;
}

function isQty(value: unknown): value is number {
  return typeof value === "number" && value >= 0 && value < Infinity;
}

function malformed(reason: string): KrakenFrame {
  return { kind: "malformed", reason };
}

function str(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 24) ?? "undefined";
}

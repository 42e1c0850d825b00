/**
 * Pure mapper for Binance Spot WebSocket frames: exchange text in, normalized
 * events (or control / malformed results) out. No I/O, no state; the connection
 * code, the tests and the benchmark all call it directly.
 * @module
 */
import {
  type BookUpdate,
  isoTime,
  type KlineEvent,
  type Level,
  type QuoteEvent,
  type TradeEvent,
} from "../../mod.ts";
import { decimal, isId, isRecord, isTime } from "./checks.ts";
import { scanDepthUpdate } from "./depth_scan.ts";

/** Exchange id carried by every event. */
export const EXCHANGE = "binance";

/** Kline intervals Binance Spot streams. */
export const KLINE_INTERVALS: ReadonlySet<string> = new Set([
  "1s",
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "6h",
  "8h",
  "12h",
  "1d",
  "3d",
  "1w",
  "1M",
]);

/** Id of a control request (`{"method":..,"id":..}`). */
export type RequestId = number | string | null;

/** What one frame turned into. */
export type BinanceFrame =
  | { kind: "trade"; event: TradeEvent }
  | { kind: "quote"; event: QuoteEvent }
  | { kind: "kline"; event: KlineEvent }
  /** A diff-depth event (`snapshot: false`, `firstUpdateId` = U, `updateId` = u), for the book sync. */
  | { kind: "depth"; event: BookUpdate }
  | { kind: "serverShutdown"; eventTime: number }
  | { kind: "reply"; id: RequestId; result: unknown }
  | { kind: "error"; id: RequestId; code?: number; message: string }
  | { kind: "malformed"; reason: string };

/** Largest frame accepted, in characters; anything longer is malformed (never parsed). */
export const MAX_FRAME_CHARS = 1024 * 1024;

/**
 * Maps one WebSocket text frame. Never throws: anything that is not a well-formed
 * Binance frame for a symbol in `symbols` (uppercase) becomes `{kind:"malformed"}`.
 * `validate: false` skips the field checks and trusts the frame's shape; it is a
 * benchmark baseline only (it may throw or yield NaN on bad input).
 *
 * A diff-depth frame in Binance's own layout is read in place by
 * {@link scanDepthUpdate}; every other frame, and any depth frame the scanner
 * does not accept, goes through `JSON.parse` + {@link mapBinanceMessage}, with
 * the same result.
 */
export function mapBinanceFrame(
  text: string,
  receiveTime: number,
  symbols: ReadonlySet<string>,
  validate = true,
): BinanceFrame {
  if (text.length > MAX_FRAME_CHARS) {
    return malformed(`frame of ${text.length} characters exceeds ${MAX_FRAME_CHARS}`);
  }
  if (validate) {
    const scanned = scanDepthUpdate(text, symbols);
    if (scanned !== undefined) {
      const { raw, bids, asks } = scanned;
      return depthFrame(raw.s, raw.E, raw.U, raw.u, bids, asks, receiveTime, raw);
    }
  }
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return malformed("invalid JSON");
  }
  return mapBinanceMessage(msg, receiveTime, symbols, validate);
}

/** Like {@link mapBinanceFrame}, for a frame that is already parsed. */
export function mapBinanceMessage(
  msg: unknown,
  receiveTime: number,
  symbols: ReadonlySet<string>,
  validate = true,
): BinanceFrame {
  if (!isRecord(msg)) return malformed("frame is not an object");
  let data: unknown = msg;
  const stream = msg.stream;
  if (stream !== undefined) {
    if (typeof stream !== "string") return malformed("stream is not a string");
    data = msg.data;
    if (!isRecord(data)) return malformed(`${stream}: data is not an object`);
  } else if ("result" in msg || "error" in msg) {
    return mapControl(msg);
  }
  return mapPayload(data as Record<string, unknown>, receiveTime, symbols, validate);
}

function mapPayload(
  d: Record<string, unknown>,
  receiveTime: number,
  symbols: ReadonlySet<string>,
  v: boolean,
): BinanceFrame {
  const e = d.e;
  if (e === undefined) {
    // Only bookTicker payloads carry no event type.
    if (d.u !== undefined && d.b !== undefined) {
      return mapBookTicker(d, receiveTime, symbols, v);
    }
    return malformed("payload without event type");
  }
  if (e === "trade") return mapTrade(d, receiveTime, symbols, v);
  if (e === "depthUpdate") return mapDepth(d, receiveTime, symbols, v);
  if (e === "kline") return mapKline(d, receiveTime, symbols, v);
  if (e === "serverShutdown") {
    return isTime(d.E)
      ? { kind: "serverShutdown", eventTime: d.E }
      : malformed("serverShutdown: bad E");
  }
  return malformed(`unknown event type ${JSON.stringify(e).slice(0, 40)}`);
}

function mapTrade(
  d: Record<string, unknown>,
  receiveTime: number,
  symbols: ReadonlySet<string>,
  v: boolean,
): BinanceFrame {
  const s = d.s as string, t = d.t as number, E = d.E as number;
  const T = d.T as number, m = d.m;
  const price = v ? decimal(d.p) : +(d.p as string);
  const quantity = v ? decimal(d.q) : +(d.q as string);
  if (v) {
    if (!symbols.has(s)) return malformed(`trade: unexpected symbol ${str(s)}`);
    if (!isId(t)) return malformed("trade: bad t");
    if (!isTime(E)) return malformed("trade: bad E");
    if (!isTime(T)) return malformed("trade: bad T");
    if (!(price > 0 && price < Infinity)) return malformed("trade: bad p");
    if (!(quantity > 0 && quantity < Infinity)) {
      return malformed("trade: bad q");
    }
    if (typeof m !== "boolean") return malformed("trade: bad m");
  }
  return {
    kind: "trade",
    event: {
      type: "trade",
      exchange: EXCHANGE,
      symbol: s,
      eventTime: E,
      receiveTime,
      price,
      quantity,
      timestamp: isoTime(T),
      tradeId: t,
      side: m ? "sell" : "buy",
      raw: d,
    },
  };
}

function mapBookTicker(
  d: Record<string, unknown>,
  receiveTime: number,
  symbols: ReadonlySet<string>,
  v: boolean,
): BinanceFrame {
  const s = d.s as string, u = d.u as number;
  const bidPrice = v ? decimal(d.b) : +(d.b as string);
  const bidQuantity = v ? decimal(d.B) : +(d.B as string);
  const askPrice = v ? decimal(d.a) : +(d.a as string);
  const askQuantity = v ? decimal(d.A) : +(d.A as string);
  if (v) {
    if (!symbols.has(s)) {
      return malformed(`bookTicker: unexpected symbol ${str(s)}`);
    }
    if (!isId(u)) return malformed("bookTicker: bad u");
    if (!(bidPrice > 0 && bidPrice < Infinity)) {
      return malformed("bookTicker: bad b");
    }
    if (!(askPrice > 0 && askPrice < Infinity)) {
      return malformed("bookTicker: bad a");
    }
    if (!(bidQuantity >= 0 && bidQuantity < Infinity)) {
      return malformed("bookTicker: bad B");
    }
    if (!(askQuantity >= 0 && askQuantity < Infinity)) {
      return malformed("bookTicker: bad A");
    }
  }
  return {
    kind: "quote",
    event: {
      type: "quote",
      exchange: EXCHANGE,
      symbol: s,
      eventTime: receiveTime,
      receiveTime,
      bidPrice,
      bidQuantity,
      askPrice,
      askQuantity,
      timestamp: isoTime(receiveTime),
      updateId: u,
      raw: d,
    },
  };
}

function mapDepth(
  d: Record<string, unknown>,
  receiveTime: number,
  symbols: ReadonlySet<string>,
  v: boolean,
): BinanceFrame {
  const s = d.s as string, E = d.E as number;
  const U = d.U as number, u = d.u as number;
  if (v) {
    if (!symbols.has(s)) {
      return malformed(`depthUpdate: unexpected symbol ${str(s)}`);
    }
    if (!isTime(E)) return malformed("depthUpdate: bad E");
    if (!isId(U) || !isId(u) || U > u) {
      return malformed("depthUpdate: bad U/u");
    }
  }
  const bids = mapLevels(d.b, v);
  if (bids === undefined) return malformed("depthUpdate: bad b");
  const asks = mapLevels(d.a, v);
  if (asks === undefined) return malformed("depthUpdate: bad a");
  return depthFrame(s, E, U, u, bids, asks, receiveTime, d);
}

/** The depth result, built in one place so both paths give events of one shape. */
function depthFrame(
  s: string,
  E: number,
  U: number,
  u: number,
  bids: Level[],
  asks: Level[],
  receiveTime: number,
  raw: unknown,
): BinanceFrame {
  return {
    kind: "depth",
    event: {
      type: "book",
      exchange: EXCHANGE,
      symbol: s,
      eventTime: E,
      receiveTime,
      snapshot: false,
      bids,
      asks,
      firstUpdateId: U,
      updateId: u,
      timestamp: isoTime(E),
      raw,
    },
  };
}

/**
 * Converts `[["price","qty"], ...]` to numeric levels; `undefined` when invalid
 * (price must be > 0, quantity >= 0). Shared with the REST snapshot mapper.
 */
export function mapLevels(raw: unknown, validate = true): Level[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const n = raw.length;
  const out: Level[] = [];
  for (let i = 0; i < n; i++) {
    const l = raw[i];
    if (validate) {
      if (!Array.isArray(l) || l.length < 2) return undefined;
      const p = decimal(l[0]), q = decimal(l[1]);
      if (!(p > 0 && p < Infinity && q >= 0 && q < Infinity)) return undefined;
      out.push([p, q]);
    } else {
      out.push([+l[0], +l[1]]);
    }
  }
  return out;
}

function mapKline(
  d: Record<string, unknown>,
  receiveTime: number,
  symbols: ReadonlySet<string>,
  v: boolean,
): BinanceFrame {
  const s = d.s as string, E = d.E as number;
  const k = d.k as Record<string, unknown>;
  if (v) {
    if (!symbols.has(s)) return malformed(`kline: unexpected symbol ${str(s)}`);
    if (!isTime(E)) return malformed("kline: bad E");
    if (!isRecord(k)) return malformed("kline: k is not an object");
    if (k.s !== s) return malformed("kline: k.s differs from s");
  }
  const open = v ? decimal(k.o) : +(k.o as string);
  const high = v ? decimal(k.h) : +(k.h as string);
  const low = v ? decimal(k.l) : +(k.l as string);
  const close = v ? decimal(k.c) : +(k.c as string);
  const volume = v ? decimal(k.v) : +(k.v as string);
  const quoteVolume = v ? decimal(k.q) : +(k.q as string);
  const openTime = k.t as number, closeTime = k.T as number;
  const trades = k.n as number, interval = k.i as string;
  if (v) {
    if (!KLINE_INTERVALS.has(interval)) return malformed("kline: bad i");
    if (!isTime(openTime) || !isTime(closeTime) || closeTime < openTime) {
      return malformed("kline: bad t/T");
    }
    if (!(open > 0 && open < Infinity)) return malformed("kline: bad o");
    if (!(close > 0 && close < Infinity)) return malformed("kline: bad c");
    if (!(low > 0 && low < Infinity)) return malformed("kline: bad l");
    if (!(high >= low && high < Infinity)) return malformed("kline: bad h");
    if (!(volume >= 0 && volume < Infinity)) return malformed("kline: bad v");
    if (!(quoteVolume >= 0 && quoteVolume < Infinity)) {
      return malformed("kline: bad q");
    }
    if (!isId(trades)) return malformed("kline: bad n");
    if (typeof k.x !== "boolean") return malformed("kline: bad x");
  }
  return {
    kind: "kline",
    event: {
      type: "kline",
      exchange: EXCHANGE,
      symbol: s,
      eventTime: E,
      receiveTime,
      interval,
      openTime,
      closeTime,
      open,
      high,
      low,
      close,
      volume,
      quoteVolume,
      trades,
      closed: k.x === true,
      timestamp: isoTime(E),
      raw: d,
    },
  };
}

function mapControl(msg: Record<string, unknown>): BinanceFrame {
  const id = msg.id;
  if (
    id !== null && typeof id !== "string" &&
    !(typeof id === "number" && Number.isSafeInteger(id))
  ) {
    return malformed("control reply: bad id");
  }
  const error = msg.error;
  if (error === undefined) return { kind: "reply", id, result: msg.result };
  if (!isRecord(error)) return malformed("control error: bad error");
  const code = typeof error.code === "number" ? error.code : undefined;
  const message = typeof error.msg === "string" ? error.msg : "";
  return { kind: "error", id, code, message };
}

function malformed(reason: string): BinanceFrame {
  return { kind: "malformed", reason };
}

function str(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 24) ?? "undefined";
}

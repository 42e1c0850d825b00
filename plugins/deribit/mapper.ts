/**
 * Pure mapping of Deribit JSON-RPC 2.0 frames (API v2, WebSocket) to normalized
 * events: one frame in, one {@link DeribitFrame} out, every field validated. No
 * I/O, no state: the book continuity (`change_id` / `prev_change_id`) is checked
 * by `book_sync.ts`, the requests are matched by `rpc.ts`.
 *
 * Sources (docs.deribit.com): `book.{instrument_name}.{interval}` (first notification a
 * snapshot, then `[action, price, amount]` changes with `change_id` / `prev_change_id`;
 * amounts in USD for futures and perpetuals, in coin contracts for options),
 * `trades.{instrument_name}.{interval}` (`direction` is the taker's side),
 * `ticker.{instrument_name}.{interval}` (best bid/ask, mark price, IVs, greeks),
 * `deribit_price_index.{index_name}`, `public/get_instruments`, `heartbeat` / `test_request`.
 * See plugins/deribit/PROTOCOL.md.
 * @module
 */
import {
  type Instrument,
  isoTime,
  type Level,
  type QuoteEvent,
  type QuoteOptionFields,
  type TradeEvent,
} from "../../mod.ts";

/** The exchange id in every event. */
export const EXCHANGE = "deribit";

/** A validated book notification (`book.{instrument}.{interval}`), levels as absolute amounts. */
export interface DeribitBookMessage {
  symbol: string;
  snapshot: boolean;
  changeId: number;
  /** Absent on the snapshot. */
  prevChangeId?: number;
  /** `[price, amount]`, amount 0 for `delete`. */
  bids: Level[];
  asks: Level[];
  eventTime: number;
  receiveTime: number;
  raw: unknown;
}

/** An index price (`deribit_price_index.{index_name}`). */
export interface DeribitIndex {
  indexName: string;
  price: number;
  eventTime: number;
}

/** What one frame was. */
export type DeribitFrame =
  | { kind: "book"; book: DeribitBookMessage }
  | { kind: "trades"; events: TradeEvent[] }
  /** `event` is absent when the book is one-sided (Deribit sends `best_bid_price: 0`). */
  | { kind: "ticker"; symbol: string; event?: QuoteEvent; option: QuoteOptionFields }
  | { kind: "index"; index: DeribitIndex }
  | { kind: "heartbeat"; testRequest: boolean }
  | { kind: "result"; id: number; result: unknown }
  | { kind: "error"; id?: number; code: number; message: string }
  | { kind: "malformed"; reason: string };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined =>
  typeof v === "string" && v.length > 0 ? v : undefined;

/**
 * Maps one frame. `receiveTime` is the gateway's clock (epoch ms).
 *
 * @example
 * ```ts
 * import { mapDeribitFrame } from "./mapper.ts";
 *
 * const frame = mapDeribitFrame(
 *   '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}',
 *   1_700_000_000_000,
 * );
 * console.log(frame); // { kind: "heartbeat", testRequest: true }
 * ```
 */
export function mapDeribitFrame(text: string, receiveTime: number): DeribitFrame {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: "malformed", reason: "not JSON" };
  }
  if (!isObj(msg)) return { kind: "malformed", reason: "not a JSON-RPC object" };
  if (msg.method === "subscription") return mapNotification(msg.params, receiveTime);
  if (msg.method === "heartbeat") {
    const type = isObj(msg.params) ? msg.params.type : undefined;
    if (type !== "test_request" && type !== "heartbeat") {
      return { kind: "malformed", reason: "heartbeat without a known params.type" };
    }
    return { kind: "heartbeat", testRequest: type === "test_request" };
  }
  const id = num(msg.id);
  if (isObj(msg.error)) {
    return {
      kind: "error",
      id,
      code: num(msg.error.code) ?? 0,
      message: str(msg.error.message) ?? "unknown error",
    };
  }
  if (id !== undefined && "result" in msg) return { kind: "result", id, result: msg.result };
  return { kind: "malformed", reason: "neither a notification nor a response" };
}

function mapNotification(params: unknown, receiveTime: number): DeribitFrame {
  if (!isObj(params)) return { kind: "malformed", reason: "subscription without params" };
  const channel = str(params.channel);
  if (!channel) return { kind: "malformed", reason: "subscription without a channel" };
  const data = params.data;
  const dot = channel.indexOf(".");
  const family = dot < 0 ? channel : channel.slice(0, dot);
  switch (family) {
    case "book":
      return mapBook(data, receiveTime);
    case "trades":
      return mapTrades(data, receiveTime);
    case "ticker":
      return mapTicker(data, receiveTime);
    case "deribit_price_index":
      return mapIndex(data);
    default:
      return { kind: "malformed", reason: `unexpected channel ${channel}` };
  }
}

/** `[action, price, amount]` levels as absolute `[price, amount]`; `delete` → amount 0. */
function levels(raw: unknown, snapshot: boolean): Level[] | string {
  if (!Array.isArray(raw)) return "levels are not an array";
  const out: Level[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    if (!Array.isArray(l) || l.length !== 3) return "a level is not [action, price, amount]";
    const [action, p, a] = l;
    const price = num(p), amount = num(a);
    if (price === undefined || price <= 0) return "a level price is not a positive number";
    if (amount === undefined || amount < 0) return "a level amount is not a non-negative number";
    if (action === "delete") out[i] = [price, 0];
    else if (action === "new" || (action === "change" && !snapshot)) out[i] = [price, amount];
    else return `unknown level action ${JSON.stringify(action)}`;
  }
  return out;
}

function mapBook(data: unknown, receiveTime: number): DeribitFrame {
  if (!isObj(data)) return { kind: "malformed", reason: "book data is not an object" };
  const symbol = str(data.instrument_name);
  const changeId = num(data.change_id);
  const timestamp = num(data.timestamp);
  if (!symbol) return { kind: "malformed", reason: "book without instrument_name" };
  if (changeId === undefined || !Number.isInteger(changeId)) {
    return { kind: "malformed", reason: "book without an integer change_id" };
  }
  if (timestamp === undefined || timestamp <= 0) {
    return { kind: "malformed", reason: "book without a timestamp" };
  }
  // Deribit's first notification is `type: "snapshot"`; a notification without
  // `prev_change_id` is a snapshot too (the docs: "every message except the first").
  const prev = num(data.prev_change_id);
  const snapshot = data.type === "snapshot" || (data.type === undefined && prev === undefined);
  if (!snapshot && data.type !== "change") {
    return { kind: "malformed", reason: `unknown book type ${JSON.stringify(data.type)}` };
  }
  if (!snapshot && prev === undefined) {
    return { kind: "malformed", reason: "book change without prev_change_id" };
  }
  const bids = levels(data.bids, snapshot);
  if (typeof bids === "string") return { kind: "malformed", reason: `book bids: ${bids}` };
  const asks = levels(data.asks, snapshot);
  if (typeof asks === "string") return { kind: "malformed", reason: `book asks: ${asks}` };
  return {
    kind: "book",
    book: {
      symbol,
      snapshot,
      changeId,
      prevChangeId: snapshot ? undefined : prev,
      bids,
      asks,
      eventTime: timestamp,
      receiveTime,
      raw: data,
    },
  };
}

function mapTrades(data: unknown, receiveTime: number): DeribitFrame {
  if (!Array.isArray(data)) return { kind: "malformed", reason: "trades data is not an array" };
  const events: TradeEvent[] = [];
  for (const t of data) {
    if (!isObj(t)) return { kind: "malformed", reason: "a trade is not an object" };
    const symbol = str(t.instrument_name);
    const price = num(t.price), amount = num(t.amount), timestamp = num(t.timestamp);
    const tradeId = str(t.trade_id) ?? num(t.trade_id);
    if (!symbol) return { kind: "malformed", reason: "trade without instrument_name" };
    if (price === undefined || price <= 0) return { kind: "malformed", reason: "trade price" };
    if (amount === undefined || amount <= 0) return { kind: "malformed", reason: "trade amount" };
    if (timestamp === undefined || timestamp <= 0) {
      return { kind: "malformed", reason: "trade timestamp" };
    }
    if (tradeId === undefined) return { kind: "malformed", reason: "trade without trade_id" };
    if (t.direction !== "buy" && t.direction !== "sell") {
      return { kind: "malformed", reason: "trade direction is neither buy nor sell" };
    }
    events.push({
      type: "trade",
      exchange: EXCHANGE,
      symbol,
      price,
      quantity: amount,
      timestamp: isoTime(timestamp),
      tradeId,
      side: t.direction,
      eventTime: timestamp,
      receiveTime,
      raw: t,
    });
  }
  return { kind: "trades", events };
}

/**
 * The option/derivative fields of a ticker (each kept only when valid).
 *
 * @example
 * ```ts
 * import { tickerOptionFields } from "./mapper.ts";
 *
 * tickerOptionFields({ mark_iv: 52.3, mark_price: "x" }); // { markIv: 52.3 }
 * ```
 */
export function tickerOptionFields(data: Obj): QuoteOptionFields {
  const out: QuoteOptionFields = {};
  const nonNeg = (v: unknown) => {
    const n = num(v);
    return n !== undefined && n >= 0 ? n : undefined;
  };
  const pos = (v: unknown) => {
    const n = num(v);
    return n !== undefined && n > 0 ? n : undefined;
  };
  const set = <K extends keyof QuoteOptionFields>(k: K, v: QuoteOptionFields[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set("markPrice", nonNeg(data.mark_price));
  set("markIv", nonNeg(data.mark_iv));
  set("bidIv", nonNeg(data.bid_iv));
  set("askIv", nonNeg(data.ask_iv));
  set("underlyingPrice", pos(data.underlying_price));
  set("underlyingIndex", str(data.underlying_index));
  set("indexPrice", pos(data.index_price));
  set("interestRate", num(data.interest_rate));
  set("openInterest", nonNeg(data.open_interest));
  const g = data.greeks;
  if (isObj(g)) {
    const delta = num(g.delta), gamma = num(g.gamma), vega = num(g.vega);
    const theta = num(g.theta), rho = num(g.rho);
    if (
      delta !== undefined && gamma !== undefined && vega !== undefined && theta !== undefined &&
      rho !== undefined
    ) out.greeks = { delta, gamma, vega, theta, rho };
  }
  return out;
}

function mapTicker(data: unknown, receiveTime: number): DeribitFrame {
  if (!isObj(data)) return { kind: "malformed", reason: "ticker data is not an object" };
  const symbol = str(data.instrument_name);
  const timestamp = num(data.timestamp);
  if (!symbol) return { kind: "malformed", reason: "ticker without instrument_name" };
  if (timestamp === undefined || timestamp <= 0) {
    return { kind: "malformed", reason: "ticker without a timestamp" };
  }
  const option = tickerOptionFields(data);
  // Deribit sends 0 (or null) for a missing side; a normalized quote needs both.
  const bidPrice = num(data.best_bid_price), askPrice = num(data.best_ask_price);
  const bidQuantity = num(data.best_bid_amount), askQuantity = num(data.best_ask_amount);
  if (
    bidPrice === undefined || askPrice === undefined || bidPrice <= 0 || askPrice <= 0 ||
    bidQuantity === undefined || askQuantity === undefined || bidQuantity < 0 || askQuantity < 0
  ) return { kind: "ticker", symbol, option };
  return {
    kind: "ticker",
    symbol,
    option,
    event: {
      type: "quote",
      exchange: EXCHANGE,
      symbol,
      bidPrice,
      bidQuantity,
      askPrice,
      askQuantity,
      timestamp: isoTime(timestamp),
      eventTime: timestamp,
      receiveTime,
      option,
      raw: data,
    },
  };
}

function mapIndex(data: unknown): DeribitFrame {
  if (!isObj(data)) return { kind: "malformed", reason: "index data is not an object" };
  const indexName = str(data.index_name), price = num(data.price), ts = num(data.timestamp);
  if (!indexName || price === undefined || price <= 0 || ts === undefined) {
    return { kind: "malformed", reason: "index without index_name, price or timestamp" };
  }
  return { kind: "index", index: { indexName, price, eventTime: ts } };
}

/** Instruments from a `public/get_instruments` result, and a reason per entry left out. */
export interface MappedInstruments {
  instruments: Instrument[];
  invalid: string[];
}

/**
 * Maps a `public/get_instruments` result. Unified names are Deribit's own
 * (`BTC-27DEC26-100000-C`, `BTC-PERPETUAL`); `quantityUnit` says what amounts count.
 *
 * @example
 * ```ts
 * import { mapInstruments } from "./mapper.ts";
 *
 * const { instruments } = mapInstruments([{
 *   instrument_name: "BTC-27DEC26-100000-C", kind: "option", base_currency: "BTC",
 *   quote_currency: "BTC", settlement_currency: "BTC", option_type: "call", strike: 100000,
 *   expiration_timestamp: 1798358400000, tick_size: 0.0005, contract_size: 1, min_trade_amount: 0.1,
 * }]);
 * console.log(instruments[0].option?.type); // "call"
 * ```
 */
export function mapInstruments(result: unknown): MappedInstruments {
  const instruments: Instrument[] = [];
  const invalid: string[] = [];
  if (!Array.isArray(result)) return { instruments, invalid: ["result is not an array"] };
  for (const r of result) {
    const m = mapInstrument(r);
    if (typeof m === "string") invalid.push(m);
    else instruments.push(m);
  }
  return { instruments, invalid };
}

function mapInstrument(r: unknown): Instrument | string {
  if (!isObj(r)) return "an instrument is not an object";
  const symbol = str(r.instrument_name);
  if (!symbol) return "instrument without instrument_name";
  const base = str(r.base_currency), quote = str(r.quote_currency);
  if (!base || !quote) return `${symbol}: no base_currency or quote_currency`;
  const tick = num(r.tick_size), minTrade = num(r.min_trade_amount);
  const contractSize = num(r.contract_size);
  const settlement = str(r.settlement_currency) ?? str(r.counter_currency) ?? quote;
  const rules: Partial<Instrument> = {};
  if (tick !== undefined && tick > 0) rules.tickSize = tick;
  if (minTrade !== undefined && minTrade > 0) {
    rules.minQuantity = minTrade;
    rules.stepSize = minTrade;
  }
  if (r.kind === "option") {
    const strike = num(r.strike), expiry = num(r.expiration_timestamp);
    const type = r.option_type === "call" ? "call" : r.option_type === "put" ? "put" : undefined;
    if (strike === undefined || strike <= 0) return `${symbol}: option without a strike`;
    if (expiry === undefined || expiry <= 0) return `${symbol}: option without expiration`;
    if (!type) return `${symbol}: option_type is neither call nor put`;
    if (contractSize === undefined || contractSize <= 0) return `${symbol}: no contract_size`;
    return {
      symbol,
      base,
      quote,
      unified: symbol,
      ...rules,
      kind: "option",
      quantityUnit: `contracts of ${contractSize} ${base}`,
      option: {
        underlying: base,
        expiry,
        strike,
        type,
        contractSize,
        settlement,
        inverse: settlement === base,
      },
    };
  }
  if (r.kind === "future") {
    const perpetual = r.settlement_period === "perpetual";
    // Inverse (`reversed`) futures count USD; linear ones count the base coin.
    const linear = r.instrument_type === "linear" || r.future_type === "linear";
    return {
      symbol,
      base,
      quote,
      unified: symbol,
      ...rules,
      kind: perpetual ? "perpetual" : "future",
      ...(linear ? {} : { quantityUnit: "USD" }),
    };
  }
  return `${symbol}: kind ${JSON.stringify(r.kind)} is not streamed (option and future only)`;
}

/**
 * Binance Spot market-stream names: which are valid, what each carries, and
 * the sequence number (if any) that orders its payloads. Symbols in stream
 * names are lowercase, as Binance requires.
 * @module
 */
import { KLINE_INTERVALS } from "../mapper.ts";

/** What a stream carries, as far as the proxy cares. */
export type StreamKind =
  | "trade"
  | "aggTrade"
  | "bookTicker"
  /** Diff depth `<s>@depth[@100ms]`: feeds the local book. */
  | "depth"
  /** Partial book `<s>@depth<5|10|20>[@100ms]`. */
  | "partialDepth"
  | "kline"
  /** Any other valid stream (tickers, averages, all-market arrays): relayed as is. */
  | "other";

/** A valid stream name, parsed. */
export interface StreamInfo {
  name: string;
  kind: StreamKind;
  /** Uppercase symbol, for per-symbol streams. */
  symbol?: string;
  /** Diff-depth speed, ms. */
  speedMs?: 100 | 1000;
}

const SYMBOL = "([a-z0-9]{1,20})";
const RE_SIMPLE = new RegExp(`^${SYMBOL}@(trade|aggTrade|bookTicker)$`);
const RE_DEPTH = new RegExp(`^${SYMBOL}@depth(5|10|20)?(@100ms)?$`);
const RE_KLINE = new RegExp(`^${SYMBOL}@kline_([0-9]{1,2}[smhdwM])(@\\+08:00)?$`);
const RE_OTHER = new RegExp(
  `^(${SYMBOL}@(ticker|miniTicker|avgPrice|ticker_(1h|4h|1d))|!(ticker|miniTicker|ticker_(1h|4h|1d))@arr)$`,
);

/** Parses a stream name; `undefined` when Binance would answer "invalid stream". */
export function parseStreamName(name: string): StreamInfo | undefined {
  let m = RE_SIMPLE.exec(name);
  if (m) {
    return { name, kind: m[2] as "trade" | "aggTrade" | "bookTicker", symbol: m[1].toUpperCase() };
  }
  m = RE_DEPTH.exec(name);
  if (m) {
    const symbol = m[1].toUpperCase();
    return m[2]
      ? { name, kind: "partialDepth", symbol }
      : { name, kind: "depth", symbol, speedMs: m[3] ? 100 : 1000 };
  }
  m = RE_KLINE.exec(name);
  if (m && KLINE_INTERVALS.has(m[2])) return { name, kind: "kline", symbol: m[1].toUpperCase() };
  if (RE_OTHER.test(name)) return { name, kind: "other" };
  return undefined;
}

/** The gateway channel a stream kind counts as, for plan limits. */
export type StreamChannel = "trade" | "quote" | "book" | "kline";

const CHANNEL: Record<StreamKind, StreamChannel> = {
  trade: "trade",
  aggTrade: "trade",
  bookTicker: "quote",
  depth: "book",
  partialDepth: "book",
  kline: "kline",
  // Tickers and average prices are price summaries, the closest to a quote.
  other: "quote",
};

/** The gateway channel (`trade`, `quote`, `book`, `kline`) a stream counts as in a plan. */
export function channelOf(kind: StreamKind): StreamChannel {
  return CHANNEL[kind];
}

/**
 * The conflation key of a stream's frames for a slow client: kinds whose every frame is
 * the whole current state (best bid/ask, partial books, klines, tickers) may be
 * conflated to the latest per stream; trades and diff-depth events may not (a client's
 * book needs every diff), so they queue and count against the slow-consumer bound.
 */
export function conflationKey(info: StreamInfo): string | undefined {
  return info.kind === "trade" || info.kind === "aggTrade" || info.kind === "depth"
    ? undefined
    : info.name;
}

const SEQUENCE: Partial<Record<StreamKind, RegExp>> = {
  trade: /"t":(\d+)/,
  aggTrade: /"a":(\d+)/,
  bookTicker: /"u":(\d+)/,
  depth: /"u":(\d+)/,
  partialDepth: /"lastUpdateId":(\d+)/,
};

/**
 * The number that orders a payload of this kind (trade id, aggregate id, book
 * update id), or `undefined` for kinds without one (klines, tickers). Used only
 * to merge two upstream connections during a handover.
 */
export function sequenceOf(kind: StreamKind, data: string): number | undefined {
  const re = SEQUENCE[kind];
  const m = re?.exec(data);
  return m ? Number(m[1]) : undefined;
}

/**
 * Stream-name grammar of Binance Spot market streams: which names are valid and
 * what each one carries. Symbols in stream names are lowercase.
 * @module
 */
import { isKlineInterval, type KlineInterval } from "./klines.ts";

/** Publication speed of depth streams, ms. */
export type DepthSpeed = 100 | 1000;

/** What a valid stream name refers to. `symbol` is uppercase. */
export type StreamSpec =
  | { kind: "trade"; symbol: string }
  | { kind: "aggTrade"; symbol: string }
  | { kind: "bookTicker"; symbol: string }
  | { kind: "depth"; symbol: string; speed: DepthSpeed }
  | { kind: "partialDepth"; symbol: string; levels: 5 | 10 | 20; speed: DepthSpeed }
  | { kind: "kline"; symbol: string; interval: KlineInterval; offsetMs: number }
  /** A valid Binance stream the emulator does not produce (tickers, averages): accepted, silent. */
  | { kind: "silent" };

const SYMBOL = "([a-z0-9]{1,20})";
const RE_SIMPLE = new RegExp(`^${SYMBOL}@(trade|aggTrade|bookTicker)$`);
const RE_DEPTH = new RegExp(`^${SYMBOL}@depth(5|10|20)?(@100ms)?$`);
const RE_KLINE = new RegExp(`^${SYMBOL}@kline_([0-9]{1,2}[smhdwM])(@\\+08:00)?$`);
const RE_SILENT = new RegExp(
  `^(${SYMBOL}@(ticker|miniTicker|avgPrice|ticker_(1h|4h|1d))|!(ticker|miniTicker|ticker_(1h|4h|1d))@arr)$`,
);

/** Parses a stream name; undefined when it is malformed (Binance: "invalid stream"). */
export function parseStream(name: string): StreamSpec | undefined {
  let m = RE_SIMPLE.exec(name);
  if (m) {
    return { kind: m[2] as "trade" | "aggTrade" | "bookTicker", symbol: m[1].toUpperCase() };
  }
  m = RE_DEPTH.exec(name);
  if (m) {
    const symbol = m[1].toUpperCase();
    const speed: DepthSpeed = m[3] ? 100 : 1000;
    return m[2]
      ? { kind: "partialDepth", symbol, levels: Number(m[2]) as 5 | 10 | 20, speed }
      : { kind: "depth", symbol, speed };
  }
  m = RE_KLINE.exec(name);
  if (m && isKlineInterval(m[2])) {
    return {
      kind: "kline",
      symbol: m[1].toUpperCase(),
      interval: m[2],
      offsetMs: m[3] ? 8 * 3600000 : 0,
    };
  }
  if (RE_SILENT.test(name)) return { kind: "silent" };
  return undefined;
}

/**
 * Candle history from the recording (`GET /api/history/klines`), with a prefetch: the entry point
 * asks for the default chart's history as soon as it knows the symbol, so the request runs while
 * React is still mounting, and the chart takes the answer (once) when it mounts.
 *
 * @example
 * ```ts
 * prefetched("binance|BTCUSDT|1s", klinesRequest("binance", "BTCUSDT", "1s", 1000));
 * const answer = await loadKlines("binance", "BTCUSDT", "1s", 1000);
 * ```
 */
import { getJson } from "./api.ts";

/** The `/api/history/klines` answer. */
export interface KlinesAnswer {
  klines: {
    openTime: number;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
  }[];
}

/** Bars of history asked for. */
export const HISTORY_BARS = 300;

const pending = new Map<string, Promise<KlinesAnswer>>();

/** Asks for the last {@link HISTORY_BARS} bars of `interval` (`ms` long) up to now. */
export function klinesRequest(exchange: string, symbol: string, interval: string, ms: number) {
  const now = Date.now();
  const from = Math.floor((now - ms * HISTORY_BARS) / ms) * ms;
  const q = new URLSearchParams({
    exchange,
    symbol,
    interval,
    from: String(from),
    to: String(now),
  });
  return getJson<KlinesAnswer>(`/api/history/klines?${q}`);
}

/** Hands over a request already under way for a chart that is about to mount. */
export function prefetched(key: string, answer: Promise<KlinesAnswer>): void {
  if (!pending.has(key)) pending.set(key, answer);
}

/** The prefetched history (taken once) or a fresh request. */
export function loadKlines(
  exchange: string,
  symbol: string,
  interval: string,
  ms: number,
): Promise<KlinesAnswer> {
  const key = `${exchange}|${symbol}|${interval}`;
  const early = pending.get(key);
  pending.delete(key);
  return early ?? klinesRequest(exchange, symbol, interval, ms);
}

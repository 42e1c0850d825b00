/**
 * Stream names, their split over connections, and the combined-stream URL.
 * @module
 */
import type { Channel } from "../../mod.ts";

/** Stream options that shape names. */
export interface StreamOptions {
  klineInterval: string;
  depthSpeed: "100ms" | "1000ms";
}

/** Binance stream names (lowercase symbol) for one symbol's channels. */
export function streamNames(
  symbol: string,
  channels: readonly Channel[],
  options: StreamOptions,
): string[] {
  const s = symbol.toLowerCase();
  const names: string[] = [];
  for (const channel of channels) {
    if (channel === "trade") names.push(`${s}@trade`);
    else if (channel === "quote") names.push(`${s}@bookTicker`);
    else if (channel === "kline") names.push(`${s}@kline_${options.klineInterval}`);
    else if (channel === "book") {
      names.push(options.depthSpeed === "100ms" ? `${s}@depth@100ms` : `${s}@depth`);
    }
  }
  return names;
}

/** The streams of one connection and the symbols they cover. */
export interface ConnectionPlan {
  symbols: string[];
  streams: string[];
}

/**
 * Splits symbols over connections of at most `maxStreams` streams, keeping all
 * streams of one symbol on the same connection.
 */
export function planConnections(
  symbols: readonly string[],
  channels: readonly Channel[],
  options: StreamOptions,
  maxStreams: number,
): ConnectionPlan[] {
  const perSymbol = Math.max(1, streamNames("x", channels, options).length);
  const symbolsPerConnection = Math.max(1, Math.floor(maxStreams / perSymbol));
  const plans: ConnectionPlan[] = [];
  for (let i = 0; i < symbols.length; i += symbolsPerConnection) {
    const group = symbols.slice(i, i + symbolsPerConnection);
    plans.push({
      symbols: group,
      streams: group.flatMap((s) => streamNames(s, channels, options)),
    });
  }
  return plans;
}

/** `<wsUrl>/stream?streams=a/b/c` (names are URL-safe as they are). */
export function combinedStreamUrl(wsUrl: string, streams: readonly string[]): string {
  return `${wsUrl.replace(/\/+$/, "")}/stream?streams=${streams.join("/")}`;
}

/** Normalizes a configured symbol (`BTCUSDT`, `btcusdt`, `BTC/USDT`) to Binance's `BTCUSDT`. */
export function binanceSymbol(symbol: string): string {
  return symbol.replace(/[/\-_]/g, "").toUpperCase();
}

/**
 * One symbol space: matches configured names against an exchange's instrument
 * list. A configured name matches an instrument by its native symbol
 * (`BTC-USD`), its unified name (`BTC/USD`) or base and quote run together
 * (`BTCUSD`), case-insensitively.
 * @module
 */
import type { Instrument } from "../events.ts";

/**
 * Result of {@link matchSymbols}.
 *
 * @example
 * ```ts
 * import { matchSymbols, type SymbolMatch } from "@quant-saas/gateway";
 *
 * const match: SymbolMatch = matchSymbols(["BTC/USD"], []);
 * console.log(match.unknown); // ["BTC/USD"]
 * ```
 */
export interface SymbolMatch {
  /** Native symbols to stream, in configured order, without duplicates. */
  streamed: string[];
  /** Configured names this exchange does not list. */
  unknown: string[];
}

/**
 * Unified `BASE/QUOTE` name.
 *
 * @example
 * ```ts
 * import { unifiedName } from "@quant-saas/gateway";
 *
 * unifiedName("btc", "usdt"); // "BTC/USDT"
 * ```
 */
export function unifiedName(base: string, quote: string): string {
  return `${base.toUpperCase()}/${quote.toUpperCase()}`;
}

/**
 * Matches `configured` names against `instruments`.
 *
 * @example Configured names in any of the three spellings
 * ```ts
 * import { matchSymbols } from "@quant-saas/gateway";
 *
 * const instruments = [
 *   { symbol: "BTCUSDT", base: "BTC", quote: "USDT", unified: "BTC/USDT" },
 *   { symbol: "ETHUSDT", base: "ETH", quote: "USDT", unified: "ETH/USDT" },
 * ];
 * matchSymbols(["btc/usdt", "ETHUSDT", "DOGE/EUR"], instruments);
 * // { streamed: ["BTCUSDT", "ETHUSDT"], unknown: ["DOGE/EUR"] }
 * ```
 */
export function matchSymbols(
  configured: readonly string[],
  instruments: readonly Instrument[],
): SymbolMatch {
  const byName = new Map<string, string>();
  for (const i of instruments) {
    byName.set(i.symbol.toUpperCase(), i.symbol);
    byName.set(i.unified.toUpperCase(), i.symbol);
    const joined = (i.base + i.quote).toUpperCase();
    if (!byName.has(joined)) byName.set(joined, i.symbol);
  }
  const streamed: string[] = [];
  const unknown: string[] = [];
  for (const name of configured) {
    const native = byName.get(name.toUpperCase());
    if (native === undefined) unknown.push(name);
    else if (!streamed.includes(native)) streamed.push(native);
  }
  return { streamed, unknown };
}

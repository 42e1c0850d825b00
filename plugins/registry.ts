/**
 * The exchange plugins this gateway ships. Each plugin folder exports its
 * entry (`plugins/<exchange>/entry.ts`); adding an exchange is its folder plus
 * one line in the list below (and its import).
 * @module
 */
import { binanceEntry } from "./binance/entry.ts";
import { coinbaseEntry } from "./coinbase/entry.ts";
import { krakenEntry } from "./kraken/entry.ts";
import type { PluginEntry } from "./entry.ts";

export type { PluginEntry, RunningEmulator } from "./entry.ts";

/** Shipped plugins. */
export const registry: readonly PluginEntry[] = [binanceEntry, coinbaseEntry, krakenEntry];

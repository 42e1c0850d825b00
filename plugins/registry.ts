/**
 * The exchange plugins this gateway ships. Each plugin folder exports its
 * entry (`plugins/<exchange>/entry.ts`); adding an exchange is its folder plus
 * one line in the list below (and its import). Plugins kept outside the repo
 * are loaded at start with `PLUGINS` / `--plugin` instead (core/ingest/plugin_loader.ts).
 * @module
 */
import { binanceEntry } from "./binance/entry.ts";
import { coinbaseEntry } from "./coinbase/entry.ts";
import { deribitEntry } from "./deribit/entry.ts";
import { krakenEntry } from "./kraken/entry.ts";
import type { PluginEntry } from "../mod.ts";

/** Shipped plugins. */
export const registry: readonly PluginEntry[] = [
  binanceEntry,
  coinbaseEntry,
  krakenEntry,
  deribitEntry,
];

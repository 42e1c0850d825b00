/**
 * Binance Spot feed plugin: trades, best bid/ask, klines and a synced L2 book
 * over the public combined-stream WebSocket, with REST for metadata, depth
 * snapshots and trade backfill.
 * @module
 */
import { defineFeed, type FeedPlugin, hostOf } from "../../mod.ts";
import { type BinanceConfig, binanceConfigSchema, binanceEnv } from "./config.ts";
import { runBinanceFeed } from "./feed.ts";

export { type BinanceConfig, binanceConfigSchema, binanceEnv } from "./config.ts";
export { type FeedDeps, runBinanceFeed } from "./feed.ts";
export { type BinanceFrame, mapBinanceFrame, mapBinanceMessage } from "./mapper.ts";

/** The Binance feed plugin. */
export const binance: FeedPlugin<BinanceConfig> = defineFeed<BinanceConfig>({
  name: "binance",
  configSchema: binanceConfigSchema,
  env: binanceEnv,
  hosts: (config) => [...new Set([hostOf(config.wsUrl), hostOf(config.restUrl)])],
  run: (ctx) => runBinanceFeed(ctx),
});

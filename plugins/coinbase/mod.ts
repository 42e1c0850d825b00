/**
 * Coinbase Advanced Trade feed plugin: trades, best bid/ask, 5-minute candles
 * and a synced L2 book over the public market-data WebSocket, with the public
 * REST product list for metadata.
 * @module
 */
import { defineFeed, type FeedPlugin, hostOf } from "../../mod.ts";
import { type CoinbaseConfig, coinbaseConfigSchema, coinbaseEnv } from "./config.ts";
import { runCoinbaseFeed } from "./feed.ts";

export { type CoinbaseConfig, coinbaseConfigSchema, coinbaseEnv } from "./config.ts";
export { type FeedDeps, runCoinbaseFeed } from "./feed.ts";
export { type CoinbaseFrame, mapCoinbaseFrame, mapCoinbaseMessage } from "./mapper.ts";

/** The Coinbase feed plugin. */
export const coinbase: FeedPlugin<CoinbaseConfig> = defineFeed<CoinbaseConfig>({
  name: "coinbase",
  configSchema: coinbaseConfigSchema,
  env: coinbaseEnv,
  hosts: (config) => [...new Set([hostOf(config.wsUrl), hostOf(config.restUrl)])],
  run: (ctx) => runCoinbaseFeed(ctx),
});

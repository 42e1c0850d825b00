/**
 * Deribit feed plugin (JSON-RPC 2.0 over WebSocket, API v2): options, futures and
 * perpetuals of the configured currencies, with trades, tickers (quotes with mark
 * price, IVs and greeks), and `change_id`-checked books. Unified names are Deribit's
 * own instrument names (`BTC-27DEC26-100000-C`).
 * @module
 */
import { defineFeed, type FeedPlugin, hostOf } from "../../mod.ts";
import { type DeribitConfig, deribitConfigSchema, deribitEnv } from "./config.ts";
import { runDeribitFeed } from "./feed.ts";

export { type DeribitConfig, deribitConfigSchema, deribitEnv } from "./config.ts";
export { type FeedDeps, runDeribitFeed } from "./feed.ts";
export {
  type DeribitBookMessage,
  type DeribitFrame,
  mapDeribitFrame,
  mapInstruments,
} from "./mapper.ts";

/** The Deribit feed plugin. */
export const deribit: FeedPlugin<DeribitConfig> = defineFeed<DeribitConfig>({
  name: "deribit",
  configSchema: deribitConfigSchema,
  env: deribitEnv,
  hosts: (config) => [hostOf(config.wsUrl)],
  run: (ctx) => runDeribitFeed(ctx),
});

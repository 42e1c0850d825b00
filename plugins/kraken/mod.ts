/**
 * Kraken Spot feed plugin (WebSocket v2): trades, best bid/offer, candles and
 * a CRC32-verified L2 book, with the pairs and their precisions taken from the
 * `instrument` channel.
 * @module
 */
import { defineFeed, type FeedPlugin, hostOf } from "../../mod.ts";
import { type KrakenConfig, krakenConfigSchema, krakenEnv } from "./config.ts";
import { runKrakenFeed } from "./feed.ts";

export { BOOK_DEPTHS, type KrakenConfig, krakenConfigSchema, krakenEnv } from "./config.ts";
export { type FeedDeps, runKrakenFeed } from "./feed.ts";
export {
  type KrakenBookMessage,
  type KrakenFrame,
  type KrakenPair,
  mapKrakenFrame,
} from "./mapper.ts";
export { bookChecksum, checksumDigits, checksumString, levelsChecksum } from "./checksum.ts";

/** The Kraken feed plugin. */
export const kraken: FeedPlugin<KrakenConfig> = defineFeed<KrakenConfig>({
  name: "kraken",
  configSchema: krakenConfigSchema,
  env: krakenEnv,
  hosts: (config) => [hostOf(config.wsUrl)],
  run: (ctx) => runKrakenFeed(ctx),
});

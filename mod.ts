/**
 * Quant-SaaS public API for exchange-plugin authors.
 *
 * A plugin is a {@link FeedPlugin} declared with {@link defineFeed}: a zod config
 * schema, the environment variables that feed it, the hosts it may reach, and a
 * `run(ctx)` that turns the exchange's feed into normalized events via
 * `ctx.emit`. Its folder also has a one-line `worker.ts` calling
 * {@link serveFeedWorker}, because every plugin runs in its own Worker.
 *
 * ```ts
 * import { defineFeed, hostOf } from "./mod.ts";
 * import { z } from "zod";
 *
 * export const myex = defineFeed({
 *   name: "myex",
 *   configSchema: z.object({ wsUrl: z.string().url().default("wss://ws.myex.com") }),
 *   env: { MYEX_WS_URL: "wsUrl" },
 *   hosts: (config) => [hostOf(config.wsUrl)],
 *   async run(ctx) {
 *     // connect to ctx.config.wsUrl, map frames, ctx.emit(...), until ctx.signal aborts
 *   },
 * });
 * ```
 * @module
 */
export type {
  BookStatusUpdate,
  BookUpdate,
  Channel,
  EventBase,
  FeedState,
  FeedStatusUpdate,
  GapEvent,
  Instrument,
  InstrumentsEvent,
  KlineEvent,
  Level,
  MarketEvent,
  QuoteEvent,
  Side,
  TradeEvent,
} from "./core/events.ts";
export { CHANNELS } from "./core/events.ts";
export { defineFeed, hostOf } from "./core/feed/plugin.ts";
export type { FeedContext, FeedLogger, FeedPlugin } from "./core/feed/plugin.ts";
export { createFeedContext, serveFeedWorker } from "./core/feed/worker.ts";
export type { FeedItem } from "./core/feed/messages.ts";
export {
  applyLevel,
  applySnapshot,
  applyUpdate,
  bestAsk,
  bestBid,
  BookError,
  createBook,
  isCrossed,
  topN,
  truncate,
} from "./core/books/book.ts";
export type { OrderBook } from "./core/books/book.ts";
export { startGateway } from "./core/server/gateway.ts";
export type { Gateway, GatewayOptions } from "./core/server/gateway.ts";
export type { FeedSpec } from "./core/ingest/supervisor.ts";

// --- Plugin entries and out-of-tree loading (PLUGINS / --plugin) ---
// An entry module exports `entry: PluginEntry`; the gateway loads it with
// `PLUGINS=<path or URL>` (core/ingest/plugin_loader.ts) and runs its Worker
// exactly like a shipped plugin's.
export { checkPluginEntry, ENTRY_EXPORT } from "./core/ingest/plugin_entry.ts";
export type { EmulatorFaults, PluginEntry, RunningEmulator } from "./core/ingest/plugin_entry.ts";
export type { GatewayExtension } from "./core/server/gateway.ts";

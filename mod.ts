/**
 * The Quant-SaaS plugin SDK: everything an exchange plugin imports, ours
 * included (emulator helpers and the conformance kit are in `testing.ts`).
 *
 * A plugin is a {@link FeedPlugin} declared with {@link defineFeed}: a zod config
 * schema, the environment variables that feed it, the hosts it may reach, and a
 * `run(ctx)` that turns the exchange's feed into normalized events via
 * `ctx.emit`. Its folder also has a one-line `worker.ts` calling
 * {@link serveFeedWorker}, because every plugin runs in its own Worker.
 *
 * - Events: {@link MarketEvent} and its parts, {@link CHANNELS}.
 * - Plugin and Worker entry: {@link defineFeed}, {@link hostOf}, {@link serveFeedWorker},
 *   {@link createFeedContext}.
 * - Order book: {@link createBook}, {@link applySnapshot}, {@link applyUpdate}, ...
 * - Symbols: {@link matchSymbols}, {@link unifiedName}.
 * - Connection helpers: {@link createReconnectingSocket} (backoff with full jitter,
 *   stale detection, make-before-break), {@link openSocket}, {@link startStaleCheck},
 *   {@link backoffDelay}, {@link createSendLimiter}, {@link sleep}.
 * - Parsing and formatting: {@link isoTime}, {@link parseDecimal}, {@link decimalPlaces},
 *   {@link positiveDecimal}, {@link instrumentRules}.
 *
 * ```ts
 * import { defineFeed, hostOf } from "@quant-saas/gateway";
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

// Normalized events
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
  OptionContract,
  QuoteEvent,
  QuoteOptionFields,
  Side,
  TradeEvent,
} from "./core/events.ts";
export { CHANNELS } from "./core/events.ts";

// The plugin contract and the Worker entry
export { defineFeed, hostOf } from "./core/feed/plugin.ts";
export type { FeedContext, FeedLogger, FeedPlugin } from "./core/feed/plugin.ts";
export { createFeedContext, serveFeedWorker } from "./core/feed/worker.ts";
export type { FeedItem } from "./core/feed/messages.ts";
export type { FeedDeps } from "./core/feed/deps.ts";

// The order book
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
export type {
  BookSide,
  BookSideName,
  LevelUpdate,
  OrderBook,
  TopLevels,
} from "./core/books/book.ts";

// Symbols
export { matchSymbols, unifiedName } from "./core/market/symbols.ts";
export type { SymbolMatch } from "./core/market/symbols.ts";

// Connection helpers
export { createReconnectingSocket } from "./core/feed/reconnecting_socket.ts";
export type {
  Connection,
  HandoverEvent,
  ReconnectingSocket,
  ReconnectingSocketOptions,
} from "./core/feed/reconnecting_socket.ts";
export { openSocket } from "./core/feed/socket.ts";
export type { FeedSocket, SocketHandlers } from "./core/feed/socket.ts";
export { staleCheckEvery, startStaleCheck } from "./core/feed/stale.ts";
export type { StaleCheckOptions } from "./core/feed/stale.ts";
export { backoffDelay } from "./core/feed/backoff.ts";
export type { BackoffOptions } from "./core/feed/backoff.ts";
export { createSendLimiter } from "./core/feed/rate_limiter.ts";
export type { SendLimit, SendLimiter } from "./core/feed/rate_limiter.ts";
export { sleep } from "./core/feed/sleep.ts";

// Parsing and formatting
export { isoTime } from "./core/feed/iso_time.ts";
export { decimalPlaces, parseDecimal, positiveDecimal } from "./core/feed/decimals.ts";
export { instrumentRules } from "./core/feed/instrument_rules.ts";
export type { InstrumentRules, RawInstrumentRules } from "./core/feed/instrument_rules.ts";

// Plugin entries and out-of-tree loading (PLUGINS / --plugin): an entry module exports
// `entry: PluginEntry`; the gateway loads it with `PLUGINS=<path or URL>`
// (core/ingest/plugin_loader.ts) and runs its Worker exactly like a shipped plugin's.
export { checkPluginEntry, ENTRY_EXPORT } from "./core/ingest/plugin_entry.ts";
export type { EmulatorFaults, PluginEntry, RunningEmulator } from "./core/ingest/plugin_entry.ts";
// Extensions: endpoints a plugin mounts on the gateway's port (the Binance proxy is one). Their
// WebSocket upgrades go through the gateway's one admission (`ctx.admit`).
export type { ExtensionContext, GatewayExtension } from "./core/server/gateway.ts";
export type {
  AdmissionRefusal,
  AdmitOptions,
  AdmittedConnection,
} from "./core/server/admission.ts";

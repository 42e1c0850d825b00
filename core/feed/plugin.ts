/**
 * The feed-plugin contract. A plugin turns one exchange's feed into normalized
 * {@link MarketEvent}s. It runs in its own Worker with network access to the
 * hosts it declares and nothing else; the core never imports exchange code.
 * @module
 */
import type { z } from "zod";
import type { BookStatusUpdate, Channel, FeedStatusUpdate, MarketEvent } from "../events.ts";

/**
 * Structured logger handed to plugins (messages end up in the gateway's LogTape log).
 *
 * @example
 * ```ts
 * import type { FeedLogger } from "@quant-saas/gateway";
 *
 * function reportReconnect(log: FeedLogger, reconnects: number, delay: number): void {
 *   log.warn(`connection closed; reconnect #${reconnects} in ${delay} ms`, { reconnects, delay });
 * }
 * ```
 */
export interface FeedLogger {
  /** Detail for debugging. */
  debug(message: string, properties?: Record<string, unknown>): void;
  /** Normal operation worth a line. */
  info(message: string, properties?: Record<string, unknown>): void;
  /** Something went wrong and was handled (reconnect, resync, ...). */
  warn(message: string, properties?: Record<string, unknown>): void;
  /** Something went wrong that needs attention. */
  error(message: string, properties?: Record<string, unknown>): void;
}

/**
 * What the core gives a running plugin.
 *
 * @example Emit until the feed is stopped
 * ```ts
 * import { type FeedContext, sleep } from "@quant-saas/gateway";
 *
 * async function run(ctx: FeedContext<{ wsUrl: string }>): Promise<void> {
 *   ctx.status({ state: "connecting", reason: ctx.config.wsUrl });
 *   while (await sleep(1000, ctx.signal)) {
 *     ctx.log.debug(`still streaming ${ctx.symbols.join(", ")}`);
 *   }
 *   ctx.status({ state: "stopped", reason: "aborted" });
 * }
 * ```
 */
export interface FeedContext<C = unknown> {
  /** The plugin's exchange id. */
  readonly exchange: string;
  /** Symbols to collect, as configured (exchange-native or unified `BASE/QUOTE`). */
  readonly symbols: readonly string[];
  /** Channels to collect. */
  readonly channels: readonly Channel[];
  /** The plugin's validated configuration. */
  readonly config: C;
  /** Aborted when the plugin must stop; `run` should then close its sockets and return. */
  readonly signal: AbortSignal;
  /** Publishes one normalized event. */
  emit(event: MarketEvent): void;
  /** Reports a change of the feed's connection state. */
  status(update: FeedStatusUpdate): void;
  /** Reports a change of one symbol's order-book sync state. */
  bookStatus(update: BookStatusUpdate): void;
  /** Counts and logs an exchange frame that failed validation (it is never forwarded). */
  malformed(reason: string, frame?: string): void;
  /** Logger for the plugin's own messages. */
  readonly log: FeedLogger;
}

/**
 * An exchange feed plugin. Define one with {@link defineFeed}.
 *
 * @example
 * ```ts
 * import type { FeedPlugin } from "@quant-saas/gateway";
 *
 * const describe = (plugin: FeedPlugin<unknown>): string =>
 *   `${plugin.name} (env: ${Object.keys(plugin.env).join(", ")})`;
 * ```
 */
export interface FeedPlugin<C = unknown> {
  /** Exchange id, lowercase (`"binance"`); appears in every event. */
  readonly name: string;
  /** zod schema of the plugin's configuration (defaults included). */
  readonly configSchema: z.ZodType<C>;
  /** Environment variables that feed the configuration: variable name → config key. */
  readonly env: Readonly<Record<string, string>>;
  /** `host:port` pairs the plugin's Worker may connect to, derived from its configuration. */
  hosts(config: C): string[];
  /** Runs the feed until `ctx.signal` aborts. Throwing restarts the plugin. */
  run(ctx: FeedContext<C>): Promise<void>;
}

/**
 * Declares a feed plugin (identity function that checks the shape at compile time).
 *
 * @example
 * ```ts
 * import { defineFeed, hostOf } from "@quant-saas/gateway";
 * import { z } from "zod";
 *
 * export const myex = defineFeed({
 *   name: "myex",
 *   configSchema: z.object({ wsUrl: z.string().url().default("wss://ws.myex.example") }),
 *   env: { MYEX_WS_URL: "wsUrl" },
 *   hosts: (config) => [hostOf(config.wsUrl)],
 *   async run(ctx) {
 *     // connect to ctx.config.wsUrl, map frames, ctx.emit(...), until ctx.signal aborts
 *   },
 * });
 * ```
 */
export function defineFeed<C>(plugin: FeedPlugin<C>): FeedPlugin<C> {
  return plugin;
}

/**
 * `host:port` of a URL, with the scheme's default port filled in.
 *
 * @example
 * ```ts
 * import { hostOf } from "@quant-saas/gateway";
 *
 * hostOf("wss://stream.binance.com/stream"); // "stream.binance.com:443"
 * hostOf("ws://127.0.0.1:9000/ws"); // "127.0.0.1:9000"
 * ```
 */
export function hostOf(url: string): string {
  const u = new URL(url);
  const port = u.port ||
    (u.protocol === "https:" || u.protocol === "wss:" ? "443" : "80");
  return `${u.hostname}:${port}`;
}

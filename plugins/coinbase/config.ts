/**
 * Configuration of the Coinbase Advanced Trade feed: a zod schema with every
 * default, and the environment variables that feed it.
 * @module
 */
import { z } from "zod";

const ms = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

const urlWithScheme = (schemes: string[], fallback: string) =>
  z.string().default(fallback).refine((value) => {
    try {
      return schemes.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, { message: `expected a ${schemes.join(" or ")} URL` });

/** Zod schema of {@link CoinbaseConfig}; `parse({})` yields the production defaults. */
export const coinbaseConfigSchema = z.object({
  /** Market-data WebSocket URL. */
  wsUrl: urlWithScheme(["wss:", "ws:"], "wss://advanced-trade-ws.coinbase.com"),
  /** REST base URL; instruments come from `GET /api/v3/brokerage/market/products` (public). */
  restUrl: urlWithScheme(["https:", "http:"], "https://api.coinbase.com"),
  /**
   * Silence limits per channel, ms. A channel silent past its own limit while
   * the connection is alive (heartbeats flow) is logged and resubscribed.
   */
  staleMs: z.object({
    trade: ms(120_000),
    quote: ms(120_000),
    book: ms(60_000),
    kline: ms(120_000),
  }).prefault({}),
  /** A connection that delivers no message at all (heartbeats come every second) for this long is `stale` and replaced. */
  deadAfterMs: ms(5_000),
  /** Reconnect backoff: full jitter over `min(cap, base * 2^attempt)`. */
  backoffBaseMs: ms(500),
  backoffCapMs: ms(30_000),
  /** Opening handshake deadline, ms. */
  connectTimeoutMs: ms(10_000),
  /** Messages sent per window (Coinbase: 8 unauthenticated messages per second). */
  messagesPerSecond: z.coerce.number().int().min(1).max(8).default(8),
  /** Window of the send limiter, ms: a little over a second, so network jitter cannot squeeze 9 into the server's second. */
  sendWindowMs: z.coerce.number().int().min(1000).default(1100),
  /** A level2 resubscription whose snapshot has not arrived after this long is sent again. */
  snapshotTimeoutMs: ms(10_000),
  /** Quotes from the `ticker` channel, or derived from the level2 book (top-of-book changes). */
  quoteSource: z.enum(["ticker", "book"]).default("ticker"),
  /** Report `gap` events when numeric trade ids of a product jump. */
  tradeGaps: z.union([z.boolean(), z.stringbool()]).default(true),
  /** Timeout of one REST request, ms. */
  restTimeoutMs: ms(10_000),
  /** Force emulator mode on or off; by default the REST `x-emulator` header decides. */
  emulator: z.union([z.boolean(), z.stringbool()]).optional(),
});

/** Validated Coinbase feed configuration. */
export type CoinbaseConfig = z.infer<typeof coinbaseConfigSchema>;

/** Environment variable → config key. */
export const coinbaseEnv: Readonly<Record<string, string>> = {
  COINBASE_WS_URL: "wsUrl",
  COINBASE_REST_URL: "restUrl",
  COINBASE_EMULATOR: "emulator",
};

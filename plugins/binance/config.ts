/**
 * Configuration of the Binance feed: a zod schema with every default, and the
 * environment variables that feed it.
 * @module
 */
import { z } from "zod";
import { KLINE_INTERVALS } from "./mapper.ts";

const ms = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

const urlWithScheme = (schemes: string[], fallback: string) =>
  z.string().default(fallback).refine((value) => {
    try {
      return schemes.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, { message: `expected a ${schemes.join(" or ")} URL` });

/** Zod schema of {@link BinanceConfig}; `parse({})` yields the production defaults. */
export const binanceConfigSchema = z.object({
  /** WebSocket base URL; streams are opened at `<wsUrl>/stream?streams=...`. */
  wsUrl: urlWithScheme(["wss:", "ws:"], "wss://stream.binance.com:9443"),
  /** REST base URL (exchangeInfo, depth snapshots, trade backfill). */
  restUrl: urlWithScheme(["https:", "http:"], "https://api.binance.com"),
  /**
   * Silence limits per channel, ms. A channel silent past its own limit is only
   * logged (a quiet market is not a dead connection); a connection that delivers
   * nothing at all for the smallest limit among its channels is `stale` and replaced.
   */
  staleMs: z.object({
    trade: ms(30_000),
    quote: ms(10_000),
    book: ms(10_000),
    kline: ms(70_000),
  }).prefault({}),
  /** Reconnect backoff: full jitter over `min(cap, base * 2^attempt)`. */
  backoffBaseMs: ms(500),
  backoffCapMs: ms(30_000),
  /** Opening handshake deadline, ms. */
  connectTimeoutMs: ms(10_000),
  /** `limit` of `GET /api/v3/depth` snapshots (weight 5/25/50/250). */
  depthSnapshotLimit: z.coerce.number().int().min(1).max(5000).default(1000),
  /** Diff-depth stream speed: `<sym>@depth@100ms` or `<sym>@depth` (1000 ms). */
  depthSpeed: z.enum(["100ms", "1000ms"]).default("100ms"),
  /** Kline interval streamed for the `kline` channel. */
  klineInterval: z.string().default("1m").refine((i) => KLINE_INTERVALS.has(i), {
    message: "unknown kline interval",
  }),
  /** Streams per connection (Binance: at most 1024); more symbols open more connections. */
  maxStreamsPerConnection: z.coerce.number().int().min(1).max(1024).default(1024),
  /** Control messages sent per connection per second (Binance disconnects above 5). */
  controlMessagesPerSecond: z.coerce.number().int().min(1).max(5).default(5),
  /** Replace a connection (make-before-break) after this long; Binance cuts at 24 h. */
  rotateAfterMs: ms(23 * 3_600_000 + 50 * 60_000),
  /** How long a replacement connection may take to deliver data before it is given up. */
  handoverTimeoutMs: ms(15_000),
  /** REST request-weight budget per minute (Binance: 6000). */
  restWeightPerMinute: z.coerce.number().int().min(1).default(6000),
  /** Wait this long after a trade-id hole appears before backfilling it over REST. */
  backfillDelayMs: z.coerce.number().int().min(0).default(250),
  /** Attempts per historicalTrades page before the hole is reported as a `gap`. */
  backfillAttempts: z.coerce.number().int().min(1).default(3),
  /** Force emulator mode on or off; by default the REST `x-emulator` header decides. */
  emulator: z.union([z.boolean(), z.stringbool()]).optional(),
});

/** Validated Binance feed configuration. */
export type BinanceConfig = z.infer<typeof binanceConfigSchema>;

/** Environment variable → config key. */
export const binanceEnv: Readonly<Record<string, string>> = {
  BINANCE_WS_URL: "wsUrl",
  BINANCE_REST_URL: "restUrl",
  BINANCE_EMULATOR: "emulator",
};

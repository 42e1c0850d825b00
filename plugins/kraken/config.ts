/**
 * Configuration of the Kraken feed: a zod schema with every default, and the
 * environment variables that feed it.
 * @module
 */
import { z } from "zod";
import { KLINE_INTERVALS } from "./mapper.ts";

const ms = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Book depths Kraken's `book` channel accepts. */
export const BOOK_DEPTHS: readonly number[] = [10, 25, 100, 500, 1000];

/** Zod schema of {@link KrakenConfig}; `parse({})` yields the production defaults. */
export const krakenConfigSchema = z.object({
  /** Public WebSocket v2 URL. */
  wsUrl: z.string().default("wss://ws.kraken.com/v2").refine((value) => {
    try {
      return ["wss:", "ws:"].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, { message: "expected a wss or ws URL" }),
  /** Levels per side of the `book` subscription (10, 25, 100, 500 or 1000). */
  bookDepth: z.coerce.number().int().default(100).refine((d) => BOOK_DEPTHS.includes(d), {
    message: `book depth must be one of ${BOOK_DEPTHS.join(", ")}`,
  }),
  /** Candle interval of the `kline` channel, Binance notation (`1m` … `15d`). */
  klineInterval: z.string().default("1m").refine((i) => KLINE_INTERVALS.has(i), {
    message: `kline interval must be one of ${[...KLINE_INTERVALS.keys()].join(", ")}`,
  }),
  /**
   * Silence limits per channel, ms: a channel silent past its limit is only
   * logged (a quiet market is not a dead connection).
   */
  staleMs: z.object({
    trade: ms(60_000),
    quote: ms(30_000),
    book: ms(30_000),
    kline: ms(120_000),
  }).prefault({}),
  /** The connection is `stale` (and replaced) after this long without any frame; Kraken sends a heartbeat every second. */
  deadAfterMs: ms(10_000),
  /** Application ping (`{"method":"ping"}`) interval; Kraken closes idle connections after ~60 s. */
  pingIntervalMs: ms(20_000),
  /** A ping unanswered this long makes the connection `stale`. */
  pongTimeoutMs: ms(10_000),
  /** A book resync (unsubscribe + subscribe) that brings no snapshot within this long reconnects. */
  resyncTimeoutMs: ms(10_000),
  /** Opening handshake deadline. */
  connectTimeoutMs: ms(10_000),
  /** Reconnect backoff: full jitter over `min(cap, base * 2^n)` after the immediate retries. */
  backoffBaseMs: ms(1_000),
  backoffCapMs: ms(60_000),
  /** Reconnects made at once after a drop before backing off (Kraken: "a few times"). */
  immediateRetries: z.coerce.number().int().min(0).max(10).default(3),
  /** Least reconnect delay around maintenance (Kraken: no more often than every 5 s). */
  maintenanceRetryMs: ms(5_000),
  /** Force emulator mode on or off; by default an `x-emulator` HTTP header on the WebSocket URL decides. */
  emulator: z.union([z.boolean(), z.stringbool()]).optional(),
});

/** Validated Kraken feed configuration. */
export type KrakenConfig = z.infer<typeof krakenConfigSchema>;

/** Environment variable → config key. */
export const krakenEnv: Readonly<Record<string, string>> = {
  KRAKEN_WS_URL: "wsUrl",
  KRAKEN_BOOK_DEPTH: "bookDepth",
  KRAKEN_KLINE_INTERVAL: "klineInterval",
  KRAKEN_EMULATOR: "emulator",
};

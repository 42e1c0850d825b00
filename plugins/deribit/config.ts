/**
 * Configuration of the Deribit feed: a zod schema with every default (`parse({})`
 * gives the production settings) and the environment variables that feed it.
 * @module
 */
import { z } from "zod";

const ms = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
/** A comma-separated list, or the list itself (a parsed config is parsed again in the Worker). */
const csv = (fallback: string) =>
  z.union([
    z.string().transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)),
    z.array(z.string()),
  ]).default(fallback.split(","));

/** Zod schema of {@link DeribitConfig}; `parse({})` yields the production defaults. */
export const deribitConfigSchema = z.object({
  /** JSON-RPC 2.0 WebSocket endpoint (docs.deribit.com: `wss://www.deribit.com/ws/api/v2`). */
  wsUrl: z.string().default("wss://www.deribit.com/ws/api/v2").refine((value) => {
    try {
      return ["wss:", "ws:"].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, { message: "expected a wss or ws URL" }),
  /** Currencies whose instruments are listed (`public/get_instruments {currency}`). */
  currencies: csv("BTC,ETH").transform((l) => l.map((c) => c.toUpperCase())),
  /** Instrument kinds listed and selected: `option`, `future` (perpetuals are futures on Deribit). */
  kinds: csv("option,future").pipe(z.array(z.enum(["option", "future"])).min(1)),
  /**
   * Expiries streamed when no configured symbol names a Deribit instrument: Deribit date
   * codes (`27DEC26`) or a count `N` (the N nearest expiries). Default: the 2 nearest.
   */
  expiries: csv("2"),
  /** Option strikes streamed per expiry and type, the ones nearest the index. */
  strikesPerExpiry: z.coerce.number().int().min(1).default(8),
  /** Upper bound on streamed instruments (thousands are listed). */
  maxInstruments: z.coerce.number().int().min(1).default(100),
  /** Channels per `public/subscribe` call. */
  channelsPerSubscribe: z.coerce.number().int().min(1).max(500).default(50),
  /** Heartbeat interval asked with `public/set_heartbeat`, seconds (Deribit: at least 10). */
  heartbeatSec: z.coerce.number().min(0.05).default(10),
  /**
   * Deribit's credit limiter for non-matching-engine requests (support.deribit.com "Rate
   * Limits": 500 credits a request, a pool of 50 000, 10 000 refilled a second = 20
   * requests/s, bursts of 100).
   */
  credits: z.object({
    cost: z.coerce.number().positive().default(500),
    max: z.coerce.number().positive().default(50_000),
    refillPerSec: z.coerce.number().positive().default(10_000),
  }).prefault({}),
  /**
   * `public/subscribe` has its own limit (docs.deribit.com public/subscribe: "Sustained rate:
   * ~3.3 requests/second"; 3 000 credits a call from a pool of 30 000).
   */
  subscribeCredits: z.object({
    cost: z.coerce.number().positive().default(3_000),
    max: z.coerce.number().positive().default(30_000),
    refillPerSec: z.coerce.number().positive().default(10_000),
  }).prefault({}),
  /** The connection is `stale` (and replaced) after this long without any frame. */
  deadAfterMs: ms(30_000),
  /** A book resync that brings no snapshot within this long reconnects. */
  resyncTimeoutMs: ms(10_000),
  /** Requests (instruments, subscribe) unanswered this long reconnect. */
  requestTimeoutMs: ms(10_000),
  /** Opening handshake deadline. */
  connectTimeoutMs: ms(10_000),
  /** Reconnect backoff: full jitter over `min(cap, base * 2^n)`. */
  backoffBaseMs: ms(1_000),
  backoffCapMs: ms(60_000),
  /** True when the peer is the bundled emulator (set by `--demo` and the tests). */
  emulator: z.union([z.boolean(), z.stringbool()]).default(false),
});

/** Validated Deribit feed configuration. */
export type DeribitConfig = z.infer<typeof deribitConfigSchema>;

/** Environment variable → config key. */
export const deribitEnv: Readonly<Record<string, string>> = {
  DERIBIT_WS_URL: "wsUrl",
  DERIBIT_CURRENCIES: "currencies",
  DERIBIT_KINDS: "kinds",
  DERIBIT_EXPIRIES: "expiries",
  DERIBIT_STRIKES: "strikesPerExpiry",
  DERIBIT_MAX_INSTRUMENTS: "maxInstruments",
  DERIBIT_CHANNELS_PER_SUBSCRIBE: "channelsPerSubscribe",
  DERIBIT_HEARTBEAT_SEC: "heartbeatSec",
  DERIBIT_EMULATOR: "emulator",
};

/**
 * Gateway configuration from command-line flags and environment variables,
 * validated with zod. Flags win over the environment; every bad value yields one
 * clear message naming the setting.
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { CHANNELS } from "../events.ts";

const csv = (value: string) => value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);

const symbolList = z.string().transform(csv).pipe(
  z.array(
    z.string().regex(
      /^[A-Za-z0-9]{2,20}(\/[A-Za-z0-9]{2,20})?$/,
      "symbols look like BTCUSDT or BTC/USDT",
    ).transform((s) => s.toUpperCase()),
  ).min(1, "at least one symbol").max(1000),
);

/** URL schemes a plugin entry module may be loaded from (anything else is a local path). */
const PLUGIN_SCHEMES = ["file:", "https:", "http:", "npm:", "jsr:"];

const pluginSpecifier = z.string().refine((s) => !/\s/.test(s), "no spaces in a plugin specifier")
  .refine((s) => {
    const scheme = /^([a-z][a-z0-9+.-]+:)/i.exec(s)?.[1]?.toLowerCase();
    return scheme === undefined || PLUGIN_SCHEMES.includes(scheme);
  }, `expected a local path or a ${PLUGIN_SCHEMES.join(", ")} specifier`);

const boolish = z.union([z.boolean(), z.enum(["true", "false", "1", "0"])])
  .transform((v) => v === true || v === "true" || v === "1");

/** Schema of the core settings (plugin settings are validated by each plugin's own schema). */
export const coreConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  host: z.string().min(1).default("0.0.0.0"),
  symbols: symbolList.default(["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"]),
  exchanges: z.string().transform(csv).pipe(
    z.array(z.string().regex(/^[a-z0-9_-]+$/)).min(1),
  ).optional(),
  channels: z.string().transform(csv).pipe(
    z.array(z.enum(CHANNELS as [string, ...string[]])).min(1),
  ).default(["trade", "quote", "kline", "book"]),
  logLevel: z.enum(["debug", "info", "warning", "error"]).default("info"),
  logFormat: z.enum(["text", "json"]).default("text"),
  demo: boolish.default(false),
  /** Largest client frame accepted, bytes. */
  maxFrameBytes: z.coerce.number().int().min(256).max(16 * 1024 * 1024)
    .default(64 * 1024),
  /** Subscriptions (exchange × symbol × channel) one connection may hold. */
  maxSubscriptions: z.coerce.number().int().min(1).max(1_000_000).default(
    1000,
  ),
  /** Client messages per second before `rate_limited` errors. */
  maxClientMessagesPerSecond: z.coerce.number().int().min(1).default(50),
  /** Concurrent WebSocket clients. */
  maxClients: z.coerce.number().int().min(1).default(20_000),
  /** Per-client bytes queued in the socket before the slow-consumer policy applies. */
  highWaterMark: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** Trades queued for a slow client before it is disconnected. */
  maxQueuedTrades: z.coerce.number().int().min(1).default(10_000),
  /**
   * Bytes held for all clients together (socket buffers + backlogs) before the gateway
   * tightens the high-water mark (from half) and sheds the biggest holders (above); 0 = off.
   */
  memoryBudget: z.coerce.number().int().min(0).default(256 * 1024 * 1024),
  /** Idle WebSocket timeout, seconds (Deno pings at half of it). 0 disables. */
  idleTimeout: z.coerce.number().int().min(0).max(3600).default(60),
  /** Grace period for shutdown, ms. */
  shutdownGraceMs: z.coerce.number().int().min(0).default(2000),
  /** JSON file with plans and key hashes (read once at start; needs `--allow-read=<file>`). */
  authFile: z.string().min(1).optional(),
  /** `hash-or-key:plan` pairs, comma-separated. Secrets: never logged. */
  apiKeys: z.string().optional(),
  /** Admin keys (hashes or keys), comma-separated: may read `/metrics`. */
  adminKeys: z.string().optional(),
  /** Plans as JSON: `{"free":{"maxConnections":2,...}}`. */
  plans: z.string().optional(),
  /** Without keys: concurrent WebSocket connections per IP. */
  ipMaxConnections: z.coerce.number().int().min(1).default(200),
  /** Without keys: REST requests per minute per IP. */
  ipRestPerMinute: z.coerce.number().int().min(1).default(1200),
  /** Without keys: new WebSocket connections per minute per IP. */
  ipConnectsPerMinute: z.coerce.number().int().min(1).default(600),
  /** Apply the per-IP limits to loopback clients too (off: local tools are not limited). */
  ipLimitLoopback: boolish.default(false),
  /** Browser origins allowed for CORS and WebSocket `Origin`; empty = no CORS, any WS origin; `*` = any. */
  allowedOrigins: z.string().transform(csv).default([]),
  /**
   * Plugin entry modules loaded at start besides the shipped plugins (`PLUGINS`, comma-separated,
   * plus every `--plugin`): local paths (relative to the working directory), `file:`, `https:`,
   * `npm:` or `jsr:` specifiers.
   */
  plugins: z.array(pluginSpecifier).default([]),
  /** Who may read `/metrics`: `open`, `admin` (admin key), or `auto` (admin when an admin key exists, else like other routes). */
  metricsAccess: z.enum(["open", "admin", "auto"]).default("auto"),
  // --- Recording (issue #12): off unless RECORD_DIR is set (`--demo` records into a temp folder).
  /** Folder of the recording (one SQLite file per UTC day); unset = recording off. */
  recordDir: z.string().min(1).refine((s) => !s.includes("\0"), "no NUL in a path").optional(),
  /** Days of recording kept, counting today; unset = no age limit. */
  recordRetentionDays: z.coerce.number().int().min(1).max(36_500).optional(),
  /** Most bytes the recording may take on disk (oldest days deleted first); unset = no limit. */
  recordMaxBytes: z.coerce.number().int().min(1024 * 1024).optional(),
  // --- Client recovery (issue #13): every role.
  /** Seconds of recent trades, quotes and candles kept per stream for `since` recovery. */
  recoverySeconds: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Most items kept per stream for recovery (oldest dropped first). */
  recoveryMaxPerStream: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
  // --- Paper trading (issue #15): simulated venues, never a real order.
  /** Simulated trading on the live (and replayed) books: `false` turns it off. */
  paperEnabled: boolish.default(true),
  /** Starting balances of a paper account, `ASSET=amount,...`. */
  paperBalances: z.string().regex(
    /^[A-Z0-9]{1,16}=\d+(\.\d+)?(,[A-Z0-9]{1,16}=\d+(\.\d+)?)*$/,
    "ASSET=amount,... (e.g. USDT=100000,USD=100000,BTC=1)",
  ).default("USDT=100000,USD=100000,USDC=100000,BTC=1,ETH=10").transform((s) =>
    Object.fromEntries(
      s.split(",").map((p) => {
        const [asset, amount] = p.split("=");
        return [asset, Number(amount)];
      }),
    )
  ),
  /** Simulated one-way delay exchange event → client, ms. */
  paperMarketDataLatencyMs: z.coerce.number().min(0).max(60_000).default(0),
  /** Simulated one-way delay client order → venue, ms. */
  paperOrderLatencyMs: z.coerce.number().min(0).max(60_000).default(0),
  /** Paper order actions per second of a client without a key (plans set their own). */
  paperOrdersPerSecond: z.coerce.number().int().min(0).max(100_000).default(10),
  /** Open paper orders of a client without a key (plans set their own). */
  paperOpenOrders: z.coerce.number().int().min(0).max(100_000).default(200),
  /** Computes the order-flow analytics (`analytics` channel, `/api/analytics`); `false` turns them off. */
  analyticsEnabled: boolish.default(true),
  /** Least event time between two `analytics` frames of one symbol, ms (100: 10 frames/s). */
  analyticsIntervalMs: z.coerce.number().int().min(0).max(3_600_000).default(100),
  /** VPIN bucket volume, in base units, the same for every symbol; unset: from the calibration. */
  analyticsVpinBucketVolume: z.coerce.number().positive().finite().optional(),
  /**
   * Calibrates VPIN from the recording (RECORD_DIR, or REPLAY_DIR on an edge) at start and daily:
   * bucket volume 1/50 of the recorded daily volume, rank among the recorded VPIN values.
   */
  analyticsVpinCalibrate: boolish.default(true),
  // --- Scale-out (issue #13): roles and NATS.
  /** `all` (one process, no NATS), `ingest`, `edge` or `recorder`. */
  role: z.enum(["all", "ingest", "edge", "recorder"]).default("all"),
  /** NATS servers, comma-separated. */
  natsUrl: z.string().transform(csv).pipe(z.array(z.string().min(1)).min(1)).default([
    "nats://127.0.0.1:4222",
  ]),
  /** NATS credentials file (JWT + nkey seed). */
  natsCreds: z.string().min(1).optional(),
  natsUser: z.string().min(1).optional(),
  natsPass: z.string().min(1).optional(),
  natsToken: z.string().min(1).optional(),
  /** TLS: CA file, client certificate and key files (any set turns TLS on). */
  natsTlsCa: z.string().min(1).optional(),
  natsTlsCert: z.string().min(1).optional(),
  natsTlsKey: z.string().min(1).optional(),
  /** JetStream stream holding the market-data log. */
  natsStream: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("MD"),
  /** Age limit of the stream, seconds. */
  natsMaxAge: z.coerce.number().int().min(10).default(3600),
  /** Byte limit of the stream. */
  natsMaxBytes: z.coerce.number().int().min(1024 * 1024).default(1024 * 1024 * 1024),
  /** Where the stream keeps its messages. */
  natsStorage: z.enum(["file", "memory"]).default("file"),
  /** Ingest nodes of one group share one lease: one leader publishes, the others stand by. */
  ingestGroup: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("default"),
  /** Lease time-to-live, ms: a dead leader is replaced after about this long. */
  leaseTtlMs: z.coerce.number().int().min(500).max(600_000).default(3000),
  /** Seconds an edge keeps following a subject after its last client left. */
  edgeLingerSeconds: z.coerce.number().int().min(0).max(86_400).default(30),
  /** A recording folder this node reads but never writes (an edge reading the recorder's folder). */
  replayDir: z.string().min(1).refine((s) => !s.includes("\0"), "no NUL in a path").optional(),
  // --- Accounts (issue #16): users, sessions and API keys in one SQLite file.
  /** The accounts database file; unset = accounts off (`--demo`: in its temporary folder). */
  accountsDb: z.string().min(1).refine((s) => !s.includes("\0"), "no NUL in a path").optional(),
  /** The first admin, created at start when missing (needs ADMIN_PASSWORD and ACCOUNTS_DB). */
  adminUser: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/, "3 to 32 letters, digits, _ . -")
    .optional(),
  /** The first admin's password (8 to 256 characters). Secret: never logged. */
  adminPassword: z.string().min(8).max(256).optional(),
  /** A browser session unused this long ends, minutes. */
  sessionIdleMinutes: z.coerce.number().int().min(1).max(43_200).default(60),
  /** A browser session ends this long after sign-in whatever its use, hours. */
  sessionMaxHours: z.coerce.number().int().min(1).max(8_760).default(12),
});

/** Validated core configuration. */
export type CoreConfig = z.infer<typeof coreConfigSchema>;

/** Setting name → environment variable. */
const ENV: Record<keyof CoreConfig, string> = {
  port: "PORT",
  host: "HOST",
  symbols: "SYMBOLS",
  exchanges: "EXCHANGES",
  channels: "CHANNELS",
  logLevel: "LOG_LEVEL",
  logFormat: "LOG_FORMAT",
  demo: "DEMO",
  maxFrameBytes: "MAX_FRAME_BYTES",
  maxSubscriptions: "MAX_SUBSCRIPTIONS",
  maxClientMessagesPerSecond: "MAX_CLIENT_MESSAGES_PER_SECOND",
  maxClients: "MAX_CLIENTS",
  highWaterMark: "HIGH_WATER_MARK",
  maxQueuedTrades: "MAX_QUEUED_TRADES",
  memoryBudget: "MEMORY_BUDGET",
  idleTimeout: "IDLE_TIMEOUT",
  shutdownGraceMs: "SHUTDOWN_GRACE_MS",
  authFile: "AUTH_FILE",
  apiKeys: "API_KEYS",
  adminKeys: "ADMIN_KEYS",
  plans: "PLANS",
  ipMaxConnections: "IP_MAX_CONNECTIONS",
  ipRestPerMinute: "IP_REST_PER_MINUTE",
  ipConnectsPerMinute: "IP_CONNECTS_PER_MINUTE",
  ipLimitLoopback: "IP_LIMIT_LOOPBACK",
  allowedOrigins: "ALLOWED_ORIGINS",
  metricsAccess: "METRICS_ACCESS",
  plugins: "PLUGINS",
  recordDir: "RECORD_DIR",
  recordRetentionDays: "RECORD_RETENTION_DAYS",
  recordMaxBytes: "RECORD_MAX_BYTES",
  recoverySeconds: "RECOVERY_SECONDS",
  recoveryMaxPerStream: "RECOVERY_MAX_PER_STREAM",
  analyticsEnabled: "ANALYTICS_ENABLED",
  paperEnabled: "PAPER_ENABLED",
  paperBalances: "PAPER_BALANCES",
  paperMarketDataLatencyMs: "PAPER_MARKET_DATA_LATENCY_MS",
  paperOrderLatencyMs: "PAPER_ORDER_LATENCY_MS",
  paperOrdersPerSecond: "PAPER_ORDERS_PER_SECOND",
  paperOpenOrders: "PAPER_OPEN_ORDERS",
  analyticsIntervalMs: "ANALYTICS_INTERVAL_MS",
  analyticsVpinBucketVolume: "ANALYTICS_VPIN_BUCKET_VOLUME",
  analyticsVpinCalibrate: "ANALYTICS_VPIN_CALIBRATE",
  role: "ROLE",
  natsUrl: "NATS_URL",
  natsCreds: "NATS_CREDS",
  natsUser: "NATS_USER",
  natsPass: "NATS_PASS",
  natsToken: "NATS_TOKEN",
  natsTlsCa: "NATS_TLS_CA",
  natsTlsCert: "NATS_TLS_CERT",
  natsTlsKey: "NATS_TLS_KEY",
  natsStream: "NATS_STREAM",
  natsMaxAge: "NATS_MAX_AGE",
  natsMaxBytes: "NATS_MAX_BYTES",
  natsStorage: "NATS_STORAGE",
  ingestGroup: "INGEST_GROUP",
  leaseTtlMs: "LEASE_TTL_MS",
  edgeLingerSeconds: "EDGE_LINGER_SECONDS",
  replayDir: "REPLAY_DIR",
  accountsDb: "ACCOUNTS_DB",
  adminUser: "ADMIN_USER",
  adminPassword: "ADMIN_PASSWORD",
  sessionIdleMinutes: "SESSION_IDLE_MINUTES",
  sessionMaxHours: "SESSION_MAX_HOURS",
};

/** Setting name → command-line flag. */
const FLAG = (key: string) =>
  key === "plugins" ? "plugin" : key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

/** Raised for invalid settings; `message` lists every problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Everything parsed from flags and environment: core settings plus raw values for plugins. */
export interface LoadedConfig {
  core: CoreConfig;
  /** Environment variables (and `--set NAME=value` flags) for plugin schemas. */
  env: Record<string, string | undefined>;
}

/** Parses `args` and `env` into a validated configuration or throws {@link ConfigError}. */
export function loadConfig(
  args: readonly string[],
  env: Record<string, string | undefined>,
): LoadedConfig {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const key of Object.keys(ENV)) {
    options[FLAG(key)] = { type: key === "demo" ? "boolean" : "string" };
  }
  options[FLAG("plugins")] = { type: "string", multiple: true };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, set: { type: "string", multiple: true } },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new ConfigError(
      `bad command line: ${err instanceof Error ? err.message : err}`,
    );
  }
  const pluginEnv: Record<string, string | undefined> = { ...env };
  for (const pair of (parsed.values.set as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--set expects NAME=value, got "${pair}"`);
    pluginEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const input: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV)) {
    if (key === "plugins") continue;
    const flag = parsed.values[FLAG(key)];
    const value = flag ?? pluginEnv[name];
    if (value !== undefined && value !== "") input[key] = value;
  }
  // Plugins add up: every PLUGINS entry, then every --plugin (each may be a comma list too).
  const plugins = [
    ...csv(pluginEnv[ENV.plugins] ?? ""),
    ...((parsed.values[FLAG("plugins")] as string[] | undefined) ?? []).flatMap(csv),
  ];
  if (plugins.length > 0) input.plugins = [...new Set(plugins)];
  const result = coreConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      describeIssues(
        result.error,
        (key) => `${ENV[key as keyof CoreConfig] ?? key} (--${FLAG(key)})`,
      ),
    );
  }
  return { core: result.data, env: pluginEnv };
}

/** One line per zod issue: `SETTING: message`. */
export function describeIssues(
  error: z.ZodError,
  name: (key: string) => string = (k) => k,
): string {
  return "invalid configuration:\n" +
    error.issues.map((issue) =>
      `  ${issue.path.length ? name(String(issue.path[0])) : "(root)"}: ${issue.message}`
    ).join("\n");
}

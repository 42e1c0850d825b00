/**
 * Options of the Binance-compatible proxy, with Binance's own limits as
 * defaults where a limit exists.
 * @module
 */

/** Options of {@link createBinanceProxy}. Only the two upstream URLs are required. */
export interface BinanceProxyOptions {
  /** Upstream WebSocket base, e.g. `wss://stream.binance.com:9443` (connections go to `<wsUrl>/ws`). */
  wsUrl: string;
  /** Upstream REST base, e.g. `https://api.binance.com`. */
  restUrl: string;
  /** Path prefix on the gateway. Default `/binance`. */
  prefix?: string;
  /** Streams per upstream connection (Binance: at most 1024). */
  maxStreamsPerConnection?: number;
  /** Control messages per upstream connection per second (Binance disconnects above 5). Default 4. */
  controlMessagesPerSecond?: number;
  /** Stream names per upstream SUBSCRIBE / UNSUBSCRIBE message. Default 200. */
  maxParamsPerRequest?: number;
  /** Streams one downstream connection may hold (Binance: 1024). */
  clientMaxStreams?: number;
  /** Messages per second a downstream client may send before it is disconnected. Default 20 (Binance: 5). */
  clientMessagesPerSecond?: number;
  /** Deno `idleTimeout` of downstream sockets, s: a ping after half of it without inbound frames, close after all of it. Default 40. */
  clientIdleTimeoutSec?: number;
  /**
   * Downstream connections accepted at once. Default 10000. Every connection also counts
   * toward the gateway's `MAX_CLIENTS`, plan connection slots and memory budget.
   */
  maxClients?: number;
  /** Keep an upstream stream this long after its last downstream subscriber left, ms. Default 2000. */
  releaseDelayMs?: number;
  /** Longest a SUBSCRIBE reply waits for the upstream subscription to be confirmed, ms. Default 5000. */
  subscribeTimeoutMs?: number;
  /** Reconnect backoff (full jitter over `min(cap, base * 2^attempt)`), ms. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Opening handshake deadline of upstream connections, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Replace an upstream connection make-before-break after this long (Binance cuts at 24 h). */
  rotateAfterMs?: number;
  /** How long a replacement connection may take to confirm every stream, ms. Default 15000. */
  handoverTimeoutMs?: number;
  /** Upstream REST weight budget per minute (Binance: 6000 per IP). Default 5000. */
  restWeightPerMinute?: number;
  /** Cache lifetime of passed-through REST answers, ms. Default 1000. */
  restCacheMs?: number;
  /** Cache lifetime of `exchangeInfo`, ms. Default 60000. */
  exchangeInfoCacheMs?: number;
  /** Depth of the upstream snapshot behind each local book (Binance's procedure: 5000). */
  depthSnapshotLimit?: number;
  /** Longest `GET /api/v3/depth` waits for a local book that is (re)syncing, ms. Default 3000. */
  depthSyncWaitMs?: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
}

/** Options with every default filled in. */
export type ResolvedProxyOptions = Required<BinanceProxyOptions>;

/** Fills in the defaults. */
export function resolveProxyOptions(options: BinanceProxyOptions): ResolvedProxyOptions {
  return {
    wsUrl: options.wsUrl.replace(/\/+$/, ""),
    restUrl: options.restUrl.replace(/\/+$/, ""),
    prefix: (options.prefix ?? "/binance").replace(/\/+$/, ""),
    maxStreamsPerConnection: Math.min(1024, options.maxStreamsPerConnection ?? 1024),
    controlMessagesPerSecond: Math.min(5, options.controlMessagesPerSecond ?? 4),
    maxParamsPerRequest: options.maxParamsPerRequest ?? 200,
    clientMaxStreams: options.clientMaxStreams ?? 1024,
    clientMessagesPerSecond: options.clientMessagesPerSecond ?? 20,
    clientIdleTimeoutSec: options.clientIdleTimeoutSec ?? 40,
    maxClients: options.maxClients ?? 10_000,
    releaseDelayMs: options.releaseDelayMs ?? 2000,
    subscribeTimeoutMs: options.subscribeTimeoutMs ?? 5000,
    backoffBaseMs: options.backoffBaseMs ?? 500,
    backoffCapMs: options.backoffCapMs ?? 30_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    rotateAfterMs: options.rotateAfterMs ?? 23 * 3_600_000 + 50 * 60_000,
    handoverTimeoutMs: options.handoverTimeoutMs ?? 15_000,
    restWeightPerMinute: options.restWeightPerMinute ?? 5000,
    restCacheMs: options.restCacheMs ?? 1000,
    exchangeInfoCacheMs: options.exchangeInfoCacheMs ?? 60_000,
    depthSnapshotLimit: options.depthSnapshotLimit ?? 5000,
    depthSyncWaitMs: options.depthSyncWaitMs ?? 3000,
    fetch: options.fetch ?? fetch,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
  };
}

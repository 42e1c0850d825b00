/**
 * The Binance-compatible proxy as a gateway extension: Binance's public
 * market-stream protocol and market-data REST endpoints under one path
 * prefix, fanned out from one upstream subscription per stream.
 * @module
 */
import type {
  AdmissionRefusal,
  ExtensionContext,
  FeedLogger,
  GatewayExtension,
} from "../../../mod.ts";
import { getLogger } from "@logtape/logtape";
import { attachClient, type DownstreamClient } from "./client.ts";
import { channelOf, parseStreamName } from "./stream_names.ts";
import { isStreamPath, parseClientUrl } from "./client_url.ts";
import { createDepthBooks } from "./depth_books.ts";
import { type BinanceProxyOptions, resolveProxyOptions } from "./options.ts";
import { createRestRoutes } from "./rest_routes.ts";
import { createStreamHub, type StreamHub } from "./stream_hub.ts";
import { createUpstreamRest } from "./upstream_rest.ts";

/** Counters of a running proxy. */
export interface BinanceProxyStats {
  /** Downstream WebSocket clients now. */
  clients: number;
  /** Upstream WebSocket connections open or opening. */
  upstreamConnections: number;
  /** Streams held upstream (both time units). */
  upstreamStreams: number;
  /** Upstream reconnects and make-before-break handovers so far. */
  reconnects: number;
  handovers: number;
  /** REST weight used upstream in the current minute. */
  restWeight: number;
}

/** The proxy: a {@link GatewayExtension} plus its counters. */
export interface BinanceProxy extends GatewayExtension {
  stats(): BinanceProxyStats;
}

const JSON_TYPE = "application/json;charset=UTF-8";

/** The exchange a plan must include for its key to use the proxy. */
const PROXIED_EXCHANGE = "binance";

/** Binance's error code for each refusal status of the gateway's admission. */
const BINANCE_CODES: Record<number, number> = {
  400: -1100, // ILLEGAL_CHARS / bad request
  401: -2015, // Invalid API-key, IP, or permissions for action.
  403: -2015,
  426: -1000,
  429: -1003, // TOO_MANY_REQUESTS
  503: -1008, // SERVER_BUSY
};

/** The gateway's refusal in Binance's `{code, msg}` shape (our stable code in the message). */
function binanceRefusal(refusal: AdmissionRefusal): Response {
  return new Response(
    JSON.stringify({
      code: BINANCE_CODES[refusal.status] ?? -1000,
      msg: `${refusal.message} (${refusal.code})`,
    }),
    { status: refusal.status, headers: { ...refusal.headers, "content-type": JSON_TYPE } },
  );
}

/** Creates the proxy; nothing connects upstream until a client asks for a stream. */
export function createBinanceProxy(options: BinanceProxyOptions): BinanceProxy {
  const o = resolveProxyOptions(options);
  const logger = getLogger(["quant-saas", "binance-proxy"]);
  const log: FeedLogger = {
    debug: (m, p) => logger.debug(m, p),
    info: (m, p) => logger.info(m, p),
    warn: (m, p) => logger.warn(m, p),
    error: (m, p) => logger.error(m, p),
  };
  const backoff = { baseMs: o.backoffBaseMs, capMs: o.backoffCapMs };
  const rest = createUpstreamRest({
    baseUrl: o.restUrl,
    weightPerMinute: o.restWeightPerMinute,
    fetch: o.fetch,
    now: o.now,
  });
  const books = createDepthBooks({
    rest,
    snapshotLimit: o.depthSnapshotLimit,
    backoff,
    now: o.now,
    random: o.random,
    log,
  });
  const hubs = new Map<1 | 1000, StreamHub>();
  const hubFor = (tm: 1 | 1000): StreamHub => {
    let hub = hubs.get(tm);
    if (!hub) {
      hub = createStreamHub({
        timeMultiplier: tm,
        books,
        releaseDelayMs: o.releaseDelayMs,
        pool: {
          url: `${o.wsUrl}/ws${tm === 1000 ? "?timeUnit=MICROSECOND" : ""}`,
          maxStreamsPerConnection: o.maxStreamsPerConnection,
          controlMessagesPerSecond: o.controlMessagesPerSecond,
          maxParamsPerRequest: o.maxParamsPerRequest,
          connectTimeoutMs: o.connectTimeoutMs,
          backoff,
          rotateAfterMs: o.rotateAfterMs,
          handoverTimeoutMs: o.handoverTimeoutMs,
          now: o.now,
          random: o.random,
          log,
        },
      });
      hubs.set(tm, hub);
    }
    return hub;
  };
  const routes = createRestRoutes({
    rest,
    books,
    cacheMs: o.restCacheMs,
    exchangeInfoCacheMs: o.exchangeInfoCacheMs,
    depthSyncWaitMs: o.depthSyncWaitMs,
    now: o.now,
  });
  const clients = new Set<DownstreamClient>();
  let closing = false;

  const error = (status: number, code: number, msg: string): Response =>
    new Response(JSON.stringify({ code, msg }), {
      status,
      headers: { "content-type": JSON_TYPE },
    });

  /**
   * Admission is the gateway's (`ctx.admit`: plan connection slot, channel and
   * subscription limits, `MAX_CLIENTS`, memory budget, slow-consumer policy); only
   * the refusal's shape is Binance's.
   */
  const acceptStream = async (
    req: Request,
    path: string,
    url: URL,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    ctx: ExtensionContext,
  ): Promise<Response> => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return error(426, -1000, "This endpoint takes a WebSocket upgrade.");
    }
    if (closing) return error(503, -1008, "Service unavailable: the gateway is shutting down.");
    if (clients.size >= o.maxClients) {
      return error(503, -1008, `Service unavailable: client limit ${o.maxClients} reached.`);
    }
    const target = parseClientUrl(path, url.searchParams, o.clientMaxStreams);
    if (!target.ok) {
      return new Response(target.body, {
        status: target.status,
        headers: { "content-type": JSON_TYPE },
      });
    }
    const channels = new Set(target.streams.map((s) => channelOf(parseStreamName(s)!.kind)));
    // Read before the upgrade: the request is consumed by it. Reading every header
    // also caches them, so the host may still look at them after the upgrade.
    const remote = `${info.remoteAddr.hostname}:${info.remoteAddr.port}`;
    for (const _ of req.headers) { /* materialize */ }
    // The client exists once admitted; the admission's hooks reach it through this.
    const attached: { client?: DownstreamClient } = {};
    const admitted = await ctx.admit(req, info, {
      exchanges: [PROXIED_EXCHANGE],
      channels: [...channels],
      subscriptions: target.streams.length,
      idleTimeout: o.clientIdleTimeoutSec,
      refuse: binanceRefusal,
      // Binance has no slow-consumer message: the connection just closes (1008).
      slowConsumerFrame: null,
      onGone: () => attached.client?.gone(),
      onShutdown: () => attached.client?.shutdown(),
    });
    if (admitted instanceof Response) return admitted;
    const client = attached.client = attachClient({
      connection: admitted,
      streams: target.streams,
      combined: target.combined,
      hub: hubFor(target.timeMultiplier),
      limits: {
        maxStreams: Math.min(o.clientMaxStreams, admitted.access.maxSubscriptions),
        messagesPerSecond: Math.min(o.clientMessagesPerSecond, admitted.access.messagesPerSecond),
        subscribeTimeoutMs: o.subscribeTimeoutMs,
      },
      remote,
      onGone: (c) => clients.delete(c),
    });
    clients.add(client);
    return admitted.response;
  };

  return {
    prefix: o.prefix,
    handle(req, info, ctx) {
      const url = new URL(req.url);
      const path = url.pathname.slice(o.prefix.length) || "/";
      if (isStreamPath(path)) return acceptStream(req, path, url, info, ctx);
      if (path.startsWith("/api/")) return routes(req.method, path, url.searchParams);
      return error(404, -1000, `Unknown path: ${url.pathname}`);
    },
    stats() {
      let upstreamConnections = 0, upstreamStreams = 0, reconnects = 0, handovers = 0;
      for (const hub of hubs.values()) {
        upstreamConnections += hub.connectionCount();
        upstreamStreams += hub.streamCount();
        const s = hub.pool.stats();
        reconnects += s.reconnects;
        handovers += s.handovers;
      }
      return {
        clients: clients.size,
        upstreamConnections,
        upstreamStreams,
        reconnects,
        handovers,
        restWeight: rest.usedWeight(),
      };
    },
    async close() {
      if (closing) return;
      closing = true;
      for (const client of [...clients]) client.shutdown();
      await Promise.all([...hubs.values()].map((hub) => hub.close()));
      hubs.clear();
      books.close();
      rest.close();
    },
  };
}

/**
 * Assembles a gateway: feeds (one Worker per plugin) → hub → books, market
 * state and fan-out → WebSocket clients, plus the REST endpoints, on one
 * `Deno.serve` listener.
 * @module
 */
import type { Channel } from "../events.ts";
import type { CoreConfig } from "./config.ts";
import { type Client, createClient, createDelivery } from "../delivery/policy.ts";
import { type BudgetState, createMemoryBudget } from "../delivery/budget.ts";
import { createBooks } from "../books/books.ts";
import { createCatalog } from "../market/catalog.ts";
import { createConsolidator } from "../books/consolidated.ts";
import { type FeedSpec, startFeeds } from "../ingest/supervisor.ts";
import { createHub } from "../ingest/hub.ts";
import { createHttp, httpError } from "./rest.ts";
import { createMarketState } from "../market/state.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createSessions } from "../delivery/session.ts";
import { createStreamIndex } from "../delivery/subscriptions.ts";
import { errorFrame } from "../protocol/messages.ts";
import { getLogger } from "./log.ts";
import { AuthConfigError, createKeyStore, type KeyStore } from "../access/keys.ts";
import { createAccessGate } from "../access/gate.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** A running gateway. */
export interface Gateway {
  /** Bound port. */
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  readonly metrics: Metrics;
  /** Connected clients now. */
  clientCount(): number;
  /** Graceful shutdown: close frames to clients, clean feed stop, listener closed. */
  close(): Promise<void>;
}

/**
 * Extra endpoints mounted under a path prefix (e.g. `/binance` for the
 * Binance-compatible proxy). The extension owns everything below its prefix.
 */
export interface GatewayExtension {
  /** Path prefix, e.g. `/binance`; requests to it and below go to `handle`. */
  readonly prefix: string;
  handle(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response>;
  /** Called on shutdown. */
  close?(): Promise<void>;
}

/** Everything a gateway is built from. */
export interface GatewayOptions {
  config: CoreConfig;
  /** One spec per exchange feed. */
  feeds: FeedSpec[];
  /** Extra endpoint groups under their own prefixes. */
  extensions?: GatewayExtension[];
}

/** How often the memory budget samples every socket (one cheap read each), ms. */
const BUDGET_SAMPLE_MS = 250;

/** Starts a gateway and resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const store = await loadKeyStore(config);
  const gate = createAccessGate(store, config);
  const log = getLogger(["quant-saas", "gateway"]);
  const startedAt = Date.now();
  const metrics = createMetrics();
  const clients = new Set<Client>();
  let nextClientId = 1;

  /** Sockets the gateway closed whose close has not completed (a peer that does not read). */
  const lingering = new Set<Client>();
  const disconnect = (client: Client, code: number, reason: string, detail?: string) => {
    if (client.closing) return;
    client.closing = true;
    const message = detail ??
      (reason === "slow_consumer"
        ? `backlog exceeded ${config.maxQueuedTrades} trades; disconnecting`
        : undefined);
    if (reason === "slow_consumer" && client.socket.readyState === WebSocket.OPEN) {
      // Best effort: the socket may be too full for this frame to leave.
      try {
        client.socket.send(errorFrame("slow_consumer", message!));
      } catch { /* closed */ }
    }
    log.warning("disconnecting client {id} ({remote}): {reason}{detail}", {
      id: client.id,
      remote: client.remote,
      reason,
      detail: message ? ` (${message})` : "",
    });
    if (client.socket.readyState !== WebSocket.CLOSED) lingering.add(client);
    try {
      client.socket.close(code, reason);
    } catch { /* already closed */ }
    sessions.onClose(client);
    clients.delete(client);
    metrics.clients.set(clients.size);
  };

  const delivery = createDelivery(
    { highWaterMark: config.highWaterMark, maxQueuedTrades: config.maxQueuedTrades },
    disconnect,
  );
  const budget = createMemoryBudget(
    { budget: config.memoryBudget, highWaterMark: config.highWaterMark },
    delivery,
    (client, detail) => {
      metrics.budgetDisconnects.inc();
      disconnect(client, 1008, "slow_consumer", detail);
    },
  );
  let lastPressure: BudgetState["pressure"] = "normal";
  const budgetTimer = config.memoryBudget > 0
    ? setInterval(() => {
      const state = budget.sample(clients, lingering);
      metrics.heldBytes.set(state.held);
      if (state.pressure !== lastPressure) {
        const level = state.pressure === "normal" ? "info" : "warning";
        log[level](
          "memory budget: {pressure} ({held} of {budget} bytes held for clients, {lingering} in closing sockets; high-water mark {hwm})",
          {
            pressure: state.pressure,
            held: state.held,
            budget: state.budget,
            lingering: state.lingering,
            hwm: state.highWaterMark,
          },
        );
        lastPressure = state.pressure;
      }
    }, BUDGET_SAMPLE_MS)
    : undefined;
  const index = createStreamIndex();
  const market = createMarketState();
  const configured: Record<string, string[]> = {};
  for (const spec of options.feeds) configured[spec.plugin.name] = spec.symbols;
  const catalog = createCatalog(configured);
  const books = createBooks(delivery, (update, reason) => {
    log.error("rejected book update {exchange} {symbol}: {reason}", {
      exchange: update.exchange,
      symbol: update.symbol,
      reason,
    });
  }, catalog.unified);
  const consolidator = createConsolidator(catalog, books, market);
  const hub = createHub({
    index,
    books,
    market,
    catalog,
    delivery,
    clients,
    metrics,
    consolidator,
  });
  const feeds = startFeeds(
    options.feeds,
    hub.onItem,
    hub.onState,
    (_exchange, ms) => metrics.fanoutLatency.observe(ms / 1000),
  );

  let reported = { delivered: 0, conflated: 0, slow: 0 };
  const syncCounters = () => {
    const s = delivery.stats;
    metrics.messagesOut.inc(s.delivered - reported.delivered);
    metrics.conflated.inc(s.conflated - reported.conflated);
    metrics.slowDisconnects.inc(s.slowDisconnects - reported.slow);
    reported = { delivered: s.delivered, conflated: s.conflated, slow: s.slowDisconnects };
  };

  const sessions = createSessions({
    index,
    books,
    catalog,
    delivery,
    limits: config,
    consolidatedFrame: (unified) => {
      const quote = consolidator.get(unified);
      return quote ? JSON.stringify(quote) : undefined;
    },
    statusFrame: (exchange) => {
      const info = feeds.get(exchange);
      return info ? hub.statusFrame(info) : undefined;
    },
    disconnect,
    countError: (code) => metrics.clientErrors.inc({ code }),
    now: () => Date.now(),
  });

  const http = createHttp({
    name: "quant-saas",
    version: denoJson.version,
    startedAt,
    feeds,
    books,
    market,
    catalog,
    metrics,
    consolidator,
    clientCount: () => clients.size,
    delivery: () => ({ ...budget.state(), backlogged: delivery.backlogged() }),
    symbols: config.symbols,
    channels: config.channels as Channel[],
  });

  let shuttingDown = false;
  const upgrade = async (req: Request, url: URL, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return httpError(426, "upgrade_required", "GET /ws with a WebSocket upgrade");
    }
    if (shuttingDown) return httpError(503, "shutting_down", "the gateway is shutting down");
    if (clients.size >= config.maxClients) {
      return httpError(503, "server_busy", `client limit ${config.maxClients} reached`);
    }
    if (budget.overloaded()) {
      metrics.clientErrors.inc({ code: "overloaded" });
      return httpError(
        503,
        "overloaded",
        "the gateway's memory budget for client buffers is exhausted; retry later",
        { "retry-after": "5" },
      );
    }
    const admitted = await gate.websocket(req, url, info.remoteAddr.hostname);
    if (admitted instanceof Response) {
      const body = await admitted.clone().json().catch(() => ({}));
      metrics.clientErrors.inc({ code: body?.error?.code ?? "refused" });
      return admitted;
    }
    const remote = `${info.remoteAddr.hostname}:${info.remoteAddr.port}`;
    let upgraded: ReturnType<typeof Deno.upgradeWebSocket>;
    try {
      // Deno's own `protocol` option splits the offer on ", " only and refuses
      // `quant-saas,bearer.…` (what Node's `ws` sends); the gate parsed the offer as
      // RFC 6455's token list, so the selected one is set on the response here.
      upgraded = Deno.upgradeWebSocket(req, { idleTimeout: config.idleTimeout });
      if (admitted.protocol !== undefined) {
        upgraded.response.headers.set("sec-websocket-protocol", admitted.protocol);
      }
    } catch (err) {
      admitted.release();
      return httpError(400, "bad_upgrade", err instanceof Error ? err.message : String(err));
    }
    const { socket, response } = upgraded;
    const batch = url.searchParams.get("batch");
    const client = createClient(
      nextClientId++,
      socket,
      remote,
      batch === "1" || batch === "true",
      admitted.access,
    );
    socket.onopen = () => {
      clients.add(client);
      metrics.clients.set(clients.size);
      budget.clientsChanged(clients.size);
    };
    socket.onmessage = (e) => {
      metrics.clientFrames.inc();
      sessions.onMessage(client, e.data);
    };
    socket.onclose = () => {
      lingering.delete(client);
      admitted.release();
      client.closing = true;
      sessions.onClose(client);
      clients.delete(client);
      metrics.clients.set(clients.size);
      budget.clientsChanged(clients.size);
    };
    socket.onerror = () => {};
    return response;
  };

  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: () => {},
  }, async (req, rawInfo) => {
    const info = rawInfo as Deno.ServeHandlerInfo<Deno.NetAddr>;
    const url = new URL(req.url);
    if (url.pathname === "/ws") return upgrade(req, url, info);
    const origin = req.headers.get("origin");
    const preflight = gate.preflight(req);
    if (preflight) return preflight;
    const refused = await gate.rest(req, url, info.remoteAddr.hostname);
    if (refused) return gate.cors(origin, refused);
    for (const ext of options.extensions ?? []) {
      if (url.pathname === ext.prefix || url.pathname.startsWith(ext.prefix + "/")) {
        return gate.cors(origin, await ext.handle(req, info));
      }
    }
    if (url.pathname === "/metrics") syncCounters();
    return gate.cors(origin, await http(req, url));
  });
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname === "0.0.0.0" ? "localhost" : addr.hostname;
  log.info("Quant-SaaS listening on http://{host}:{port} (WebSocket /ws)", {
    host,
    port: addr.port,
  });

  return {
    port: addr.port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`,
    metrics,
    clientCount: () => clients.size,
    async close() {
      if (shuttingDown) return;
      shuttingDown = true;
      log.info("shutting down: closing {clients} clients and {feeds} feeds", {
        clients: clients.size,
        feeds: options.feeds.length,
      });
      for (const client of [...clients]) {
        client.closing = true;
        try {
          client.socket.close(1001, "shutting_down");
        } catch { /* closed */ }
      }
      await feeds.stop(config.shutdownGraceMs);
      for (const ext of options.extensions ?? []) await ext.close?.();
      delivery.close();
      clearInterval(budgetTimer);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        server.shutdown(),
        new Promise((r) => timer = setTimeout(r, config.shutdownGraceMs)),
      ]);
      clearTimeout(timer);
      clients.clear();
    },
  };
}

/** Reads the auth file (if configured) and builds the key store; secrets are never logged. */
async function loadKeyStore(config: CoreConfig): Promise<KeyStore> {
  const log = getLogger(["quant-saas", "auth"]);
  let file: string | undefined;
  if (config.authFile !== undefined) {
    try {
      file = await Deno.readTextFile(config.authFile);
    } catch (err) {
      throw new AuthConfigError(
        `cannot read AUTH_FILE ${config.authFile}: ${err instanceof Error ? err.message : err}` +
          " (grant --allow-read=<that file>)",
      );
    }
  }
  const store = await createKeyStore({
    file,
    apiKeys: config.apiKeys,
    adminKeys: config.adminKeys,
    plans: config.plans,
  });
  log.info(
    store.required
      ? "API keys required (admin key: {admin})"
      : "no API keys configured: open access with per-IP limits",
    { admin: store.hasAdmin },
  );
  return store;
}

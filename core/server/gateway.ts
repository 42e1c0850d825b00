/**
 * Assembles a gateway: feeds (one Worker per plugin) → hub → books, market
 * state and fan-out → WebSocket clients, plus the REST endpoints, on one
 * `Deno.serve` listener.
 * @module
 */
import { createOptionsBoard } from "../options/board.ts";
import { createOptionsFeed } from "./options_feed.ts";
import { paperOver } from "./paper.ts";
import type { Channel } from "../events.ts";
import type { CoreConfig } from "./config.ts";
import { type Client, createDelivery } from "../delivery/policy.ts";
import { type BudgetState, createMemoryBudget } from "../delivery/budget.ts";
import { type Books, createBooks } from "../books/books.ts";
import { createCatalog } from "../market/catalog.ts";
import { createConsolidator } from "../books/consolidated.ts";
import { type FeedInfo, type Feeds, type FeedSpec, startFeeds } from "../ingest/supervisor.ts";
import type { FeedItem } from "../feed/messages.ts";
import { createRecentLog, type RecentLog } from "../recovery/recent_log.ts";
import { createHub } from "../ingest/hub.ts";
import { createHubTaps, type HubTaps } from "../ingest/taps.ts";
import { createHttp, httpError, json } from "./rest.ts";
import { createAppStatic } from "./app_static.ts";
import { createMarketState } from "../market/state.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createSessions } from "../delivery/session.ts";
import {
  createSubscriptions,
  sourceStreams,
  streamId,
  type StreamKey,
} from "../delivery/subscriptions.ts";
import { consolidatedFrame } from "../protocol/frames.ts";
import { getLogger } from "./log.ts";
import { AuthConfigError, createKeyStore, type KeyStore } from "../access/keys.ts";
import { createAccessGate } from "../access/gate.ts";
import { type AdmitOptions, type AdmittedConnection, createAdmission } from "./admission.ts";
import { createReplayEndpoint, type ReplaySource } from "../replay/session.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { type Recording, startRecording } from "./recording.ts";
import type { HistorySource } from "./history_routes.ts";
import { createVpinCalibrationStore, startVpinCalibrator } from "./vpin_calibrator.ts";
import type { HubAnalyticsOptions } from "../ingest/hub.ts";
import { type Accounts, openAccounts } from "../accounts/open.ts";
import { type AccountRoutes, accountsOffRoutes, createAccountRoutes } from "../accounts/routes.ts";

/** A running gateway. */
export interface Gateway {
  /** Bound port. */
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  readonly metrics: Metrics;
  /** Connected clients now. */
  clientCount(): number;
  /** Observers of every item the hub handles, numbered in hub order (recorder, replays). */
  readonly taps: HubTaps;
  /** The order books as the hub keeps them (an ingest node publishes their snapshots). */
  readonly books: Pick<Books, "get" | "snapshot" | "entries">;
  /** The feeds' state, as `/health` reports it. */
  readonly feeds: Pick<Feeds, "info" | "get">;
  /** Calls `listener` on every feed state change (after the hub handled it); returns its removal. */
  onFeedState(listener: (info: FeedInfo) => void): () => void;
  /** The recent items of every stream (`since` recovery). */
  readonly recent: RecentLog;
  /** The epoch of the positions in this gateway's frames. */
  epoch(): string;
  /** The recording (RECORD_DIR), when on: readers of the past and the flushed sequence. */
  readonly recording?: Recording;
  /** Graceful shutdown: close frames to clients, clean feed stop, listener closed. */
  close(): Promise<void>;
}

/**
 * What the gateway offers an extension while it handles a request.
 *
 * @example
 * ```ts
 * import type { ExtensionContext } from "@quant-saas/gateway";
 *
 * async function handleUpgrade(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>, ctx: ExtensionContext) {
 *   const admitted = await ctx.admit(req, info, { channels: ["trade"], subscriptions: 1 });
 *   if (admitted instanceof Response) return admitted; // refused: 4xx/503 with a JSON body
 *   admitted.socket.onopen = () => admitted.send(JSON.stringify({ hello: "world" }));
 *   return admitted.response;
 * }
 * ```
 */
export interface ExtensionContext {
  /**
   * Admits and upgrades a WebSocket request through the gateway's one admission
   * (plan checks, `MAX_CLIENTS`, memory budget, slow-consumer policy), or refuses
   * it in the shape `options.refuse` gives. The only way an extension may upgrade.
   */
  admit(
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    options?: AdmitOptions,
  ): Promise<AdmittedConnection | Response>;
}

/**
 * Extra endpoints mounted under a path prefix (e.g. `/binance` for the
 * Binance-compatible proxy). The extension owns everything below its prefix.
 * Plain requests pass the gateway's REST gate first; WebSocket upgrades go through
 * `ctx.admit` (a request answered without it passes the REST gate).
 *
 * @example
 * ```ts
 * import type { GatewayExtension } from "@quant-saas/gateway";
 *
 * const hello: GatewayExtension = {
 *   prefix: "/hello",
 *   handle: () => Response.json({ hello: "world" }),
 * };
 * ```
 */
export interface GatewayExtension {
  /** Path prefix, e.g. `/binance`; requests to it and below go to `handle`. */
  readonly prefix: string;
  /** Answers one request below the prefix; `ctx.admit` upgrades WebSockets. */
  handle(
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    ctx: ExtensionContext,
  ): Response | Promise<Response>;
  /** Called on shutdown. */
  close?(): Promise<void>;
}

/** Where a gateway's {@link ItemSource} hands items and feed states. */
export interface SourceHandlers {
  /**
   * One item. Without `at` (plugins) the hub numbers it (`seq` from the taps, `prev` from
   * the stream's last item); with `at` (an edge) it keeps the ingest's `seq` and `prev`.
   */
  onItem(exchange: string, item: FeedItem, at?: { seq: number; prev: number }): void;
  /** A feed's state changed. */
  onState(info: FeedInfo): void;
}

/** What feeds a gateway: its plugins (default) or, on an edge, the NATS log. */
export interface ItemSource extends Feeds {
  /** The lineage of the positions (`seq`) of the items it delivers. */
  epoch(): string;
  /** First subscriber of a stream arrived (open) / last one left (!open). */
  interest?(stream: StreamKey, open: boolean): void;
  /** Before a `since` subscribe is answered: make the recent log cover `since` for these streams. */
  prepareRecovery?(streams: StreamKey[], since: number): Promise<void>;
}

/** Everything a gateway is built from. */
export interface GatewayOptions {
  config: CoreConfig;
  /** One spec per exchange feed. */
  feeds: FeedSpec[];
  /** Extra endpoint groups under their own prefixes. */
  extensions?: GatewayExtension[];
  /** Hub sequence number to continue from (a recording folder's last); default 0. */
  startSeq?: number;
  /** What `/api/history/*` reads besides this gateway's own recording (an edge: REPLAY_DIR). */
  historySource?: HistorySource;
  /** The recording `/replay` reads; without it `/replay` answers 503 `recording_off`. */
  replaySource?: ReplaySource;
  /** Live items a splicing replay may hold while it catches up (default 200,000). */
  replaySpliceBufferItems?: number;
  /**
   * Replaces the plugin feeds (`feeds` are then only the configured exchanges and symbols):
   * an edge's NATS source. Default: a Worker per feed spec, with an epoch random per start.
   */
  source?: (handlers: SourceHandlers, recent: RecentLog) => ItemSource;
  /**
   * `false` on ingest and recorder nodes: `/ws`, `/replay` and extension routes answer 404
   * `not_served`; REST (`/health`, `/metrics`, ...) is still served. Default true.
   */
  serveClients?: boolean;
  /** Extra state a node reports in `/health` as `scale`. */
  health?: () => object;
}

/** How often the memory budget samples every socket (one cheap read each), ms. */
const BUDGET_SAMPLE_MS = 250;

/** How often the recent log drops expired items of streams that went quiet, ms. */
const RECENT_SWEEP_MS = 10_000;

/** A fresh epoch for a process start (the plugins' positions start a new lineage). */
const processEpoch = () => crypto.randomUUID().replaceAll("-", "").slice(0, 16);

/** Starts a gateway and resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const configuredKeys = await loadKeyStore(config);
  // Accounts (ACCOUNTS_DB): users' keys join the configured ones.
  const accounts = await loadAccounts(config, configuredKeys);
  const store = accounts?.keys ?? configuredKeys;
  const gate = createAccessGate(store, config);
  const log = getLogger(["quant-saas", "gateway"]);
  const startedAt = Date.now();
  const metrics = createMetrics();
  /** Slow-consumer and budget disconnects go through the admission (defined below). */
  const disconnect = (client: Client, code: number, reason: string, detail?: string) =>
    admission.disconnect(client, code, reason, detail);

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
  const admission = createAdmission({
    gate,
    delivery,
    budget,
    metrics,
    maxClients: config.maxClients,
    idleTimeout: config.idleTimeout,
    slowConsumerMessage: `backlog exceeded ${config.maxQueuedTrades} trades; disconnecting`,
    log,
  });
  const { clients, lingering } = admission;
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
  // The source is created below (it needs the hub); interest and epoch reach it through these.
  let source: ItemSource | undefined;
  // Who needs a stream on the live side: /ws subscribers (as one) and live-continuing replays.
  const interested = new Map<string, number>();
  const retain = (stream: StreamKey) => {
    const id = streamId(stream.channel, stream.exchange, stream.symbol);
    const n = (interested.get(id) ?? 0) + 1;
    interested.set(id, n);
    if (n === 1) source?.interest?.(stream, true);
  };
  const unretain = (stream: StreamKey) => {
    const id = streamId(stream.channel, stream.exchange, stream.symbol);
    const n = (interested.get(id) ?? 0) - 1;
    if (n > 0) return void interested.set(id, n);
    interested.delete(id);
    if (n === 0) source?.interest?.(stream, false);
  };
  // The analytics of a symbol are computed from its trades and book: a source follows those.
  const subscriptions = createSubscriptions(
    books,
    (stream, open) => {
      for (const s of sourceStreams(stream)) open ? retain(s) : unretain(s);
    },
  );
  const consolidator = createConsolidator(catalog, books, market);
  const recent = createRecentLog({
    seconds: config.recoverySeconds,
    maxPerStream: config.recoveryMaxPerStream,
  });
  const recentSweep = setInterval(() => recent.sweep(), RECENT_SWEEP_MS);
  const epoch = () => source?.epoch() ?? "";
  // VPIN calibration (RECORD_DIR, or REPLAY_DIR on an edge): filled in the background below.
  const calibrations = createVpinCalibrationStore();
  const analyticsOptions: HubAnalyticsOptions = {
    enabled: config.analyticsEnabled,
    intervalMs: config.analyticsIntervalMs,
    vpinBucketVolume: config.analyticsVpinBucketVolume,
    vpinCalibration: calibrations.get,
  };
  const hub = createHub({
    subscriptions,
    books,
    market,
    catalog,
    delivery,
    metrics,
    consolidator,
    recent,
    epoch,
    analytics: analyticsOptions,
  });
  // Recording (RECORD_DIR): a tap on the hub; numbering continues after the folder's last item.
  const recording = config.recordDir === undefined ? undefined : startRecording({
    dir: config.recordDir,
    retentionDays: config.recordRetentionDays,
    maxBytes: config.recordMaxBytes,
    log: getLogger(["quant-saas", "recording"]),
    registry: metrics.registry,
  });
  const taps = createHubTaps(
    Math.max(options.startSeq ?? 0, recording?.startSeq ?? 0),
    (err) => log.error("a hub tap failed: {error}", { error: String(err) }),
  );
  if (recording) taps.add(recording.tap);
  const calibrationSource = recording ?? options.historySource;
  const calibrator = config.analyticsEnabled && config.analyticsVpinCalibrate && calibrationSource
    ? startVpinCalibrator({
      store: calibrations,
      history: () => calibrationSource.history(),
      exchanges: Object.keys(configured),
      configuredBucketVolume: config.analyticsVpinBucketVolume,
      apply: hub.calibrateVpin,
      log,
    })
    : undefined;
  const feedListeners = new Set<(info: FeedInfo) => void>();
  // Paper trading (issue #15): simulated venues on the live books; nothing reaches an exchange.
  const paper = config.paperEnabled
    ? paperOver(config, catalog, books, delivery, Date.now, false, metrics)
    : undefined;
  // Options (issue #17): each option quote to the board, `options` frames to their subscribers.
  const optionsBoard = createOptionsBoard(catalog);
  const optionsFeed = createOptionsFeed({
    board: optionsBoard,
    subscriptions,
    delivery,
    now: Date.now,
  });
  // Venue time moves on in a quiet market too: orders whose simulated latency has passed reach
  // their venue, and a passive route's wait ends.
  const paperClock = paper ? setInterval(() => paper.desk.idle(Date.now()), 25) : undefined;
  const handlers: SourceHandlers = {
    onItem(exchange, item, at) {
      // The hub fans out before the taps see the item, under the number the taps give it.
      paper?.desk.beforeItem(exchange, item);
      hub.onItem(exchange, item, at?.seq ?? taps.lastSeq() + 1, at?.prev);
      paper?.desk.afterItem(exchange, item);
      optionsFeed.afterItem(exchange, item);
      taps.publish(exchange, item, at?.seq);
    },
    onState(info) {
      hub.onState(info);
      for (const listener of feedListeners) listener(info);
    },
  };
  const feeds: ItemSource = source = options.source
    ? options.source(handlers, recent)
    : pluginSource(options.feeds, handlers, metrics);

  let reported = { delivered: 0, conflated: 0, slow: 0 };
  /** Per exchange: the supervisor's restart and lost-batch counts already added to the metrics. */
  const reportedFeeds = new Map<string, { restarts: number; lostBatches: number }>();
  const syncCounters = () => {
    const s = delivery.stats;
    metrics.messagesOut.inc(s.delivered - reported.delivered);
    metrics.conflated.inc(s.conflated - reported.conflated);
    metrics.slowDisconnects.inc(s.slowDisconnects - reported.slow);
    reported = { delivered: s.delivered, conflated: s.conflated, slow: s.slowDisconnects };
    for (const info of feeds.info()) {
      const { exchange } = info;
      const before = reportedFeeds.get(exchange) ?? { restarts: 0, lostBatches: 0 };
      metrics.pluginRestarts.inc({ exchange }, info.restarts - before.restarts);
      metrics.hubLost.inc({ exchange }, info.lostBatches - before.lostBatches);
      reportedFeeds.set(exchange, { restarts: info.restarts, lostBatches: info.lostBatches });
    }
  };

  const sessions = createSessions({
    subscriptions,
    catalog,
    delivery,
    limits: config,
    consolidatedFrame: (unified) => {
      const quote = consolidator.get(unified);
      return quote ? consolidatedFrame(quote) : undefined;
    },
    analyticsFrame: config.analyticsEnabled ? hub.analyticsFrame : undefined,
    paper: paper?.service,
    optionsFrame: optionsFeed.frame,
    statusFrame: (exchange) => {
      const info = feeds.get(exchange);
      return info ? hub.statusFrame(info) : undefined;
    },
    disconnect,
    countError: (code) => metrics.clientErrors.inc({ code }),
    now: () => Date.now(),
    recovery: {
      recent,
      epoch,
      lastPos: () => taps.lastSeq(),
      prepare: feeds.prepareRecovery
        ? (streams, since) => feeds.prepareRecovery!(streams, since)
        : undefined,
      onError: (error, streams, since) =>
        log.error("recovery of {streams} since {since} failed: {error}", {
          streams: streams.map((s) => `${s.channel}|${s.exchange}|${s.symbol}`).join(", "),
          since,
          error: String(error),
        }),
    },
  });

  /** The web application at /app (app/dist, built by core/tools/build_app.ts). */
  const appStatic = createAppStatic();
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
    analytics: config.analyticsEnabled ? hub : undefined,
    paper: paper ? () => paper.desk.stats() : undefined,
    options: optionsBoard,
    analyticsOptions,
    clientCount: () => clients.size,
    delivery: () => ({ ...budget.state(), backlogged: delivery.backlogged() }),
    symbols: config.symbols,
    channels: config.channels as Channel[],
    recording,
    history: options.historySource,
    role: config.role,
    scale: options.health,
    recovery: () => ({
      seconds: config.recoverySeconds,
      maxPerStream: config.recoveryMaxPerStream,
      items: recent.size(),
    }),
  });

  // --- /api/auth and /api/admin (issue #16): sessions, not API keys, authenticate these ---
  const accountRoutes: AccountRoutes = accounts
    ? createAccountRoutes({
      store: accounts.store,
      keys: store,
      plans: accounts.keys.plans,
      sessions: accounts.sessions,
      lockout: accounts.lockout,
      usage: (principal) => {
        let subscriptionCount = 0;
        for (const client of clients) {
          if (client.access?.principal === principal) {
            subscriptionCount += subscriptions.count(client);
          }
        }
        return {
          ...gate.usage(principal),
          subscriptions: subscriptionCount,
          paperOpenOrders: paper?.desk.orders(`key:${principal}`, true).length ?? 0,
        };
      },
      closeConnections: (principal) =>
        admission.closePrincipal(principal, 1008, "revoked", "the API key was revoked"),
      allowedOrigins: config.allowedOrigins,
      ipPerMinute: config.ipRestPerMinute,
      limitLoopback: config.ipLimitLoopback,
      log: getLogger(["quant-saas", "accounts"]),
    })
    : accountsOffRoutes(store);
  // --- end accounts ---

  let shuttingDown = false;
  /** `/ws`: admitted like every WebSocket endpoint, then a session of our protocol. */
  const upgrade = async (req: Request, url: URL, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return httpError(426, "upgrade_required", "GET /ws with a WebSocket upgrade");
    }
    const batch = url.searchParams.get("batch");
    const admitted = await admission.admit(req, url, info, {
      batch: batch === "1" || batch === "true",
      onGone: (client) => sessions.onClose(client),
    });
    if (admitted instanceof Response) return admitted;
    const { socket, client } = admitted;
    socket.onmessage = (e) => {
      metrics.clientFrames.inc();
      sessions.onMessage(client, e.data);
    };
    socket.onerror = () => {};
    return admitted.response;
  };

  // --- /replay (issue #12): the recording over the /ws protocol, spliced into live ---
  const replay = createReplayEndpoint({
    source: options.replaySource ?? recording,
    admit: (req, url, info, admitOptions) => admission.admit(req, url, info, admitOptions),
    delivery,
    taps,
    catalog,
    limits: config,
    analytics: analyticsOptions,
    paper: config.paperEnabled ? config : undefined,
    disconnect,
    countError: (code) => metrics.clientErrors.inc({ code }),
    countFrame: () => metrics.clientFrames.inc(),
    log,
    spliceBufferItems: options.replaySpliceBufferItems,
    // An edge follows a live-continuing replay's subjects (caught up from JetStream after the
    // position live is at) before the replay takes that position.
    follow: async (streams) => {
      for (const stream of streams) retain(stream);
      await source?.prepareRecovery?.(streams, taps.lastSeq());
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const stream of streams) unretain(stream);
      };
    },
  });
  // --- end /replay ---

  /**
   * Hands a request to the extension owning its path. A WebSocket upgrade is admitted
   * by `ctx.admit` (the same admission as `/ws`; no REST token spent); a request the
   * extension answers without calling it passes the REST gate, so an `Upgrade` header
   * never skips the gate. A 101 the admission did not make is logged as an error.
   */
  const toExtension = async (
    ext: GatewayExtension,
    req: Request,
    url: URL,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    origin: string | null,
  ): Promise<Response> => {
    const ip = info.remoteAddr.hostname;
    const upgrading = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    let admitCalled = false;
    const ctx: ExtensionContext = {
      admit(r, i, options) {
        admitCalled = true;
        return admission.admit(r, new URL(r.url), i, options);
      },
    };
    if (!upgrading) {
      const refused = await gate.rest(req, url, ip);
      if (refused) return gate.cors(origin, refused);
      return gate.cors(origin, await ext.handle(req, info, ctx));
    }
    const res = await ext.handle(req, info, ctx);
    if (res.status === 101 && !admission.madeUpgrade(res)) {
      // Deno cannot refuse an upgrade once `Deno.upgradeWebSocket` ran (another response
      // leaves the client hanging), so this is reported, not enforced: a plugin bug.
      log.error(
        "extension {prefix} upgraded a WebSocket without ctx.admit: that connection is outside plan limits, MAX_CLIENTS and the memory budget",
        { prefix: ext.prefix },
      );
    }
    if (admitCalled) return gate.cors(origin, res);
    const refused = await gate.rest(req, url, ip);
    return gate.cors(origin, refused ?? res);
  };

  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: () => {},
  }, async (req, rawInfo) => {
    const info = rawInfo as Deno.ServeHandlerInfo<Deno.NetAddr>;
    const url = new URL(req.url);
    if (options.serveClients === false && servesClients(url.pathname)) {
      return json({ error: "not_served", message: notServed(config.role) }, 404);
    }
    if (url.pathname === "/ws") return upgrade(req, url, info);
    if (url.pathname === "/replay") return replay.handle(req, url, info);
    // The app's files are public (its sign-in page must load before any key); its data is not.
    if (appStatic.matches(url.pathname)) return await appStatic.handle(url, req.method);
    const origin = req.headers.get("origin");
    const preflight = gate.preflight(req);
    if (preflight) return preflight;
    if (/^\/api\/(auth|admin)(\/|$)/.test(url.pathname)) {
      return gate.cors(origin, await accountRoutes(req, url, info.remoteAddr.hostname));
    }
    for (const ext of options.extensions ?? []) {
      if (url.pathname === ext.prefix || url.pathname.startsWith(ext.prefix + "/")) {
        return toExtension(ext, req, url, info, origin);
      }
    }
    const refused = await gate.rest(req, url, info.remoteAddr.hostname);
    if (refused) return gate.cors(origin, refused);
    if (url.pathname === "/metrics") syncCounters();
    if (url.pathname.startsWith("/api/paper/")) {
      const answer = paper
        ? paper.service.rest(req, url, await gate.principal(req, url, info.remoteAddr.hostname))
        : undefined;
      return gate.cors(
        origin,
        await answer ??
          httpError(404, "paper_off", "paper trading is off on this gateway (PAPER_ENABLED=false)"),
      );
    }
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
    taps,
    recording,
    books,
    feeds,
    onFeedState(listener) {
      feedListeners.add(listener);
      return () => void feedListeners.delete(listener);
    },
    recent,
    epoch,
    async close() {
      if (shuttingDown) return;
      shuttingDown = true;
      log.info("shutting down: closing {clients} clients and {feeds} feeds", {
        clients: clients.size,
        feeds: options.feeds.length,
      });
      admission.shutdown();
      await feeds.stop(config.shutdownGraceMs);
      for (const ext of options.extensions ?? []) await ext.close?.();
      await calibrator?.close();
      await recording?.close();
      accounts?.close();
      delivery.close();
      clearInterval(budgetTimer);
      clearInterval(recentSweep);
      clearInterval(paperClock);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        server.shutdown(),
        new Promise((r) => timer = setTimeout(r, config.shutdownGraceMs)),
      ]);
      clearTimeout(timer);
    },
  };

  /** Paths of the client endpoints (what an ingest or recorder node does not serve). */
  function servesClients(path: string): boolean {
    if (path === "/ws" || path === "/replay" || appStatic.matches(path)) return true;
    return (options.extensions ?? []).some((ext) =>
      path === ext.prefix || path.startsWith(ext.prefix + "/")
    );
  }
}

/** Why a node that serves no clients refuses a client endpoint. */
function notServed(role: string): string {
  if (role === "ingest") return "this is an ingest node: connect to an edge";
  if (role === "recorder") return "this is a recorder node: connect to an edge";
  return "this node serves no clients: connect to an edge";
}

/** The default source: one Worker per feed spec, positions in an epoch random per start. */
function pluginSource(
  specs: readonly FeedSpec[],
  handlers: SourceHandlers,
  metrics: Metrics,
): ItemSource {
  const epoch = processEpoch();
  const feeds = startFeeds(
    specs,
    (exchange, item) => handlers.onItem(exchange, item),
    handlers.onState,
    (_exchange, ms) => metrics.fanoutLatency.observe(ms / 1000),
  );
  return {
    info: () => feeds.info(),
    get: (exchange) => feeds.get(exchange),
    stop: (graceMs) => feeds.stop(graceMs),
    epoch: () => epoch,
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

/**
 * Opens the accounts database (ACCOUNTS_DB) and creates the first admin (ADMIN_USER,
 * ADMIN_PASSWORD) if missing; undefined when accounts are off. The password is never logged.
 */
async function loadAccounts(config: CoreConfig, base: KeyStore): Promise<Accounts | undefined> {
  const log = getLogger(["quant-saas", "accounts"]);
  if ((config.adminUser === undefined) !== (config.adminPassword === undefined)) {
    throw new AuthConfigError("ADMIN_USER and ADMIN_PASSWORD go together");
  }
  if (config.accountsDb === undefined) {
    if (config.adminUser !== undefined) {
      throw new AuthConfigError("ADMIN_USER needs ACCOUNTS_DB (the accounts database file)");
    }
    return undefined;
  }
  let accounts: Accounts;
  try {
    accounts = await openAccounts({
      path: config.accountsDb,
      base,
      adminUser: config.adminUser,
      adminPassword: config.adminPassword,
      sessionIdleMs: config.sessionIdleMinutes * 60_000,
      sessionMaxMs: config.sessionMaxHours * 3_600_000,
    });
  } catch (err) {
    throw new AuthConfigError(
      `cannot open ACCOUNTS_DB ${config.accountsDb}: ${err instanceof Error ? err.message : err}` +
        " (grant --allow-read and --allow-write for that file and its folder)",
    );
  }
  log.info("accounts in {path}: {users} users, {keys} active keys{created}", {
    path: config.accountsDb,
    users: accounts.store.userCount(),
    keys: accounts.store.activeKeyCount(),
    created: accounts.createdAdmin ? ` (admin ${config.adminUser} created)` : "",
  });
  return accounts;
}

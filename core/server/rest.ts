/**
 * REST endpoints. Every answer is JSON (or Prometheus text for `/metrics`);
 * unknown routes and bad query parameters get a JSON 4xx, never a stack trace.
 * @module
 */
import { z } from "zod";
import type { Books } from "../books/books.ts";
import type { Catalog } from "../market/catalog.ts";
import type { Feeds } from "../ingest/supervisor.ts";
import type { MarketState } from "../market/state.ts";
import type { Metrics } from "./metrics.ts";
import type { Consolidator } from "../books/consolidated.ts";
import { MAX_VIEW_DEPTH } from "../books/view.ts";
import type { Recording } from "./recording.ts";
import { createHistoryRoutes, HISTORY_ENDPOINTS, type HistorySource } from "./history_routes.ts";
import { createOptionsRoutes, OPTIONS_ENDPOINTS } from "./options_routes.ts";
import type { OptionsBoard } from "../options/board.ts";
import { metricsFromList } from "../protocol/messages.ts";
import type { AnalyticsValue, Metric } from "../analytics/engine.ts";
import { consolidatedMicroprice, unifiedFlow } from "../analytics/unified.ts";
import { bestAsk, bestBid } from "../books/book.ts";
import type { Hub, HubAnalyticsOptions } from "../ingest/hub.ts";

/** What the REST layer reads. */
export interface HttpDeps {
  name: string;
  version: string;
  startedAt: number;
  feeds: Feeds;
  books: Books;
  market: MarketState;
  catalog: Catalog;
  metrics: Metrics;
  consolidator: Consolidator;
  /** The per-symbol analytics (`/api/analytics`); without it that route answers 404. */
  analytics?: Pick<Hub, "analytics" | "analyticsTime">;
  /** The options board (`/api/options/*`); without it those routes answer 404. */
  options?: OptionsBoard;
  /** The hub's analytics settings, which `/api/history/analytics` recomputes with. */
  analyticsOptions?: HubAnalyticsOptions;
  clientCount(): number;
  /** Client-buffer state: the memory budget's last sample and backlogged clients. */
  delivery?(): Record<string, unknown>;
  symbols: readonly string[];
  channels: readonly string[];
  /** The recording, when RECORD_DIR is set: `/health` reports it, `/api/history/*` reads it. */
  recording?: Recording;
  /** What `/api/history/*` reads when it is not `recording` (an edge: the recorder's folder). */
  history?: HistorySource;
  /** The node's role (ROLE), reported by `/health`. */
  role?: string;
  /** Extra state of a scale-out node, reported by `/health` as `scale`. */
  scale?: () => object;
  /**
   * Paper trading's state for `/health` (accounts, open orders, venues; every order simulated);
   * absent when paper trading is off.
   */
  paper?: () => { accounts: number; openOrders: number; venues: number };
  /** The recent log clients recover from (`since`): its bounds and what it holds. */
  recovery?: () => { seconds: number; maxPerStream: number; items: number };
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body, null, 2), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** A JSON error response: `{"error":{"code","message"}}`. */
export function httpError(
  status: number,
  code: string,
  message: string,
  headers: HeadersInit = {},
): Response {
  return json({ error: { code, message } }, status, headers);
}

const symbolParam = z.string().min(1).max(32).regex(/^[A-Za-z0-9]+([/-][A-Za-z0-9]+){0,3}$/);
const exchangeParam = z.string().min(1).max(32).regex(/^[a-z0-9_-]+$/);

const marketDataQuery = z.strictObject({
  symbol: symbolParam.optional(),
  exchange: exchangeParam.optional(),
});

const bookQuery = z.strictObject({
  exchange: exchangeParam,
  symbol: symbolParam,
  depth: z.coerce.number().int().min(1).max(MAX_VIEW_DEPTH).default(20),
});

const analyticsQuery = z.strictObject({
  /** Omitted with a unified symbol (`BTC/USD`): every venue listing it, and their sum. */
  exchange: exchangeParam.optional(),
  symbol: symbolParam,
  /** Comma-separated figures; default all. */
  metrics: z.string().max(256).optional(),
});

/**
 * A request's query parameters checked against a zod schema: the value, or a 400 `bad_query`
 * naming the first field in error.
 * @example
 * ```ts ignore
 * const q = parseQuery(url, z.strictObject({ symbol: z.string() }));
 * if (!q.ok) return q.response;
 * ```
 */
export function parseQuery<T extends z.ZodType>(
  url: URL,
  schema: T,
): { ok: true; value: z.infer<T> } | { ok: false; response: Response } {
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) params[key] = value;
  const result = schema.safeParse(params);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  return {
    ok: false,
    response: httpError(400, "bad_query", `${where}${issue.message}`),
  };
}

/** Creates the REST handler; returns undefined for paths it does not own. */
export function createHttp(
  deps: HttpDeps,
): (req: Request, url: URL) => Promise<Response> | Response {
  const { feeds, books, market, catalog, metrics } = deps;

  const feedHealth = () =>
    feeds.info().map((f) => ({
      exchange: f.exchange,
      state: f.state,
      source: f.emulator ? "emulator" : "exchange",
      emulator: f.emulator,
      reason: f.reason,
      since: new Date(f.since).toISOString(),
      lastMessageAgeMs: f.lastMessageAt === null ? null : Date.now() - f.lastMessageAt,
      reconnects: f.reconnects,
      restarts: f.restarts,
      malformed: f.malformed,
      events: f.events,
      lostBatches: f.lostBatches,
      conflatedInWorker: f.conflatedInWorker,
    }));

  const resolveSymbol = (exchange: string, name: string) =>
    catalog.resolve(exchange, name) ?? name.toUpperCase();

  /** `/api/analytics` of a unified symbol: each venue's figures, and the flow and top of book across them. */
  const unifiedAnalytics = (unified: string, wanted: readonly Metric[]) => {
    if (!unified.includes("/")) {
      return httpError(
        400,
        "bad_query",
        "exchange: required unless symbol is a unified name such as BTC/USD",
      );
    }
    const venues: { exchange: string; symbol: string; value: AnalyticsValue }[] = [];
    for (const exchange of catalog.exchanges()) {
      const native = catalog.resolve(exchange, unified);
      if (native === undefined) continue;
      const engine = deps.analytics?.analytics(exchange, native);
      const time = deps.analytics?.analyticsTime(exchange, native);
      if (!engine || time === undefined) continue;
      venues.push({ exchange, symbol: native, value: engine.value(time, wanted) });
    }
    if (venues.length === 0) {
      return httpError(
        404,
        "unknown_symbol",
        `no analytics for ${unified}: no venue lists it or none sent a trade or book of it`,
      );
    }
    const flows = venues.flatMap((v) =>
      v.value.flow ? [{ exchange: v.exchange, flow: v.value.flow }] : []
    );
    const tops = venues.flatMap((v) => {
      const entry = books.get(v.exchange, v.symbol);
      if (!entry?.synced) return [];
      return [{ exchange: v.exchange, bid: bestBid(entry.book), ask: bestAsk(entry.book) }];
    });
    return json({
      symbol: unified,
      time: Math.max(...venues.map((v) => v.value.time)),
      venues: venues.map((v) => ({ exchange: v.exchange, symbol: v.symbol, ...v.value })),
      consolidated: {
        ...(wanted.includes("flow") ? { flow: unifiedFlow(flows) } : {}),
        ...(wanted.includes("microprice") ? { microprice: consolidatedMicroprice(tops) } : {}),
      },
    });
  };

  const routes: Record<string, (url: URL) => Response | Promise<Response>> = {
    "/": () =>
      json({
        name: deps.name,
        version: deps.version,
        description: "Real-time crypto market-data gateway",
        app: "/app",
        exchanges: feeds.info().map((f) => ({
          exchange: f.exchange,
          source: f.emulator ? "emulator" : "exchange",
        })),
        symbols: deps.symbols,
        channels: deps.channels,
        endpoints: {
          app: "/app",
          websocket: "/ws",
          replay: "/replay",
          health: "/health",
          ready: "/ready",
          marketData: "/api/market_data",
          book: "/api/book",
          analytics: "/api/analytics",
          ...OPTIONS_ENDPOINTS,
          paperOrders: "/api/paper/orders",
          paperFills: "/api/paper/fills",
          paperAccount: "/api/paper/account",
          paperRoute: "/api/paper/route",
          paperReset: "/api/paper/reset",
          symbols: "/api/symbols",
          metrics: "/metrics",
          ...HISTORY_ENDPOINTS,
        },
      }),
    "/health": () => {
      const list = feedHealth();
      const healthy = list.every((f) => f.state === "connected");
      return json({
        status: healthy ? "ok" : "degraded",
        ...(deps.role !== undefined ? { role: deps.role } : {}),
        uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
        clients: deps.clientCount(),
        ...(deps.delivery ? { delivery: deps.delivery() } : {}),
        recording: deps.recording?.health() ??
          (deps.history
            ? { enabled: false, readOnly: true, dir: deps.history.dir }
            : { enabled: false }),
        ...(deps.recovery ? { recovery: deps.recovery() } : {}),
        paper: deps.paper
          ? { enabled: true, simulated: true, ...deps.paper() }
          : { enabled: false },
        ...(deps.scale ? { scale: deps.scale() } : {}),
        feeds: list,
        books: books.entries().map((b) => ({
          exchange: b.exchange,
          symbol: b.symbol,
          synced: b.synced,
          resyncs: b.resyncs,
          sequence: b.book.sequence,
        })),
      });
    },
    "/ready": () => {
      const list = feedHealth();
      const notReady = list.filter((f) => f.state !== "connected");
      return notReady.length === 0
        ? json({ ready: true })
        : json({ ready: false, feeds: notReady.map((f) => `${f.exchange}: ${f.state}`) }, 503);
    },
    "/api/market_data": (url) => {
      const q = parseQuery(url, marketDataQuery);
      if (!q.ok) return q.response;
      const { symbol, exchange } = q.value;
      if (exchange !== undefined && !catalog.exchanges().includes(exchange)) {
        return httpError(404, "unknown_exchange", `exchange "${exchange}" is not configured`);
      }
      const data = market.all().filter((s) =>
        (exchange === undefined || s.exchange === exchange) &&
        (symbol === undefined || s.symbol === resolveSymbol(s.exchange, symbol))
      ).map((s) => ({ ...s, unified: catalog.unified(s.exchange, s.symbol) }));
      if (symbol !== undefined && data.length === 0) {
        return httpError(404, "unknown_symbol", `no data for symbol "${symbol}"`);
      }
      // A unified name (BTC/USDT) also gets the best bid and offer across exchanges.
      const consolidated = symbol?.includes("/") && exchange === undefined
        ? deps.consolidator.get(symbol)
        : undefined;
      return json({ timestamp: new Date().toISOString(), data, consolidated });
    },
    "/api/book": (url) => {
      const q = parseQuery(url, bookQuery);
      if (!q.ok) return q.response;
      const { exchange, symbol, depth } = q.value;
      if (!catalog.exchanges().includes(exchange)) {
        return httpError(404, "unknown_exchange", `exchange "${exchange}" is not configured`);
      }
      const snap = books.snapshot(exchange, resolveSymbol(exchange, symbol), depth);
      if (!snap) return httpError(404, "unknown_book", `no book for ${exchange} ${symbol}`);
      return json(snap, snap.synced ? 200 : 503);
    },
    "/api/analytics": (url) => {
      if (!deps.analytics) {
        return httpError(
          404,
          "analytics_off",
          "this gateway computes no analytics (ANALYTICS_ENABLED=false)",
        );
      }
      const q = parseQuery(url, analyticsQuery);
      if (!q.ok) return q.response;
      const { exchange, symbol } = q.value;
      const metrics = metricsFromList(q.value.metrics);
      if (!metrics.ok) return httpError(400, "bad_query", metrics.message);
      if (exchange === undefined) return unifiedAnalytics(symbol, metrics.metrics);
      if (!catalog.exchanges().includes(exchange)) {
        return httpError(404, "unknown_exchange", `exchange "${exchange}" is not configured`);
      }
      const native = resolveSymbol(exchange, symbol);
      const engine = deps.analytics?.analytics(exchange, native);
      const time = deps.analytics?.analyticsTime(exchange, native);
      if (!engine || time === undefined) {
        return httpError(
          404,
          "unknown_symbol",
          `no analytics for ${exchange} ${symbol}: no trade or book of it arrived`,
        );
      }
      return json({
        exchange,
        symbol: native,
        unified: catalog.unified(exchange, native),
        ...engine.value(time, metrics.metrics),
      });
    },
    "/api/symbols": () => json({ exchanges: catalog.listings() }),
    "/metrics": async () => {
      for (const f of feeds.info()) {
        metrics.feedLastMessageAge.set(
          { exchange: f.exchange },
          f.lastMessageAt === null ? -1 : Date.now() - f.lastMessageAt,
        );
      }
      return new Response(await metrics.registry.metrics(), {
        headers: { "content-type": metrics.registry.contentType },
      });
    },
  };

  const history = createHistoryRoutes({
    recording: deps.history ?? deps.recording,
    catalog,
    analytics: deps.analyticsOptions,
  });
  const options = deps.options ? createOptionsRoutes(deps.options, Date.now) : undefined;
  return (req, url) => {
    const route = routes[url.pathname] ?? history(url.pathname) ?? options?.(url.pathname);
    if (!route) {
      return httpError(404, "not_found", `no route ${url.pathname}; see GET / for endpoints`);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return httpError(
        405,
        "method_not_allowed",
        `${req.method} is not allowed on ${url.pathname}`,
      );
    }
    return route(url);
  };
}

/**
 * The REST endpoints below `<prefix>/api/v3/`: `ping` and `time` answered by
 * the proxy, `exchangeInfo` from its cached copy, `depth` from the local book
 * when one is kept for the symbol (else passed through), the other public
 * market-data endpoints passed through with caching and weight accounting,
 * and anything else refused in Binance's error shape.
 * @module
 */
import { depthWeight } from "../rest.ts";
import type { DepthBooks } from "./depth_books.ts";
import type { RestAnswer, UpstreamRest } from "./upstream_rest.ts";

/** What the routes read. */
export interface RestRoutesDeps {
  rest: UpstreamRest;
  books: DepthBooks;
  cacheMs: number;
  exchangeInfoCacheMs: number;
  depthSyncWaitMs: number;
  now: () => number;
}

type Weigh = (params: URLSearchParams) => number;

const countOf = (params: URLSearchParams): number => {
  try {
    const list = JSON.parse(params.get("symbols") ?? "[]");
    return Array.isArray(list) ? list.length : 1;
  } catch {
    return 1;
  }
};

/** Public market-data endpoints passed through, with Binance's request weights. */
const PASSED: Readonly<Record<string, Weigh>> = {
  "/api/v3/trades": () => 25,
  "/api/v3/historicalTrades": () => 25,
  "/api/v3/aggTrades": () => 4,
  "/api/v3/klines": () => 2,
  "/api/v3/uiKlines": () => 2,
  "/api/v3/avgPrice": () => 2,
  "/api/v3/ticker/24hr": (p) => {
    if (p.has("symbol")) return 2;
    if (!p.has("symbols")) return 80;
    const n = countOf(p);
    return n <= 20 ? 2 : n <= 100 ? 40 : 80;
  },
  "/api/v3/ticker/tradingDay": (p) => Math.min(200, 4 * (p.has("symbols") ? countOf(p) : 1)),
  "/api/v3/ticker": (p) => Math.min(200, 4 * (p.has("symbols") ? countOf(p) : 1)),
  "/api/v3/ticker/price": (p) => p.has("symbol") ? 2 : 4,
  "/api/v3/ticker/bookTicker": (p) => p.has("symbol") ? 2 : 4,
};

const SYMBOL_RE = /^[A-Z0-9\-_.]{1,20}$/;
const INT_RE = /^[0-9]{1,20}$/;
const JSON_TYPE = "application/json;charset=UTF-8";

interface InfoCache {
  expires: number;
  answer: RestAnswer;
  symbols?: Map<string, unknown>;
  parsed?: Record<string, unknown>;
}

/** Creates the REST handler: `(method, path below the prefix, query) → Response`. */
export function createRestRoutes(
  deps: RestRoutesDeps,
): (method: string, path: string, params: URLSearchParams) => Promise<Response> {
  const { rest, books } = deps;
  let info: InfoCache | undefined;
  let infoLoading: Promise<InfoCache> | undefined;

  const reply = (status: number, body: string, headers: Record<string, string> = {}): Response =>
    new Response(body, {
      status,
      headers: {
        "content-type": JSON_TYPE,
        "x-mbx-used-weight-1m": String(rest.usedWeight()),
        ...headers,
      },
    });
  const fail = (code: number, msg: string, status = 400): Response =>
    reply(status, JSON.stringify({ code, msg }));
  const relay = (answer: RestAnswer): Response =>
    reply(answer.status, answer.body, { ...answer.headers, "x-proxy-source": answer.source });

  const loadInfo = (): Promise<InfoCache> => {
    if (info && info.expires > deps.now()) return Promise.resolve(info);
    infoLoading ??= rest.get("/api/v3/exchangeInfo", "", 20).then((answer) => {
      infoLoading = undefined;
      const entry: InfoCache = { expires: 0, answer };
      if (answer.status !== 200) return entry;
      try {
        entry.parsed = JSON.parse(answer.body);
        const list = (entry.parsed as { symbols?: unknown }).symbols;
        entry.symbols = new Map(
          (Array.isArray(list) ? list : []).map((s) => [(s as { symbol?: string }).symbol!, s]),
        );
      } catch {
        return entry;
      }
      entry.expires = deps.now() + deps.exchangeInfoCacheMs;
      info = entry;
      return entry;
    });
    return infoLoading;
  };

  const exchangeInfo = async (params: URLSearchParams): Promise<Response> => {
    const keys = [...new Set(params.keys())];
    if (keys.some((k) => k !== "symbol" && k !== "symbols")) {
      return relay(
        await rest.get("/api/v3/exchangeInfo", params.toString(), 20, deps.exchangeInfoCacheMs),
      );
    }
    const one = params.get("symbol");
    const many = params.get("symbols");
    if (one !== null && many !== null) {
      return fail(-1128, "Combination of optional parameters invalid.");
    }
    let wanted: string[] | undefined;
    if (one !== null) {
      if (!SYMBOL_RE.test(one)) {
        return fail(
          -1100,
          "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
        );
      }
      wanted = [one];
    } else if (many !== null) {
      let list: unknown;
      try {
        list = JSON.parse(many);
      } catch {
        list = undefined;
      }
      if (
        !Array.isArray(list) || list.length === 0 ||
        !list.every((s) => typeof s === "string" && SYMBOL_RE.test(s))
      ) {
        return fail(
          -1100,
          "Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'.",
        );
      }
      wanted = list as string[];
    }
    const cached = await loadInfo();
    if (!cached.parsed || !cached.symbols) return relay(cached.answer);
    const headers = { ...cached.answer.headers, "x-proxy-source": "cache" };
    if (!wanted) return reply(200, cached.answer.body, headers);
    const picked: unknown[] = [];
    for (const s of wanted) {
      const item = cached.symbols.get(s);
      if (item === undefined) return fail(-1121, "Invalid symbol.");
      picked.push(item);
    }
    return reply(200, JSON.stringify({ ...cached.parsed, symbols: picked }), headers);
  };

  const depth = async (params: URLSearchParams): Promise<Response> => {
    const symbol = params.get("symbol");
    if (symbol === null || symbol === "") {
      return fail(
        -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
      );
    }
    if (!SYMBOL_RE.test(symbol)) {
      return fail(
        -1100,
        "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
      );
    }
    const rawLimit = params.get("limit");
    if (rawLimit !== null && rawLimit !== "" && !INT_RE.test(rawLimit)) {
      return fail(
        -1100,
        "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
      );
    }
    const limit = Math.min(5000, Math.max(1, rawLimit ? Number(rawLimit) : 100));
    if (books.follows(symbol)) {
      if (books.state(symbol) !== "synced") await books.whenSynced(symbol, deps.depthSyncWaitMs);
      const body = books.depthBody(symbol, limit);
      if (body !== undefined) return reply(200, body, { "x-proxy-source": "book" });
    }
    // No local book (or it is resyncing): Binance's own snapshot is consistent with its streams.
    return relay(await rest.get("/api/v3/depth", params.toString(), depthWeight(limit)));
  };

  return async (method, path, params) => {
    const known = path === "/api/v3/ping" || path === "/api/v3/time" ||
      path === "/api/v3/exchangeInfo" || path === "/api/v3/depth" || Object.hasOwn(PASSED, path);
    if (!known) {
      return fail(
        -1000,
        `Unknown endpoint: ${method} ${path} (this proxy serves Binance's public market data)`,
        404,
      );
    }
    if (method !== "GET" && method !== "HEAD") {
      return fail(-1000, `Method ${method} is not allowed on ${path}`, 405);
    }
    switch (path) {
      case "/api/v3/ping":
        return reply(200, "{}");
      case "/api/v3/time":
        return reply(200, `{"serverTime":${deps.now()}}`);
      case "/api/v3/exchangeInfo":
        return await exchangeInfo(params);
      case "/api/v3/depth":
        return await depth(params);
      default:
        return relay(await rest.get(path, params.toString(), PASSED[path](params), deps.cacheMs));
    }
  };
}

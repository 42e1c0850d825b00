/**
 * Binance Spot public REST endpoints over the emulated markets, with request
 * weights, `X-MBX-USED-WEIGHT-1M`, 429/418 + `Retry-After`, and Binance-shaped
 * errors (`{"code":-1121,"msg":"Invalid symbol."}`).
 * @module
 */
import { formatProduct, formatUnits } from "./decimal.ts";
import type { FaultState } from "./faults.ts";
import { isKlineInterval } from "./klines.ts";
import type { BookState, MarketAggTrade, MarketTrade, SymbolMarket } from "./market.ts";
import { formatPrice, formatQty, WIRE_DECIMALS } from "./symbols.ts";
import type { WeightLimiter } from "./weights.ts";

/** Header every REST response carries so a client can tell it is not the real exchange. */
export const EMULATOR_HEADER: readonly [string, string] = [
  "x-emulator",
  "quant-saas-binance-emulator",
];

/** A REST answer. */
export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the REST handler reads. */
export interface RestDeps {
  /** Listed markets, in listing order, by uppercase symbol. */
  markets: ReadonlyMap<string, SymbolMarket>;
  faults: FaultState;
  limiter: WeightLimiter;
  maxWeightPerMinute: number;
  now(): number;
}

type Params = URLSearchParams;
type Outcome = { status: number; body: unknown };
interface Endpoint {
  weight(params: Params): number;
  handle(params: Params, now: number): Outcome;
}

const ok = (body: unknown): Outcome => ({ status: 200, body });
const fail = (code: number, msg: string, status = 400): Outcome => ({
  status,
  body: { code, msg },
});

const SYMBOL_RE = /^[A-Z0-9\-_.]{1,20}$/;
const INT_RE = /^[0-9]{1,20}$/;

/** Reads an optional non-negative integer parameter; an error outcome when it is not one. */
function intParam(params: Params, name: string): number | undefined | Outcome {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  if (!INT_RE.test(raw)) {
    return fail(
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`,
    );
  }
  return Number(raw);
}

const isOutcome = (v: unknown): v is Outcome =>
  typeof v === "object" && v !== null && "status" in v;

const limitOf = (params: Params, fallback: number, max: number): number | Outcome => {
  const v = intParam(params, "limit");
  if (isOutcome(v)) return v;
  return Math.min(max, Math.max(1, v ?? fallback));
};

const depthWeight = (limit: number): number =>
  limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;

/** Creates the REST handler: `(method, url) → response`. */
export function createRestHandler(deps: RestDeps): (method: string, url: URL) => RestResponse {
  const { markets, faults, limiter } = deps;

  /** Resolves the mandatory `symbol` parameter. */
  const marketParam = (params: Params): SymbolMarket | Outcome => {
    const raw = params.get("symbol");
    if (raw === null || raw === "") {
      return fail(
        -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
      );
    }
    if (!SYMBOL_RE.test(raw)) {
      return fail(
        -1100,
        "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
      );
    }
    return markets.get(raw) ?? fail(-1121, "Invalid symbol.");
  };

  /** Resolves `symbol` / `symbols` (JSON array) / neither (all). */
  const marketsParam = (params: Params): SymbolMarket[] | Outcome => {
    const one = params.get("symbol");
    const many = params.get("symbols");
    if (one !== null && many !== null) {
      return fail(-1128, "Combination of optional parameters invalid.");
    }
    if (one !== null) {
      const m = marketParam(params);
      return isOutcome(m) ? m : [m];
    }
    if (many === null) return [...markets.values()];
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
    const out: SymbolMarket[] = [];
    for (const s of list as string[]) {
      const m = markets.get(s);
      if (!m) return fail(-1121, "Invalid symbol.");
      out.push(m);
    }
    return out;
  };

  const tradeJson = (m: SymbolMarket, t: MarketTrade) => ({
    id: t.id,
    price: formatPrice(m.spec, t.price),
    qty: formatQty(m.spec, t.qty),
    quoteQty: formatProduct(
      t.price,
      m.spec.priceDecimals,
      t.qty,
      m.spec.qtyDecimals,
      WIRE_DECIMALS,
    ),
    time: t.time,
    isBuyerMaker: t.buyerMaker,
    isBestMatch: true,
  });
  const aggJson = (m: SymbolMarket, a: MarketAggTrade) => ({
    a: a.id,
    p: formatPrice(m.spec, a.price),
    q: formatQty(m.spec, a.qty),
    f: a.firstId,
    l: a.lastId,
    T: a.time,
    m: a.buyerMaker,
    M: true,
  });
  const bookJson = (m: SymbolMarket, s: BookState) => ({
    lastUpdateId: s.lastUpdateId,
    bids: s.bids.map(([p, q]) => [formatPrice(m.spec, p), formatQty(m.spec, q)]),
    asks: s.asks.map(([p, q]) => [formatPrice(m.spec, p), formatQty(m.spec, q)]),
  });
  const symbolInfo = (m: SymbolMarket) => ({
    symbol: m.spec.symbol,
    status: "TRADING",
    baseAsset: m.spec.baseAsset,
    baseAssetPrecision: WIRE_DECIMALS,
    quoteAsset: m.spec.quoteAsset,
    quotePrecision: WIRE_DECIMALS,
    quoteAssetPrecision: WIRE_DECIMALS,
    baseCommissionPrecision: WIRE_DECIMALS,
    quoteCommissionPrecision: WIRE_DECIMALS,
    orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      {
        filterType: "PRICE_FILTER",
        minPrice: m.spec.tickSize,
        maxPrice: formatUnits(1_000_000, 0, WIRE_DECIMALS),
        tickSize: m.spec.tickSize,
      },
      {
        filterType: "LOT_SIZE",
        minQty: m.spec.stepSize,
        maxQty: m.spec.maxQty,
        stepSize: m.spec.stepSize,
      },
      {
        filterType: "NOTIONAL",
        minNotional: m.spec.minNotional,
        applyMinToMarket: true,
        maxNotional: formatUnits(9_000_000, 0, WIRE_DECIMALS),
        applyMaxToMarket: false,
        avgPriceMins: 5,
      },
      { filterType: "MAX_NUM_ORDERS", maxNumOrders: 200 },
      { filterType: "MAX_NUM_ALGO_ORDERS", maxNumAlgoOrders: 5 },
    ],
    permissions: [],
    permissionSets: [["SPOT"]],
    defaultSelfTradePreventionMode: "EXPIRE_MAKER",
    allowedSelfTradePreventionModes: ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
  });

  const endpoints: Record<string, Endpoint> = {
    "/api/v3/ping": { weight: () => 1, handle: () => ok({}) },
    "/api/v3/time": { weight: () => 1, handle: (_p, now) => ok({ serverTime: now }) },
    "/api/v3/exchangeInfo": {
      weight: () => 20,
      handle(params, now) {
        const list = marketsParam(params);
        if (isOutcome(list)) return list;
        return ok({
          timezone: "UTC",
          serverTime: now,
          rateLimits: [
            {
              rateLimitType: "REQUEST_WEIGHT",
              interval: "MINUTE",
              intervalNum: 1,
              limit: deps.maxWeightPerMinute,
            },
            { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 100 },
            { rateLimitType: "ORDERS", interval: "DAY", intervalNum: 1, limit: 200000 },
            { rateLimitType: "RAW_REQUESTS", interval: "MINUTE", intervalNum: 5, limit: 61000 },
          ],
          exchangeFilters: [],
          symbols: list.map(symbolInfo),
        });
      },
    },
    "/api/v3/depth": {
      weight(params) {
        const limit = limitOf(params, 100, 5000);
        return depthWeight(isOutcome(limit) ? 100 : limit);
      },
      handle(params) {
        const m = marketParam(params);
        if (isOutcome(m)) return m;
        const limit = limitOf(params, 100, 5000);
        if (isOutcome(limit)) return limit;
        const state = faults.takeStaleSnapshot(m.spec.symbol)
          ? m.staleSnapshot(limit)
          : m.snapshot(limit);
        return ok(bookJson(m, state));
      },
    },
    "/api/v3/trades": {
      weight: () => 25,
      handle(params) {
        const m = marketParam(params);
        if (isOutcome(m)) return m;
        const limit = limitOf(params, 500, 1000);
        if (isOutcome(limit)) return limit;
        return ok(m.trades.recent(limit).map((t) => tradeJson(m, t)));
      },
    },
    "/api/v3/historicalTrades": {
      weight: () => 25,
      handle(params) {
        const m = marketParam(params);
        if (isOutcome(m)) return m;
        const limit = limitOf(params, 500, 1000);
        if (isOutcome(limit)) return limit;
        const fromId = intParam(params, "fromId");
        if (isOutcome(fromId)) return fromId;
        const list = fromId === undefined ? m.trades.recent(limit) : m.trades.from(fromId, limit);
        return ok(list.map((t) => tradeJson(m, t)));
      },
    },
    "/api/v3/aggTrades": {
      weight: () => 4,
      handle(params) {
        const m = marketParam(params);
        if (isOutcome(m)) return m;
        const limit = limitOf(params, 500, 1000);
        if (isOutcome(limit)) return limit;
        const fromId = intParam(params, "fromId");
        const start = intParam(params, "startTime");
        const end = intParam(params, "endTime");
        for (const v of [fromId, start, end]) if (isOutcome(v)) return v;
        let list: MarketAggTrade[];
        if (typeof fromId === "number") list = m.aggTrades.from(fromId, limit);
        else if (typeof start === "number" || typeof end === "number") {
          const lo = typeof start === "number" ? start : -Infinity;
          const hi = typeof end === "number" ? end : Infinity;
          list = m.aggTrades.from(0, Number.MAX_SAFE_INTEGER).filter((a) =>
            a.time >= lo && a.time <= hi
          )
            .slice(0, limit);
        } else list = m.aggTrades.recent(limit);
        return ok(list.map((a) => aggJson(m, a)));
      },
    },
    "/api/v3/klines": {
      weight: () => 2,
      handle(params) {
        const m = marketParam(params);
        if (isOutcome(m)) return m;
        const interval = params.get("interval");
        if (interval === null || interval === "") {
          return fail(
            -1102,
            "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
          );
        }
        if (!isKlineInterval(interval)) return fail(-1120, "Invalid interval.");
        const limit = limitOf(params, 500, 1000);
        if (isOutcome(limit)) return limit;
        const start = intParam(params, "startTime");
        const end = intParam(params, "endTime");
        if (isOutcome(start)) return start;
        if (isOutcome(end)) return end;
        const qd = m.spec.priceDecimals + m.spec.qtyDecimals;
        return ok(
          m.series(interval).history(limit, start, end).map((c) => [
            c.openTime,
            formatPrice(m.spec, c.open),
            formatPrice(m.spec, c.high),
            formatPrice(m.spec, c.low),
            formatPrice(m.spec, c.close),
            formatQty(m.spec, c.volume),
            c.closeTime,
            formatUnits(c.quoteVolume, qd, WIRE_DECIMALS),
            c.trades,
            formatQty(m.spec, c.takerBuyVolume),
            formatUnits(c.takerBuyQuoteVolume, qd, WIRE_DECIMALS),
            "0",
          ]),
        );
      },
    },
    "/api/v3/ticker/bookTicker": {
      weight: (params) => params.has("symbol") ? 2 : 4,
      handle(params) {
        const list = marketsParam(params);
        if (isOutcome(list)) return list;
        const tickers = list.map((m) => {
          const b = m.bbo();
          return {
            symbol: m.spec.symbol,
            bidPrice: b ? formatPrice(m.spec, b.bidPrice) : "0.00000000",
            bidQty: b ? formatQty(m.spec, b.bidQty) : "0.00000000",
            askPrice: b ? formatPrice(m.spec, b.askPrice) : "0.00000000",
            askQty: b ? formatQty(m.spec, b.askQty) : "0.00000000",
          };
        });
        return ok(params.has("symbol") ? tickers[0] : tickers);
      },
    },
  };

  const respond = (
    status: number,
    body: unknown,
    used: number,
    retryAfterSec?: number,
  ): RestResponse => {
    const headers: Record<string, string> = {
      "content-type": "application/json;charset=UTF-8",
      "x-mbx-used-weight": String(used),
      "x-mbx-used-weight-1m": String(used),
      [EMULATOR_HEADER[0]]: EMULATOR_HEADER[1],
    };
    if (retryAfterSec !== undefined) headers["retry-after"] = String(retryAfterSec);
    return { status, headers, body: JSON.stringify(body) };
  };
  const limited = (
    status: 429 | 418,
    retryAfterSec: number,
    used: number,
    now: number,
  ): RestResponse =>
    respond(
      status,
      status === 429
        ? {
          code: -1003,
          msg:
            `Too much request weight used; current limit is ${deps.maxWeightPerMinute} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
        }
        : {
          code: -1003,
          msg: `Way too much request weight used; IP banned until ${
            now + retryAfterSec * 1000
          }. Please use WebSocket Streams for live updates to avoid bans.`,
        },
      used,
      retryAfterSec,
    );

  return (method, url) => {
    const now = deps.now();
    const endpoint = Object.hasOwn(endpoints, url.pathname) ? endpoints[url.pathname] : undefined;
    if (!endpoint) {
      return respond(
        404,
        { code: -1000, msg: `Unknown endpoint: ${method} ${url.pathname}` },
        limiter.used(now),
      );
    }
    if (method !== "GET") {
      return respond(405, {
        code: -1000,
        msg: `Method ${method} is not allowed on ${url.pathname}`,
      }, limiter.used(now));
    }
    const forced = faults.takeForcedStatus();
    if (forced) return limited(forced.status, forced.retryAfterSec, limiter.used(now), now);
    const verdict = limiter.charge(endpoint.weight(url.searchParams), now);
    if (verdict.status !== 200) {
      return limited(verdict.status, verdict.retryAfterSec ?? 60, verdict.used, now);
    }
    const outcome = endpoint.handle(url.searchParams, now);
    return respond(outcome.status, outcome.body, verdict.used);
  };
}

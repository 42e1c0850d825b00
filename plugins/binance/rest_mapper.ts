/**
 * Pure mappers for the Binance REST payloads the feed uses: historical trades
 * (backfill), depth snapshots and exchangeInfo. Each validates what it maps.
 * @module
 */
import {
  type Instrument,
  instrumentRules,
  isoTime,
  type Level,
  positiveDecimal,
  type TradeEvent,
} from "../../mod.ts";
import { decimal, isId, isRecord, isTime, stepDecimals } from "./checks.ts";
import { EXCHANGE, mapLevels } from "./mapper.ts";

/** A validated depth snapshot (`GET /api/v3/depth`). */
export interface DepthSnapshot {
  lastUpdateId: number;
  bids: Level[];
  asks: Level[];
}

/** Result of mapping a REST payload: the value or why it was rejected. */
export type RestResult<T> = { ok: true; value: T } | {
  ok: false;
  reason: string;
};

/**
 * Maps one `GET /api/v3/historicalTrades` item to a trade event. The REST object
 * is kept as `raw`; it has no event time, so `eventTime` is the trade time.
 */
export function mapRestTrade(
  item: unknown,
  symbol: string,
  receiveTime: number,
): RestResult<TradeEvent> {
  if (!isRecord(item)) return fail("historicalTrades: item is not an object");
  const { id, time, isBuyerMaker } = item;
  const price = decimal(item.price), quantity = decimal(item.qty);
  if (!isId(id)) return fail("historicalTrades: bad id");
  if (!isTime(time)) return fail("historicalTrades: bad time");
  if (!(price > 0 && price < Infinity)) return fail("historicalTrades: bad price");
  if (!(quantity > 0 && quantity < Infinity)) {
    return fail("historicalTrades: bad qty");
  }
  if (typeof isBuyerMaker !== "boolean") {
    return fail("historicalTrades: bad isBuyerMaker");
  }
  return {
    ok: true,
    value: {
      type: "trade",
      exchange: EXCHANGE,
      symbol,
      eventTime: time,
      receiveTime,
      price,
      quantity,
      timestamp: isoTime(time),
      tradeId: id,
      side: isBuyerMaker ? "sell" : "buy",
      raw: item,
    },
  };
}

/** Validates a `GET /api/v3/depth` response. */
export function mapDepthSnapshot(body: unknown): RestResult<DepthSnapshot> {
  if (!isRecord(body)) return fail("depth snapshot: not an object");
  const lastUpdateId = body.lastUpdateId;
  if (!isId(lastUpdateId)) return fail("depth snapshot: bad lastUpdateId");
  const bids = mapLevels(body.bids);
  if (bids === undefined) return fail("depth snapshot: bad bids");
  const asks = mapLevels(body.asks);
  if (asks === undefined) return fail("depth snapshot: bad asks");
  return { ok: true, value: { lastUpdateId, bids, asks } };
}

/** What an exchangeInfo response says about the symbols a feed wants. */
export interface ExchangeInfoResult {
  /** Every trading instrument the exchange lists. */
  instruments: Instrument[];
  /** Requested symbols that are listed and trading, in request order. */
  streamed: string[];
  /** Requested symbols that are not listed (or not trading). */
  unknown: string[];
}

/**
 * Reads a `GET /api/v3/exchangeInfo` response and splits `wanted` (uppercase)
 * into listed and unknown symbols. Precisions and the tick size come from
 * `PRICE_FILTER.tickSize`; the step size, minimum and maximum quantity from
 * `LOT_SIZE.stepSize/minQty/maxQty`; the minimum notional from
 * `NOTIONAL.minNotional` (else the legacy `MIN_NOTIONAL.minNotional`). A rule
 * that is missing, zero (Binance's "disabled") or malformed is left out.
 */
export function mapExchangeInfo(
  body: unknown,
  wanted: readonly string[],
): RestResult<ExchangeInfoResult> {
  if (!isRecord(body) || !Array.isArray(body.symbols)) {
    return fail("exchangeInfo: no symbols array");
  }
  const listed = new Map<string, Instrument>();
  for (const s of body.symbols) {
    const instrument = mapInstrument(s);
    if (instrument) listed.set(instrument.symbol, instrument);
  }
  const streamed: string[] = [];
  const unknown: string[] = [];
  for (const symbol of wanted) {
    if (listed.has(symbol)) streamed.push(symbol);
    else unknown.push(symbol);
  }
  return { ok: true, value: { instruments: [...listed.values()], streamed, unknown } };
}

function mapInstrument(s: unknown): Instrument | undefined {
  if (!isRecord(s) || typeof s.symbol !== "string") return undefined;
  if (typeof s.baseAsset !== "string" || typeof s.quoteAsset !== "string") {
    return undefined;
  }
  if (s.status !== undefined && s.status !== "TRADING") return undefined;
  const filters = Array.isArray(s.filters) ? s.filters : [];
  const filter = (type: string) =>
    filters.find((f): f is Record<string, unknown> => isRecord(f) && f.filterType === type);
  const tick = filter("PRICE_FILTER")?.tickSize;
  const lot = filter("LOT_SIZE");
  const step = lot?.stepSize;
  return {
    symbol: s.symbol,
    base: s.baseAsset,
    quote: s.quoteAsset,
    unified: `${s.baseAsset}/${s.quoteAsset}`,
    pricePrecision: typeof tick === "string" ? stepDecimals(tick) : undefined,
    quantityPrecision: typeof step === "string" ? stepDecimals(step) : undefined,
    ...instrumentRules({
      tickSize: tick,
      stepSize: step,
      minQuantity: lot?.minQty,
      maxQuantity: lot?.maxQty,
      // NOTIONAL replaced MIN_NOTIONAL on spot; a symbol may still carry the legacy one.
      minNotional: positiveDecimal(filter("NOTIONAL")?.minNotional) ??
        filter("MIN_NOTIONAL")?.minNotional,
    }),
  };
}

function fail<T>(reason: string): RestResult<T> {
  return { ok: false, reason };
}

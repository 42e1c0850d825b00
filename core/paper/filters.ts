/**
 * Validation of an order request (shape, with zod) and of the exchange's symbol filters (tick
 * size, step size, quantity bounds, min notional), each failure reported with the exchange's
 * own error; and the rounding helpers the router uses.
 *
 * Exchange errors (as their APIs return them):
 * - Binance spot: `{"code":-1013,"msg":"Filter failure: PRICE_FILTER"}` (price off the tick),
 *   `LOT_SIZE` (quantity off the step, below `minQty` or above `maxQty`), `NOTIONAL`
 *   (price × quantity below `minNotional`; older symbols answer `MIN_NOTIONAL`).
 * - Coinbase Advanced Trade create/preview order failure reasons: `INVALID_PRICE_PRECISION`,
 *   `INVALID_SIZE_PRECISION`, `PREVIEW_INVALID_BASE_SIZE_TOO_SMALL`,
 *   `PREVIEW_INVALID_BASE_SIZE_TOO_LARGE`, `PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL`.
 * - Kraken spot REST: `EOrder:Invalid price` (tick), `EGeneral:Invalid arguments:volume`
 *   (lot decimals or too large), `EOrder:Order minimum not met` (`ordermin`),
 *   `EOrder:Cost minimum not met` (`costmin`).
 * @module
 */
import { z } from "zod";
import type { OrderRequest, PaperError, VenueRules } from "./types.ts";
import type { Side } from "../events.ts";

/** Relative tolerance of the grid checks: floating-point noise, not a real deviation. */
const GRID_TOLERANCE = 1e-9;

const CLIENT_ORDER_ID = /^[A-Za-z0-9_\-:.]{1,64}$/;

/**
 * Shape of an {@link OrderRequest}: strings for exchange and symbol, side, type, a positive
 * finite quantity, a positive finite price for limit orders (refused for market orders), a
 * time in force (POST_ONLY, FOK and GTC only on limit orders), a client order id of at most
 * 64 characters of `[A-Za-z0-9_-:.]`.
 *
 * @example
 * ```ts
 * import { orderRequestSchema } from "./filters.ts";
 * orderRequestSchema.safeParse({ exchange: "binance", symbol: "BTCUSDT", side: "buy",
 *   type: "market", quantity: 0.1 }).success; // true
 * ```
 */
export const orderRequestSchema = z.object({
  exchange: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(["buy", "sell"]),
  type: z.enum(["market", "limit"]),
  quantity: z.number().finite().positive(),
  price: z.number().finite().positive().optional(),
  timeInForce: z.enum(["GTC", "IOC", "FOK", "POST_ONLY"]).optional(),
  clientOrderId: z.string().regex(CLIENT_ORDER_ID, "1-64 characters of [A-Za-z0-9_-:.]")
    .optional(),
}).strict().superRefine((order, ctx) => {
  if (order.type === "limit" && order.price === undefined) {
    ctx.addIssue({ code: "custom", path: ["price"], message: "required for a limit order" });
  }
  if (order.type === "market" && order.price !== undefined) {
    ctx.addIssue({ code: "custom", path: ["price"], message: "not allowed on a market order" });
  }
  if (order.type === "market" && order.timeInForce !== undefined && order.timeInForce !== "IOC") {
    ctx.addIssue({
      code: "custom",
      path: ["timeInForce"],
      message: `${order.timeInForce} applies to limit orders only`,
    });
  }
});

/** What {@link parseOrderRequest} returns. */
export type ParsedOrderRequest =
  | { ok: true; request: OrderRequest }
  | { ok: false; error: PaperError };

/**
 * Validates untrusted input as an {@link OrderRequest}; a failure is an `invalid_order`
 * error whose message names the first offending field.
 *
 * @example
 * ```ts
 * import { parseOrderRequest } from "./filters.ts";
 * const parsed = parseOrderRequest({ exchange: "binance", symbol: "BTCUSDT", side: "buy",
 *   type: "limit", quantity: 1 });
 * // { ok: false, error: { code: "invalid_order", message: "price: required for a limit order" } }
 * ```
 */
export function parseOrderRequest(input: unknown): ParsedOrderRequest {
  const result = orderRequestSchema.safeParse(input);
  if (result.success) return { ok: true, request: result.data };
  const issue = result.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.join(".") : "order";
  return { ok: false, error: { code: "invalid_order", message: `${field}: ${issue.message}` } };
}

/** Which filter failed (the key of {@link exchangeFilterError}). */
export type FilterKind = "tick" | "step" | "min_quantity" | "max_quantity" | "min_notional";

const BINANCE: Record<FilterKind, string> = {
  tick: "Filter failure: PRICE_FILTER",
  step: "Filter failure: LOT_SIZE",
  min_quantity: "Filter failure: LOT_SIZE",
  max_quantity: "Filter failure: LOT_SIZE",
  min_notional: "Filter failure: NOTIONAL",
};

const COINBASE: Record<FilterKind, string> = {
  tick: "INVALID_PRICE_PRECISION",
  step: "INVALID_SIZE_PRECISION",
  min_quantity: "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
  max_quantity: "PREVIEW_INVALID_BASE_SIZE_TOO_LARGE",
  min_notional: "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL",
};

const KRAKEN: Record<FilterKind, string> = {
  tick: "EOrder:Invalid price",
  step: "EGeneral:Invalid arguments:volume",
  min_quantity: "EOrder:Order minimum not met",
  max_quantity: "EGeneral:Invalid arguments:volume",
  min_notional: "EOrder:Cost minimum not met",
};

/**
 * The exchange's own error for a failed filter; undefined for an exchange without a table.
 *
 * @example
 * ```ts
 * import { exchangeFilterError } from "./filters.ts";
 * exchangeFilterError("binance", "step"); // { code: -1013, msg: "Filter failure: LOT_SIZE" }
 * exchangeFilterError("kraken", "min_notional"); // { msg: "EOrder:Cost minimum not met" }
 * ```
 */
export function exchangeFilterError(
  exchange: string,
  kind: FilterKind,
): { code?: number | string; msg: string } | undefined {
  switch (exchange) {
    case "binance":
      return { code: -1013, msg: BINANCE[kind] };
    case "coinbase":
      return { code: COINBASE[kind], msg: COINBASE[kind] };
    case "kraken":
      return { msg: KRAKEN[kind] };
    default:
      return undefined;
  }
}

function filterFailure(exchange: string, kind: FilterKind, message: string): PaperError {
  const exchangeError = exchangeFilterError(exchange, kind);
  return exchangeError
    ? { code: "filter_failure", message, exchangeError }
    : { code: "filter_failure", message };
}

/**
 * Whether `value` is a whole multiple of `step`, compared in integer steps with a relative
 * tolerance of 1e-9 (so 0.3 is on the 0.1 grid although 0.3 / 0.1 = 2.9999999999999996).
 *
 * @example
 * ```ts
 * import { onGrid } from "./filters.ts";
 * onGrid(0.3, 0.1); // true
 * onGrid(100.005, 0.01); // false
 * ```
 */
export function onGrid(value: number, step: number): boolean {
  const steps = value / step;
  return Math.abs(steps - Math.round(steps)) <= GRID_TOLERANCE * Math.max(1, Math.abs(steps));
}

/** Decimals of a step (0.001 → 3, 1e-8 → 8, 5 → 0), to print grid values without noise. */
function decimalsOf(step: number): number {
  const text = String(step);
  const exp = text.indexOf("e-");
  if (exp >= 0) {
    const mantissa = text.slice(0, exp);
    const dot = mantissa.indexOf(".");
    return Number(text.slice(exp + 2)) + (dot >= 0 ? mantissa.length - dot - 1 : 0);
  }
  const dot = text.indexOf(".");
  return dot >= 0 ? text.length - dot - 1 : 0;
}

function toGrid(steps: number, step: number): number {
  return Number((steps * step).toFixed(Math.min(decimalsOf(step), 100)));
}

/**
 * Rounds a quantity down to a multiple of `step` (a value within 1e-9 relative of the next
 * multiple counts as on it). Without a step (undefined or ≤ 0), the quantity unchanged.
 *
 * @example
 * ```ts
 * import { roundToStep } from "./filters.ts";
 * roundToStep(1.23456, 0.001); // 1.234
 * roundToStep(0.3, 0.1); // 0.3
 * ```
 */
export function roundToStep(quantity: number, step: number | undefined): number {
  if (step === undefined || !(step > 0)) return quantity;
  const steps = quantity / step;
  const nearest = Math.round(steps);
  const whole = Math.abs(steps - nearest) <= GRID_TOLERANCE * Math.max(1, Math.abs(steps))
    ? nearest
    : Math.floor(steps);
  return toGrid(whole, step);
}

/**
 * Rounds a price to the tick on the passive side: a buy down, a sell up (never a worse price
 * for the order's owner than asked). Without a tick, the price unchanged.
 *
 * @example
 * ```ts
 * import { roundToTick } from "./filters.ts";
 * roundToTick(100.037, 0.01, "buy"); // 100.03
 * roundToTick(100.031, 0.01, "sell"); // 100.04
 * ```
 */
export function roundToTick(price: number, tick: number | undefined, side: Side): number {
  if (tick === undefined || !(tick > 0)) return price;
  const ticks = price / tick;
  const nearest = Math.round(ticks);
  if (Math.abs(ticks - nearest) <= GRID_TOLERANCE * Math.max(1, Math.abs(ticks))) {
    return toGrid(nearest, tick);
  }
  return toGrid(side === "buy" ? Math.floor(ticks) : Math.ceil(ticks), tick);
}

/**
 * Checks a (shape-valid) request against the symbol's filters, in the exchange's order: price
 * tick, quantity step, min and max quantity, min notional. The notional of a market order uses
 * `referencePrice` (e.g. the best opposite price); without one it is not checked. Returns the
 * first failure as a `filter_failure` with the exchange's own error, or undefined.
 *
 * @example
 * ```ts
 * import { checkOrder } from "./filters.ts";
 * const rules = { exchange: "binance", symbol: "BTCUSDT", base: "BTC", quote: "USDT",
 *   tickSize: 0.01, stepSize: 0.00001, minNotional: 5 };
 * checkOrder(rules, { exchange: "binance", symbol: "BTCUSDT", side: "buy", type: "limit",
 *   quantity: 0.00001, price: 100_000 })?.exchangeError;
 * // { code: -1013, msg: "Filter failure: NOTIONAL" }
 * ```
 */
export function checkOrder(
  rules: VenueRules,
  request: OrderRequest,
  referencePrice?: number,
): PaperError | undefined {
  const ex = rules.exchange;
  const { quantity, price } = request;
  if (request.type === "limit" && price !== undefined && rules.tickSize && rules.tickSize > 0) {
    if (!onGrid(price, rules.tickSize)) {
      return filterFailure(
        ex,
        "tick",
        `price ${price} is not a multiple of the tick size ${rules.tickSize}`,
      );
    }
  }
  if (rules.stepSize && rules.stepSize > 0 && !onGrid(quantity, rules.stepSize)) {
    return filterFailure(
      ex,
      "step",
      `quantity ${quantity} is not a multiple of the step size ${rules.stepSize}`,
    );
  }
  if (rules.minQuantity !== undefined && quantity < rules.minQuantity) {
    return filterFailure(
      ex,
      "min_quantity",
      `quantity ${quantity} is below the minimum ${rules.minQuantity}`,
    );
  }
  if (rules.maxQuantity !== undefined && quantity > rules.maxQuantity) {
    return filterFailure(
      ex,
      "max_quantity",
      `quantity ${quantity} is above the maximum ${rules.maxQuantity}`,
    );
  }
  const notionalPrice = request.type === "limit" ? price : referencePrice;
  if (rules.minNotional !== undefined && notionalPrice !== undefined) {
    const notional = notionalPrice * quantity;
    if (notional < rules.minNotional * (1 - GRID_TOLERANCE)) {
      return filterFailure(
        ex,
        "min_notional",
        `notional ${notional} is below the minimum ${rules.minNotional}`,
      );
    }
  }
  return undefined;
}

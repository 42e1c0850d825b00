/**
 * Validation of the simulated venue's inputs (requests, amends, ids, times) into
 * {@link PaperError}s, and the exchange's own error words the venue reports. Private to
 * `core/paper/`.
 * @module
 */
import { z } from "zod";
import type { OrderRequest, PaperError, PaperErrorCode, VenueRules } from "./types.ts";

/**
 * Binance's own words for a post-only (LIMIT_MAKER) order that would take.
 *
 * @example
 * ```ts
 * import { WOULD_TAKE_ERROR } from "./_venue_input.ts";
 *
 * console.log(WOULD_TAKE_ERROR.code); // -2010
 * ```
 */
export const WOULD_TAKE_ERROR = { code: -2010, msg: "Order would immediately match and take." };

/**
 * Binance's own words for a cancel of an order that is not open.
 *
 * @example
 * ```ts
 * import { UNKNOWN_ORDER_ERROR } from "./_venue_input.ts";
 *
 * console.log(UNKNOWN_ORDER_ERROR.msg); // "Unknown order sent."
 * ```
 */
export const UNKNOWN_ORDER_ERROR = { code: -2011, msg: "Unknown order sent." };

/**
 * Binance's own words for a client order id already in use.
 *
 * @example
 * ```ts
 * import { DUPLICATE_ORDER_ERROR } from "./_venue_input.ts";
 *
 * console.log(DUPLICATE_ORDER_ERROR.msg); // "Duplicate order sent."
 * ```
 */
export const DUPLICATE_ORDER_ERROR = { code: -2010, msg: "Duplicate order sent." };

const requestSchema = z.object({
  exchange: z.string(),
  symbol: z.string(),
  side: z.enum(["buy", "sell"]),
  type: z.enum(["market", "limit"]),
  quantity: z.number().positive().finite(),
  price: z.number().positive().finite().optional(),
  timeInForce: z.enum(["GTC", "IOC", "FOK", "POST_ONLY"]).optional(),
  clientOrderId: z.string().min(1).max(64).optional(),
});

const amendSchema = z.object({
  price: z.number().positive().finite().optional(),
  quantity: z.number().positive().finite().optional(),
}).refine((c) => c.price !== undefined || c.quantity !== undefined, "nothing to amend");

/**
 * A {@link PaperError}, with the exchange's own error when given.
 *
 * @example
 * ```ts
 * import { paperError } from "./_venue_input.ts";
 *
 * paperError("unknown_order", "no open order P-7", { code: -2011, msg: "Unknown order sent." });
 * ```
 */
export function paperError(
  code: PaperErrorCode,
  message: string,
  exchangeError?: PaperError["exchangeError"],
): PaperError {
  return exchangeError ? { code, message, exchangeError } : { code, message };
}

/**
 * Checks a request for this venue's symbol: well-formed (zod), a price for limit orders and
 * none for market orders, no GTC or POST_ONLY market order. Returns the request (unknown keys
 * dropped) or an `invalid_order` error.
 *
 * @example
 * ```ts
 * import { parseOrderRequest } from "./_venue_input.ts";
 *
 * const rules = { exchange: "binance", symbol: "BTCUSDT", base: "BTC", quote: "USDT" };
 * parseOrderRequest({ ...rules, side: "buy", type: "market", quantity: 1 }, rules); // the request
 * ```
 */
export function parseOrderRequest(request: unknown, rules: VenueRules): OrderRequest | PaperError {
  const parsed = requestSchema.safeParse(request);
  if (!parsed.success) {
    return paperError(
      "invalid_order",
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  }
  const req = parsed.data;
  if (req.exchange !== rules.exchange || req.symbol !== rules.symbol) {
    return paperError("invalid_order", `this venue trades ${rules.exchange} ${rules.symbol}`);
  }
  if (req.type === "limit" && req.price === undefined) {
    return paperError("invalid_order", "a limit order needs a price");
  }
  if (req.type === "market" && req.price !== undefined) {
    return paperError("invalid_order", "a market order takes no price");
  }
  if (req.type === "market" && (req.timeInForce === "GTC" || req.timeInForce === "POST_ONLY")) {
    return paperError("invalid_order", `a market order cannot be ${req.timeInForce}`);
  }
  return req;
}

/**
 * Checks the changes of an amend: a positive finite price and/or quantity, at least one.
 *
 * @example
 * ```ts
 * import { parseAmend } from "./_venue_input.ts";
 *
 * parseAmend({ quantity: 0.5 }); // { quantity: 0.5 }
 * parseAmend({}); // { code: "invalid_order", … }
 * ```
 */
export function parseAmend(
  changes: unknown,
): { price?: number; quantity?: number } | PaperError {
  const parsed = amendSchema.safeParse(changes);
  if (parsed.success) return parsed.data;
  return paperError("invalid_order", parsed.error.issues.map((i) => i.message).join("; "));
}

/**
 * Checks the arguments every action has: a non-empty account id and a finite venue time.
 *
 * @example
 * ```ts
 * import { checkAction } from "./_venue_input.ts";
 *
 * checkAction("alice", 1_000); // undefined
 * checkAction("", 1_000); // { code: "invalid_order", … }
 * ```
 */
export function checkAction(accountId: unknown, sentTime: unknown): PaperError | undefined {
  if (typeof accountId !== "string" || accountId.length === 0) {
    return paperError("invalid_order", "accountId must be a non-empty string");
  }
  if (typeof sentTime !== "number" || !Number.isFinite(sentTime)) {
    return paperError("invalid_order", "sentTime must be a finite number (ms)");
  }
  return undefined;
}

/**
 * Checks the order id (or client order id) a cancel or amend names: a non-empty string.
 *
 * @example
 * ```ts
 * import { checkId } from "./_venue_input.ts";
 *
 * checkId("P-1"); // undefined
 * ```
 */
export function checkId(id: unknown): PaperError | undefined {
  return typeof id === "string" && id.length > 0
    ? undefined
    : paperError("invalid_order", "id must be a non-empty string");
}

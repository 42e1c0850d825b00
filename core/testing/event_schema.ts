/**
 * zod schema of every normalized event a plugin may emit ({@link MarketEvent}),
 * as the conformance kit checks them: field types, finite positive prices,
 * non-negative quantities, ISO 8601 timestamps, and the plugin's exchange name.
 * @module
 */
import { z } from "zod";
import type { MarketEvent } from "../events.ts";

const price = z.number().finite().positive();
const quantity = z.number().finite().nonnegative();
const epochMs = z.number().finite().positive();
const iso = z.iso.datetime({ offset: true });
const symbol = z.string().min(1);
const level = z.tuple([price, quantity]);

const finite = z.number().finite();
const quoteOption = z.object({
  markPrice: finite.nonnegative().optional(),
  markIv: finite.nonnegative().optional(),
  bidIv: finite.nonnegative().optional(),
  askIv: finite.nonnegative().optional(),
  underlyingPrice: price.optional(),
  underlyingIndex: z.string().min(1).optional(),
  indexPrice: price.optional(),
  interestRate: finite.optional(),
  greeks: z.object({ delta: finite, gamma: finite, vega: finite, theta: finite, rho: finite })
    .optional(),
  openInterest: finite.nonnegative().optional(),
});
const optionContract = z.object({
  underlying: z.string().min(1),
  expiry: epochMs,
  strike: price,
  type: z.enum(["call", "put"]),
  contractSize: z.number().finite().positive(),
  settlement: z.string().min(1),
  inverse: z.boolean(),
});

const base = {
  exchange: z.string().min(1),
  symbol,
  eventTime: epochMs,
  receiveTime: epochMs,
  raw: z.unknown().optional(),
};

/**
 * Schema of one normalized event (a discriminated union on `type`).
 *
 * @example
 * ```ts
 * import { marketEventSchema } from "./testing.ts";
 * const result = marketEventSchema.safeParse({ type: "quote", exchange: "myex" });
 * console.log(result.success); // false: symbol, prices, times missing
 * ```
 */
export const marketEventSchema: z.ZodType<MarketEvent> = z.discriminatedUnion("type", [
  z.object({
    ...base,
    type: z.literal("trade"),
    price,
    quantity: quantity.refine((q) => q > 0, "a trade's quantity must be positive"),
    timestamp: iso,
    tradeId: z.union([z.number().int().nonnegative(), z.string().min(1)]),
    side: z.enum(["buy", "sell"]),
  }),
  z.object({
    ...base,
    type: z.literal("quote"),
    bidPrice: price,
    bidQuantity: quantity,
    askPrice: price,
    askQuantity: quantity,
    timestamp: iso,
    updateId: z.number().int().optional(),
    option: quoteOption.optional(),
  }),
  z.object({
    ...base,
    type: z.literal("kline"),
    interval: z.string().regex(/^\d+[smhdwM]$/, "interval like 1m, 1h, 1d"),
    openTime: epochMs,
    closeTime: epochMs,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: quantity,
    quoteVolume: quantity,
    trades: z.number().int().nonnegative(),
    closed: z.boolean(),
    timestamp: iso,
  }),
  z.object({
    ...base,
    type: z.literal("book"),
    snapshot: z.boolean(),
    bids: z.array(level),
    asks: z.array(level),
    updateId: z.number().int().optional(),
    firstUpdateId: z.number().int().optional(),
    timestamp: iso,
  }),
  z.object({
    type: z.literal("gap"),
    exchange: z.string().min(1),
    symbol,
    channel: z.literal("trade"),
    fromId: z.number().int().nonnegative(),
    toId: z.number().int().nonnegative(),
    reason: z.string().min(1),
    receiveTime: epochMs,
  }),
  z.object({
    type: z.literal("instruments"),
    exchange: z.string().min(1),
    instruments: z.array(
      z.object({
        symbol,
        base: z.string().min(1),
        quote: z.string().min(1),
        unified: z.string().regex(/^\S+$/, "a unified name has no spaces"),
        pricePrecision: z.number().int().nonnegative().optional(),
        quantityPrecision: z.number().int().nonnegative().optional(),
        tickSize: z.number().positive().optional(),
        stepSize: z.number().positive().optional(),
        minQuantity: z.number().positive().optional(),
        maxQuantity: z.number().positive().optional(),
        minNotional: z.number().positive().optional(),
        kind: z.enum(["spot", "future", "perpetual", "option"]).optional(),
        quantityUnit: z.string().min(1).optional(),
        option: optionContract.optional(),
      }).refine(
        (i) => (i.kind !== undefined && i.kind !== "spot") || /^[^/\s]+\/[^/\s]+$/.test(i.unified),
        { message: "unified names look like BASE/QUOTE (derivatives: the exchange's name)" },
      ).refine((i) => (i.kind === "option") === (i.option !== undefined), {
        message: "an option instrument (kind option) carries its option contract, and only it",
      }),
    ),
    streamed: z.array(symbol),
  }),
]) as unknown as z.ZodType<MarketEvent>;

/**
 * Problems with one emitted event (empty when it is valid): each schema issue as
 * `path: message`, and a wrong `exchange` name.
 *
 * @example
 * ```ts
 * import { eventProblems } from "./testing.ts";
 * const problems = eventProblems({
 *   type: "trade", exchange: "myex", symbol: "BTCUSD", price: -1, quantity: 1,
 *   timestamp: "yesterday", tradeId: 1, side: "buy", eventTime: 1, receiveTime: 1,
 * }, "myex");
 * console.log(problems); // ["price: ...", "timestamp: ..."]
 * ```
 */
export function eventProblems(event: unknown, exchange: string): string[] {
  const result = marketEventSchema.safeParse(event);
  const problems = result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join(".") || "event"}: ${i.message}`);
  const name = (event as { exchange?: unknown } | null)?.exchange;
  if (typeof name === "string" && name !== exchange) {
    problems.push(`exchange: "${name}" is not the plugin's name "${exchange}"`);
  }
  return problems;
}

/**
 * Smart order routing of one parent order across venues' books (next-wave.md §5): every
 * venue's opposite-side levels priced all-in (taker fee included, in a common quote), the
 * cheapest taken first until the quantity is filled; then each child rounded to its venue's
 * lot step and dropped if below the venue's minimum quantity or notional, its quantity
 * re-allocated to the next-best levels, until stable. Compared with the best single venue.
 *
 * Assumptions:
 * - Taker fills only (an immediate sweep); each venue's taker rate from the caller.
 * - Quote assets differ (Binance BTCUSDT in USDT, Coinbase BTC-USD and Kraken XBT/USD in USD):
 *   `quoteRate` converts one unit of the venue's quote into the common quote, default 1
 *   (USDT ≈ USD). The rate is the caller's (a configurable or live rate); the router applies it.
 * - The limit price is in the common quote and compared with the raw level price × quoteRate,
 *   fees excluded, as a limit order on the venue would be.
 * - The book is taken as it is now: no latency, no other taker, no hidden liquidity.
 * @module
 */
import { z } from "zod";
import type { Level, Side } from "../events.ts";
import type { FeeSchedule, PaperError, VenueRules } from "./types.ts";
import { roundToStep } from "./filters.ts";

/** One venue's input to {@link planRoute}. */
export interface RouteVenue {
  exchange: string;
  /** Exchange-native symbol. */
  symbol: string;
  /** The venue's book, best level first on each side. */
  book: { bids: Level[]; asks: Level[] };
  /** The account's schedule on this venue (the taker rate is used). */
  fees: FeeSchedule;
  rules: VenueRules;
  /** Venue time of the book (exchange event time, ms). */
  bookTime: number;
  /** Common-quote value of one unit of this venue's quote asset (default 1). */
  quoteRate?: number;
}

/** A parent order to route. */
export interface RouteRequest {
  side: Side;
  /** Base quantity. */
  quantity: number;
  /** Worst raw price in the common quote (fees excluded); absent = no limit. */
  limitPrice?: number;
  venues: RouteVenue[];
  /** Venue time now, ms. */
  now: number;
  /** Books older than this are skipped. */
  maxBookAgeMs: number;
}

/** One child order of a plan. */
export interface RouteLeg {
  exchange: string;
  symbol: string;
  /** Base quantity, a multiple of the venue's step. */
  quantity: number;
  /** Worst level price taken, on the venue's tick (venue quote): the child's limit. */
  limitPrice: number;
  /** Σ price × quantity / quantity over the levels taken (venue quote). */
  expectedAveragePrice: number;
  /** Σ price × quantity (venue quote). */
  notional: number;
  /** Taker fee (venue quote). */
  fee: number;
  /** (notional + fee) for a buy, (notional − fee) for a sell, × quoteRate (common quote). */
  allInCost: number;
  quoteRate: number;
  /** Levels taken, best first, with the quantity taken from each. */
  levels: Level[];
}

/** A venue left out of the plan. */
export interface SkippedVenue {
  exchange: string;
  symbol: string;
  reason: "stale" | "empty_book";
  /** Age of the book (stale only), ms. */
  ageMs?: number;
}

/** A child dropped by the venue's filters; its quantity went to the next-best venues. */
export interface DroppedChild {
  exchange: string;
  symbol: string;
  /** Quantity allocated before the drop. */
  quantity: number;
  reason: "step" | "min_quantity" | "min_notional";
}

/** Cost of the same order on one venue alone (its filters applied). */
export interface SingleVenueCost {
  exchange: string;
  symbol: string;
  /** What this venue alone can fill (≤ the order). */
  quantity: number;
  /** Whether it fills the whole order. */
  fillsAll: boolean;
  /** Raw average price, common quote. */
  averagePrice: number;
  /** All-in cost (buy) or proceeds (sell), common quote. */
  allInCost: number;
  allInAveragePrice: number;
}

/** What {@link planRoute} returns when something can be filled. */
export interface RoutePlan {
  side: Side;
  /** Asked quantity. */
  quantity: number;
  legs: RouteLeg[];
  totals: {
    quantity: number;
    /** Σ notional × quoteRate. */
    notional: number;
    /** notional / quantity (common quote, fees excluded). */
    averagePrice: number;
    /** Σ fee × quoteRate. */
    fees: number;
    /** Σ allInCost. */
    allInCost: number;
    /** allInCost / quantity. */
    allInAveragePrice: number;
  };
  unfilledQuantity: number;
  /** (best bid + best ask) / 2 over the fresh venues, common quote. */
  consolidatedMid?: number;
  /** Raw average price against the consolidated mid, bps (positive = worse than mid). */
  slippageBps?: number;
  /** The best single venue: the cheapest that fills all, else the best per unit. */
  bestSingleVenue?: SingleVenueCost;
  /**
   * What the split saves against the best single venue (common quote, positive = better).
   * `basis: "total"` when both fill the whole order (difference of the all-in costs);
   * `"per_unit"` otherwise (difference of all-in averages × the split's quantity).
   * `bps` is the per-unit difference over the single venue's all-in average.
   */
  saving?: { amount: number; bps: number; basis: "total" | "per_unit" };
  skipped: SkippedVenue[];
  dropped: DroppedChild[];
}

/** Result of {@link planRoute}. */
export type RouteResult = { ok: true; plan: RoutePlan } | { ok: false; error: PaperError };

const finite = z.number().finite();
const level = z.tuple([finite, finite]);
const routeRequestSchema = z.object({
  side: z.enum(["buy", "sell"]),
  quantity: finite.positive(),
  limitPrice: finite.positive().optional(),
  now: finite,
  maxBookAgeMs: finite.nonnegative(),
  venues: z.array(z.object({
    exchange: z.string().min(1),
    symbol: z.string().min(1),
    book: z.object({ bids: z.array(level), asks: z.array(level) }),
    fees: z.object({ maker: finite, taker: finite.gt(-1) }),
    rules: z.object({
      tickSize: finite.positive().optional(),
      stepSize: finite.positive().optional(),
      minQuantity: finite.nonnegative().optional(),
      maxQuantity: finite.positive().optional(),
      minNotional: finite.nonnegative().optional(),
    }).loose(),
    bookTime: finite,
    quoteRate: finite.positive().optional(),
  })),
});

/** Quantities below this fraction of the order are floating-point dust. */
const EPS = 1e-9;

interface Entry {
  venue: number;
  price: number;
  quantity: number;
  allIn: number;
}

interface Ctx {
  venue: RouteVenue;
  rate: number;
  /** Opposite-side levels within the limit, best first. */
  levels: Level[];
}

function walk(
  levels: Level[],
  quantity: number,
): { quantity: number; notional: number; levels: Level[] } {
  let left = quantity;
  let notional = 0;
  const taken: Level[] = [];
  for (const [price, size] of levels) {
    if (left <= quantity * EPS) break;
    const x = Math.min(size, left);
    taken.push([price, x]);
    notional += price * x;
    left -= x;
  }
  return { quantity: quantity - Math.max(left, 0), notional, levels: taken };
}

function onTickAway(price: number, tick: number | undefined, side: Side): number {
  if (!tick) return price;
  const ticks = price / tick;
  const nearest = Math.round(ticks);
  const whole = Math.abs(ticks - nearest) <= 1e-9 * Math.max(1, Math.abs(ticks))
    ? nearest
    : side === "buy"
    ? Math.ceil(ticks)
    : Math.floor(ticks);
  const decimals = Math.max(0, Math.ceil(-Math.log10(tick) - 1e-9));
  return Number((whole * tick).toFixed(Math.min(decimals + 2, 100)));
}

/**
 * Plans a taker sweep of `quantity` across the venues by lowest all-in cost (highest all-in
 * proceeds for a sell), each child on its venue's step and above its minimums; stale books
 * (`now − bookTime > maxBookAgeMs`) are skipped and listed. `invalid_order` for a malformed
 * request, `no_route` when no venue can fill anything.
 *
 * @example
 * ```ts
 * import { planRoute } from "./router.ts";
 * const rules = (exchange: string) => ({ exchange, symbol: "BTC", base: "BTC", quote: "USD" });
 * const result = planRoute({
 *   side: "buy", quantity: 1, now: 1_000, maxBookAgeMs: 5_000,
 *   venues: [
 *     { exchange: "a", symbol: "BTC", book: { bids: [], asks: [[100, 0.5]] },
 *       fees: { maker: 0, taker: 0.001 }, rules: rules("a"), bookTime: 1_000 },
 *     { exchange: "b", symbol: "BTC", book: { bids: [], asks: [[100.1, 1]] },
 *       fees: { maker: 0, taker: 0.001 }, rules: rules("b"), bookTime: 1_000 },
 *   ],
 * });
 * // result.ok && result.plan.legs: a 0.5 @ 100, b 0.5 @ 100.1
 * ```
 */
export function planRoute(request: RouteRequest): RouteResult {
  const parsed = routeRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      error: {
        code: "invalid_order",
        message: `${issue.path.join(".") || "route"}: ${issue.message}`,
      },
    };
  }
  const { side, quantity, limitPrice, now, maxBookAgeMs } = request;
  const buy = side === "buy";
  const skipped: SkippedVenue[] = [];
  const ctxs: Ctx[] = [];
  const fresh: Ctx[] = [];
  for (const venue of request.venues) {
    const rate = venue.quoteRate ?? 1;
    const ageMs = now - venue.bookTime;
    if (ageMs > maxBookAgeMs) {
      skipped.push({ exchange: venue.exchange, symbol: venue.symbol, reason: "stale", ageMs });
      continue;
    }
    const ctx: Ctx = { venue, rate, levels: [] };
    fresh.push(ctx);
    const opposite = (buy ? venue.book.asks : venue.book.bids).filter(([p, q]) => p > 0 && q > 0);
    ctx.levels = opposite.filter(([p]) =>
      limitPrice === undefined || (buy ? p * rate <= limitPrice : p * rate >= limitPrice)
    );
    if (opposite.length === 0) {
      skipped.push({ exchange: venue.exchange, symbol: venue.symbol, reason: "empty_book" });
      continue;
    }
    ctxs.push(ctx);
  }

  // Merged all-in ladder, best first; ties by venue order, then level order (stable sort).
  const entries: Entry[] = [];
  ctxs.forEach((ctx, venue) => {
    const t = ctx.venue.fees.taker;
    for (const [price, size] of ctx.levels) {
      entries.push({
        venue,
        price,
        quantity: size,
        allIn: price * (buy ? 1 + t : 1 - t) * ctx.rate,
      });
    }
  });
  entries.sort((a, b) => buy ? a.allIn - b.allIn : b.allIn - a.allIn);

  const initialCaps = ctxs.map((c) =>
    c.venue.rules.maxQuantity !== undefined
      ? roundToStep(c.venue.rules.maxQuantity, c.venue.rules.stepSize)
      : Infinity
  );
  let caps = [...initialCaps];
  const excluded = new Set<number>();
  const dropped: DroppedChild[] = [];

  const allocate = (): number[] => {
    const taken = ctxs.map(() => 0);
    let left = quantity;
    for (const e of entries) {
      if (left <= quantity * EPS) break;
      if (excluded.has(e.venue)) continue;
      const room = caps[e.venue] - taken[e.venue];
      const x = Math.min(e.quantity, left, room);
      if (x <= 0) continue;
      taken[e.venue] += x;
      left -= x;
    }
    return taken;
  };

  let allocation = allocate();
  for (let pass = 0; pass < 4 * (ctxs.length + 1) * (ctxs.length + 1) + 16; pass++) {
    let excludedNow = false;
    let capped = false;
    allocation.forEach((q, v) => {
      if (q <= quantity * EPS) return;
      const rules = ctxs[v].venue.rules;
      const r = roundToStep(q, rules.stepSize);
      const drop = (reason: DroppedChild["reason"]) => {
        dropped.push({
          exchange: ctxs[v].venue.exchange,
          symbol: ctxs[v].venue.symbol,
          quantity: clean(q),
          reason,
        });
        excluded.add(v);
        excludedNow = true;
      };
      if (r <= 0) return drop("step");
      if (rules.minQuantity !== undefined && r < rules.minQuantity) return drop("min_quantity");
      if (
        rules.minNotional !== undefined &&
        walk(ctxs[v].levels, r).notional < rules.minNotional * (1 - EPS)
      ) return drop("min_notional");
      if (r < q * (1 - EPS)) {
        caps[v] = Math.min(caps[v], r);
        capped = true;
      }
    });
    if (excludedNow) caps = [...initialCaps];
    if (!excludedNow && !capped) break;
    allocation = allocate();
  }

  const legs: RouteLeg[] = [];
  allocation.forEach((q, v) => {
    if (q <= quantity * EPS || excluded.has(v)) return;
    const { venue, rate } = ctxs[v];
    const leg = makeLeg(ctxs[v], roundToStep(q, venue.rules.stepSize), buy);
    if (leg.quantity > 0) legs.push({ ...leg, quoteRate: rate });
  });

  if (legs.length === 0) {
    const why = [
      ...skipped.map((s) => `${s.exchange} ${s.reason}`),
      ...dropped.map((d) => `${d.exchange} ${d.reason}`),
    ];
    return {
      ok: false,
      error: {
        code: "no_route",
        message: `no venue can fill any of ${quantity}` +
          (limitPrice !== undefined ? ` within ${limitPrice}` : "") +
          (why.length > 0 ? ` (${why.join(", ")})` : ""),
      },
    };
  }

  const totals = {
    quantity: 0,
    notional: 0,
    averagePrice: 0,
    fees: 0,
    allInCost: 0,
    allInAveragePrice: 0,
  };
  for (const leg of legs) {
    totals.quantity += leg.quantity;
    totals.notional += leg.notional * leg.quoteRate;
    totals.fees += leg.fee * leg.quoteRate;
    totals.allInCost += leg.allInCost;
  }
  totals.averagePrice = totals.notional / totals.quantity;
  totals.allInAveragePrice = totals.allInCost / totals.quantity;
  const unfilled = quantity - totals.quantity;

  const plan: RoutePlan = {
    side,
    quantity,
    legs,
    totals,
    unfilledQuantity: unfilled > quantity * EPS ? clean(unfilled) : 0,
    skipped,
    dropped,
  };

  const mid = consolidatedMid(fresh);
  if (mid !== undefined) {
    plan.consolidatedMid = mid;
    plan.slippageBps = (buy ? totals.averagePrice - mid : mid - totals.averagePrice) / mid * 1e4;
  }

  const single = bestSingle(ctxs, quantity, buy);
  if (single) {
    plan.bestSingleVenue = single;
    const perUnit = buy
      ? single.allInAveragePrice - totals.allInAveragePrice
      : totals.allInAveragePrice - single.allInAveragePrice;
    const bothAll = single.fillsAll && plan.unfilledQuantity === 0;
    plan.saving = {
      amount: bothAll
        ? (buy ? single.allInCost - totals.allInCost : totals.allInCost - single.allInCost)
        : perUnit * totals.quantity,
      bps: perUnit / single.allInAveragePrice * 1e4,
      basis: bothAll ? "total" : "per_unit",
    };
  }
  return { ok: true, plan };
}

/** Drops floating-point noise from a reported quantity (12 significant digits). */
function clean(x: number): number {
  return Number(x.toPrecision(12));
}

function makeLeg(ctx: Ctx, quantity: number, buy: boolean): Omit<RouteLeg, "quoteRate"> {
  const { venue, rate } = ctx;
  const w = walk(ctx.levels, quantity);
  const fee = w.notional * venue.fees.taker;
  const worst = w.levels.length > 0 ? w.levels[w.levels.length - 1][0] : 0;
  return {
    exchange: venue.exchange,
    symbol: venue.symbol,
    quantity,
    limitPrice: onTickAway(worst, venue.rules.tickSize, buy ? "buy" : "sell"),
    expectedAveragePrice: quantity > 0 ? w.notional / quantity : 0,
    notional: w.notional,
    fee,
    allInCost: (buy ? w.notional + fee : w.notional - fee) * rate,
    levels: w.levels,
  };
}

function consolidatedMid(fresh: Ctx[]): number | undefined {
  let bid = -Infinity;
  let ask = Infinity;
  for (const { venue, rate } of fresh) {
    const b = venue.book.bids.find(([p, q]) => p > 0 && q > 0);
    const a = venue.book.asks.find(([p, q]) => p > 0 && q > 0);
    if (b) bid = Math.max(bid, b[0] * rate);
    if (a) ask = Math.min(ask, a[0] * rate);
  }
  return Number.isFinite(bid) && Number.isFinite(ask) ? (bid + ask) / 2 : undefined;
}

function bestSingle(ctxs: Ctx[], quantity: number, buy: boolean): SingleVenueCost | undefined {
  let best: SingleVenueCost | undefined;
  for (const ctx of ctxs) {
    const rules = ctx.venue.rules;
    const available = ctx.levels.reduce((s, [, q]) => s + q, 0);
    const target = Math.min(quantity, available, rules.maxQuantity ?? Infinity);
    const q = roundToStep(target, rules.stepSize);
    if (q <= 0 || (rules.minQuantity !== undefined && q < rules.minQuantity)) continue;
    const leg = makeLeg(ctx, q, buy);
    if (rules.minNotional !== undefined && leg.notional < rules.minNotional * (1 - EPS)) continue;
    const cost: SingleVenueCost = {
      exchange: ctx.venue.exchange,
      symbol: ctx.venue.symbol,
      quantity: q,
      fillsAll: q >= quantity * (1 - EPS),
      averagePrice: leg.notional * ctx.rate / q,
      allInCost: leg.allInCost,
      allInAveragePrice: leg.allInCost / q,
    };
    if (!best || better(cost, best, buy)) best = cost;
  }
  return best;
}

function better(a: SingleVenueCost, b: SingleVenueCost, buy: boolean): boolean {
  if (a.fillsAll !== b.fillsAll) return a.fillsAll;
  return buy
    ? a.allInAveragePrice < b.allInAveragePrice
    : a.allInAveragePrice > b.allInAveragePrice;
}

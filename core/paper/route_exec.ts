/**
 * Executes routed parent orders on the simulated venues: the plan comes from router.ts, the
 * children go through the desk like any order, and the report follows them to the end.
 *
 * Strategies:
 * - `sweep` (default): the whole quantity at once, split by all-in cost across the venues'
 *   books, as IOC limit children at the worst level each is planned to take;
 * - `passive`: first a post-only limit order joining the best bid across venues (to buy; the best
 *   ask to sell) — the venue with the highest bid, the lower maker fee breaking a tie, never
 *   beyond the limit price — for the whole quantity; after `waitMs` (of the gateway's clock, or
 *   the replay's in a replay), or once it is rejected because the market moved onto it, whatever is
 *   left is cancelled and swept as above. Cheaper when the market comes to the order (maker fee,
 *   no spread), more uncertain in time and price: the report says what each phase did.
 * @module
 */
import type { Side } from "../events.ts";
import type { OrderRequest, PaperError, PaperFill, PaperOrder } from "./types.ts";
import { planRoute, type RoutePlan, type RouteVenue } from "./router.ts";
import { roundToStep, roundToTick } from "./filters.ts";
import { paperRouteFrame } from "../protocol/frames.ts";

/** Routing strategies. */
export type RouteStrategy = "sweep" | "passive";

/** Default and longest wait of the passive phase, ms of venue time. */
export const DEFAULT_PASSIVE_WAIT_MS = 5_000;
const MAX_PASSIVE_WAIT_MS = 600_000;

/** One child order of a route, as reported. */
export interface RouteChild {
  /** `passive` (the resting order) or `sweep`. */
  phase: "passive" | "sweep";
  exchange: string;
  symbol: string;
  orderId: string;
  status: PaperOrder["status"];
  filledQuantity: number;
  averagePrice?: number;
  fees: number;
}

/** A routed parent order as reported (`route` frames, `POST /api/paper/route`). */
export interface RouteReport {
  id: string;
  symbol: string;
  side: Side;
  quantity: number;
  strategy: RouteStrategy;
  /** `planned` → (`passive` while the resting order waits) → `done` once every child ended. */
  status: "planned" | "passive" | "done";
  /** The sweep planned at the start for the whole quantity (the benchmark of the saving). */
  plan: RoutePlan;
  /** The sweep of what the passive phase left, when there was one. */
  sweepPlan?: RoutePlan;
  children: RouteChild[];
  filledQuantity: number;
  averagePrice: number | null;
  /** (notional + fees) / filled for a buy, (notional − fees) / filled for a sell. */
  allInAveragePrice: number | null;
  /** What the fills saved against the best single venue's all-in average (quote, positive = better). */
  achievedSaving: number | null;
  simulated: true;
}

/** What the executor needs from the desk. */
export interface RouteHost {
  /** The venues listing a unified symbol, with books, this owner's fees, rules and book times. */
  venues(owner: string, symbol: string): RouteVenue[];
  /** Sends a child order (not counted against the owner's rate: it is part of one action). */
  submit(
    owner: string,
    request: OrderRequest,
  ): { ok: true; id: string } | { ok: false; error: PaperError };
  cancel(owner: string, orderId: string): void;
  order(owner: string, orderId: string): PaperOrder | undefined;
  fills(owner: string, orderId: string): PaperFill[];
  now(): number;
  send(owner: string, text: string): void;
  maxBookAgeMs: number;
}

/** A validated route request. */
export interface RouteInput {
  symbol: string;
  side: Side;
  quantity: number;
  limitPrice?: number;
  strategy: RouteStrategy;
  waitMs: number;
}

interface RouteState {
  owner: string;
  report: RouteReport;
  limitPrice?: number;
  /** Passive phase: its order and deadline (the desk's clock: the gateway's, or the replay's). */
  passive?: {
    orderId: string;
    exchange: string;
    symbol: string;
    deadline: number;
    cancelled: boolean;
  };
  swept: boolean;
}

/** The route executor. */
export interface RouteExecutor {
  /** Validates `input` and starts a route. */
  start(
    owner: string,
    input: unknown,
  ): { ok: true; value: RouteReport } | { ok: false; error: PaperError };
  /** An order of `owner` changed (any order: those of routes are followed). */
  onOrder(owner: string, order: PaperOrder): void;
  /** Ends passive phases whose wait is over. */
  tick(): void;
  /** Forgets an owner's routes. */
  remove(owner: string): void;
}

const fail = (message: string) => ({
  ok: false as const,
  error: { code: "invalid_order" as const, message },
});

/** Checks a route request: unified symbol, side, quantity, optional limit, strategy and wait. */
export function parseRouteInput(
  input: unknown,
): { ok: true; value: RouteInput } | { ok: false; error: PaperError } {
  const o = typeof input === "object" && input !== null ? input as Record<string, unknown> : {};
  const symbol = typeof o.symbol === "string" && o.symbol.length <= 32 ? o.symbol : undefined;
  if (!symbol || !/^[A-Za-z0-9]+\/[A-Za-z0-9]+$/.test(symbol)) {
    return fail("symbol: a unified symbol such as BTC/USDT is required");
  }
  if (o.side !== "buy" && o.side !== "sell") return fail('side: "buy" or "sell" is required');
  const quantity = o.quantity;
  if (typeof quantity !== "number" || !(quantity > 0) || !Number.isFinite(quantity)) {
    return fail("quantity: a positive number is required");
  }
  const limitPrice = o.limitPrice;
  if (
    limitPrice !== undefined &&
    (typeof limitPrice !== "number" || !(limitPrice > 0) || !Number.isFinite(limitPrice))
  ) return fail("limitPrice: a positive number");
  const strategy = o.strategy ?? "sweep";
  if (strategy !== "sweep" && strategy !== "passive") {
    return fail('strategy: "sweep" (default) or "passive"');
  }
  const waitMs = o.waitMs ?? DEFAULT_PASSIVE_WAIT_MS;
  if (
    typeof waitMs !== "number" || !Number.isInteger(waitMs) || waitMs < 0 ||
    waitMs > MAX_PASSIVE_WAIT_MS
  ) {
    return fail(`waitMs: an integer of ms from 0 to ${MAX_PASSIVE_WAIT_MS}`);
  }
  return {
    ok: true,
    value: {
      symbol,
      side: o.side,
      quantity,
      limitPrice: limitPrice as number | undefined,
      strategy,
      waitMs,
    },
  };
}

/**
 * Creates the route executor of a desk.
 * @example
 * ```ts ignore
 * const routes = createRouteExecutor(host);
 * routes.start("key:alice", { symbol: "BTC/USDT", side: "buy", quantity: 2, strategy: "passive", waitMs: 2_000 });
 * ```
 */
export function createRouteExecutor(host: RouteHost): RouteExecutor {
  /** Routes by owner, then by route id. */
  const routes = new Map<string, Map<string, RouteState>>();
  /** `owner|orderId` → route id. */
  const childOf = new Map<string, string>();
  const counters = new Map<string, number>();
  let passiveCount = 0;

  const plan = (owner: string, input: RouteInput, quantity: number) => {
    const venues = host.venues(owner, input.symbol);
    if (venues.length === 0) {
      return {
        ok: false as const,
        error: {
          code: "no_route" as const,
          message: `no venue has a synced book of ${input.symbol}`,
        },
      };
    }
    return planRoute({
      side: input.side,
      quantity,
      limitPrice: input.limitPrice,
      venues,
      now: host.now(),
      maxBookAgeMs: host.maxBookAgeMs,
    });
  };

  const addChild = (state: RouteState, phase: RouteChild["phase"], request: OrderRequest) => {
    const sent = host.submit(state.owner, request);
    const child: RouteChild = {
      phase,
      exchange: request.exchange,
      symbol: request.symbol,
      orderId: sent.ok ? sent.id : "",
      status: sent.ok ? "pending" : "rejected",
      filledQuantity: 0,
      fees: 0,
    };
    state.report.children.push(child);
    if (sent.ok) childOf.set(`${state.owner}|${sent.id}`, state.report.id);
    return sent.ok ? sent.id : undefined;
  };

  const sweep = (state: RouteState, quantity: number, initial?: RoutePlan) => {
    state.swept = true;
    const input = { ...state.report, limitPrice: state.limitPrice, waitMs: 0 };
    const planned = initial
      ? { ok: true as const, plan: initial }
      : plan(state.owner, input, quantity);
    if (!planned.ok) return;
    if (!initial) state.report.sweepPlan = planned.plan;
    for (const leg of planned.plan.legs) {
      addChild(state, "sweep", {
        exchange: leg.exchange,
        symbol: leg.symbol,
        side: state.report.side,
        type: "limit",
        timeInForce: "IOC",
        quantity: leg.quantity,
        price: leg.limitPrice,
        clientOrderId: `${state.report.id}-${leg.exchange}`,
      });
    }
  };

  /** Refreshes the children from their orders; ends the route when every child ended. */
  const progress = (state: RouteState) => {
    const { report, owner } = state;
    let filled = 0, notional = 0, fees = 0;
    let open = false;
    for (const child of report.children) {
      const order = child.orderId ? host.order(owner, child.orderId) : undefined;
      if (!order) continue;
      child.status = order.status;
      child.filledQuantity = order.filledQuantity;
      child.averagePrice = order.averagePrice;
      const childFills = host.fills(owner, order.id);
      child.fees = childFills.reduce((s, f) => s + f.fee, 0);
      filled += order.filledQuantity;
      notional += childFills.reduce((s, f) => s + f.price * f.quantity, 0);
      fees += child.fees;
      if (
        order.status === "pending" || order.status === "new" || order.status === "partially_filled"
      ) {
        open = true;
      }
    }
    const sign = report.side === "buy" ? 1 : -1;
    report.filledQuantity = filled;
    report.averagePrice = filled > 0 ? notional / filled : null;
    report.allInAveragePrice = filled > 0 ? (notional + sign * fees) / filled : null;
    const single = report.plan.bestSingleVenue;
    report.achievedSaving = single && report.allInAveragePrice !== null
      ? sign * (single.allInAveragePrice - report.allInAveragePrice) * filled
      : null;
    // The passive order ended (filled, cancelled at its deadline, or rejected): sweep the rest.
    if (state.passive && !state.swept && !open) {
      const passive = host.order(owner, state.passive.orderId);
      const rest = report.quantity - (passive?.filledQuantity ?? 0);
      passiveCount--;
      if (rest > report.quantity * 1e-9) {
        report.status = "planned";
        sweep(state, rest);
        return progress(state);
      }
      state.swept = true;
    }
    if (!open && (state.swept || !state.passive) && report.status !== "done") {
      report.status = "done";
      routes.get(owner)?.delete(report.id);
      for (const child of report.children) childOf.delete(`${owner}|${child.orderId}`);
      host.send(owner, paperRouteFrame(report));
    }
  };

  /** The passive order: post-only joining the best touch across venues (most likely to fill). */
  const startPassive = (state: RouteState, input: RouteInput): boolean => {
    const buy = input.side === "buy";
    let best: { venue: RouteVenue; price: number } | undefined;
    for (const venue of host.venues(state.owner, input.symbol)) {
      const touch = (buy ? venue.book.bids : venue.book.asks)[0]?.[0];
      if (touch === undefined) continue;
      let price = touch * (venue.quoteRate ?? 1);
      if (input.limitPrice !== undefined) {
        price = buy ? Math.min(price, input.limitPrice) : Math.max(price, input.limitPrice);
      }
      const better = !best || (buy ? price > best.price : price < best.price) ||
        (price === best.price && venue.fees.maker < best.venue.fees.maker);
      if (better) best = { venue, price };
    }
    if (!best) return false;
    const quantity = roundToStep(input.quantity, best.venue.rules.stepSize);
    const id = addChild(state, "passive", {
      exchange: best.venue.exchange,
      symbol: best.venue.symbol,
      side: input.side,
      type: "limit",
      timeInForce: "POST_ONLY",
      quantity,
      price: roundToTick(
        best.price / (best.venue.quoteRate ?? 1),
        best.venue.rules.tickSize,
        input.side,
      ),
      clientOrderId: `${state.report.id}-passive`,
    });
    if (!id) {
      state.report.children.pop();
      return false;
    }
    const time = host.now();
    state.passive = {
      orderId: id,
      exchange: best.venue.exchange,
      symbol: best.venue.symbol,
      deadline: time + input.waitMs,
      cancelled: false,
    };
    passiveCount++;
    state.report.status = "passive";
    return true;
  };

  return {
    start(owner, raw) {
      const parsed = parseRouteInput(raw);
      if (!parsed.ok) return parsed;
      const input = parsed.value;
      const planned = plan(owner, input, input.quantity);
      if (!planned.ok) return { ok: false, error: planned.error };
      const n = (counters.get(owner) ?? 0) + 1;
      counters.set(owner, n);
      const state: RouteState = {
        owner,
        limitPrice: input.limitPrice,
        swept: false,
        report: {
          id: `R-${n}`,
          symbol: input.symbol,
          side: input.side,
          quantity: input.quantity,
          strategy: input.strategy,
          status: "planned",
          plan: planned.plan,
          children: [],
          filledQuantity: 0,
          averagePrice: null,
          allInAveragePrice: null,
          achievedSaving: null,
          simulated: true,
        },
      };
      let byId = routes.get(owner);
      if (!byId) routes.set(owner, byId = new Map());
      byId.set(state.report.id, state);
      if (input.strategy !== "passive" || !startPassive(state, input)) {
        sweep(state, input.quantity, planned.plan);
      }
      progress(state);
      return { ok: true, value: state.report };
    },
    onOrder(owner, order) {
      const id = childOf.get(`${owner}|${order.id}`);
      const state = id ? routes.get(owner)?.get(id) : undefined;
      if (state) progress(state);
    },
    tick() {
      if (passiveCount === 0) return;
      for (const byId of routes.values()) {
        for (const state of byId.values()) {
          const p = state.passive;
          if (!p || p.cancelled || state.swept) continue;
          if (host.now() < p.deadline) continue;
          p.cancelled = true;
          host.cancel(state.owner, p.orderId);
        }
      }
    },
    remove(owner) {
      const byId = routes.get(owner);
      if (!byId) return;
      for (const state of byId.values()) {
        if (state.passive && !state.swept) passiveCount--;
        for (const child of state.report.children) childOf.delete(`${owner}|${child.orderId}`);
      }
      routes.delete(owner);
      counters.delete(owner);
    },
  };
}

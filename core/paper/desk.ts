/**
 * The paper-trading desk of one gateway (or of one replay): a simulated venue per exchange +
 * symbol (venue.ts) fed by the hub's own books and trades, an account per owner (account.ts),
 * the exchange filters and fees (filters.ts, fees.ts), the smart order router (router.ts),
 * per-owner limits, and the history of each owner's orders and fills. Owners are strings:
 * an API key's principal, or one client connection under open access.
 *
 * Nothing here sends anything anywhere but to the owner: every order, fill, account and route
 * report says `simulated: true`, and no code path reaches an exchange.
 *
 * Feeding order matters: `beforeItem` before the hub applies an item (so an order arriving
 * before a book update meets the book as it was), `afterItem` after it.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";
import type { Catalog } from "../market/catalog.ts";
import { bestAsk, bestBid, type OrderBook, topN } from "../books/book.ts";
import type {
  LatencyModel,
  OrderRequest,
  PaperError,
  PaperFill,
  PaperOrder,
  VenueRules,
} from "./types.ts";
import { type AmendChanges, createVenue, type Venue, type VenueReport, walkBook } from "./venue.ts";
import { type Account, type AccountSnapshot, createAccount } from "./account.ts";
import { checkOrder, parseOrderRequest } from "./filters.ts";
import { feeFor, type FeeOverrides } from "./fees.ts";
import type { RouteVenue } from "./router.ts";
import { createRouteExecutor, type RouteReport } from "./route_exec.ts";
import {
  paperAccountFrame,
  paperErrorFrame,
  paperFillFrame,
  paperOrderFrame,
} from "../protocol/frames.ts";

/** Per-owner limits (from the owner's plan). */
export interface PaperLimits {
  /** Order actions (order, cancel, amend, route) per second. */
  ordersPerSecond: number;
  /** Open (pending or resting) orders at once. */
  openOrders: number;
}

/** What a desk works with. */
export interface DeskOptions {
  /** Instruments (trading rules, base and quote) and symbol resolution. */
  catalog: Catalog;
  /** The gateway's synced book of a symbol, or undefined. */
  book(exchange: string, symbol: string): OrderBook | undefined;
  /** Receive time (ms) of the last update of a symbol's book, for the router's staleness check. */
  bookTime(exchange: string, symbol: string): number | undefined;
  latency: LatencyModel;
  /** Starting balances of a new or reset account. */
  balances: Record<string, number>;
  /** Sends a report frame's text to every connection of `owner`. */
  send(owner: string, text: string): void;
  /** The clock of rate limits and book staleness: the wall clock live, the replay's clock in a replay. */
  now(): number;
  /** Sees every order and fill report (metrics). */
  observe?: (report: VenueReport) => void;
  /** Books older than this are left out of a route (ms); default 10,000. */
  maxBookAgeMs?: number;
  /** Orders and fills kept per owner for `GET /api/paper/orders|fills`; default 1,000 each. */
  historyLimit?: number;
}

/** The result of a desk action. */
export type DeskResult<T> = { ok: true; value: T } | { ok: false; error: PaperError };

/** The paper-trading desk. */
export interface Desk {
  /** Before the hub applies `item`: actions that arrived by its event time meet the book as it was. */
  beforeItem(exchange: string, item: FeedItem): void;
  /** After the hub applied `item`: queues, crossed books and trades fill resting orders. */
  afterItem(exchange: string, item: FeedItem): void;
  /**
   * Places an order. `input` is the request as a client sent it (validated here); with `at`
   * (replay only: `scheduled` true) the order is sent when the venue time reaches `at`.
   */
  order(
    owner: string,
    input: unknown,
    limits: PaperLimits,
    scheduled?: boolean,
  ): DeskResult<PaperOrder | { scheduled: number }>;
  cancel(owner: string, input: unknown, limits: PaperLimits): DeskResult<{ id: string }>;
  cancelAll(owner: string, input: unknown, limits: PaperLimits): DeskResult<{ venues: number }>;
  amend(owner: string, input: unknown, limits: PaperLimits): DeskResult<{ id: string }>;
  route(owner: string, input: unknown, limits: PaperLimits): DeskResult<RouteReport>;
  account(owner: string): AccountSnapshot;
  orders(owner: string, open?: boolean): PaperOrder[];
  fills(owner: string): PaperFill[];
  /** Starting balances again (optionally new ones and fee overrides); open orders cancelled. */
  reset(owner: string, input: unknown): DeskResult<AccountSnapshot>;
  /** Forgets an owner (its orders leave the venues without reports). */
  remove(owner: string): void;
  /**
   * Moves each venue's time on without market data, to its last event time plus the wall time
   * since that event arrived (`now` − its receive time): an order whose latency has passed
   * reaches the venue even when the market is quiet. Live only (a replay's clock is its items).
   */
  idle(now: number): void;
  /** Accounts, open orders and venues, for `/health`. */
  stats(): { accounts: number; openOrders: number; venues: number };
}

interface Owner {
  account: Account;
  fees: FeeOverrides;
  /** Latest state of each order (open ones and the last `historyLimit` ended ones). */
  orders: Map<string, PaperOrder>;
  fills: PaperFill[];
  open: number;
  rate: { windowStart: number; count: number };
  nextOrder: number;
  nextFill: number;
}

interface VenueEntry {
  venue: Venue;
  rules: VenueRules;
  /** Orders sent at a future venue time (replay `at`), in time then arrival order. */
  scheduled: { at: number; owner: string; request: OrderRequest }[];
}

const FINAL = new Set<PaperOrder["status"]>(["filled", "cancelled", "rejected"]);
const OPEN = new Set<PaperOrder["status"]>(["pending", "new", "partially_filled"]);

/** Extra lock on a market buy over the cost of walking the book now (the book may move). */
const MARKET_BUY_MARGIN = 0.02;

const fail = <T>(code: PaperError["code"], message: string): DeskResult<T> => ({
  ok: false,
  error: { code, message },
});

const idText = (input: unknown, field: string): string | undefined => {
  if (typeof input !== "object" || input === null) return undefined;
  const v = (input as Record<string, unknown>)[field];
  return typeof v === "string" && v.length > 0 && v.length <= 64 ? v : undefined;
};

const numberField = (input: unknown, field: string): number | undefined => {
  if (typeof input !== "object" || input === null) return undefined;
  const v = (input as Record<string, unknown>)[field];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
};

/**
 * Creates a desk.
 * @example
 * ```ts ignore
 * const desk = createDesk({ catalog, book, bookTime, latency, balances: { USDT: 100_000 }, send, now: Date.now });
 * desk.order("key:alice", { exchange: "binance", symbol: "BTCUSDT", side: "buy", type: "market", quantity: 0.1 }, limits);
 * ```
 */
export function createDesk(options: DeskOptions): Desk {
  const historyLimit = options.historyLimit ?? 1_000;
  const maxBookAgeMs = options.maxBookAgeMs ?? 10_000;
  const owners = new Map<string, Owner>();
  const venues = new Map<string, VenueEntry>();
  /**
   * Event time of the latest trade or book update per `exchange|symbol`, and its receive time
   * (gateway clock); one record per symbol, updated in place.
   */
  const latest = new Map<string, { eventTime: number; receiveTime: number }>();

  const ownerOf = (id: string): Owner => {
    let owner = owners.get(id);
    if (!owner) {
      owner = {
        account: createAccount({ balances: options.balances }),
        fees: {},
        orders: new Map(),
        fills: [],
        open: 0,
        rate: { windowStart: 0, count: 0 },
        nextOrder: 1,
        nextFill: 1,
      };
      owners.set(id, owner);
    }
    return owner;
  };

  const rulesOf = (exchange: string, symbol: string): VenueRules | undefined => {
    const instrument = options.catalog.instrument(exchange, symbol);
    if (!instrument) return undefined;
    return {
      exchange,
      symbol,
      base: instrument.base,
      quote: instrument.quote,
      tickSize: instrument.tickSize,
      stepSize: instrument.stepSize,
      minQuantity: instrument.minQuantity,
      maxQuantity: instrument.maxQuantity,
      minNotional: instrument.minNotional,
    };
  };

  /** Order reports: holds, fills into the account, history, route progress, frames. */
  const onReport = (ownerId: string, report: VenueReport, rules: VenueRules) => {
    options.observe?.(report);
    const owner = owners.get(ownerId);
    if (!owner) return;
    if (report.type === "reject") {
      options.send(ownerId, paperErrorFrame(report.error));
      return;
    }
    if (report.type === "fill") {
      const fill = report.fill;
      // The account's own fee schedule (per-account overrides) prices the fill.
      fill.fee = feeFor(
        owner.account.fees(fill.exchange),
        fill.liquidity,
        fill.price * fill.quantity,
      );
      const refused = owner.account.applyFill(fill, rules.base, rules.quote);
      owner.fills.push(fill);
      if (owner.fills.length > historyLimit) owner.fills.shift();
      options.send(ownerId, paperFillFrame(fill));
      if (refused) options.send(ownerId, paperErrorFrame(refused));
      return;
    }
    const order = report.order;
    const before = owner.orders.get(order.id);
    if (!before && order.status === "pending") {
      // Lock what the order may spend, at the moment it is accepted.
      const hold = holdOf(owner, order, rules);
      if (hold) owner.account.hold(order.id, hold.asset, hold.amount);
    }
    const wasOpen = before !== undefined && OPEN.has(before.status);
    const isOpen = OPEN.has(order.status);
    owner.open += (isOpen ? 1 : 0) - (wasOpen ? 1 : 0);
    owner.orders.delete(order.id);
    owner.orders.set(order.id, order);
    if (FINAL.has(order.status)) {
      owner.account.release(order.id);
      trimOrders(owner);
    }
    options.send(ownerId, paperOrderFrame(order, report.error));
    if (FINAL.has(order.status) && order.filledQuantity > 0) {
      options.send(ownerId, accountFrame(owner));
    }
    routes.onOrder(ownerId, order);
  };

  const trimOrders = (owner: Owner) => {
    if (owner.orders.size <= historyLimit + owner.open) return;
    for (const [id, order] of owner.orders) {
      if (owner.orders.size <= historyLimit + owner.open) break;
      if (FINAL.has(order.status)) {
        owner.orders.delete(id);
      }
    }
  };

  const holdOf = (owner: Owner, order: PaperOrder, rules: VenueRules) => {
    const request: OrderRequest = {
      exchange: order.exchange,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity,
      price: order.price,
    };
    return owner.account.holdFor(request, rules.base, rules.quote, marketBuyPrice(order));
  };

  /** The worst ask a market buy of `quantity` would reach now, plus a margin. */
  const marketBuyPrice = (o: { exchange: string; symbol: string; quantity: number }) => {
    const book = options.book(o.exchange, o.symbol);
    if (!book) return undefined;
    const worst = walkBook(book, "buy", o.quantity).levels.at(-1)?.[0];
    return worst === undefined ? undefined : worst * (1 + MARKET_BUY_MARGIN);
  };

  const marks = (exchange: string, symbol: string) => {
    const book = options.book(exchange, symbol);
    if (!book) return undefined;
    const bid = bestBid(book), ask = bestAsk(book);
    return bid && ask ? (bid[0] + ask[0]) / 2 : undefined;
  };

  const accountFrame = (owner: Owner) => paperAccountFrame(owner.account.snapshot(marks));

  const venueOf = (exchange: string, symbol: string): VenueEntry | undefined => {
    const key = `${exchange}|${symbol}`;
    let entry = venues.get(key);
    if (entry) return entry;
    const rules = rulesOf(exchange, symbol);
    if (!rules) return undefined;
    const venue = createVenue({
      rules,
      fees: { maker: 0, taker: 0 }, // priced per account in onReport
      latency: options.latency,
      book: () => options.book(exchange, symbol),
      onReport: (owner, report) => onReport(owner, report, rules),
      // Ids unique across the owner's venues.
      ids: {
        order: (owner) => `P-${ownerOf(owner).nextOrder++}`,
        fill: (owner) => `F-${ownerOf(owner).nextFill++}`,
      },
      validate: (request, ctx) => validate(request, ctx.accountId, rules),
    });
    entry = { venue, rules, scheduled: [] };
    venues.set(key, entry);
    return entry;
  };

  /** The exchange's filters and the account's free balance. */
  const validate = (request: OrderRequest, ownerId: string, rules: VenueRules) => {
    const book = options.book(request.exchange, request.symbol);
    const reference = request.type === "market"
      ? request.side === "buy" ? book && bestAsk(book)?.[0] : book && bestBid(book)?.[0]
      : undefined;
    const filter = checkOrder(rules, request, reference);
    if (filter) return filter;
    const owner = owners.get(ownerId);
    if (!owner) return undefined;
    const price = request.type === "market" && request.side === "buy"
      ? marketBuyPrice(request)
      : undefined;
    if (request.type === "market" && request.side === "buy" && price === undefined) {
      return {
        code: "no_book",
        message: `no ask in the ${request.exchange} ${request.symbol} book`,
      } as PaperError;
    }
    const hold = owner.account.holdFor(request, rules.base, rules.quote, price);
    return hold ? owner.account.canAfford(hold.asset, hold.amount) : undefined;
  };

  /** Counts an order action against the owner's rate; an error when over. */
  const take = (owner: Owner, limits: PaperLimits): PaperError | undefined => {
    const now = options.now();
    if (now - owner.rate.windowStart >= 1000) {
      owner.rate.windowStart = now;
      owner.rate.count = 0;
    }
    if (owner.rate.count >= limits.ordersPerSecond) {
      return {
        code: "order_rate_limited",
        message: `more than ${limits.ordersPerSecond} order actions per second (the plan's limit)`,
      };
    }
    owner.rate.count++;
  };

  /** Resolves `exchange` + `symbol` (native or unified) of a request to a venue. */
  const locate = (exchange: string, symbol: string) => {
    if (!options.catalog.exchanges().includes(exchange)) {
      return {
        error: {
          code: "invalid_order",
          message: `exchange "${exchange}" is not configured`,
        } as PaperError,
      };
    }
    const native = options.catalog.resolve(exchange, symbol) ?? symbol;
    const entry = venueOf(exchange, native);
    if (!entry) {
      return {
        error: {
          code: "invalid_order",
          message: `no instrument "${symbol}" on ${exchange} (its trading rules are unknown)`,
        } as PaperError,
      };
    }
    return { entry, native };
  };

  const sentTimeOf = (exchange: string, symbol: string) =>
    latest.get(`${exchange}|${symbol}`)?.eventTime;

  const submit = (
    ownerId: string,
    owner: Owner,
    request: OrderRequest,
    entry: VenueEntry,
    limits: PaperLimits,
    at?: number,
  ): DeskResult<PaperOrder> => {
    if (owner.open >= limits.openOrders) {
      return fail(
        "too_many_open_orders",
        `${owner.open} open orders: the plan allows ${limits.openOrders}`,
      );
    }
    const sent = at ?? sentTimeOf(request.exchange, request.symbol);
    if (sent === undefined) {
      return fail("no_book", `no market data of ${request.exchange} ${request.symbol} yet`);
    }
    const result = entry.venue.submit(ownerId, request, sent);
    if (!result.ok) return { ok: false, error: result.error };
    return { ok: true, value: owner.orders.get(result.order.id) ?? result.order };
  };

  const routes = createRouteExecutor({
    venues(ownerId, symbol) {
      const owner = ownerOf(ownerId);
      const now = options.now();
      const out: RouteVenue[] = [];
      for (const exchange of options.catalog.exchanges()) {
        const native = options.catalog.resolve(exchange, symbol);
        if (native === undefined) continue;
        const entry = venueOf(exchange, native);
        const book = options.book(exchange, native);
        if (!entry || !book) continue;
        const top = topN(book, 200);
        out.push({
          exchange,
          symbol: native,
          book: { bids: top.bids, asks: top.asks },
          fees: owner.account.fees(exchange),
          rules: entry.rules,
          bookTime: options.bookTime(exchange, native) ?? now,
        });
      }
      return out;
    },
    submit(ownerId, request) {
      const entry = venues.get(`${request.exchange}|${request.symbol}`);
      const sent = sentTimeOf(request.exchange, request.symbol);
      if (!entry || sent === undefined) {
        return {
          ok: false,
          error: { code: "no_book", message: `no market data of ${request.symbol}` },
        };
      }
      const result = entry.venue.submit(ownerId, request, sent);
      return result.ok ? { ok: true, id: result.order.id } : result;
    },
    cancel(ownerId, orderId) {
      const order = owners.get(ownerId)?.orders.get(orderId);
      if (!order) return;
      const entry = venues.get(`${order.exchange}|${order.symbol}`)!;
      entry.venue.cancel(ownerId, orderId, entry.venue.now());
    },
    order: (ownerId, orderId) => owners.get(ownerId)?.orders.get(orderId),
    fills: (ownerId, orderId) =>
      (owners.get(ownerId)?.fills ?? []).filter((f) => f.orderId === orderId),
    now: options.now,
    send: options.send,
    maxBookAgeMs,
  });

  return {
    beforeItem(exchange, item) {
      // No venue yet (nobody has traded): nothing to look up on the hub's hot path.
      if (venues.size === 0 || (item.type !== "book" && item.type !== "trade")) return;
      const entry = venues.get(`${exchange}|${item.symbol}`);
      if (!entry) return;
      // Scheduled orders (replay `at`) whose time has come go in first, in order.
      while (entry.scheduled.length > 0 && entry.scheduled[0].at <= item.eventTime) {
        const s = entry.scheduled.shift()!;
        const owner = owners.get(s.owner);
        if (!owner) continue;
        const r = entry.venue.submit(s.owner, s.request, s.at);
        if (!r.ok) {
          options.send(s.owner, paperErrorFrame(r.error));
        }
      }
      if (item.type === "book") entry.venue.advance(item.eventTime);
    },
    afterItem(exchange, item) {
      if (item.type !== "book" && item.type !== "trade") return;
      const key = `${exchange}|${item.symbol}`;
      const last = latest.get(key);
      if (!last) latest.set(key, { eventTime: item.eventTime, receiveTime: item.receiveTime });
      else if (item.eventTime > last.eventTime) {
        last.eventTime = item.eventTime;
        last.receiveTime = item.receiveTime;
      }
      const entry = venues.get(key);
      if (!entry) return;
      if (item.type === "book") entry.venue.onBook(item);
      else entry.venue.onTrade(item);
      routes.tick();
    },
    order(ownerId, input, limits, scheduled = false) {
      const owner = ownerOf(ownerId);
      const limited = take(owner, limits);
      if (limited) return { ok: false, error: limited };
      const at = numberField(input, "at");
      // The frame's `action` and `id` (and a replay's `at`) are not part of the request.
      const { at: _at, action: _action, id: _id, ...rest } =
        typeof input === "object" && input !== null ? input as Record<string, unknown> : {};
      const parsed = parseOrderRequest(rest);
      if (!parsed.ok) return { ok: false, error: parsed.error };
      const located = locate(parsed.request.exchange, parsed.request.symbol);
      if (located.error) return { ok: false, error: located.error };
      const request = { ...parsed.request, symbol: located.native };
      if (at !== undefined) {
        if (!scheduled) {
          return fail(
            "invalid_order",
            "at: only a replay's orders may be scheduled (send it now instead)",
          );
        }
        const entry = located.entry;
        const i = entry.scheduled.findIndex((s) => s.at > at);
        const item = { at, owner: ownerId, request };
        if (i < 0) entry.scheduled.push(item);
        else entry.scheduled.splice(i, 0, item);
        return { ok: true, value: { scheduled: at } };
      }
      return submit(ownerId, owner, request, located.entry, limits);
    },
    cancel(ownerId, input, limits) {
      const owner = ownerOf(ownerId);
      const limited = take(owner, limits);
      if (limited) return { ok: false, error: limited };
      const id = idText(input, "orderId") ?? idText(input, "clientOrderId");
      if (!id) return fail("invalid_order", "orderId or clientOrderId: required (a string)");
      const order = owner.orders.get(id) ??
        [...owner.orders.values()].find((o) => o.clientOrderId === id && OPEN.has(o.status));
      if (!order) return fail("unknown_order", `no order "${id}" in this account`);
      const entry = venues.get(`${order.exchange}|${order.symbol}`)!;
      const sent = sentTimeOf(order.exchange, order.symbol) ?? entry.venue.now();
      const error = entry.venue.cancel(ownerId, order.id, sent);
      return error ? { ok: false, error } : { ok: true, value: { id: order.id } };
    },
    cancelAll(ownerId, input, limits) {
      const owner = ownerOf(ownerId);
      const limited = take(owner, limits);
      if (limited) return { ok: false, error: limited };
      const exchange = idText(input, "exchange");
      const symbol = idText(input, "symbol");
      let count = 0;
      for (const entry of venues.values()) {
        if (exchange && entry.rules.exchange !== exchange) continue;
        if (
          symbol && entry.rules.symbol !== symbol &&
          options.catalog.resolve(entry.rules.exchange, symbol) !== entry.rules.symbol
        ) continue;
        if (entry.venue.openOrders(ownerId).length === 0) continue;
        const sent = sentTimeOf(entry.rules.exchange, entry.rules.symbol) ?? entry.venue.now();
        entry.venue.cancelAll(ownerId, sent);
        count++;
      }
      return { ok: true, value: { venues: count } };
    },
    amend(ownerId, input, limits) {
      const owner = ownerOf(ownerId);
      const limited = take(owner, limits);
      if (limited) return { ok: false, error: limited };
      const id = idText(input, "orderId") ?? idText(input, "clientOrderId");
      if (!id) return fail("invalid_order", "orderId or clientOrderId: required (a string)");
      const changes: AmendChanges = {};
      const price = numberField(input, "price");
      const quantity = numberField(input, "quantity");
      if (price !== undefined) changes.price = price;
      if (quantity !== undefined) changes.quantity = quantity;
      if (price === undefined && quantity === undefined) {
        return fail("invalid_order", "price or quantity: at least one is required (a number)");
      }
      const order = owner.orders.get(id) ??
        [...owner.orders.values()].find((o) => o.clientOrderId === id && OPEN.has(o.status));
      if (!order) return fail("unknown_order", `no order "${id}" in this account`);
      const entry = venues.get(`${order.exchange}|${order.symbol}`)!;
      if (price !== undefined) {
        const filter = checkOrder(entry.rules, {
          exchange: order.exchange,
          symbol: order.symbol,
          side: order.side,
          type: "limit",
          quantity: quantity ?? order.quantity,
          price,
        });
        if (filter) return { ok: false, error: filter };
      }
      const sent = sentTimeOf(order.exchange, order.symbol) ?? entry.venue.now();
      const error = entry.venue.amend(ownerId, order.id, changes, sent);
      return error ? { ok: false, error } : { ok: true, value: { id: order.id } };
    },
    route(ownerId, input, limits) {
      const owner = ownerOf(ownerId);
      const limited = take(owner, limits);
      if (limited) return { ok: false, error: limited };
      return routes.start(ownerId, input);
    },
    account: (ownerId) => ownerOf(ownerId).account.snapshot(marks),
    orders(ownerId, open = false) {
      const list = [...ownerOf(ownerId).orders.values()];
      return open ? list.filter((o) => OPEN.has(o.status)) : list;
    },
    fills: (ownerId) => [...ownerOf(ownerId).fills],
    reset(ownerId, input) {
      const o = typeof input === "object" && input !== null ? input as Record<string, unknown> : {};
      const balances = o.balances;
      if (balances !== undefined) {
        const ok = typeof balances === "object" && balances !== null &&
          Object.entries(balances).every(([asset, v]) =>
            /^[A-Z0-9]{1,16}$/.test(asset) && typeof v === "number" && v >= 0 && Number.isFinite(v)
          );
        if (!ok) {
          return fail("invalid_order", "balances: an object of ASSET: non-negative number");
        }
      }
      const fees = o.fees;
      if (fees !== undefined) {
        const ok = typeof fees === "object" && fees !== null &&
          Object.values(fees).every((f) =>
            typeof f === "object" && f !== null &&
            Object.entries(f).every(([k, v]) =>
              (k === "maker" || k === "taker") && typeof v === "number" && v > -0.01 && v < 0.1
            )
          );
        if (!ok) {
          return fail(
            "invalid_order",
            'fees: an object of exchange: {"maker": rate, "taker": rate} (fractions, e.g. 0.001)',
          );
        }
      }
      for (const entry of venues.values()) entry.venue.removeAccount(ownerId);
      routes.remove(ownerId);
      const owner: Owner = {
        account: createAccount({
          balances: (balances as Record<string, number> | undefined) ?? options.balances,
          fees: fees as FeeOverrides | undefined,
        }),
        fees: (fees as FeeOverrides | undefined) ?? {},
        orders: new Map(),
        fills: [],
        open: 0,
        rate: owners.get(ownerId)?.rate ?? { windowStart: 0, count: 0 },
        nextOrder: 1,
        nextFill: 1,
      };
      owners.set(ownerId, owner);
      for (const entry of venues.values()) {
        entry.scheduled = entry.scheduled.filter((s) => s.owner !== ownerId);
      }
      return { ok: true, value: owner.account.snapshot(marks) };
    },
    remove(ownerId) {
      routes.remove(ownerId);
      for (const entry of venues.values()) {
        entry.venue.removeAccount(ownerId);
        entry.scheduled = entry.scheduled.filter((s) => s.owner !== ownerId);
      }
      owners.delete(ownerId);
    },
    idle(now) {
      for (const [key, entry] of venues) {
        const last = latest.get(key);
        if (!last || now <= last.receiveTime) continue;
        entry.venue.advance(last.eventTime + (now - last.receiveTime));
      }
      routes.tick();
    },
    stats() {
      let open = 0;
      for (const owner of owners.values()) open += owner.open;
      return { accounts: owners.size, openOrders: open, venues: venues.size };
    },
  };
}

/**
 * The simulated venue of one exchange + symbol: fills paper orders of many accounts against
 * the gateway's exact L2 book and trades. It only reads the book; a simulated order never
 * changes market data, and nothing here sends anything anywhere.
 *
 * - **Accounts are independent simulations.** An account's order never sees another account's
 *   orders, nor the liquidity another account consumed.
 * - **Time** is the exchange event time (ms), passed in; never the wall clock. An action sent
 *   at `sentTime` arrives at `sentTime + marketDataMs + orderEntryMs` and meets the book as it
 *   is then; until the venue is advanced to that time ({@link Venue.onBook},
 *   {@link Venue.onTrade}, {@link Venue.advance}) the order is `pending`. Actions are processed
 *   in arrival order, ties in submission order, before the event that reached their time.
 * - **Takers** walk the opposite side best-first ({@link walkBook}); what an account took at a
 *   level is subtracted from that level's displayed quantity, for that account only, until the
 *   feed changes the level (nautilus_trader#2564: two orders never fill from the same
 *   liquidity).
 * - **Makers** rest with `queueAhead` = the displayed quantity at their price, advanced by
 *   trades at the price and by the {@link QueueModel}'s share of cancels; they fill from the
 *   trade quantity that passes them, in full when a trade goes through their price, and in
 *   full when the opposite best crosses their price (hftbacktest#158: fills without a trade).
 * - Fees: each fill pays `price × quantity × rate` (maker or taker) in the quote asset.
 *
 * The venue keeps only what matching needs (pending and resting orders, queue and
 * consumption state); the history of orders and fills is the caller's, from the reports.
 * @module
 */
import { bestAsk, bestBid, type OrderBook } from "../books/book.ts";
import type { BookUpdate, Side, TradeEvent } from "../events.ts";
import { createActionQueue } from "./_action_queue.ts";
import { displayedAt, EPS, searchAscending, walkBook } from "./_venue_book.ts";
import {
  checkAction,
  checkId,
  DUPLICATE_ORDER_ERROR,
  paperError,
  parseAmend,
  parseOrderRequest,
  UNKNOWN_ORDER_ERROR,
  WOULD_TAKE_ERROR,
} from "./_venue_input.ts";
import {
  powerQueueModel,
  queueAfterDepthChange,
  queueAfterTrade,
  type QueueModel,
} from "./queue.ts";
import type {
  BookWalk,
  FeeSchedule,
  LatencyModel,
  Liquidity,
  OrderRequest,
  PaperError,
  PaperFill,
  PaperOrder,
  VenueRules,
} from "./types.ts";

/** The taker walk of a book (see {@link walkBook} in `_venue_book.ts`), for the router's legs. */
export { walkBook } from "./_venue_book.ts";

/**
 * What the venue tells an account: an order changed state, a fill happened, or a cancel or
 * amend was refused (the order is then unchanged).
 *
 * @example
 * ```ts
 * import type { VenueReport } from "./venue.ts";
 *
 * const describe = (r: VenueReport): string =>
 *   r.type === "fill" ? `${r.fill.quantity} @ ${r.fill.price}` : r.type;
 * ```
 */
export type VenueReport =
  | {
    type: "order";
    order: PaperOrder;
    /** Why the order was rejected (status `rejected` only). */
    error?: PaperError;
  }
  | { type: "fill"; fill: PaperFill }
  | {
    type: "reject";
    /** The refused action. */
    action: "cancel" | "amend";
    /** The order id or client order id the action named. */
    id: string;
    error: PaperError;
    /** Venue time the action arrived. */
    time: number;
  };

/**
 * What the `validate` hook sees besides the request.
 *
 * @example
 * ```ts
 * import type { ValidateContext } from "./venue.ts";
 *
 * const hasBook = (ctx: ValidateContext): boolean => ctx.book !== undefined;
 * ```
 */
export interface ValidateContext {
  accountId: string;
  /** The request's `sentTime`. */
  time: number;
  /** The current book, if synced. */
  book: OrderBook | undefined;
  rules: VenueRules;
}

/**
 * Options of {@link createVenue}.
 *
 * @example
 * ```ts
 * import { createBook } from "../books/book.ts";
 * import type { VenueOptions } from "./venue.ts";
 *
 * const book = createBook();
 * const options: VenueOptions = {
 *   rules: { exchange: "binance", symbol: "BTCUSDT", base: "BTC", quote: "USDT" },
 *   fees: { maker: 0.001, taker: 0.001 },
 *   latency: { marketDataMs: 0, orderEntryMs: 0 },
 *   book: () => book,
 *   onReport: (accountId, report) => console.log(accountId, report.type),
 * };
 * ```
 */
export interface VenueOptions {
  rules: VenueRules;
  fees: FeeSchedule;
  latency: LatencyModel;
  /** Queue model of resting orders (default {@link powerQueueModel} with n = 2). */
  queue?: QueueModel;
  /** The gateway's current synced book of the symbol, or `undefined` when not synced. */
  book: () => OrderBook | undefined;
  /**
   * Ids of new orders and fills of an account (default `P-1`, `P-2`… and `F-1`… per account of
   * this venue); a desk with several venues passes ids unique across them.
   */
  ids?: { order(accountId: string): string; fill(accountId: string): string };
  /** Receives every state change of every account's orders, synchronously. */
  onReport: (accountId: string, report: VenueReport) => void;
  /**
   * Extra checks of a request at submission (the exchange filters, balances): an error
   * refuses it at once, without creating an order.
   */
  validate?: (request: OrderRequest, ctx: ValidateContext) => PaperError | undefined;
}

/**
 * Outcome of {@link Venue.submit}: the order (status `pending` until it arrives, or already
 * handled when the latency is 0), or why the request was refused outright.
 *
 * @example
 * ```ts
 * import type { SubmitResult } from "./venue.ts";
 *
 * const idOf = (r: SubmitResult): string | undefined => r.ok ? r.order.id : undefined;
 * ```
 */
export type SubmitResult = { ok: true; order: PaperOrder } | { ok: false; error: PaperError };

/**
 * Changes of an {@link Venue.amend}.
 *
 * @example
 * ```ts
 * import type { AmendChanges } from "./venue.ts";
 *
 * const smaller: AmendChanges = { quantity: 0.5 };
 * ```
 */
export interface AmendChanges {
  price?: number;
  /** New total ordered quantity (must exceed what is already filled). */
  quantity?: number;
}

/**
 * One exchange + symbol's simulated venue (see the module doc). Every method is synchronous
 * and reports through `onReport` before it returns.
 *
 * @example
 * ```ts
 * import { applySnapshot, createBook } from "../books/book.ts";
 * import { createVenue } from "./venue.ts";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1]], [[101, 2]]);
 * const venue = createVenue({
 *   rules: { exchange: "binance", symbol: "BTCUSDT", base: "BTC", quote: "USDT" },
 *   fees: { maker: 0.001, taker: 0.001 },
 *   latency: { marketDataMs: 0, orderEntryMs: 0 },
 *   book: () => book,
 *   onReport: () => {},
 * });
 * venue.submit("alice", {
 *   exchange: "binance",
 *   symbol: "BTCUSDT",
 *   side: "buy",
 *   type: "market",
 *   quantity: 1,
 * }, 1_000); // filled 1 @ 101
 * ```
 */
export interface Venue {
  /**
   * Sends an order at venue time `sentTime` (the time the client's latest market data
   * reflected). Malformed requests, `validate` failures and a `clientOrderId` already used by
   * a live order of the account are refused at once (`ok: false`, no report); otherwise a
   * `pending` order is reported and returned, and handled when it arrives: rejected `no_book`
   * when the book is not synced, `would_take` (post-only), `fok_unfillable`; else filled as
   * taker as far as it can, the remainder cancelled (market: `no_liquidity`, IOC:
   * `ioc_remainder`) or resting (GTC, POST_ONLY). Reports come in order: the `pending` order,
   * then at arrival each fill followed by the order's new state.
   */
  submit(accountId: string, request: OrderRequest, sentTime: number): SubmitResult;
  /**
   * Cancels a resting order by id or client order id. When the cancel arrives and the order
   * is no longer resting (filled, cancelled, or still pending), a `reject` report with
   * `unknown_order` says so. Returns an error only for malformed arguments.
   */
  cancel(accountId: string, id: string, sentTime: number): PaperError | undefined;
  /** Cancels all resting orders of the account (of `symbol` if given: another symbol → none). */
  cancelAll(accountId: string, sentTime: number, symbol?: string): PaperError | undefined;
  /**
   * Changes a resting order's price and/or total quantity. A price change or a quantity
   * increase loses queue priority: the order is re-queued behind the displayed quantity at its
   * (new) price. A quantity decrease keeps the order's place, as Binance's order amend
   * (keep priority) and Coinbase's edit do. An amend never takes liquidity: a new price that
   * would cross is refused (`would_take`), as is a quantity not above the filled quantity
   * (`invalid_order`); a refused amend leaves the order as it was (`reject` report).
   */
  amend(
    accountId: string,
    id: string,
    changes: AmendChanges,
    sentTime: number,
  ): PaperError | undefined;
  /**
   * Feeds a book update, AFTER the gateway applied it to the book: first handles the actions
   * that arrived by its `eventTime`, then moves queues at the touched prices, forgets the
   * liquidity accounts consumed there, and fills resting orders the book now crosses.
   * The venue cannot see the book as it was before the update, so an action arriving between
   * the previous event and this one would meet the new book: call {@link Venue.advance} with
   * the update's `eventTime` BEFORE applying it to the book, then `onBook` after, and every
   * action meets the book as it was when it arrived.
   */
  onBook(update: BookUpdate): void;
  /** Feeds a trade: handles arrived actions, then fills resting orders the trade reaches. */
  onTrade(trade: TradeEvent): void;
  /** Moves venue time forward without market data: handles the actions that arrived by then. */
  advance(time: number): void;
  /** Pending and resting orders of the account, oldest first (copies). */
  openOrders(accountId: string): PaperOrder[];
  /** Forgets an account entirely (pending actions, resting orders, consumption), no reports. */
  removeAccount(accountId: string): void;
  /** Venue time: the latest event or arrival time handled (`-Infinity` before any). */
  now(): number;
}

/** An order the venue still tracks (pending or resting). */
interface Live {
  order: PaperOrder;
  account: Account;
  /** Σ price × quantity of its fills. */
  notional: number;
  /** Queue order among resting orders (set when it rests or loses priority). */
  restSeq: number;
  resting: boolean;
}

interface Account {
  id: string;
  nextOrder: number;
  nextFill: number;
  /** Pending and resting orders by id, oldest first. */
  live: Map<string, Live>;
  byClientId: Map<string, Live>;
}

/** Resting orders at one price of one side, in queue order, with the level's last size. */
interface RestLevel {
  orders: Live[];
  /** Displayed quantity at this price when last seen. */
  shown: number;
}

/** Resting orders of one side, indexed by price (`prices` ascending). */
interface RestIndex {
  prices: number[];
  at: Map<number, RestLevel>;
}

type Action =
  | { kind: "submit"; live: Live }
  | { kind: "cancel"; id: string }
  | { kind: "cancelAll" }
  | { kind: "amend"; id: string; changes: AmendChanges };

interface PendingAction {
  accountId: string;
  action: Action;
}

/**
 * A simulated venue for one exchange + symbol (see {@link Venue}). Throws a `TypeError` at
 * creation on negative or non-finite latencies or fee rates; never afterwards.
 *
 * @example
 * ```ts
 * import { createBook } from "../books/book.ts";
 * import { createVenue, type VenueReport } from "./venue.ts";
 *
 * const book = createBook();
 * const reports: VenueReport[] = [];
 * const venue = createVenue({
 *   rules: { exchange: "binance", symbol: "BTCUSDT", base: "BTC", quote: "USDT" },
 *   fees: { maker: 0.001, taker: 0.001 },
 *   latency: { marketDataMs: 5, orderEntryMs: 20 },
 *   book: () => book,
 *   onReport: (_account, report) => reports.push(report),
 * });
 * ```
 */
export function createVenue(options: VenueOptions): Venue {
  const { rules, fees, latency, onReport, validate } = options;
  const readBook = options.book;
  const model = options.queue ?? powerQueueModel();
  for (const [name, value] of Object.entries(latency)) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`latency.${name} must be ≥ 0`);
  }
  if (!Number.isFinite(fees.maker) || !Number.isFinite(fees.taker)) {
    throw new TypeError("fee rates must be finite");
  }
  const delay = latency.marketDataMs + latency.orderEntryMs;

  const accounts = new Map<string, Account>();
  const buys: RestIndex = { prices: [], at: new Map() };
  const sells: RestIndex = { prices: [], at: new Map() };
  /** Quantity traded at a price since the level's last book update, by book side. */
  const tradedBid = new Map<number, number>();
  const tradedAsk = new Map<number, number>();
  /** What each account took at a level since the feed last changed it, by book side. */
  const consumedBid = new Map<number, Map<string, number>>();
  const consumedAsk = new Map<number, Map<string, number>>();
  const inFlight = createActionQueue<PendingAction>();
  let restSeq = 0;
  let now = -Infinity;

  const accountOf = (id: string): Account => {
    let account = accounts.get(id);
    if (!account) {
      account = { id, nextOrder: 0, nextFill: 0, live: new Map(), byClientId: new Map() };
      accounts.set(id, account);
    }
    return account;
  };

  const reportOrder = (live: Live, error?: PaperError): void => {
    const order = { ...live.order };
    onReport(live.account.id, error ? { type: "order", order, error } : { type: "order", order });
  };

  /** Drops an order from the account's live set (it reached a final state). */
  const retire = (live: Live): void => {
    const { account, order } = live;
    account.live.delete(order.id);
    if (order.clientOrderId !== undefined && account.byClientId.get(order.clientOrderId) === live) {
      account.byClientId.delete(order.clientOrderId);
    }
  };

  const remaining = (order: PaperOrder): number => {
    const left = order.quantity - order.filledQuantity;
    return left <= order.quantity * EPS ? 0 : left;
  };

  const consumedBy = (
    bookSide: Map<number, Map<string, number>>,
    accountId: string,
  ): (price: number) => number =>
  (price) => bookSide.get(price)?.get(accountId) ?? 0;

  /** Records a fill, updates the order (not its report) and reports the fill. */
  const fill = (
    live: Live,
    price: number,
    quantity: number,
    liquidity: Liquidity,
    time: number,
    slippageBps?: number,
  ): void => {
    const { order, account } = live;
    const left = order.quantity - order.filledQuantity;
    order.filledQuantity = left - quantity <= order.quantity * EPS
      ? order.quantity
      : order.filledQuantity + quantity;
    live.notional += price * quantity;
    order.averagePrice = live.notional / order.filledQuantity;
    order.status = remaining(order) === 0 ? "filled" : "partially_filled";
    order.updateTime = time;
    const rate = liquidity === "maker" ? fees.maker : fees.taker;
    const report: PaperFill = {
      id: options.ids?.fill(account.id) ?? `F-${++account.nextFill}`,
      orderId: order.id,
      exchange: order.exchange,
      symbol: order.symbol,
      side: order.side,
      price,
      quantity,
      liquidity,
      fee: price * quantity * rate,
      feeAsset: rules.quote,
      time,
      simulated: true,
    };
    if (order.clientOrderId !== undefined) report.clientOrderId = order.clientOrderId;
    if (slippageBps !== undefined) report.slippageBps = slippageBps;
    onReport(account.id, { type: "fill", fill: report });
  };

  // ---- resting index -------------------------------------------------------------------

  const indexOf = (side: Side): RestIndex => side === "buy" ? buys : sells;

  const rest = (live: Live, book: OrderBook): void => {
    const { order } = live;
    const price = order.price as number;
    const isBuy = order.side === "buy";
    const shown = displayedAt(isBuy ? book.bids : book.asks, isBuy, price);
    const index = indexOf(order.side);
    let level = index.at.get(price);
    if (!level) {
      level = { orders: [], shown };
      index.at.set(price, level);
      index.prices.splice(searchAscending(index.prices, price), 0, price);
    }
    level.orders.push(live);
    live.resting = true;
    live.restSeq = ++restSeq;
    order.queueAhead = shown;
  };

  const unrest = (live: Live): void => {
    const { order } = live;
    const price = order.price as number;
    const index = indexOf(order.side);
    const level = index.at.get(price);
    live.resting = false;
    if (!level) return;
    const i = level.orders.indexOf(live);
    if (i >= 0) level.orders.splice(i, 1);
    if (level.orders.length === 0) {
      index.at.delete(price);
      const at = searchAscending(index.prices, price);
      if (index.prices[at] === price) index.prices.splice(at, 1);
    }
  };

  /** Traded-since-update map of the book side where orders of `side` rest. */
  const tradedOf = (side: Side): Map<number, number> => side === "buy" ? tradedBid : tradedAsk;

  /** A maker fill of a resting order; reports it and the order, retires it when filled. */
  const makerFill = (live: Live, quantity: number, time: number): void => {
    fill(live, live.order.price as number, quantity, "maker", time);
    if (live.order.status === "filled") {
      live.order.queueAhead = 0;
      unrest(live);
      retire(live);
    }
    reportOrder(live);
  };

  /**
   * Whether the opposite side, less what the account consumed, offers liquidity at or better
   * than `price` for an order of `side`.
   */
  const crossesFor = (book: OrderBook, accountId: string, side: Side, price: number): boolean => {
    const isBuy = side === "buy";
    const { prices, quantities } = isBuy ? book.asks : book.bids;
    const consumed = consumedBy(isBuy ? consumedAsk : consumedBid, accountId);
    for (let i = prices.length - 1; i >= 0; i--) {
      const p = prices[i];
      if (isBuy ? p > price : p < price) return false;
      if (quantities[i] - consumed(p) > quantities[i] * EPS) return true;
    }
    return false;
  };

  // ---- actions at arrival ----------------------------------------------------------------

  const reject = (live: Live, error: PaperError, time: number): void => {
    live.order.status = "rejected";
    live.order.reason = error.code;
    live.order.updateTime = time;
    retire(live);
    reportOrder(live, error);
  };

  const arriveOrder = (live: Live, time: number): void => {
    const { order, account } = live;
    order.arrivalTime = time;
    const book = readBook();
    if (!book) {
      reject(
        live,
        paperError("no_book", `no synced book for ${rules.exchange} ${rules.symbol}`),
        time,
      );
      return;
    }
    const isBuy = order.side === "buy";
    if (
      order.timeInForce === "POST_ONLY" &&
      crossesFor(book, account.id, order.side, order.price as number)
    ) {
      reject(
        live,
        paperError(
          "would_take",
          "post-only order would immediately match and take",
          WOULD_TAKE_ERROR,
        ),
        time,
      );
      return;
    }
    const consumedSide = isBuy ? consumedAsk : consumedBid;
    let walk: BookWalk = { quantity: 0, notional: 0, levels: [] };
    if (order.timeInForce !== "POST_ONLY") {
      walk = walkBook(book, order.side, order.quantity, {
        limitPrice: order.price,
        consumed: consumedBy(consumedSide, account.id),
      });
    }
    if (order.timeInForce === "FOK" && walk.quantity < order.quantity) {
      reject(
        live,
        paperError("fok_unfillable", "FOK order cannot be filled in full at once"),
        time,
      );
      return;
    }
    const best = isBuy ? bestAsk(book) : bestBid(book);
    for (const [price, quantity] of walk.levels) {
      let byAccount = consumedSide.get(price);
      if (!byAccount) consumedSide.set(price, byAccount = new Map());
      byAccount.set(account.id, (byAccount.get(account.id) ?? 0) + quantity);
      const slippage = best ? ((isBuy ? price - best[0] : best[0] - price) / best[0]) * 1e4 : 0;
      fill(live, price, quantity, "taker", time, slippage);
    }
    order.updateTime = time;
    if (remaining(order) === 0) {
      retire(live);
      reportOrder(live);
      return;
    }
    if (order.type === "market" || order.timeInForce === "IOC") {
      order.status = "cancelled";
      order.reason = order.type === "market" ? "no_liquidity" : "ioc_remainder";
      retire(live);
      reportOrder(live);
      return;
    }
    if (order.status === "pending") order.status = "new";
    rest(live, book);
    reportOrder(live);
  };

  const findLive = (account: Account | undefined, id: string): Live | undefined =>
    account?.live.get(id) ?? account?.byClientId.get(id);

  const refuse = (
    accountId: string,
    action: "cancel" | "amend",
    id: string,
    error: PaperError,
    time: number,
  ): void => onReport(accountId, { type: "reject", action, id, error, time });

  const cancelResting = (live: Live, time: number): void => {
    unrest(live);
    retire(live);
    live.order.status = "cancelled";
    live.order.reason = "user";
    live.order.updateTime = time;
    reportOrder(live);
  };

  const arriveAmend = (
    accountId: string,
    id: string,
    changes: AmendChanges,
    time: number,
  ): void => {
    const live = findLive(accounts.get(accountId), id);
    if (!live?.resting) {
      refuse(
        accountId,
        "amend",
        id,
        paperError("unknown_order", `no open order ${id}`, UNKNOWN_ORDER_ERROR),
        time,
      );
      return;
    }
    const { order } = live;
    const price = changes.price ?? (order.price as number);
    const quantity = changes.quantity ?? order.quantity;
    if (quantity <= order.filledQuantity * (1 + EPS)) {
      refuse(
        accountId,
        "amend",
        id,
        paperError(
          "invalid_order",
          `quantity ${quantity} must exceed the filled ${order.filledQuantity}`,
        ),
        time,
      );
      return;
    }
    const book = readBook();
    if (price !== order.price) {
      if (!book) {
        refuse(accountId, "amend", id, paperError("no_book", "no synced book"), time);
        return;
      }
      if (crossesFor(book, accountId, order.side, price)) {
        refuse(
          accountId,
          "amend",
          id,
          paperError(
            "would_take",
            "amended price would immediately match and take",
            WOULD_TAKE_ERROR,
          ),
          time,
        );
        return;
      }
    }
    const losesPriority = price !== order.price || quantity > order.quantity;
    if (losesPriority && book) {
      unrest(live);
      order.price = price;
      order.quantity = quantity;
      rest(live, book);
    } else {
      // Quantity down (or a same-price increase with no book: kept in place).
      order.quantity = quantity;
    }
    order.updateTime = time;
    reportOrder(live);
  };

  const handle = (item: PendingAction, time: number): void => {
    const { action, accountId } = item;
    switch (action.kind) {
      case "submit":
        arriveOrder(action.live, time);
        return;
      case "cancel": {
        const live = findLive(accounts.get(accountId), action.id);
        if (live?.resting) cancelResting(live, time);
        else {
          refuse(
            accountId,
            "cancel",
            action.id,
            paperError("unknown_order", `no open order ${action.id}`, UNKNOWN_ORDER_ERROR),
            time,
          );
        }
        return;
      }
      case "cancelAll": {
        const account = accounts.get(accountId);
        if (!account) return;
        for (const live of [...account.live.values()]) if (live.resting) cancelResting(live, time);
        return;
      }
      case "amend":
        arriveAmend(accountId, action.id, action.changes, time);
        return;
    }
  };

  /** Handles every action that arrived by `time`, in arrival order, then sets `now`. */
  const drain = (time: number): void => {
    for (let next = inFlight.shiftUntil(time); next; next = inFlight.shiftUntil(time)) {
      now = Math.max(now, next.arrival);
      handle(next.item, now);
    }
    if (time > now) now = time;
  };

  const enqueue = (accountId: string, action: Action, sentTime: number): void => {
    const arrival = sentTime + delay;
    inFlight.push(arrival, { accountId, action });
    if (delay === 0) drain(Math.max(now, sentTime));
    else if (arrival <= now) drain(now);
  };

  // ---- market data -------------------------------------------------------------------------

  /** Moves the queues of the orders resting at `price` on `side` to the new displayed size. */
  const depthChange = (side: Side, price: number, next: number): void => {
    const traded = tradedOf(side);
    const level = indexOf(side).at.get(price);
    if (level) {
      const tradedSince = traded.get(price) ?? 0;
      for (const live of level.orders) {
        live.order.queueAhead = queueAfterDepthChange(
          model,
          live.order.queueAhead ?? 0,
          level.shown,
          next,
          tradedSince,
        );
      }
      level.shown = next;
    }
    traded.delete(price);
  };

  /** Fills the resting orders of `side` that the opposite best now crosses for their account. */
  const fillCrossed = (book: OrderBook, side: Side, time: number): void => {
    const isBuy = side === "buy";
    const best = isBuy ? bestAsk(book) : bestBid(book);
    if (!best) return;
    const { prices } = indexOf(side);
    const crossed: number[] = [];
    if (isBuy) {
      for (let i = prices.length - 1; i >= 0 && prices[i] >= best[0]; i--) {
        crossed.push(prices[i]);
      }
    } else for (let i = 0; i < prices.length && prices[i] <= best[0]; i++) crossed.push(prices[i]);
    for (const price of crossed) {
      const level = indexOf(side).at.get(price);
      if (!level) continue;
      for (const live of [...level.orders]) {
        if (!crossesFor(book, live.account.id, side, price)) continue;
        makerFill(live, remaining(live.order), time);
      }
    }
  };

  const onBook = (update: BookUpdate): void => {
    if (!Number.isFinite(update.eventTime)) return;
    drain(update.eventTime);
    const time = now;
    const book = readBook();
    if (!book) return;
    if (update.snapshot) {
      consumedBid.clear();
      consumedAsk.clear();
      for (const side of ["buy", "sell"] as const) {
        const isBuy = side === "buy";
        for (const price of [...indexOf(side).prices]) {
          depthChange(side, price, displayedAt(isBuy ? book.bids : book.asks, isBuy, price));
        }
      }
      tradedBid.clear();
      tradedAsk.clear();
    } else {
      for (const [price, quantity] of update.bids) {
        consumedBid.delete(price);
        depthChange("buy", price, quantity);
      }
      for (const [price, quantity] of update.asks) {
        consumedAsk.delete(price);
        depthChange("sell", price, quantity);
      }
    }
    fillCrossed(book, "buy", time);
    fillCrossed(book, "sell", time);
  };

  const onTrade = (trade: TradeEvent): void => {
    if (!Number.isFinite(trade.eventTime) || !(trade.quantity > 0) || !(trade.price > 0)) return;
    drain(trade.eventTime);
    const time = now;
    const { price: tradePrice, quantity } = trade;
    // A sell taker hits bids (resting buys), a buy taker lifts asks (resting sells).
    const makerSide: Side = trade.side === "sell" ? "buy" : "sell";
    const isBuy = makerSide === "buy";
    const traded = tradedOf(makerSide);
    traded.set(tradePrice, (traded.get(tradePrice) ?? 0) + quantity);
    const index = indexOf(makerSide);
    const reached: number[] = [];
    const { prices } = index;
    if (isBuy) {
      for (let i = prices.length - 1; i >= 0 && prices[i] >= tradePrice; i--) {
        reached.push(prices[i]);
      }
    } else {for (let i = 0; i < prices.length && prices[i] <= tradePrice; i++) {
        reached.push(prices[i]);
      }}
    for (const price of reached) {
      const level = index.at.get(price);
      if (!level) continue;
      const orders = [...level.orders];
      if (price !== tradePrice) {
        // The trade went through the order's price: everything there is filled.
        for (const live of orders) makerFill(live, remaining(live.order), time);
        continue;
      }
      // At the price: the trade eats the queue ahead, the excess reaches the order; an
      // account's earlier orders at the price take their share of the excess first.
      // `level.orders` is in queue order (restSeq ascending).
      let usedBy: Map<string, number> | undefined;
      for (const live of orders) {
        const { ahead, excess } = queueAfterTrade(live.order.queueAhead ?? 0, quantity);
        live.order.queueAhead = ahead;
        const used = usedBy?.get(live.account.id) ?? 0;
        const take = Math.min(remaining(live.order), excess - used);
        if (take > live.order.quantity * EPS) {
          (usedBy ??= new Map()).set(live.account.id, used + take);
          makerFill(live, take, time);
        }
      }
    }
  };

  return {
    submit(accountId, request, sentTime) {
      const bad = checkAction(accountId, sentTime);
      if (bad) return { ok: false, error: bad };
      const req = parseOrderRequest(request, rules);
      if ("code" in req) return { ok: false, error: req };
      if (validate) {
        const error = validate(req, {
          accountId,
          time: sentTime,
          book: readBook(),
          rules,
        });
        if (error) return { ok: false, error };
      }
      const account = accountOf(accountId);
      if (req.clientOrderId !== undefined && account.byClientId.has(req.clientOrderId)) {
        return {
          ok: false,
          error: paperError(
            "duplicate_client_order_id",
            `clientOrderId ${req.clientOrderId} is in use`,
            DUPLICATE_ORDER_ERROR,
          ),
        };
      }
      const order: PaperOrder = {
        id: options.ids?.order(account.id) ?? `P-${++account.nextOrder}`,
        exchange: req.exchange,
        symbol: req.symbol,
        side: req.side,
        type: req.type,
        timeInForce: req.timeInForce ?? (req.type === "market" ? "IOC" : "GTC"),
        quantity: req.quantity,
        filledQuantity: 0,
        status: "pending",
        sentTime,
        updateTime: sentTime,
        simulated: true,
      };
      if (req.clientOrderId !== undefined) order.clientOrderId = req.clientOrderId;
      if (req.price !== undefined) order.price = req.price;
      const live: Live = { order, account, notional: 0, restSeq: 0, resting: false };
      account.live.set(order.id, live);
      if (order.clientOrderId !== undefined) account.byClientId.set(order.clientOrderId, live);
      reportOrder(live);
      enqueue(accountId, { kind: "submit", live }, sentTime);
      return { ok: true, order: { ...order } };
    },

    cancel(accountId, id, sentTime) {
      const bad = checkAction(accountId, sentTime) ?? checkId(id);
      if (bad) return bad;
      enqueue(accountId, { kind: "cancel", id }, sentTime);
      return undefined;
    },

    cancelAll(accountId, sentTime, symbol) {
      const bad = checkAction(accountId, sentTime);
      if (bad) return bad;
      if (symbol !== undefined && symbol !== rules.symbol) return undefined;
      enqueue(accountId, { kind: "cancelAll" }, sentTime);
      return undefined;
    },

    amend(accountId, id, changes, sentTime) {
      const bad = checkAction(accountId, sentTime) ?? checkId(id);
      if (bad) return bad;
      const parsed = parseAmend(changes);
      if ("code" in parsed) return parsed;
      enqueue(accountId, { kind: "amend", id, changes: parsed }, sentTime);
      return undefined;
    },

    onBook,
    onTrade,

    advance(time) {
      if (Number.isFinite(time)) drain(time);
    },

    openOrders(accountId) {
      const account = accounts.get(accountId);
      return account ? [...account.live.values()].map((live) => ({ ...live.order })) : [];
    },

    removeAccount(accountId) {
      const account = accounts.get(accountId);
      inFlight.remove((item) => item.accountId === accountId);
      if (account) {
        for (const live of account.live.values()) if (live.resting) unrest(live);
        accounts.delete(accountId);
      }
      for (const side of [consumedBid, consumedAsk]) {
        for (const [price, byAccount] of side) {
          byAccount.delete(accountId);
          if (byAccount.size === 0) side.delete(price);
        }
      }
    },

    now: () => now,
  };
}

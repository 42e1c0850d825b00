/**
 * The vocabulary of paper trading: simulated orders, fills, the venue's rules and fees, and
 * the rejections. Everything here is simulated: no type, function or module under
 * `core/paper/` sends anything to an exchange.
 * @module
 */
import type { Level, Side } from "../events.ts";

/** Order types the simulated venues accept. */
export type OrderType = "market" | "limit";

/**
 * Time in force of a limit order: good till cancelled, immediate or cancel (the rest is
 * cancelled), fill or kill (all now or nothing), post-only (rejected if it would take).
 */
export type TimeInForce = "GTC" | "IOC" | "FOK" | "POST_ONLY";

/** What a client asks for (`order` action, `POST /api/paper/orders`). */
export interface OrderRequest {
  exchange: string;
  /** Exchange-native symbol. */
  symbol: string;
  side: Side;
  type: OrderType;
  /** Base quantity. */
  quantity: number;
  /** Limit price; required for `limit`, refused for `market`. */
  price?: number;
  /** Default `GTC` for limit orders; market orders are IOC by nature. */
  timeInForce?: TimeInForce;
  /** The client's own id, echoed on every report of this order (≤ 64 chars). */
  clientOrderId?: string;
}

/** Life cycle of a simulated order. */
export type OrderStatus =
  /** Sent, not yet at the venue (entry latency). */
  | "pending"
  /** Resting in the book, nothing filled. */
  | "new"
  | "partially_filled"
  | "filled"
  | "cancelled"
  | "rejected";

/** Maker adds liquidity (rested first), taker removes it. */
export type Liquidity = "maker" | "taker";

/** A simulated order as reported to its owner. */
export interface PaperOrder {
  /** Venue-assigned id, unique per account (`"P-1"`, `"P-2"`, …). */
  id: string;
  clientOrderId?: string;
  exchange: string;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  /** Limit price (absent for market orders). */
  price?: number;
  /** Ordered quantity (after an amend, the new one). */
  quantity: number;
  filledQuantity: number;
  /** Volume-weighted average fill price; absent before the first fill. */
  averagePrice?: number;
  status: OrderStatus;
  /**
   * Displayed quantity estimated ahead of this order at its price (resting orders only):
   * set when it rests, reduced by trades at its price and by the queue model's share of
   * cancels; it fills only once this reaches 0 and trades pass through it.
   */
  queueAhead?: number;
  /** Venue time (exchange event time, ms) the order was sent, arrived and last changed. */
  sentTime: number;
  arrivalTime?: number;
  updateTime: number;
  /** Why it was rejected or cancelled (`"ioc_remainder"`, `"fok_unfillable"`, `"user"`, …). */
  reason?: string;
  /** Always true: this order is simulated and never reached an exchange. */
  simulated: true;
}

/** One simulated execution. */
export interface PaperFill {
  /** Venue-assigned fill id, unique per account. */
  id: string;
  orderId: string;
  clientOrderId?: string;
  exchange: string;
  symbol: string;
  side: Side;
  price: number;
  quantity: number;
  liquidity: Liquidity;
  /** Fee charged, in {@link PaperFill.feeAsset} (negative = rebate). */
  fee: number;
  /** The quote asset of the symbol. */
  feeAsset: string;
  /** Venue time (exchange event time, ms) of the fill. */
  time: number;
  /**
   * For a taker fill: signed distance of the fill price from the best price on the
   * opposite side when the order arrived, in bps of that price (positive = worse).
   */
  slippageBps?: number;
  simulated: true;
}

/**
 * An instrument's trading rules, from the exchange's instrument metadata.
 * Missing fields are not checked.
 */
export interface VenueRules {
  exchange: string;
  symbol: string;
  base: string;
  quote: string;
  /** Prices must be a multiple of this. */
  tickSize?: number;
  /** Quantities must be a multiple of this. */
  stepSize?: number;
  minQuantity?: number;
  maxQuantity?: number;
  /** Least price × quantity. */
  minNotional?: number;
}

/** Maker and taker fee rates, as fractions of the notional (0.001 = 0.1 %; negative = rebate). */
export interface FeeSchedule {
  maker: number;
  taker: number;
}

/** The simulated latencies, ms (see docs/paper-trading.md). */
export interface LatencyModel {
  /** Exchange event → the client seeing it. */
  marketDataMs: number;
  /** Client sending an order → the venue receiving it. */
  orderEntryMs: number;
}

/** Codes of paper-trading rejections (error frames, JSON bodies). */
export type PaperErrorCode =
  /** The request is malformed (missing field, wrong type). */
  | "invalid_order"
  /** A filter of the exchange failed; `exchangeError` says which, in the exchange's words. */
  | "filter_failure"
  /** Post-only order would have taken liquidity. */
  | "would_take"
  /** FOK order could not be filled in full at once. */
  | "fok_unfillable"
  /** Not enough free balance. */
  | "insufficient_balance"
  /** No synced book for the symbol. */
  | "no_book"
  | "unknown_order"
  | "duplicate_client_order_id"
  /** The plan's orders-per-second or open-orders limit. */
  | "order_rate_limited"
  | "too_many_open_orders"
  /** No venue can fill any of a routed order. */
  | "no_route";

/** A rejection, with the exchange's own error where one applies. */
export interface PaperError {
  code: PaperErrorCode;
  message: string;
  /** The exchange's own error for the same mistake, e.g. `{ code: -1013, msg: "Filter failure: LOT_SIZE" }`. */
  exchangeError?: { code?: number | string; msg: string };
}

/** What one best-side walk of a book gives (`walkBook` in venue.ts, the router's legs). */
export interface BookWalk {
  /** Filled quantity (≤ asked). */
  quantity: number;
  /** Σ price × quantity. */
  notional: number;
  /** Levels touched, best first, with the quantity taken from each. */
  levels: Level[];
}

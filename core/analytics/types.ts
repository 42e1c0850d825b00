/**
 * Shared input shapes of the order-flow analytics (`core/analytics/`): the top of a book after
 * one update, and a trade reduced to what the analytics read. Time always comes from the events
 * (`time` / `eventTime`, ms since the epoch), never from the clock, so live, replay and history
 * give identical results.
 * @module
 */
import type { Level, TradeEvent } from "../events.ts";

/**
 * The top of one book after an update: bids best first (descending price), asks best first
 * (ascending price), `time` the update's exchange event time in ms.
 *
 * @example
 * ```ts
 * import type { BookTop } from "./types.ts";
 *
 * const top: BookTop = { bids: [[100, 2]], asks: [[101, 3]], time: 1_700_000_000_000 };
 * ```
 */
export interface BookTop {
  /** Bid levels `[price, qty]`, best (highest) first. */
  bids: readonly Level[];
  /** Ask levels `[price, qty]`, best (lowest) first. */
  asks: readonly Level[];
  /** Exchange event time of the update, ms since the epoch. */
  time: number;
}

/**
 * A trade as analytics need it: price, quantity, taker side and exchange event time (ms).
 *
 * @example
 * ```ts
 * import type { Trade } from "./types.ts";
 *
 * const trade: Trade = { price: 100.5, quantity: 0.2, side: "buy", eventTime: 1_700_000_000_000 };
 * ```
 */
export type Trade = Pick<TradeEvent, "price" | "quantity" | "side" | "eventTime">;

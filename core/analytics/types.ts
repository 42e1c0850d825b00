/**
 * Input shapes shared by the analytics modules.
 * @module
 */
import type { Level, TradeEvent } from "../events.ts";

/**
 * The top of one book after an update: bids best first (descending), asks best first (ascending).
 *
 * @example
 * ```ts
 * import type { BookTop } from "./types.ts";
 *
 * const top: BookTop = { bids: [[100, 2]], asks: [[101, 1]], time: 1_700_000_000_000 };
 * ```
 */
export interface BookTop {
  /** Bid levels, best (highest) first. */
  bids: readonly Level[];
  /** Ask levels, best (lowest) first. */
  asks: readonly Level[];
  /** Event time of the update, ms since the epoch. */
  time: number;
}

/**
 * A trade as analytics need it.
 *
 * @example
 * ```ts
 * import type { Trade } from "./types.ts";
 *
 * const trade: Trade = { price: 100, quantity: 0.5, side: "buy", eventTime: 1_700_000_000_000 };
 * ```
 */
export type Trade = Pick<TradeEvent, "price" | "quantity" | "side" | "eventTime">;

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
 * const top: BookTop = { bids: [[100, 2]], asks: [[101, 1]], time: 1_700_000_000_000 };
 * ```
 */
export interface BookTop {
  bids: readonly Level[];
  asks: readonly Level[];
  time: number; /* eventTime ms */
}

/**
 * A trade as analytics need it.
 *
 * @example
 * ```ts
 * const trade: Trade = { price: 100, quantity: 0.5, side: "buy", eventTime: 1_700_000_000_000 };
 * ```
 */
export type Trade = Pick<TradeEvent, "price" | "quantity" | "side" | "eventTime">;

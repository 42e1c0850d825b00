/**
 * Read-only helpers of the simulated venue on the gateway's book: the taker walk, the displayed
 * quantity at a price, and the sorted-price search of the resting-order index. Private to
 * `core/paper/`.
 * @module
 */
import type { BookSide, OrderBook } from "../books/book.ts";
import type { Level, Side } from "../events.ts";
import type { BookWalk } from "./types.ts";

/**
 * Relative tolerance below which a remaining quantity counts as nothing.
 *
 * @example
 * ```ts
 * import { EPS } from "./_venue_book.ts";
 *
 * const isDone = (left: number, ordered: number): boolean => left <= ordered * EPS;
 * ```
 */
export const EPS = 1e-9;

/**
 * Walks one side of the book best-first for a taker of `side` (a buy walks the asks), taking up
 * to `quantity`, only at prices no worse than `limitPrice` when given. `consumed(price)` is
 * subtracted from each level's displayed quantity (what the taker's account already took).
 * The book is only read.
 *
 * @example Buy 2.5 across three asks
 * ```ts
 * import { applySnapshot, createBook } from "../books/book.ts";
 * import { walkBook } from "./venue.ts";
 *
 * const book = createBook();
 * applySnapshot(book, [[99, 1]], [[100, 1], [101, 1], [102, 1]]);
 * walkBook(book, "buy", 2.5);
 * // { quantity: 2.5, notional: 251, levels: [[100, 1], [101, 1], [102, 0.5]] }
 * ```
 */
export function walkBook(
  book: OrderBook,
  side: Side,
  quantity: number,
  options: { limitPrice?: number; consumed?: (price: number) => number } = {},
): BookWalk {
  const isBuy = side === "buy";
  const { prices, quantities } = isBuy ? book.asks : book.bids;
  const { limitPrice, consumed } = options;
  const levels: Level[] = [];
  let left = quantity;
  let notional = 0;
  for (let i = prices.length - 1; i >= 0 && left > quantity * EPS; i--) {
    const price = prices[i];
    if (limitPrice !== undefined && (isBuy ? price > limitPrice : price < limitPrice)) break;
    const available = quantities[i] - (consumed ? consumed(price) : 0);
    if (available <= quantities[i] * EPS) continue;
    const take = Math.min(available, left);
    levels.push([price, take]);
    notional += price * take;
    left -= take;
  }
  const filled = left <= quantity * EPS ? quantity : quantity - left;
  return { quantity: filled, notional, levels };
}

/**
 * Displayed quantity at `price` on one side of the book (0 when absent), by binary search.
 *
 * @example
 * ```ts
 * import { applySnapshot, createBook } from "../books/book.ts";
 * import { displayedAt } from "./_venue_book.ts";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1]]);
 * displayedAt(book.bids, true, 99); // 2
 * ```
 */
export function displayedAt(side: BookSide, isBid: boolean, price: number): number {
  const { prices, quantities } = side;
  let lo = 0;
  let hi = prices.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (isBid ? prices[mid] < price : prices[mid] > price) lo = mid + 1;
    else hi = mid;
  }
  return lo < prices.length && prices[lo] === price ? quantities[lo] : 0;
}

/**
 * Index of `price` in ascending `prices`, or where it would be inserted.
 *
 * @example
 * ```ts
 * import { searchAscending } from "./_venue_book.ts";
 *
 * searchAscending([1, 3, 5], 4); // 2
 * ```
 */
export function searchAscending(prices: readonly number[], price: number): number {
  let lo = 0;
  let hi = prices.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (prices[mid] < price) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

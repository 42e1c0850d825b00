/**
 * The exchange-neutral L2 order book the core owns: price → absolute quantity;
 * read bids best (highest) first and asks best (lowest) first through
 * {@link topN}, {@link bestBid} and {@link bestAsk}. Plain data plus functions
 * that mutate it in place.
 *
 * Storage, chosen for speed: each side is a pair of parallel number arrays
 * sorted **worst-first**, the best level LAST (bids ascending, asks
 * descending). Nearly every change lands near the top, so an insert or removal
 * shifts only the few levels above it instead of the whole 5000-level side;
 * a level is found by binary search. Every input is validated in full before
 * anything is applied: a bad update throws a {@link BookError} and leaves the
 * book exactly as it was.
 *
 * Exchange procedures sit on top: Binance applies a REST snapshot then diffs
 * ({@link applySnapshot}, {@link applyUpdate}, `updateId`); Kraken applies each
 * message then {@link truncate}s to its subscribed depth; Coinbase applies its
 * `l2_data` snapshot then absolute-quantity updates.
 * @module
 */
import type { Level } from "../events.ts";

/**
 * Which side of the book.
 *
 * @example
 * ```ts
 * import type { BookSideName } from "@quant-saas/gateway";
 *
 * const side: BookSideName = "bid";
 * ```
 */
export type BookSideName = "bid" | "ask";

/**
 * One side of the book as parallel arrays sorted **worst-first**: the best
 * level is at index `length - 1` (bid prices ascending, ask prices
 * descending). Prices are strictly monotonic; every quantity is > 0.
 *
 * @example
 * ```ts
 * import { createBook } from "@quant-saas/gateway";
 *
 * const { prices, quantities } = createBook().bids; // both empty
 * ```
 */
export interface BookSide {
  /** Prices, worst first. */
  prices: number[];
  /** Quantity of each price, same index. */
  quantities: number[];
}

/**
 * An L2 order book. Mutate it only through this module's functions.
 *
 * @example
 * ```ts
 * import { createBook, type OrderBook } from "@quant-saas/gateway";
 *
 * const book: OrderBook = createBook();
 * console.log(book.sequence); // 0
 * ```
 */
export interface OrderBook {
  /** Bids, stored lowest price first (best bid last). */
  bids: BookSide;
  /** Asks, stored highest price first (best ask last). */
  asks: BookSide;
  /** Number of updates applied since the last snapshot. */
  sequence: number;
  /** Exchange update id of the last snapshot or update that carried one. */
  updateId?: number;
}

/**
 * A batch of absolute-quantity level changes (0 removes), applied in order.
 *
 * @example
 * ```ts
 * import type { LevelUpdate } from "@quant-saas/gateway";
 *
 * const update: LevelUpdate = { bids: [[100, 0]], asks: [[101, 2.5]], updateId: 7 };
 * ```
 */
export interface LevelUpdate {
  /** Bid levels to set. */
  bids: readonly Level[];
  /** Ask levels to set. */
  asks: readonly Level[];
  /** Exchange update id after this update (Binance `u`). */
  updateId?: number;
}

/**
 * The best `n` levels of each side.
 *
 * @example
 * ```ts
 * import { applySnapshot, createBook, type TopLevels, topN } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * const top: TopLevels = topN(book, 1); // { bids: [[100, 1]], asks: [[101, 1]] }
 * ```
 */
export interface TopLevels {
  /** Bids, best (highest) first. */
  bids: Level[];
  /** Asks, best (lowest) first. */
  asks: Level[];
}

/** Number of levels on each side. */
export interface BookDepth {
  bids: number;
  asks: number;
}

/**
 * Invalid input to a book function; the book was not changed.
 *
 * @example A crossed or malformed level is refused
 * ```ts
 * import { applyUpdate, BookError, createBook } from "@quant-saas/gateway";
 *
 * try {
 *   applyUpdate(createBook(), { bids: [[-1, 1]], asks: [] });
 * } catch (err) {
 *   console.log(err instanceof BookError); // true
 * }
 * ```
 */
export class BookError extends Error {
  /** Always `"BookError"`. */
  override name = "BookError";
}

/**
 * An empty book with `sequence` 0 and no `updateId`.
 *
 * @example
 * ```ts
 * import { createBook } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * ```
 */
export function createBook(): OrderBook {
  return {
    bids: { prices: [], quantities: [] },
    asks: { prices: [], quantities: [] },
    sequence: 0,
    updateId: undefined,
  };
}

/**
 * Replaces the whole book with the given levels (any order; a repeated price:
 * last wins; quantity 0 is skipped), resets `sequence` to 0 and sets `updateId`
 * (cleared when omitted). Throws {@link BookError} on invalid input.
 *
 * @example
 * ```ts
 * import { applySnapshot, createBook } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * console.log(book.sequence); // 0
 * ```
 */
export function applySnapshot(
  book: OrderBook,
  bids: readonly Level[],
  asks: readonly Level[],
  updateId?: number,
): void {
  validateLevels(bids, "bids");
  validateLevels(asks, "asks");
  validateUpdateId(updateId);
  book.bids = buildSide(bids, true);
  book.asks = buildSide(asks, false);
  book.sequence = 0;
  book.updateId = updateId;
}

/**
 * Sets one level to an absolute quantity: inserts, replaces, or removes it when
 * `qty` is 0 (removing an absent level is a no-op). Does not touch `sequence`.
 * Throws {@link BookError} on invalid input.
 *
 * @example
 * ```ts
 * import { applyLevel, applySnapshot, bestBid, createBook } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * applyLevel(book, "bid", 100.5, 0.4);
 * bestBid(book); // [100.5, 0.4]
 * ```
 */
export function applyLevel(
  book: OrderBook,
  side: BookSideName,
  price: number,
  qty: number,
): void {
  const isBid = isBidSide(side);
  checkLevel(price, qty, side);
  setLevel(isBid ? book.bids : book.asks, isBid, price, qty);
}

/**
 * Applies every level of `update` in order (a price repeated in one update:
 * last wins), then increments `sequence` by 1 and takes `update.updateId` when
 * present. The whole update is validated first, so it never half-applies.
 * Throws {@link BookError} on invalid input.
 *
 * @example
 * ```ts
 * import { applySnapshot, applyUpdate, bestAsk, createBook } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * applyUpdate(book, { bids: [], asks: [[101, 0]], updateId: 2 });
 * bestAsk(book); // [102, 3]
 * ```
 */
export function applyUpdate(book: OrderBook, update: LevelUpdate): void {
  validateLevels(update.bids, "bids");
  validateLevels(update.asks, "asks");
  validateUpdateId(update.updateId);
  for (const [price, qty] of update.bids) {
    setLevel(book.bids, true, price, qty);
  }
  for (const [price, qty] of update.asks) {
    setLevel(book.asks, false, price, qty);
  }
  book.sequence += 1;
  if (update.updateId !== undefined) book.updateId = update.updateId;
}

/**
 * The highest bid, or `undefined` when there are no bids.
 *
 * @example
 * ```ts
 * import { applySnapshot, bestBid, createBook } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * bestBid(book); // [100, 1]
 * ```
 */
export function bestBid(book: OrderBook): Level | undefined {
  return levelAtRank(book.bids, 0);
}

/**
 * The lowest ask, or `undefined` when there are no asks.
 *
 * @example
 * ```ts
 * import { applySnapshot, bestAsk, createBook } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * bestAsk(book); // [101, 1]
 * ```
 */
export function bestAsk(book: OrderBook): Level | undefined {
  return levelAtRank(book.asks, 0);
}

/**
 * The best `n` levels of each side, best first, as fresh arrays (fewer when
 * the side is shallower). `n` is a non-negative integer or `Infinity`.
 *
 * @example
 * ```ts
 * import { applySnapshot, createBook, topN } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * topN(book, 2); // { bids: [[100, 1], [99, 2]], asks: [[101, 1], [102, 3]] }
 * ```
 */
export function topN(book: OrderBook, n: number): TopLevels {
  checkCount(n, "n");
  return { bids: sideLevels(book.bids, n), asks: sideLevels(book.asks, n) };
}

/**
 * True when both sides are non-empty and best bid >= best ask.
 *
 * @example
 * ```ts
 * import { applySnapshot, createBook, isCrossed } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * isCrossed(book); // false
 * ```
 */
export function isCrossed(book: OrderBook): boolean {
  const bids = book.bids.prices;
  const asks = book.asks.prices;
  return bids.length > 0 && asks.length > 0 &&
    bids[bids.length - 1] >= asks[asks.length - 1];
}

/**
 * Drops every level beyond the best `depth` on each side (Kraken keeps only its
 * subscribed depth and never sends removals for levels that fall out of it).
 *
 * @example
 * ```ts
 * import { applySnapshot, createBook, topN, truncate } from "@quant-saas/gateway";
 *
 * const book = createBook();
 * applySnapshot(book, [[100, 1], [99, 2]], [[101, 1], [102, 3]]);
 * truncate(book, 1);
 * topN(book, 10); // { bids: [[100, 1]], asks: [[101, 1]] }
 * ```
 */
export function truncate(book: OrderBook, depth: number): void {
  checkCount(depth, "depth");
  truncateSide(book.bids, depth);
  truncateSide(book.asks, depth);
}

/** Number of levels on each side. */
export function depthOf(book: OrderBook): BookDepth {
  return { bids: book.bids.prices.length, asks: book.asks.prices.length };
}

/** True when both lists hold the same levels in the same order (exact `===`). */
export function levelsEqual(a: readonly Level[], b: readonly Level[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false;
  }
  return true;
}

/** The best `n` levels of one side, best first, as fresh `Level` tuples. */
/**
 * {@link topN} into `target`, reusing its level arrays (no allocation once they exist): for a
 * caller that reads the top after every update and keeps no earlier one.
 *
 * @example
 * ```ts ignore
 * const scratch = { bids: [], asks: [] };
 * topNInto(book, 10, scratch); // scratch.bids[0] is the best bid
 * ```
 */
export function topNInto(book: OrderBook, n: number, target: TopLevels): TopLevels {
  sideInto(book.bids, n, target.bids);
  sideInto(book.asks, n, target.asks);
  return target;
}

function sideInto(side: BookSide, n: number, out: Level[]): void {
  const { prices, quantities } = side;
  const count = Math.min(n, prices.length);
  for (let r = 0, i = prices.length - 1; r < count; r++, i--) {
    const level = out[r];
    if (level === undefined) out[r] = [prices[i], quantities[i]];
    else {
      level[0] = prices[i];
      level[1] = quantities[i];
    }
  }
  if (out.length !== count) out.length = count;
}

function sideLevels(side: BookSide, n: number): Level[] {
  const { prices, quantities } = side;
  const count = Math.min(n, prices.length);
  const out: Level[] = new Array(count);
  for (let r = 0, i = prices.length - 1; r < count; r++, i--) {
    out[r] = [prices[i], quantities[i]];
  }
  return out;
}

/**
 * Index of `price` in a side's worst-first `prices`, or of the slot where it
 * would be inserted (binary search; bids ascending, asks descending).
 */
function searchSide(
  prices: readonly number[],
  isBid: boolean,
  price: number,
): number {
  let lo = 0;
  let hi = prices.length;
  if (isBid) {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prices[mid] < price) lo = mid + 1;
      else hi = mid;
    }
  } else {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prices[mid] > price) lo = mid + 1;
      else hi = mid;
    }
  }
  return lo;
}

function setLevel(
  side: BookSide,
  isBid: boolean,
  price: number,
  qty: number,
): void {
  const { prices, quantities } = side;
  const i = searchSide(prices, isBid, price);
  if (i < prices.length && prices[i] === price) {
    if (qty === 0) {
      prices.splice(i, 1);
      quantities.splice(i, 1);
    } else {
      quantities[i] = qty;
    }
  } else if (qty !== 0) {
    prices.splice(i, 0, price);
    quantities.splice(i, 0, qty);
  }
}

/** A worst-first side from snapshot levels in any order. */
function buildSide(levels: readonly Level[], isBid: boolean): BookSide {
  const prices: number[] = [];
  const quantities: number[] = [];
  // Exchanges send snapshots best-first: take them as they come, reversed.
  if (isStrictlyBestFirst(levels, isBid)) {
    for (let i = levels.length - 1; i >= 0; i--) {
      const [price, qty] = levels[i];
      if (qty === 0) continue;
      prices.push(price);
      quantities.push(qty);
    }
    return { prices, quantities };
  }
  const byPrice = new Map<number, number>();
  for (const [price, qty] of levels) byPrice.set(price, qty);
  for (const price of byPrice.keys()) {
    if (byPrice.get(price) !== 0) prices.push(price);
  }
  prices.sort(isBid ? (a, b) => a - b : (a, b) => b - a);
  for (const price of prices) quantities.push(byPrice.get(price)!);
  return { prices, quantities };
}

function isStrictlyBestFirst(
  levels: readonly Level[],
  isBid: boolean,
): boolean {
  for (let i = 1; i < levels.length; i++) {
    const prev = levels[i - 1][0];
    const cur = levels[i][0];
    if (isBid ? !(prev > cur) : !(prev < cur)) return false;
  }
  return true;
}

function truncateSide(side: BookSide, depth: number): void {
  const excess = side.prices.length - depth;
  if (excess > 0) {
    side.prices.splice(0, excess);
    side.quantities.splice(0, excess);
  }
}

/** The level `rank` places from the best (0 = best), if there is one. */
function levelAtRank(side: BookSide, rank: number): Level | undefined {
  const i = side.prices.length - 1 - rank;
  return i >= 0 ? [side.prices[i], side.quantities[i]] : undefined;
}

function isBidSide(side: BookSideName): boolean {
  if (side === "bid") return true;
  if (side === "ask") return false;
  throw new BookError(`unknown side ${JSON.stringify(side)}`);
}

function validateLevels(levels: readonly Level[], label: string): void {
  if (!Array.isArray(levels)) {
    throw new BookError(`${label} must be an array of [price, quantity]`);
  }
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (!Array.isArray(level) || level.length < 2) {
      throw new BookError(`${label}[${i}] must be [price, quantity]`);
    }
    checkLevel(level[0], level[1], `${label}[${i}]`);
  }
}

function checkLevel(price: number, qty: number, where: string): void {
  if (typeof price !== "number" || !Number.isFinite(price) || price <= 0) {
    throw new BookError(
      `${where}: price must be a finite number > 0, got ${String(price)}`,
    );
  }
  if (typeof qty !== "number" || !Number.isFinite(qty) || qty < 0) {
    throw new BookError(
      `${where}: quantity must be a finite number >= 0, got ${String(qty)}`,
    );
  }
}

function validateUpdateId(updateId: number | undefined): void {
  if (
    updateId !== undefined &&
    (typeof updateId !== "number" || !Number.isFinite(updateId))
  ) {
    throw new BookError(
      `updateId must be a finite number, got ${String(updateId)}`,
    );
  }
}

function checkCount(n: number, label: string): void {
  if (!(n === Infinity || (Number.isInteger(n) && n >= 0))) {
    throw new BookError(
      `${label} must be a non-negative integer, got ${String(n)}`,
    );
  }
}

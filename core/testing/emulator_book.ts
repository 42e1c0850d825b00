/**
 * A price-level order book side for the exchange emulators (Binance, Coinbase):
 * levels kept best-first in a sorted array plus a price → quantity map. Prices
 * are integer ticks, quantities integer steps.
 * @module
 */

/**
 * Which side of the book.
 *
 * @example
 * ```ts
 * import type { BookSideName } from "@quant-saas/gateway/testing";
 *
 * const side: BookSideName = "ask";
 * ```
 */
export type BookSideName = "bid" | "ask";

/**
 * One side of an L2 book.
 *
 * @example
 * ```ts
 * import { createEmulatorBookSide, type EmulatorBookSide } from "@quant-saas/gateway/testing";
 *
 * const asks: EmulatorBookSide = createEmulatorBookSide("ask");
 * asks.set(10_001, 3);
 * asks.best(); // 10001
 * ```
 */
export interface EmulatorBookSide {
  /** Which side this is. */
  readonly side: BookSideName;
  /** Number of levels. */
  size(): number;
  /** Quantity at `price`, 0 when there is no level. */
  qty(price: number): number;
  /** Price of the level at `index` (0 = best), undefined past the end. */
  priceAt(index: number): number | undefined;
  /** Best price, undefined when empty. */
  best(): number | undefined;
  /** Worst (farthest) price, undefined when empty. */
  worst(): number | undefined;
  /** Sets a level's quantity (0 removes it); returns the previous quantity. */
  set(price: number, qty: number): number;
  /** Up to `limit` levels best-first as `[price, qty]`. */
  levels(limit?: number): Array<[number, number]>;
  /** A deep copy. */
  clone(): EmulatorBookSide;
}

/**
 * Creates an empty book side. Bids are best-first descending, asks ascending.
 *
 * @example Prices in ticks, quantities in steps
 * ```ts
 * import { createEmulatorBookSide } from "@quant-saas/gateway/testing";
 *
 * const bids = createEmulatorBookSide("bid");
 * bids.set(10_000, 5);
 * bids.set(9_999, 2);
 * bids.levels(1); // [[10000, 5]]
 * ```
 */
export function createEmulatorBookSide(side: BookSideName): EmulatorBookSide {
  return buildSide(side, [], new Map());
}

function buildSide(
  side: BookSideName,
  ranks: number[],
  quantities: Map<number, number>,
): EmulatorBookSide {
  // Ranks are ascending; a bid's rank is -price so that best comes first on both sides.
  const toRank = side === "bid" ? (p: number) => -p : (p: number) => p;
  const search = (rank: number): number => {
    let lo = 0;
    let hi = ranks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ranks[mid] < rank) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const self: EmulatorBookSide = {
    side,
    size: () => ranks.length,
    qty: (price) => quantities.get(price) ?? 0,
    priceAt: (index) => index < ranks.length ? toRank(ranks[index]) : undefined,
    best: () => ranks.length > 0 ? toRank(ranks[0]) : undefined,
    worst: () => ranks.length > 0 ? toRank(ranks[ranks.length - 1]) : undefined,
    set(price, qty) {
      const previous = quantities.get(price) ?? 0;
      if (qty > 0) {
        if (previous === 0) ranks.splice(search(toRank(price)), 0, toRank(price));
        quantities.set(price, qty);
      } else if (previous > 0) {
        ranks.splice(search(toRank(price)), 1);
        quantities.delete(price);
      }
      return previous;
    },
    levels(limit = ranks.length) {
      const n = Math.min(limit, ranks.length);
      const out: Array<[number, number]> = new Array(n);
      for (let i = 0; i < n; i++) {
        const price = toRank(ranks[i]);
        out[i] = [price, quantities.get(price)!];
      }
      return out;
    },
    clone: () => buildSide(side, ranks.slice(), new Map(quantities)),
  };
  return self;
}

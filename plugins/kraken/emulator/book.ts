/**
 * One side of the emulated book in integer units: prices kept sorted best
 * first (bids descending, asks ascending) plus a price → quantity map.
 * @module
 */
import type { UnitLevel } from "./checksum.ts";

/** Which side. */
export type Side = "bid" | "ask";

/** One side of a book. */
export interface BookSide {
  readonly side: Side;
  /** Sets a level's quantity (0 removes it); returns the previous quantity (0 if none). */
  set(price: number, qty: number): number;
  qty(price: number): number;
  best(): number | undefined;
  worst(): number | undefined;
  /** Price at rank `i` (0 = best). */
  at(i: number): number | undefined;
  size(): number;
  /** The best `n` levels, best first. */
  top(n: number): UnitLevel[];
}

/** Creates an empty side. */
export function createBookSide(side: Side): BookSide {
  const prices: number[] = [];
  const qtys = new Map<number, number>();
  const better = side === "bid" ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  /** Index of `price` or of where it would go. */
  const search = (price: number): number => {
    let lo = 0, hi = prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (better(prices[mid], price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    side,
    set(price, qty) {
      const prev = qtys.get(price) ?? 0;
      if (qty === prev) return prev;
      const i = search(price);
      if (qty === 0) {
        prices.splice(i, 1);
        qtys.delete(price);
      } else {
        if (prev === 0) prices.splice(i, 0, price);
        qtys.set(price, qty);
      }
      return prev;
    },
    qty: (price) => qtys.get(price) ?? 0,
    best: () => prices[0],
    worst: () => prices[prices.length - 1],
    at: (i) => prices[i],
    size: () => prices.length,
    top(n) {
      const count = Math.min(n, prices.length);
      const out: UnitLevel[] = new Array(count);
      for (let i = 0; i < count; i++) out[i] = [prices[i], qtys.get(prices[i])!];
      return out;
    },
  };
}

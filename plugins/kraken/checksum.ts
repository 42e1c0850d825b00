/**
 * Kraken's v2 book checksum: the top 10 asks (low to high) then the top 10
 * bids (high to low), each price and quantity formatted to the pair's
 * `price_precision` / `qty_precision` WITH trailing zeros, the `.` removed and
 * leading zeros stripped, all concatenated; CRC32 of that string, unsigned.
 * CRC32 is `node:zlib`'s `crc32` (zlib's implementation, built into Deno 2.9).
 * @module
 */
import { crc32 } from "node:zlib";
import type { BookSide, Level, OrderBook } from "../../mod.ts";

/** Levels per side the checksum covers, whatever the subscribed depth. */
export const CHECKSUM_LEVELS = 10;

/** Exact powers of ten as doubles (10^0 … 10^22). */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * One number as the checksum wants it: `value` formatted with exactly
 * `precision` decimals, `.` removed, leading zeros stripped
 * (`45285.2` at 1 → `"452852"`, `0.001` at 8 → `"100000"`).
 */
export function checksumDigits(value: number, precision: number): string {
  if (precision <= 22) {
    const scaled = value * POW10[precision];
    if (scaled >= 0 && scaled < Number.MAX_SAFE_INTEGER) {
      // The decimal digits of round(value × 10^p) are exactly toFixed(p) without
      // the dot and the leading zeros, for any value with at most p decimals.
      const units = Math.round(scaled);
      return units === 0 ? "" : "" + units;
    }
  }
  return value.toFixed(precision).replace(".", "").replace(/^0+/, "");
}

/** The string the checksum is computed over; levels best first (only the first 10 count). */
export function checksumString(
  asks: readonly Level[],
  bids: readonly Level[],
  pricePrecision: number,
  qtyPrecision: number,
): string {
  let s = "";
  const na = Math.min(CHECKSUM_LEVELS, asks.length);
  for (let i = 0; i < na; i++) {
    s += checksumDigits(asks[i][0], pricePrecision) + checksumDigits(asks[i][1], qtyPrecision);
  }
  const nb = Math.min(CHECKSUM_LEVELS, bids.length);
  for (let i = 0; i < nb; i++) {
    s += checksumDigits(bids[i][0], pricePrecision) + checksumDigits(bids[i][1], qtyPrecision);
  }
  return s;
}

/** CRC32 (unsigned) of {@link checksumString}. */
export function levelsChecksum(
  asks: readonly Level[],
  bids: readonly Level[],
  pricePrecision: number,
  qtyPrecision: number,
): number {
  return crc32(checksumString(asks, bids, pricePrecision, qtyPrecision));
}

/** The checksum of a core order book (read in place, nothing allocated but the string). */
export function bookChecksum(
  book: OrderBook,
  pricePrecision: number,
  qtyPrecision: number,
): number {
  const s = sideString(book.asks, pricePrecision, qtyPrecision) +
    sideString(book.bids, pricePrecision, qtyPrecision);
  return crc32(s);
}

/** Best 10 levels of a worst-first core book side, best first. */
function sideString(side: BookSide, pp: number, qp: number): string {
  const { prices, quantities } = side;
  const stop = Math.max(0, prices.length - CHECKSUM_LEVELS);
  let s = "";
  for (let i = prices.length - 1; i >= stop; i--) {
    s += checksumDigits(prices[i], pp) + checksumDigits(quantities[i], qp);
  }
  return s;
}

/**
 * The emulator's own book checksum, computed from integer units (independent of
 * the plugin's float formatting): the digits of a price or quantity formatted to
 * its precision, dot removed and leading zeros stripped, are exactly the
 * decimal digits of its integer unit count.
 * @module
 */
import { crc32 } from "node:zlib";

/** A level in integer units: `[priceTicks, qtyUnits]`. */
export type UnitLevel = readonly [number, number];

/** CRC32 over the top 10 asks (best first) then the top 10 bids (best first). */
export function unitsChecksum(asks: readonly UnitLevel[], bids: readonly UnitLevel[]): number {
  let s = "";
  for (let i = 0; i < Math.min(10, asks.length); i++) s += `${asks[i][0]}${asks[i][1]}`;
  for (let i = 0; i < Math.min(10, bids.length); i++) s += `${bids[i][0]}${bids[i][1]}`;
  return crc32(s);
}

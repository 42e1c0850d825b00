/**
 * Hand-written field checks for Binance payloads (hot path: no allocation, no regex).
 * @module
 */

/** Largest millisecond timestamp a JS `Date` accepts. */
const MAX_TIME_MS = 8.64e15;

/**
 * Binance decimal strings (`"0.00120000"`) and step precision (`"0.01000000"` → 2):
 * the SDK's parsers, under the names the Binance code uses.
 */
export { decimalPlaces as stepDecimals, parseDecimal as decimal } from "../../mod.ts";

/** True for a non-negative safe integer (ids, counts). */
export function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) &&
    value >= 0;
}

/** True for a positive millisecond timestamp a `Date` can hold. */
export function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) &&
    value > 0 && value <= MAX_TIME_MS;
}

/** True for a plain (non-array, non-null) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Hand-written field checks for Coinbase payloads (hot path: no regex, no
 * allocation).
 * @module
 */

/**
 * Coinbase decimal strings (`"21921.73"`) and increment precision (`"0.01"` → 2):
 * the SDK's parsers, under the names the Coinbase code uses.
 */
export { decimalPlaces as incrementDecimals, parseDecimal as decimal } from "../../mod.ts";

/** True for a plain (non-array, non-null) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True for a non-negative safe integer. */
export function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * A counter sent as a string of digits or as an integer (Coinbase's
 * `heartbeat_counter` appears in both forms); `NaN` when it is neither.
 */
export function counter(value: unknown): number {
  if (isCount(value)) return value;
  if (typeof value !== "string" || value.length === 0 || value.length > 16) return NaN;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  const n = +value;
  return Number.isSafeInteger(n) ? n : NaN;
}

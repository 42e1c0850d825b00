/**
 * Hand-written field checks for Coinbase payloads (hot path: no regex, no
 * allocation).
 * @module
 */

/** Exact powers of ten as doubles (10^0 … 10^22). */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses a Coinbase decimal string (`"21921.73"`, `"0.06317902"`, `"0"`):
 * digits with at most one inner dot; no sign, exponent or whitespace. Returns
 * `NaN` for anything else (including numbers: Coinbase sends strings).
 *
 * While the digits form an integer below 2^53 with at most 22 decimals,
 * `m / 10^k` is the correctly rounded value (Clinger's fast path), i.e.
 * exactly `Number(value)`; longer strings fall back to `Number`.
 */
export function decimal(value: unknown): number {
  if (typeof value !== "string") return NaN;
  const n = value.length;
  if (n === 0 || n > 40) return NaN;
  let m = 0;
  let dot = -1;
  for (let i = 0; i < n; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      m = m * 10 + d;
    } else if (d === -2 && dot < 0 && i > 0 && i < n - 1) {
      dot = i; // "."
    } else {
      return NaN;
    }
  }
  const scale = dot < 0 ? 0 : n - dot - 1;
  if (m > Number.MAX_SAFE_INTEGER || scale > 22) return +value;
  return scale === 0 ? m : m / POW10[scale];
}

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

/** Decimal places of an increment such as `"0.01"` (→ 2), `"0.00000001"` (→ 8) or `"1"` (→ 0). */
export function incrementDecimals(step: unknown): number | undefined {
  if (typeof step !== "string" || !(decimal(step) > 0)) return undefined;
  const dot = step.indexOf(".");
  if (dot < 0) return 0;
  let end = step.length;
  while (end > dot + 1 && step.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

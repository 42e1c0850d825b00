/**
 * Hand-written field checks for Binance payloads (hot path: no allocation, no regex).
 * @module
 */

/** Largest millisecond timestamp a JS `Date` accepts. */
const MAX_TIME_MS = 8.64e15;

/** Exact powers of ten as doubles (10^0 … 10^22). */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses a Binance decimal string (`"0.00120000"`): digits with at most one dot,
 * no sign, exponent, hex or whitespace. Returns `NaN` for anything else.
 *
 * Validation and conversion happen in one pass. While the digits form an
 * integer `m` below 2^53 and there are at most 22 decimals, `m / 10^k` is the
 * correctly rounded value (Clinger's fast path), i.e. exactly `Number(value)`;
 * longer strings fall back to `Number`.
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

/** Decimal places of a Binance step such as `"0.01000000"` (→ 2) or `"1.00000000"` (→ 0). */
export function stepDecimals(step: string): number | undefined {
  if (!(decimal(step) > 0)) return undefined;
  const dot = step.indexOf(".");
  if (dot < 0) return 0;
  let end = step.length;
  while (end > dot + 1 && step.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

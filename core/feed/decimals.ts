/**
 * Decimal strings as exchanges send them (`"0.00120000"`), parsed on the hot
 * path without regex or allocation.
 * @module
 */

/** Exact powers of ten as doubles (10^0 … 10^22). */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses a decimal string (`"21921.73"`, `"0.00120000"`, `"0"`): digits with at
 * most one inner dot; no sign, exponent, hex or whitespace. Returns `NaN` for
 * anything else (including numbers).
 *
 * Validation and conversion happen in one pass. While the digits form an
 * integer `m` below 2^53 and there are at most 22 decimals, `m / 10^k` is the
 * correctly rounded value (Clinger's fast path), i.e. exactly `Number(value)`;
 * longer strings fall back to `Number`.
 *
 * @example Price and quantity of a trade
 * ```ts
 * import { parseDecimal } from "@quant-saas/gateway";
 *
 * parseDecimal("0.00120000"); // 0.0012
 * parseDecimal("-1"); // NaN: no sign
 * parseDecimal(1.5); // NaN: exchanges send strings
 * ```
 */
export function parseDecimal(value: unknown): number {
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

/**
 * Decimal places of a positive step or increment such as `"0.01000000"` (→ 2),
 * `"0.00000001"` (→ 8) or `"1"` (→ 0); `undefined` when `step` is not a positive
 * decimal string.
 *
 * @example Price precision of an instrument
 * ```ts
 * import { decimalPlaces } from "@quant-saas/gateway";
 *
 * decimalPlaces("0.01000000"); // 2
 * decimalPlaces("0"); // undefined
 * ```
 */
export function decimalPlaces(step: unknown): number | undefined {
  if (typeof step !== "string" || !(parseDecimal(step) > 0)) return undefined;
  const dot = step.indexOf(".");
  if (dot < 0) return 0;
  let end = step.length;
  while (end > dot + 1 && step.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

/**
 * A positive finite amount from exchange metadata, sent either as a decimal
 * string (`"0.01000000"`, Binance and Coinbase) or as a JSON number (`0.1`,
 * Kraken); `undefined` for anything else: zero, negative, non-numeric text,
 * `NaN`, infinities. Exchanges use 0 for "no such rule" (Binance disables a
 * filter field set to 0), so 0 is no value either.
 *
 * @example Minimum quantity of an instrument
 * ```ts
 * import { positiveDecimal } from "@quant-saas/gateway";
 *
 * positiveDecimal("0.00001000"); // 0.00001
 * positiveDecimal(0.5); // 0.5
 * positiveDecimal("0.00000000"); // undefined: 0 means "no rule"
 * positiveDecimal("-1"); // undefined
 * ```
 */
export function positiveDecimal(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : parseDecimal(value);
  return n > 0 && n < Infinity ? n : undefined;
}

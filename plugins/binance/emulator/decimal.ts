/**
 * Exact decimal formatting for prices and quantities kept as integer units
 * (ticks of 10^-decimals), the way Binance prints them: padded strings.
 * @module
 */

/**
 * Formats `units × 10^-decimals` with exactly `pad` decimals (`pad >= decimals`).
 * `formatUnits(5104294, 2, 8)` is `"51042.94000000"`.
 */
export function formatUnits(
  units: number | bigint,
  decimals: number,
  pad: number,
): string {
  const negative = units < 0;
  let digits = (negative ? -BigInt(units) : BigInt(units)).toString();
  if (decimals === 0) {
    return (negative ? "-" : "") + digits + (pad > 0 ? "." + "0".repeat(pad) : "");
  }
  digits = digits.padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  let frac = digits.slice(digits.length - decimals);
  frac = pad >= decimals ? frac + "0".repeat(pad - decimals) : frac.slice(0, pad);
  return (negative ? "-" : "") + whole + (frac.length > 0 ? "." + frac : "");
}

/** Number of decimals of a decimal string such as `"0.00100000"` (trailing zeros ignored). */
export function decimalsOf(value: string): number {
  const dot = value.indexOf(".");
  if (dot < 0) return 0;
  return value.slice(dot + 1).replace(/0+$/, "").length;
}

/**
 * The product of two unit counts, formatted: `(a × 10^-da) × (b × 10^-db)` with
 * `pad` decimals (truncated if it has more).
 */
export function formatProduct(
  a: number,
  da: number,
  b: number,
  db: number,
  pad: number,
): string {
  return formatUnits(BigInt(a) * BigInt(b), da + db, pad);
}

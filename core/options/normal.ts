/**
 * The standard normal distribution to double precision, for the option pricer.
 *
 * The error functions are W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
 * approximations for the error function", Math. Comp. 23(107):631–637, 1969), already in the
 * repository as core/analytics/normal_cdf.ts (relative error about 1e-16, no `1 − erf`
 * cancellation). The CDF here adds one thing to core/analytics' `normalCdf`: the rounding of
 * the argument y = −x/√2 is compensated (its exact residual, from a Dekker two-product and 1/√2
 * as a double-double, enters as a first-order correction), so the lower tail keeps 1e-16
 * relative accuracy instead of degrading like x²·1e-16 (about 1e-13 at x = −37).
 * @module
 */

import { erfc } from "../analytics/normal_cdf.ts";

export { erfc, erfcx, erfcxPrime } from "../analytics/normal_cdf.ts";

/** 1/√(2π). */
export const INV_SQRT_2PI = 0.3989422804014327;
/** 2/√π. */
const TWO_OVER_SQRT_PI = 1.1283791670955126;
/** 1/√2 as a double-double: SQRT1_2_HI + SQRT1_2_LO. */
const SQRT1_2_HI = 0.7071067811865476;
const SQRT1_2_LO = -4.833646656726457e-17;
/** Dekker's splitter 2^27 + 1. */
const SPLITTER = 134217729;

/**
 * The rounding error of a product: a·b − fl(a·b), exactly (Dekker 1971, without FMA).
 *
 * @param a factor
 * @param b factor
 * @param p fl(a·b)
 * @returns a·b − p
 * @example
 * ```ts
 * const p = 0.1 * 0.1;
 * twoProductError(0.1, 0.1, p); // the part of 0.1·0.1 lost in p
 * ```
 */
export function twoProductError(a: number, b: number, p: number): number {
  const ca = SPLITTER * a;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = SPLITTER * b;
  const bh = cb - (cb - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/**
 * Standard normal CDF `N(x) = ½·erfc(−x/√2)` with the argument's rounding compensated:
 * relative error about 1e-16 everywhere it does not underflow (N(−37) ≈ 5.7e-300).
 *
 * @param x any real number (NaN gives NaN)
 * @returns P(N(0,1) ≤ x)
 * @example
 * ```ts
 * normalCdf(-8); // 6.220960574271784e-16
 * ```
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < -40) return 0; // N(−38.5) is below the smallest subnormal
  if (x > 40) return 1;
  const y = -x * SQRT1_2_HI;
  const dy = twoProductError(-x, SQRT1_2_HI, y) - x * SQRT1_2_LO; // y_exact − y
  return 0.5 * (erfc(y) - dy * TWO_OVER_SQRT_PI * Math.exp(-y * y));
}

/**
 * Standard normal density `φ(x) = e^{−x²/2}/√(2π)` (0 beyond |x| ≈ 38.6, where it underflows).
 *
 * @param x any real number
 * @returns φ(x) ≥ 0
 * @example
 * ```ts
 * normalPdf(0); // 0.3989422804014327
 * ```
 */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/**
 * The standard normal distribution to double precision, for the option pricer.
 *
 * The CDF and the error functions are W. J. Cody's rational Chebyshev approximations
 * ("Rational Chebyshev approximations for the error function", Math. Comp. 23(107):631–637,
 * 1969), already in the repository as core/analytics/normal_cdf.ts (relative error about 1e-16,
 * also deep in the lower tail: no `1 − erf` cancellation). This module re-exports them and adds
 * the density.
 * @module
 */

export { erfc, erfcx, erfcxPrime, normalCdf } from "../analytics/normal_cdf.ts";

/** 1/√(2π). */
export const INV_SQRT_2PI = 0.3989422804014327;

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

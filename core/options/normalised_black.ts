/**
 * The normalised Black function, the one kernel shared by the pricer and the implied-volatility
 * solver (so that price → IV → price reproduces the same numbers).
 *
 * With x = ln(F/K), s = σ√T, the undiscounted Black call is √(FK)·(e^{x/2}N(x/s + s/2) −
 * e^{−x/2}N(x/s − s/2)). By put-call parity only the out-of-the-money option needs computing:
 * with θ = |x| it is √(FK)·b(θ, s), and the in-the-money one adds the intrinsic value |F − K|.
 * `b(θ, s)` is evaluated in three regions, each free of catastrophic cancellation
 * (the region split follows P. Jäckel, "Let's be rational", Wilmott 2015; the small-s series below
 * is our own):
 * - s/2 < 0.21: b = ½e^{−(h²+t²)/2}·(erfcx(m−δ) − erfcx(m+δ)) (h = θ/s, t = s/2, m = h/√2,
 *   δ = t/√2) with the difference summed as the odd Taylor series of erfcx about m (all terms
 *   positive, since erfcx is completely monotone), derivatives from the recurrence
 *   y⁽ⁿ⁺¹⁾ = 2m·y⁽ⁿ⁾ + 2n·y⁽ⁿ⁻¹⁾;
 * - larger s with θ/s ≥ s/2: the same erfcx difference taken directly;
 * - θ/s < s/2: the erfc form e^{−θ/2}N(−h+t) − e^{θ/2}N(−h−t).
 * @module
 */

import { erfc, erfcx, erfcxPrime, INV_SQRT_2PI, twoProductError } from "./normal.ts";

/** Below this t = s/2 the erfcx difference is summed as a series (δ = t/√2 < 0.149). */
const SMALL_T = 0.21;
const SQRT1_2 = Math.SQRT1_2;

/**
 * e^{−(h² + t²)/2} with h = θ/s, t = s/2: the common factor of every region. h² reaches ~1500
 * where b is still representable, so its rounding (and that of θ/s) is compensated: with
 * h = fl(θ/s), h² = p + e exactly and h_exact ≈ h + r/s (r = θ − h·s exactly), the factor is
 * e^{−p/2}·e^{−(e + 2h·r/s + t²)/2}, the first exponent exact.
 *
 * @param theta |ln(F/K)| ≥ 0
 * @param s total volatility σ√T > 0
 * @returns e^{−(θ²/s² + s²/4)/2}
 * @example
 * ```ts
 * gaussFactor(0, 2); // e^{−1/2}
 * ```
 */
export function gaussFactor(theta: number, s: number): number {
  const h = theta / s;
  const t = 0.5 * s;
  const p = h * h;
  if (p < 1) return Math.exp(-0.5 * (p + t * t));
  const hs = h * s;
  const r = (theta - hs) - twoProductError(h, s, hs);
  const e = twoProductError(h, h, p);
  return Math.exp(-0.5 * p) * Math.exp(-0.5 * (e + (2 * h * r) / s + t * t));
}

/** erfcx(m − δ) − erfcx(m + δ) as Σ 2δ^{2j+1}/(2j+1)!·(−erfcx^{(2j+1)}(m)), δ small, m ≥ 0. */
function erfcxOddDifference(m: number, delta: number): number {
  let yPrev = erfcx(m); // y⁽⁰⁾
  let y = erfcxPrime(m, yPrev); // y⁽¹⁾
  let coef = delta; // δⁿ/n!
  let sum = -coef * y;
  const d2 = delta * delta;
  for (let n = 1; n < 40; n += 2) {
    const yNext = 2 * m * y + 2 * n * yPrev; // y⁽ⁿ⁺¹⁾
    const yOdd = 2 * m * yNext + 2 * (n + 1) * y; // y⁽ⁿ⁺²⁾
    yPrev = yNext;
    y = yOdd;
    coef *= d2 / ((n + 1) * (n + 2));
    const term = -coef * y;
    sum += term;
    if (Math.abs(term) <= 1e-17 * sum) break;
  }
  return 2 * sum;
}

/**
 * Normalised out-of-the-money Black price b(θ, s) = (undiscounted OTM price)/√(FK).
 *
 * @param theta |ln(F/K)| ≥ 0
 * @param s total volatility σ√T ≥ 0 (Infinity allowed)
 * @param g {@link gaussFactor}(θ, s) when the caller already has it
 * @returns b in [0, e^{−θ/2}); 0 at s = 0
 * @example
 * ```ts
 * normalisedOtm(0, 0.2); // 0.07965567455405798 (= erf(0.2/(2√2)))
 * ```
 */
export function normalisedOtm(theta: number, s: number, g?: number): number {
  if (!(s > 0)) return 0;
  if (s === Infinity) return Math.exp(-0.5 * theta);
  const t = 0.5 * s;
  const hOverRoot2 = (theta / s) * SQRT1_2;
  let b: number;
  if (t < SMALL_T) {
    b = 0.5 * (g ?? gaussFactor(theta, s)) * erfcxOddDifference(hOverRoot2, t * SQRT1_2);
  } else {
    const q1 = hOverRoot2 - t * SQRT1_2;
    const q2 = hOverRoot2 + t * SQRT1_2;
    if (q1 >= 0) {
      b = 0.5 * (g ?? gaussFactor(theta, s)) * (erfcx(q1) - erfcx(q2));
    } else {
      b = 0.5 * (Math.exp(-0.5 * theta) * erfc(q1) - Math.exp(0.5 * theta) * erfc(q2));
    }
  }
  return b > 0 ? b : 0; // also maps a NaN from absurd θ (> 1400) to 0
}

/**
 * The complement e^{−θ/2} − b(θ, s), computed as a sum of two positive terms (accurate when b is
 * close to its supremum, i.e. large s): ½[e^{−θ/2}·erfc(−q1) + e^{−(h²+t²)/2}·erfcx(q2)].
 *
 * @param theta |ln(F/K)| ≥ 0
 * @param s total volatility σ√T > 0
 * @param g {@link gaussFactor}(θ, s) when the caller already has it
 * @returns e^{−θ/2} − b(θ, s) ≥ 0
 * @example
 * ```ts
 * normalisedOtmComplement(0, 0.2); // 0.920344325445942
 * ```
 */
export function normalisedOtmComplement(theta: number, s: number, g?: number): number {
  if (!(s > 0)) return Math.exp(-0.5 * theta);
  if (s === Infinity) return 0;
  const t = 0.5 * s;
  const hOverRoot2 = (theta / s) * SQRT1_2;
  const q1 = hOverRoot2 - t * SQRT1_2;
  const q2 = hOverRoot2 + t * SQRT1_2;
  return 0.5 * (Math.exp(-0.5 * theta) * erfc(-q1) + (g ?? gaussFactor(theta, s)) * erfcx(q2));
}

/**
 * ∂b/∂s = e^{−(h²+t²)/2}/√(2π), the normalised vega.
 *
 * @param theta |ln(F/K)| ≥ 0
 * @param s total volatility σ√T > 0
 * @returns ∂b/∂s ≥ 0
 * @example
 * ```ts
 * normalisedVega(0, 0.2); // 0.3969525474770118
 * ```
 */
export function normalisedVega(theta: number, s: number): number {
  if (!(s > 0) || s === Infinity) return 0;
  return INV_SQRT_2PI * gaussFactor(theta, s);
}

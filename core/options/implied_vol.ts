/**
 * Implied volatility of a Black-76 price, to machine precision, never diverging.
 *
 * The price is normalised (β = undiscounted OTM-equivalent price / √(FK), θ = |ln(F/K)|) and the
 * total volatility s = σ√T solving b(θ, s) = β is found by Halley steps on an objective chosen by
 * region, in the spirit of P. Jäckel, "Let's be rational" (Wilmott 2015), with a bracket:
 * - below the inflection point s_c = √(2θ) (β < b(s_c)): f = ln b − ln β (b is exponentially
 *   small there; ln b is nearly −θ²/(2s²));
 * - above it, while β is not close to its supremum e^{−θ/2}: f = b − β;
 * - close to the supremum: f = ln(e^{−θ/2} − b) − ln(e^{−θ/2} − β), with the complement computed
 *   without cancellation.
 * Initial guesses: below s_c a two-term model of ln b matched in value and slope at s_c; above
 * it the tangent at s_c (at the money, the inverse of b = 1 − 2N(−s/2)); near the supremum
 * e^{−θ/2} − b ≈ 2cosh(θ/2)·N(−s/2), both inverted with Abramowitz & Stegun 26.2.23. Every iterate
 * is kept inside a bracket [lo, hi] that the signs of b − β narrow; a step leaving it is replaced
 * by bisection (doubling while hi is unbounded). The loop stops when a Halley step is below
 * 1e-6·s (cubic convergence leaves ~1e-18·s), any step is below 2 ulps of s, or after 100
 * iterations (never reached in the tests: 2–3 evaluations are typical, 3 the most on the test
 * grid), so it always terminates. There is no σ range: any s in (0, ∞) is reachable.
 * @module
 */

import type { OptionType } from "./black76.ts";
import { INV_SQRT_2PI } from "./normal.ts";
import {
  gaussFactor,
  normalisedOtm,
  normalisedOtmComplement,
  normalisedVega,
} from "./normalised_black.ts";

/** Inputs of {@link impliedVol}. */
export interface ImpliedVolInput {
  /** Discounted option price in USD (the quote currency), as {@link black76} returns it. */
  price: number;
  /** Forward price for the expiry, > 0. */
  forward: number;
  /** Strike, > 0. */
  strike: number;
  /** Time to expiry in years, > 0. */
  timeYears: number;
  /** Continuously compounded rate (discount e^{−rT}). */
  rate: number;
  /** Call or put. */
  type: OptionType;
}

/** Why no volatility exists for a price. */
export type ImpliedVolFailure = "below_intrinsic" | "above_max" | "bad_input";

/** A volatility (decimal, per √year) and the iterations used, or the reason there is none. */
export type ImpliedVolResult =
  | { vol: number; iterations: number }
  | { vol: null; reason: ImpliedVolFailure };

const MAX_ITERATIONS = 100;
const EPS = 2.220446049250313e-16;
const HALLEY_DONE = 1e-6;

/** Abramowitz & Stegun 26.2.23: x with N(−x) ≈ p for 0 < p ≤ ½ (|error| < 4.5e-4). */
function upperTailQuantile(p: number): number {
  const y = Math.sqrt(-2 * Math.log(p));
  return y - (2.515517 + y * (0.802853 + y * 0.010328)) /
      (1 + y * (1.432788 + y * (0.189269 + y * 0.001308)));
}

/**
 * Initial guess below the inflection point: the root of the model
 * ln b ≈ ln b_c + p·ln(s/s_c) − (θ²/2)(1/s² − 1/s_c²), whose value and slope match b at s_c;
 * solved by Newton in v = 1/s² (convex and decreasing there, so the iterates approach the root
 * monotonically from v_c).
 */
function lowerGuess(theta: number, sc: number, bc: number, vc: number, lnBeta: number): number {
  const vC = 1 / (sc * sc);
  const p = (vc * sc) / bc - theta * theta * vC;
  const lnBc = Math.log(bc);
  let v = vC;
  for (let i = 0; i < 4; i++) {
    const g = lnBc - 0.5 * p * Math.log(v / vC) - 0.5 * theta * theta * (v - vC) - lnBeta;
    const gp = (-0.5 * p) / v - 0.5 * theta * theta;
    v -= g / gp;
  }
  return 1 / Math.sqrt(v);
}

/** Region of the objective. */
const LOWER = 0, MIDDLE = 1, UPPER = 2;

/**
 * Solves b(θ, s) = β for the total volatility s = σ√T (the normalised problem behind
 * {@link impliedVol}).
 *
 * @param theta |ln(F/K)| ≥ 0
 * @param beta normalised OTM price in (0, e^{−θ/2})
 * @param gap e^{−θ/2} − β, computed by the caller without cancellation
 * @returns [s, evaluations used]
 * @example
 * ```ts
 * const s = 0.2;
 * solveTotalVol(0, normalisedOtm(0, s), normalisedOtmComplement(0, s)); // [0.19999999999999996, 2]
 * ```
 */
export function solveTotalVol(theta: number, beta: number, gap: number): [number, number] {
  const bMax = Math.exp(-0.5 * theta);
  const sc = Math.sqrt(2 * theta);
  const bc = normalisedOtm(theta, sc);
  const vc = normalisedVega(theta, sc);
  const lnBeta = Math.log(beta);
  const lnGap = Math.log(gap);
  let region: number;
  let s: number;
  if (beta < bc) {
    region = LOWER;
    s = lowerGuess(theta, sc, bc, vc, lnBeta);
    if (!(s > 0 && s < sc)) s = 0.5 * sc;
  } else if (gap > 0.5 * (bMax - bc)) {
    region = MIDDLE;
    // The tangent at s_c; at the money (θ = 0, where s_c = 0) b = 1 − 2N(−s/2) is inverted.
    s = vc > 0 ? sc + (beta - bc) / vc : 2 * upperTailQuantile(Math.min(0.5, 0.5 * gap));
  } else {
    region = UPPER;
    // e^{−θ/2} − b ≈ 2cosh(θ/2)·N(−s/2) for large s.
    s = 2 * upperTailQuantile(Math.min(0.5, gap / (2 * Math.cosh(0.5 * theta))));
    if (!(s > sc)) s = sc + (beta - bc) / vc;
  }
  if (!(s > 0) || !Number.isFinite(s)) s = sc > 0 ? sc : 1;
  let lo = 0;
  let hi = Infinity;
  for (let it = 1; it <= MAX_ITERATIONS; it++) {
    const g = gaussFactor(theta, s);
    const v = INV_SQRT_2PI * g;
    const kappa = (theta * theta) / (s * s * s) - 0.25 * s; // b''/b'
    let f: number, fp: number, fpp: number;
    let above: boolean; // b(s) > β
    if (region === UPPER) {
      const c = normalisedOtmComplement(theta, s, g);
      above = c < gap;
      f = Math.log(c) - lnGap;
      fp = -v / c;
      fpp = -(v * kappa) / c - fp * fp;
    } else {
      const b = normalisedOtm(theta, s, g);
      above = b > beta;
      if (region === LOWER) {
        const L = Math.log(b);
        const L1 = v / b;
        const L2 = (v * kappa) / b - L1 * L1;
        f = L - lnBeta;
        fp = L1;
        fpp = L2;
      } else {
        f = b - beta;
        fp = v;
        fpp = v * kappa;
      }
    }
    if (f === 0) return [s, it];
    if (above) hi = s;
    else lo = s;
    const nu = f / fp;
    let step = NaN;
    if (Number.isFinite(nu)) {
      const denom = 1 - 0.5 * nu * (fpp / fp);
      const halley = denom > 0.2 && Number.isFinite(denom);
      step = halley ? -nu / denom : -nu;
      // Converged: the step is below 2 ulps of s (s + step may round back to s), or it is a
      // Halley step below 1e-6·s (cubic convergence: the error left is ~1e-18·s).
      if (Math.abs(step) <= (halley ? HALLEY_DONE : 2 * EPS) * s) return [s + step, it];
    }
    let next = s + step;
    if (!(next > lo && next < hi)) next = hi === Infinity ? 2 * Math.max(s, lo) : 0.5 * (lo + hi);
    if (hi < Infinity && hi - lo <= 2 * EPS * hi) return [next, it];
    s = next;
  }
  return [s, MAX_ITERATIONS];
}

/**
 * Implied Black-76 volatility of a discounted option price (same conventions as
 * {@link black76}: forward, D = e^{−rT}, USD). Outside the no-arbitrage bounds there is no
 * volatility: an undiscounted price below the intrinsic value max(±(F − K), 0) gives
 * `below_intrinsic`, one at or above the supremum (F for a call, K for a put) `above_max`;
 * a price exactly at intrinsic gives vol 0. Non-finite or out-of-range inputs (F, K ≤ 0,
 * T ≤ 0, price < 0) give `bad_input`.
 *
 * @param input price, forward, strike, timeYears, rate, type
 * @returns `{ vol, iterations }` (vol a decimal per √year) or `{ vol: null, reason }`
 * @example
 * ```ts
 * impliedVol({ price: 1.701050725236267, forward: 19, strike: 19, timeYears: 0.75, rate: 0.1, type: "call" });
 * // { vol: 0.28, iterations: 2 } (to the last bits)
 * ```
 */
export function impliedVol(input: ImpliedVolInput): ImpliedVolResult {
  const { price, forward: F, strike: K, timeYears: T, rate: r, type } = input;
  if (
    !(Number.isFinite(price) && price >= 0 && Number.isFinite(F) && F > 0 &&
      Number.isFinite(K) && K > 0 && Number.isFinite(T) && T > 0 && Number.isFinite(r)) ||
    (type !== "call" && type !== "put")
  ) return { vol: null, reason: "bad_input" };
  const p = price / Math.exp(-r * T);
  const isCall = type === "call";
  const intrinsic = isCall ? Math.max(F - K, 0) : Math.max(K - F, 0);
  const sup = isCall ? F : K;
  // Within 4 ulps of the intrinsic value is the intrinsic value (the rounding of p = price/D).
  if (p < intrinsic * (1 - 4 * EPS)) return { vol: null, reason: "below_intrinsic" };
  if (p >= sup) return { vol: null, reason: "above_max" };
  const otm = p - intrinsic;
  if (otm <= 0) return { vol: 0, iterations: 0 };
  const sqrtFK = Math.sqrt(F) * Math.sqrt(K);
  const theta = Math.abs(Math.log(F / K));
  const beta = otm / sqrtFK;
  const gap = (sup - p) / sqrtFK;
  if (!(gap > 0) || beta >= Math.exp(-0.5 * theta)) return { vol: null, reason: "above_max" };
  const [s, iterations] = solveTotalVol(theta, beta, gap);
  return { vol: s / Math.sqrt(T), iterations };
}

/**
 * The emulator's own Black-76 (forward F, strike K, T years, σ, discount rate r):
 * prices, greeks and an implied-volatility bisection. Written here on purpose,
 * independent of `core/options/`: the pricing engine is tested against the marks
 * this emulator publishes, which means something only if the two are separate code.
 *
 * d1 = [ln(F/K) + σ²T/2]/(σ√T), d2 = d1 − σ√T, D = e^{−rT};
 * call = D[F·N(d1) − K·N(d2)], put = D[K·N(−d2) − F·N(−d1)] (Black 1976).
 * @module
 */

/** Inputs of {@link black76}. */
export interface Black76Input {
  forward: number;
  strike: number;
  timeYears: number;
  /** Volatility, a fraction (0.5 = 50 %). */
  vol: number;
  rate: number;
  type: "call" | "put";
}

/** Price and greeks in the forward's currency; vega and rho per unit (not per 1 %), theta per year. */
export interface Black76Output {
  price: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  rho: number;
}

/**
 * erfc(x) by the Chebyshev fit of Numerical Recipes (`erfcc`, fractional error
 * below 1.2e-7 everywhere).
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? r : 2 - r;
}

/**
 * Standard normal cumulative distribution.
 *
 * @example
 * ```ts
 * import { normCdf } from "./black76.ts";
 *
 * normCdf(0); // 0.5
 * ```
 */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Standard normal density. */
export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * Black-76 price and greeks.
 *
 * @example At the money, one year, 50 %: call = put = F·(2N(σ/2) − 1)
 * ```ts
 * import { black76 } from "./black76.ts";
 *
 * const c = black76({ forward: 100, strike: 100, timeYears: 1, vol: 0.5, rate: 0, type: "call" });
 * console.log(c.price.toFixed(4)); // "19.7413"
 * ```
 */
export function black76(i: Black76Input): Black76Output {
  const { forward: F, strike: K, timeYears: T, vol: s, rate: r } = i;
  const D = Math.exp(-r * T);
  const sq = s * Math.sqrt(T);
  const d1 = (Math.log(F / K) + 0.5 * s * s * T) / sq;
  const d2 = d1 - sq;
  const call = i.type === "call";
  const price = call
    ? D * (F * normCdf(d1) - K * normCdf(d2))
    : D * (K * normCdf(-d2) - F * normCdf(-d1));
  const delta = call ? D * normCdf(d1) : D * (normCdf(d1) - 1);
  const gamma = D * normPdf(d1) / (F * sq);
  const vega = D * F * normPdf(d1) * Math.sqrt(T);
  const theta = -D * F * normPdf(d1) * s / (2 * Math.sqrt(T)) + r * price;
  const rho = -T * price;
  return { price, delta, gamma, vega, theta, rho };
}

/**
 * Implied volatility of `price` by bisection on σ ∈ [0.01, 5]; undefined when out of range.
 *
 * @example
 * ```ts
 * import { impliedVol } from "./black76.ts";
 *
 * impliedVol(19.7413, { forward: 100, strike: 100, timeYears: 1, rate: 0, type: "call" }); // ≈ 0.5
 * ```
 */
export function impliedVol(price: number, i: Omit<Black76Input, "vol">): number | undefined {
  let lo = 0.01, hi = 5;
  const at = (s: number) => black76({ ...i, vol: s }).price;
  if (!(price > at(lo)) || !(price < at(hi))) return undefined;
  for (let n = 0; n < 60; n++) {
    const mid = 0.5 * (lo + hi);
    if (at(mid) < price) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

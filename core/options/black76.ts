/**
 * Black-76: European options on a forward, with greeks.
 *
 * Conventions (Deribit's): an option is priced against the **forward** F of its expiry (the
 * matching future's price, or Deribit's synthetic future when none expires that day — the
 * `underlying_price` of the ticker), not the index; the premium is discounted with D = e^{−rT}
 * (r continuously compounded per year, T in years of 365 days; Deribit's ticker carries
 * `interest_rate`, 0 on its BTC/ETH options). With x = ln(F/K), s = σ√T, d1 = x/s + s/2,
 * d2 = d1 − s:
 * call = D[F·N(d1) − K·N(d2)], put = D[K·N(−d2) − F·N(−d1)].
 * Prices are in the quote currency (USD); `priceInUnderlying` = price / F is the premium of an
 * inverse (coin-settled) option in coin, as Deribit quotes BTC options (1 BTC contract).
 * Greeks are those of the USD price with respect to F, σ (per 1.00 of vol, not per 1%), calendar
 * time (theta per year and per day, with F held fixed) and r (with F held fixed).
 * @module
 */

import { INV_SQRT_2PI, normalCdf } from "./normal.ts";
import { normalisedOtm } from "./normalised_black.ts";

/** Call or put. */
export type OptionType = "call" | "put";

/** Inputs of {@link black76}. */
export interface Black76Input {
  /** Forward (future) price of the underlying for the option's expiry, > 0 (USD). */
  forward: number;
  /** Strike, > 0 (USD). */
  strike: number;
  /** Time to expiry in years (365-day), ≥ 0. */
  timeYears: number;
  /** Volatility per √year as a decimal (0.52 for Deribit's mark_iv 52), ≥ 0. */
  vol: number;
  /** Continuously compounded rate per year for the discount factor e^{−rT}. */
  rate: number;
  /** Call or put. */
  type: OptionType;
}

/** Price and greeks from {@link black76}. */
export interface Black76Result {
  /** Discounted price in USD (quote currency). */
  price: number;
  /** ∂price/∂F. */
  delta: number;
  /** ∂²price/∂F². */
  gamma: number;
  /** ∂price/∂σ per 1.00 of vol (divide by 100 for per vol point). */
  vega: number;
  /** −∂price/∂T per year (time decay, F and r fixed). */
  theta: number;
  /** theta / 365: decay per calendar day. */
  thetaPerDay: number;
  /** ∂price/∂r with F fixed = −T·price. */
  rho: number;
  /** price / F: the premium in the underlying coin (inverse options). */
  priceInUnderlying: number;
}

/** Days per year of the time convention (T = ms / (365·86400000)). */
export const DAYS_PER_YEAR = 365;
/** Milliseconds per year of the time convention. */
export const YEAR_MS = DAYS_PER_YEAR * 86_400_000;

/** Throws a RangeError unless the inputs are finite and in range. */
function validate(i: Black76Input): void {
  const ok = Number.isFinite(i.forward) && i.forward > 0 && Number.isFinite(i.strike) &&
    i.strike > 0 && Number.isFinite(i.timeYears) && i.timeYears >= 0 &&
    Number.isFinite(i.vol) && i.vol >= 0 && Number.isFinite(i.rate) &&
    (i.type === "call" || i.type === "put");
  if (!ok) throw new RangeError(`black76: invalid input ${JSON.stringify(i)}`);
}

/**
 * Undiscounted Black-76 price: √(FK)·b(|x|, s) plus the intrinsic value |F − K| when in the money.
 *
 * @param forward F > 0
 * @param strike K > 0
 * @param totalVol s = σ√T ≥ 0
 * @param type call or put
 * @returns the undiscounted price (the price is e^{−rT} times this)
 * @example
 * ```ts
 * undiscountedBlack(19, 19, 0.28 * Math.sqrt(0.75), "call"); // 1.8335...
 * ```
 */
export function undiscountedBlack(
  forward: number,
  strike: number,
  totalVol: number,
  type: OptionType,
): number {
  const theta = Math.abs(Math.log(forward / strike));
  const intrinsic = type === "call" ? Math.max(forward - strike, 0) : Math.max(strike - forward, 0);
  return Math.sqrt(forward) * Math.sqrt(strike) * normalisedOtm(theta, totalVol) + intrinsic;
}

/**
 * Black-76 price and greeks on the forward. Edge cases give the limits, never NaN: T = 0 or
 * σ = 0 → discounted intrinsic value, delta a step (±D/2 at the money), gamma and vega 0 — at
 * the money with σ√T = 0, gamma is +Infinity and, at T = 0 with σ > 0, theta −Infinity (their
 * limits); huge σ → the call tends to D·F and the put to D·K.
 *
 * @param input forward, strike, timeYears, vol (decimal), rate, type
 * @returns price (USD), greeks and the price in the underlying
 * @throws RangeError on non-finite or out-of-range inputs
 * @example Haug (2007), Black-76 example: F = K = 19, T = 0.75, r = 0.10, σ = 0.28
 * ```ts
 * black76({ forward: 19, strike: 19, timeYears: 0.75, vol: 0.28, rate: 0.1, type: "call" }).price;
 * // 1.7010507 (book: 1.7011)
 * ```
 */
export function black76(input: Black76Input): Black76Result {
  validate(input);
  const { forward: F, strike: K, timeYears: T, vol, rate: r, type } = input;
  const isCall = type === "call";
  const D = Math.exp(-r * T);
  const sqrtT = Math.sqrt(T);
  const s = vol * sqrtT;
  const price = D * undiscountedBlack(F, K, s, type);
  let delta: number, gamma: number, vega: number, theta: number;
  if (s > 0) {
    const d1 = Math.log(F / K) / s + 0.5 * s;
    const pdf = INV_SQRT_2PI * Math.exp(-0.5 * d1 * d1);
    delta = isCall ? D * normalCdf(d1) : -D * normalCdf(-d1);
    gamma = (D * pdf) / (F * s);
    vega = D * F * pdf * sqrtT;
    theta = (-D * F * pdf * vol) / (2 * sqrtT) + r * price;
  } else {
    const itm = isCall ? F > K : F < K;
    const atm = F === K;
    delta = (isCall ? 1 : -1) * D * (itm ? 1 : atm ? 0.5 : 0);
    gamma = atm ? Infinity : 0;
    vega = atm ? D * F * INV_SQRT_2PI * sqrtT : 0;
    theta = atm && T === 0 && vol > 0 ? -Infinity : r * price;
  }
  return {
    price,
    delta,
    gamma,
    vega,
    theta,
    thetaPerDay: theta / DAYS_PER_YEAR,
    rho: -T * price,
    priceInUnderlying: price / F,
  };
}

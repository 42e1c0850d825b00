/**
 * An implied-volatility surface from per-expiry SVI smiles.
 *
 * Each expiry's quotes (strike, iv) become total variances w = iv²·T at log-moneyness
 * k = ln(K/F) and are fitted with raw SVI ({@link fitSvi}). Between two fitted expiries the
 * surface interpolates **total variance linearly in T at constant log-moneyness** k = ln(K/F(T)),
 * with ln F(T) linear in T between the expiries' forwards; this keeps w non-decreasing in T at
 * every k when the slices are (no calendar arbitrage is created by the interpolation).
 * Extrapolation: before the first expiry w(k, T) = w₁(k)·T/T₁ with F = F₁ (the first smile's
 * implied vols held); after the last, w(k, T) = w_N(k)·T/T_N with F = F_N (the last smile's
 * implied vols held); in k the SVI wings are linear in k (slopes within Lee's bound 2).
 * Time is T = (expiry − now) / (365·86 400 000 ms).
 * @module
 */

import { black76, type Black76Result, type OptionType, YEAR_MS } from "./black76.ts";
import { fitSvi, quotedRange, type SviFit, sviTotalVariance } from "./svi.ts";

/** One expiry's market smile: implied vols as decimals (0.523, not Deribit's 52.3). */
export interface SmileInput {
  /** Expiry, epoch ms. */
  expiry: number;
  /** Forward (future) price for the expiry. */
  forward: number;
  /** Quotes; weight defaults to 1. */
  points: { strike: number; iv: number; weight?: number }[];
}

/** A fitted expiry of the surface. */
export interface SurfaceSlice {
  expiry: number;
  timeYears: number;
  forward: number;
  fit: SviFit;
}

/** A point where total variance decreases from one expiry to the next. */
export interface CalendarViolation {
  expiry1: number;
  expiry2: number;
  /** Log-moneyness ln(K/F) where w(k, T₂) < w(k, T₁). */
  k: number;
  /** w(k, T₁) − w(k, T₂) > 0. */
  shortfall: number;
}

/** The interpolated surface (see the module notes for the rules). */
export interface Surface {
  /** Valuation time, epoch ms. */
  now: number;
  /** Fitted expiries, ascending. */
  slices: SurfaceSlice[];
  /** Forward for an expiry (epoch ms). */
  forward(expiry: number): number;
  /** Total variance at log-moneyness k and T years. */
  totalVariance(k: number, timeYears: number): number;
  /** Implied vol (decimal) for a strike and an expiry (epoch ms, after now). */
  iv(strike: number, expiry: number): number;
  /** Black-76 USD price of the option at the surface's vol, discounted at the surface rate. */
  price(strike: number, expiry: number, type: OptionType): number;
  /** Price and greeks at the surface's vol. */
  quote(strike: number, expiry: number, type: OptionType): Black76Result;
  /**
   * Points where total variance decreases in T between consecutive expiries: over the strikes
   * both quote (the overlap of their quoted k ranges, widened as {@link quotedRange}), or with
   * `"wide"` over k ∈ [−2, 2] (the extrapolated wings too); 61 points per pair.
   */
  calendarArbitrage(range?: "quoted" | "wide"): CalendarViolation[];
}

/** Options of {@link buildSurface}. */
export interface SurfaceOptions {
  /** Continuously compounded discount rate for prices (default 0, as Deribit's BTC options). */
  rate?: number;
}

/**
 * Fits every expiry (≥ 5 valid quotes each, expiry after `now`) and returns the surface.
 *
 * @param smiles per-expiry quotes (any order)
 * @param now valuation time, epoch ms
 * @param options discount rate
 * @returns the surface
 * @throws RangeError when no expiry can be fitted
 * @example
 * ```ts
 * const s = buildSurface([{ expiry, forward: 100_000, points }], now);
 * s.iv(110_000, expiry);
 * ```
 */
export function buildSurface(
  smiles: SmileInput[],
  now: number,
  options: SurfaceOptions = {},
): Surface {
  const rate = options.rate ?? 0;
  const slices: SurfaceSlice[] = [];
  for (const sm of [...smiles].sort((a, b) => a.expiry - b.expiry)) {
    const T = (sm.expiry - now) / YEAR_MS;
    if (!(T > 0) || !(sm.forward > 0)) continue;
    const pts = sm.points
      .filter((p) => p.strike > 0 && Number.isFinite(p.iv) && p.iv > 0)
      .map((p) => ({ k: Math.log(p.strike / sm.forward), w: p.iv * p.iv * T, weight: p.weight }));
    if (pts.length < 5) continue;
    slices.push({ expiry: sm.expiry, timeYears: T, forward: sm.forward, fit: fitSvi(pts) });
  }
  if (slices.length === 0) throw new RangeError("buildSurface: no expiry with ≥ 5 valid quotes");
  const n = slices.length;
  const w = (i: number, k: number): number => sviTotalVariance(slices[i].fit.params, k);

  /** Index i with T_i ≤ T < T_{i+1} (−1 before the first, n − 1 from the last on). */
  const locate = (T: number): number => {
    let i = -1;
    while (i + 1 < n && slices[i + 1].timeYears <= T) i++;
    return i;
  };
  const forwardAt = (T: number): number => {
    const i = locate(T);
    if (i < 0) return slices[0].forward;
    if (i >= n - 1) return slices[n - 1].forward;
    const a = slices[i], b = slices[i + 1];
    const u = (T - a.timeYears) / (b.timeYears - a.timeYears);
    return Math.exp(Math.log(a.forward) + u * (Math.log(b.forward) - Math.log(a.forward)));
  };
  const totalVariance = (k: number, T: number): number => {
    const i = locate(T);
    if (i < 0) return (w(0, k) * T) / slices[0].timeYears;
    if (i >= n - 1) return (w(n - 1, k) * T) / slices[n - 1].timeYears;
    const a = slices[i], b = slices[i + 1];
    const u = (T - a.timeYears) / (b.timeYears - a.timeYears);
    return w(i, k) + u * (w(i + 1, k) - w(i, k));
  };
  const years = (expiry: number): number => {
    const T = (expiry - now) / YEAR_MS;
    if (!(T > 0)) throw new RangeError(`surface: expiry ${expiry} is not after now ${now}`);
    return T;
  };
  const iv = (strike: number, expiry: number): number => {
    const T = years(expiry);
    const wk = totalVariance(Math.log(strike / forwardAt(T)), T);
    return Math.sqrt(Math.max(wk, 0) / T);
  };
  const quote = (strike: number, expiry: number, type: OptionType): Black76Result => {
    const T = years(expiry);
    return black76({
      forward: forwardAt(T),
      strike,
      timeYears: T,
      vol: iv(strike, expiry),
      rate,
      type,
    });
  };
  return {
    now,
    slices,
    forward: (expiry) => forwardAt(years(expiry)),
    totalVariance,
    iv,
    price: (strike, expiry, type) => quote(strike, expiry, type).price,
    quote,
    calendarArbitrage: (range = "quoted") => {
      const out: CalendarViolation[] = [];
      for (let i = 0; i + 1 < n; i++) {
        const a = quotedRange(slices[i].fit.kRange), b = quotedRange(slices[i + 1].fit.kRange);
        const lo = range === "wide" ? -2 : Math.max(a[0], b[0]);
        const hi = range === "wide" ? 2 : Math.min(a[1], b[1]);
        if (!(hi > lo)) continue;
        const steps = 60;
        for (let j = 0; j <= steps; j++) {
          const k = lo + ((hi - lo) * j) / steps;
          const shortfall = w(i, k) - w(i + 1, k);
          if (shortfall > 1e-12) {
            out.push({ expiry1: slices[i].expiry, expiry2: slices[i + 1].expiry, k, shortfall });
          }
        }
      }
      return out;
    },
  };
}

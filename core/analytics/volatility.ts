/**
 * Volatility: realized variance from a price series sampled on a fixed event-time grid, and the
 * Parkinson and Garman–Klass range estimators from candles. Everything is annualized with a
 * 365-day year (crypto trades 24/7).
 *
 * Realized variance (Andersen & Bollerslev 1998): `RV = Σ rᵢ²`, `rᵢ = ln(Pᵢ/Pᵢ₋₁)`, where `Pᵢ` is
 * the price at grid time `iΔ` (the last price at or before it, carried forward), over the returns
 * whose grid times fall in the window `(now − W, now]`; `σ_ann = sqrt(RV · Y / T)` with `Y` one year
 * and `T = n·Δ` the span of the n returns used (= W once the window is full).
 *
 * Sampling: grid times are the multiples of Δ since the epoch (event time); the sample at grid time
 * g is the last price with time ≤ g. The first sample is the first grid time at or after the first
 * price. A window's RV is the difference of two prefix sums of r² (pushed in grid order), so it does
 * not depend on when `value` is called; the prefix runs since creation/reset, so its relative
 * rounding error is about ε · (Σ r² since reset) / RV.
 * @module
 */
import type { KlineEvent } from "../events.ts";

/**
 * One year of 365 days, in ms (the annualization factor Y; crypto trades 24/7).
 *
 * @example
 * ```ts
 * import { YEAR_MS } from "./volatility.ts";
 *
 * const annualize = (variance: number, spanMs: number) => Math.sqrt(variance * YEAR_MS / spanMs);
 * ```
 */
export const YEAR_MS = 365 * 86_400_000;

/**
 * Sampling step used when none is given: 1 s.
 *
 * @example
 * ```ts
 * import { createRealizedVol, DEFAULT_SAMPLE_MS } from "./volatility.ts";
 *
 * const rv = createRealizedVol({ sampleMs: 5 * DEFAULT_SAMPLE_MS, windowsMs: [300_000] });
 * ```
 */
export const DEFAULT_SAMPLE_MS = 1_000;

/**
 * Rolling windows used when none are given: 60 s, 300 s, 3600 s.
 *
 * @example
 * ```ts
 * import { createRealizedVol, DEFAULT_VOL_WINDOWS_MS } from "./volatility.ts";
 *
 * const rv = createRealizedVol({ windowsMs: DEFAULT_VOL_WINDOWS_MS.slice(0, 2) });
 * ```
 */
export const DEFAULT_VOL_WINDOWS_MS: readonly number[] = [60_000, 300_000, 3_600_000];

/**
 * Realized volatility over one window.
 *
 * @example
 * ```ts
 * import type { VolWindow } from "./volatility.ts";
 *
 * const none: VolWindow = {
 *   windowMs: 60_000, from: 0, to: 60_000, returns: 0, samples: 0, spanMs: 0, complete: false,
 *   rv: null, sigmaAnn: null,
 * };
 * ```
 */
export interface VolWindow {
  /** Window length W, ms. */
  windowMs: number;
  /** Window start (exclusive), ms: `to − W`. */
  from: number;
  /** Window end (inclusive), ms. */
  to: number;
  /** Returns used, n (at most W/Δ). */
  returns: number;
  /** Grid prices those returns come from (n + 1, or 0/1 before the first return). */
  samples: number;
  /** Time the returns span, n·Δ ms (the T of the annualization). */
  spanMs: number;
  /** Whether the window holds its full W/Δ returns. */
  complete: boolean;
  /** Σ rᵢ² (a variance over `spanMs`); null with no return. */
  rv: number | null;
  /** sqrt(RV · Y / T); null with no return. */
  sigmaAnn: number | null;
}

/**
 * Realized volatility at one time.
 *
 * @example
 * ```ts
 * import { createRealizedVol } from "./volatility.ts";
 *
 * const v = createRealizedVol().value(0);
 * v.sampleMs; // 1000
 * ```
 */
export interface VolValue {
  /** Time of the value, ms (`now`, clamped so time never goes backwards). */
  time: number;
  /** True on the first value after {@link RealizedVol.reset}. */
  reset: boolean;
  /** Sampling step Δ, ms. */
  sampleMs: number;
  /** Grid time of the latest sample, ms; null before the first. */
  lastSample: number | null;
  /** One entry per window, in the order of `windowsMs`. */
  windows: readonly VolWindow[];
}

/**
 * Options of {@link createRealizedVol}.
 *
 * @example
 * ```ts
 * import type { RealizedVolOptions } from "./volatility.ts";
 *
 * const opts: RealizedVolOptions = { sampleMs: 5_000, windowsMs: [300_000] };
 * ```
 */
export interface RealizedVolOptions {
  /** Sampling step Δ in ms, a positive integer (default 1000). */
  sampleMs?: number;
  /** Window lengths in ms, positive multiples of Δ (default 60 s, 300 s, 3600 s). */
  windowsMs?: readonly number[];
}

/**
 * A realized-volatility accumulator for one price series.
 *
 * @example
 * ```ts
 * import { createRealizedVol } from "./volatility.ts";
 *
 * const rv = createRealizedVol({ sampleMs: 1_000, windowsMs: [60_000] });
 * rv.onPrice(100, 0);
 * rv.onPrice(101, 1_000);
 * rv.value(1_000).windows[0].rv; // ln(101/100)² ≈ 9.9e-5
 * ```
 */
export interface RealizedVol {
  /**
   * A new price at `time` (ms, event time): it is the series' value from `time` on. Prices must
   * come in time order (an older time counts as the latest); non-finite or non-positive prices are
   * ignored.
   */
  onPrice(price: number, time: number): void;
  /** The figures at `now` (ms); samples every grid time up to `now` first. */
  value(now: number): VolValue;
  /** Forgets all prices and samples (e.g. after a gap); the next value has `reset: true`. */
  reset(): void;
}

/**
 * Creates a realized-volatility accumulator: `RV = Σ ln(Pᵢ/Pᵢ₋₁)²` over prices sampled every Δ
 * (last value carried forward, grid times multiples of Δ since the epoch), `σ_ann =
 * sqrt(RV·Y/T)`, Y = 365 days, T = n·Δ (Andersen & Bollerslev 1998).
 *
 * O(1) amortized per price and per grid step: each window is a difference of two prefix sums of
 * r², so the figures depend only on the prices, not on when `value` is called; a gap longer than
 * the longest window costs O(W/Δ) once.
 *
 * @param options `sampleMs` Δ (default 1 s), `windowsMs` (default 60 s, 300 s, 3600 s).
 * @returns `{ onPrice, value, reset }`.
 * @throws RangeError when Δ is not a positive integer or a window is not a positive multiple of Δ.
 * @example
 * ```ts
 * import { createRealizedVol } from "./volatility.ts";
 *
 * const rv = createRealizedVol({ windowsMs: [60_000] });
 * for (let s = 0; s <= 60; s++) rv.onPrice(s % 2 === 0 ? 100 : 101, s * 1_000);
 * const w = rv.value(60_000).windows[0];
 * // 60 returns of ±ln(1.01): rv = 60·ln(1.01)², sigmaAnn = sqrt(rv · 365·86400 / 60)
 * ```
 */
export function createRealizedVol(options: RealizedVolOptions = {}): RealizedVol {
  const dt = options.sampleMs ?? DEFAULT_SAMPLE_MS;
  if (!Number.isInteger(dt) || dt <= 0) {
    throw new RangeError(`sampleMs must be a positive integer of ms, got ${dt}`);
  }
  const windowsMs = options.windowsMs ?? DEFAULT_VOL_WINDOWS_MS;
  const sizes = windowsMs.map((ms) => {
    if (!Number.isInteger(ms) || ms <= 0 || ms % dt !== 0) {
      throw new RangeError(`volatility window must be a positive multiple of ${dt} ms, got ${ms}`);
    }
    return ms / dt;
  });
  const maxN = sizes.reduce((a, b) => Math.max(a, b), 0);
  let cap = 1;
  while (cap < maxN + 1) cap *= 2;
  const mask = cap - 1;
  // prefix[k & mask] = Σ of the first k squared returns since reset, for the last maxN + 1 k.
  const prefix = new Float64Array(cap);

  let k = 0; // returns since reset
  let samples = 0; // grid samples since reset
  // Non-integer state in one object: its fields are updated in place (a closure's `let` of a
  // non-integer would be re-boxed on every write).
  const st = {
    total: 0, // prefix at k
    prevSample: NaN, // price at the latest grid sample
    last: NaN, // latest price
    lastTime: -Infinity,
    nextGrid: NaN, // next grid time to sample
    lastNow: -Infinity,
  };
  let resetPending = false;

  /** Takes the grid samples at times g < limit (or ≤ limit when inclusive) with the latest price. */
  function advance(limit: number, inclusive: boolean): void {
    if (Number.isNaN(st.last)) return;
    let pending = inclusive
      ? Math.floor((limit - st.nextGrid) / dt) + 1
      : Math.ceil((limit - st.nextGrid) / dt);
    if (!(pending > 0)) return;
    if (Number.isNaN(st.prevSample)) {
      st.prevSample = st.last; // the first sample: no return yet
      samples++;
      st.nextGrid += dt;
      pending--;
    } else {
      const r = Math.log(st.last / st.prevSample);
      st.prevSample = st.last;
      st.total += r * r;
      k++;
      prefix[k & mask] = st.total;
      samples++;
      st.nextGrid += dt;
      pending--;
    }
    // The rest sample the same price: returns of 0, the prefix stays; only the st.last cap matter.
    if (pending > 0) {
      const write = Math.min(pending, cap);
      for (let i = pending - write + 1; i <= pending; i++) prefix[(k + i) & mask] = st.total;
      k += pending;
      samples += pending;
      st.nextGrid += pending * dt;
    }
  }

  function onPrice(price: number, time: number): void {
    if (!(price > 0) || !Number.isFinite(price) || !Number.isFinite(time)) return;
    const t = time > st.lastTime ? time : st.lastTime;
    if (Number.isNaN(st.last)) {
      st.nextGrid = Math.ceil(t / dt) * dt;
      prefix[0] = 0;
    } else {
      advance(t, false);
    }
    st.last = price;
    st.lastTime = t;
  }

  function value(now: number): VolValue {
    let time = now;
    if (time < st.lastTime) time = st.lastTime;
    if (time < st.lastNow) time = st.lastNow;
    st.lastNow = time;
    advance(time, true);
    const windows = sizes.map((size, w): VolWindow => {
      const n = Math.min(k, size);
      const rv = n > 0 ? st.total - prefix[(k - n) & mask] : null;
      const spanMs = n * dt;
      return {
        windowMs: windowsMs[w],
        from: time - windowsMs[w],
        to: time,
        returns: n,
        samples: n > 0 ? n + 1 : Math.min(samples, 1),
        spanMs,
        complete: n === size,
        rv,
        sigmaAnn: rv === null ? null : Math.sqrt(rv * YEAR_MS / spanMs),
      };
    });
    const reset = resetPending;
    resetPending = false;
    return {
      time,
      reset,
      sampleMs: dt,
      lastSample: samples > 0 ? st.nextGrid - dt : null,
      windows,
    };
  }

  function reset(): void {
    k = 0;
    st.total = 0;
    samples = 0;
    st.prevSample = NaN;
    st.last = NaN;
    st.lastTime = -Infinity;
    st.nextGrid = NaN;
    prefix[0] = 0;
    resetPending = true;
  }

  return { onPrice, value, reset };
}

/**
 * The candle fields the range estimators read.
 *
 * @example
 * ```ts
 * import type { Bar } from "./volatility.ts";
 *
 * const bar: Bar = { open: 100, high: 102, low: 99, close: 101 };
 * ```
 */
export type Bar = Pick<KlineEvent, "open" | "high" | "low" | "close">;

/**
 * A range-based volatility estimate from candles.
 *
 * @example
 * ```ts
 * import { parkinson } from "./volatility.ts";
 *
 * const e = parkinson([{ open: 100, high: 101, low: 99, close: 100 }], 60_000);
 * e.bars; // 1
 * ```
 */
export interface RangeVolEstimate {
  /** Bars used (invalid bars are skipped: non-positive or non-finite prices, or O/C outside [L, H]). */
  bars: number;
  /** Bar length, ms. */
  barMs: number;
  /** Variance per bar σ²; null with no bar. */
  variance: number | null;
  /** σ per bar = sqrt(σ²); null with no bar. */
  sigma: number | null;
  /** sqrt(σ² · Y / barMs), Y = 365 days; null with no bar. */
  sigmaAnn: number | null;
}

function isValidBar(b: Bar): boolean {
  const { open, high, low, close } = b;
  return low > 0 && Number.isFinite(high) && high >= low && open >= low && open <= high &&
    close >= low && close <= high;
}

function estimate(
  bars: readonly Bar[],
  barMs: number,
  term: (b: Bar) => number,
): RangeVolEstimate {
  if (!Number.isFinite(barMs) || barMs <= 0) {
    throw new RangeError(`barMs must be a positive number of ms, got ${barMs}`);
  }
  let sum = 0;
  let n = 0;
  for (const b of bars) {
    if (!isValidBar(b)) continue;
    sum += term(b);
    n++;
  }
  if (n === 0) return { bars: 0, barMs, variance: null, sigma: null, sigmaAnn: null };
  const variance = Math.max(0, sum / n);
  return {
    bars: n,
    barMs,
    variance,
    sigma: Math.sqrt(variance),
    sigmaAnn: Math.sqrt(variance * YEAR_MS / barMs),
  };
}

const PARKINSON_K = 1 / (4 * Math.LN2);
const GK_K = 2 * Math.LN2 - 1;

/**
 * Parkinson range volatility (Parkinson, J. Business 53(1):61–65, 1980):
 * `σ² = (1/(4 ln 2)) · mean((ln H/L)²)` per bar; annualized `σ_ann = sqrt(σ² · Y / barMs)`.
 *
 * @param bars candles (open, high, low, close); invalid ones are skipped.
 * @param barMs the bar length in ms (e.g. 60 000 for 1-minute bars).
 * @returns the per-bar variance and σ, σ_ann, and the bars used; nulls with no valid bar.
 * @throws RangeError when barMs is not positive.
 * @example
 * ```ts
 * import { parkinson } from "./volatility.ts";
 *
 * const e = parkinson([{ open: 100, high: 102, low: 100, close: 101 }], 60_000);
 * // variance = ln(1.02)² / (4 ln 2)
 * ```
 */
export function parkinson(bars: readonly Bar[], barMs: number): RangeVolEstimate {
  return estimate(bars, barMs, (b) => {
    const hl = Math.log(b.high / b.low);
    return PARKINSON_K * hl * hl;
  });
}

/**
 * Garman–Klass volatility (Garman & Klass, J. Business 53(1):67–78, 1980):
 * `σ² = mean(0.5·(ln H/L)² − (2 ln 2 − 1)·(ln C/O)²)` per bar; annualized `sqrt(σ² · Y / barMs)`.
 *
 * @param bars candles (open, high, low, close); invalid ones are skipped.
 * @param barMs the bar length in ms.
 * @returns the per-bar variance and σ, σ_ann, and the bars used; nulls with no valid bar.
 * @throws RangeError when barMs is not positive.
 * @example
 * ```ts
 * import { garmanKlass } from "./volatility.ts";
 *
 * const e = garmanKlass([{ open: 100, high: 102, low: 100, close: 101 }], 60_000);
 * // variance = 0.5·ln(1.02)² − (2 ln 2 − 1)·ln(1.01)²
 * ```
 */
export function garmanKlass(bars: readonly Bar[], barMs: number): RangeVolEstimate {
  return estimate(bars, barMs, (b) => {
    const hl = Math.log(b.high / b.low);
    const co = Math.log(b.close / b.open);
    return 0.5 * hl * hl - GK_K * co * co;
  });
}

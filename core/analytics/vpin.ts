/**
 * VPIN, the volume-synchronized probability of informed trading (Easley, López de Prado & O'Hara,
 * "Flow toxicity and liquidity in a high-frequency world", RFS 25(5):1457–1493, 2012), over
 * equal-volume buckets, in two classifications published side by side:
 *
 * - `exact`: each trade's taker side (crypto trades carry the aggressor: `buy` = buyer-initiated);
 * - `bvc`: bulk volume classification per time bar, `V^B = V·Z(ΔP/σ_ΔP)`, `V^S = V − V^B`.
 *
 * Andersen & Bondarenko (CREATES RP 2013-43) found that BVC-VPIN's forecasting power comes from
 * its classification errors and that exactly classified VPIN behaves the other way: hence both.
 *
 * Time comes only from the trades' `eventTime`, so the same trades give identical values live,
 * in replay and from history.
 * @module
 */
import { normalCdf } from "./normal_cdf.ts";
import type { Trade } from "./types.ts";

/** Default number of buckets in the VPIN window (the paper's n = 50). */
export const DEFAULT_VPIN_BUCKETS = 50;
/** Default BVC time bar: one minute, as in the paper. */
export const DEFAULT_VPIN_BAR_MS = 60_000;
/** Default number of recent bar price changes the BVC σ_ΔP is estimated over. */
export const DEFAULT_VPIN_SIGMA_BARS = 50;
/** Relative tolerance under which a bucket counts as full (float sums of quantities). */
const FULL_TOLERANCE = 1e-12;
/** Relative variance under which σ_ΔP counts as 0 (all recent ΔP equal up to rounding). */
const SIGMA_TOLERANCE = 1e-12;

/**
 * Bucket volume from the recent daily volume: `V = dailyVolume / divisor` (the default,
 * 1/50 of a day's volume; Easley, López de Prado & O'Hara 2012 use 50 buckets per day).
 *
 * @param dailyVolume base volume traded over the recent day (e.g. the last 24 h)
 * @param divisor buckets per day, default 50
 * @returns the bucket volume, or `null` when either input is not a finite positive number
 * @example
 * ```ts
 * bucketVolumeFromDaily(25_000); // 500
 * bucketVolumeFromDaily(0); // null
 * ```
 */
export function bucketVolumeFromDaily(dailyVolume: number, divisor = 50): number | null {
  if (!(dailyVolume > 0) || !Number.isFinite(dailyVolume)) return null;
  if (!(divisor > 0) || !Number.isFinite(divisor)) return null;
  return dailyVolume / divisor;
}

/**
 * Options of {@link createVpin}.
 *
 * @example
 * ```ts
 * const options: VpinOptions = { bucketVolume: 500, buckets: 50, barMs: 60_000, sigmaBars: 50 };
 * ```
 */
export interface VpinOptions {
  /** Bucket size V in base units (see {@link bucketVolumeFromDaily}); finite, > 0. */
  bucketVolume: number;
  /** Window n: completed buckets VPIN is taken over; integer ≥ 1, default 50. */
  buckets?: number;
  /** BVC time bar length in ms (bars are `floor(eventTime / barMs)`); > 0, default 60 000. */
  barMs?: number;
  /** Recent bar price changes σ_ΔP is estimated over; integer ≥ 2, default 50. */
  sigmaBars?: number;
}

/**
 * One completed volume bucket, with both classifications final.
 *
 * @example
 * ```ts
 * const bucket: Bucket = {
 *   index: 0, startTime: 0, endTime: 90_000, volume: 10,
 *   buy: 8, sell: 2, bvcBuy: 5, bvcSell: 5, halfHalfVolume: 10,
 * };
 * ```
 */
export interface Bucket {
  /** Sequence number since creation or the last `reset()`, from 0. */
  index: number;
  /** `eventTime` of the first trade (part) in the bucket, ms. */
  startTime: number;
  /** `eventTime` of the trade (part) that filled the bucket, ms. */
  endTime: number;
  /** Volume in the bucket: V up to float rounding (relative 1e-12). */
  volume: number;
  /** Exact classification: buyer-initiated volume (taker side `buy`). */
  buy: number;
  /** Exact classification: seller-initiated volume (taker side `sell`). */
  sell: number;
  /** BVC: Σ over the bucket's bar parts of `V_i·Z(ΔP_i/σ_ΔP)`. */
  bvcBuy: number;
  /** BVC: `volume − bvcBuy`. */
  bvcSell: number;
  /** Part of the volume BVC classified half/half (first bar, fewer than 2 ΔP, or σ_ΔP = 0). */
  halfHalfVolume: number;
}

/**
 * VPIN in one classification over the completed buckets of the window.
 *
 * @example
 * ```ts
 * const figure: VpinFigure = {
 *   vpin: null, value: 0.6, partial: true, buckets: 1, volume: 10, imbalance: 6,
 *   firstBucket: 0, lastBucket: 0, fromTime: 0, toTime: 90_000, windowMs: 90_000,
 * };
 * ```
 */
export interface VpinFigure {
  /** `Σ_{τ=1..n} |V^S_τ − V^B_τ| / Σ_τ V_τ` over the last n buckets; `null` until n exist. */
  vpin: number | null;
  /** The same ratio over the buckets there are (≤ n); `null` before the first bucket. */
  value: number | null;
  /** `true` while fewer than n buckets exist: `value` then covers only `buckets`. */
  partial: boolean;
  /** Buckets covered (≤ n). */
  buckets: number;
  /** Σ V_τ over the buckets covered (the normalizer: n·V up to rounding when full). */
  volume: number;
  /** Σ |V^S_τ − V^B_τ| over the buckets covered. */
  imbalance: number;
  /** Index of the oldest bucket covered, `null` when none. */
  firstBucket: number | null;
  /** Index of the newest bucket covered, `null` when none. */
  lastBucket: number | null;
  /** Start time of the oldest bucket covered, ms; `null` when none. */
  fromTime: number | null;
  /** End time of the newest bucket covered, ms; `null` when none. */
  toTime: number | null;
  /** `toTime − fromTime`, ms; `null` when none. */
  windowMs: number | null;
}

/**
 * BVC VPIN: a {@link VpinFigure} plus what the classification still waits for.
 *
 * @example
 * ```ts
 * const bvc: BvcVpinFigure = {
 *   vpin: null, value: null, partial: true, buckets: 0, volume: 0, imbalance: 0,
 *   firstBucket: null, lastBucket: null, fromTime: null, toTime: null, windowMs: null,
 *   pendingBuckets: 1, sigma: null, sigmaSamples: 0,
 * };
 * ```
 */
export interface BvcVpinFigure extends VpinFigure {
  /** Filled buckets whose last bar is still open: BVC classifies them when that bar closes. */
  pendingBuckets: number;
  /** σ_ΔP used for the last closed bar; `null` before 2 bar price changes exist. */
  sigma: number | null;
  /** Bar price changes σ was estimated over (≤ sigmaBars). */
  sigmaSamples: number;
}

/**
 * The current VPIN, both classifications, and what they cover.
 *
 * @example
 * ```ts
 * const vpin = createVpin({ bucketVolume: 10 });
 * const value: VpinValue = vpin.value();
 * ```
 */
export interface VpinValue {
  /** VPIN with each trade classified by its taker side; a bucket counts as soon as it fills. */
  exact: VpinFigure;
  /** VPIN with bulk volume classification; a bucket counts once the bar that filled it closed. */
  bvc: BvcVpinFigure;
  /** Bucket size V. */
  bucketVolume: number;
  /** Window n (buckets). */
  n: number;
  /** BVC bar length, ms. */
  barMs: number;
  /** Bar price changes σ_ΔP is estimated over, at most. */
  sigmaBars: number;
  /** Buckets filled since creation or the last `reset()`. */
  bucketsFilled: number;
  /** Volume traded since creation or the last `reset()`. */
  tradedVolume: number;
  /** Volume of the filled buckets (= tradedVolume − openVolume, up to rounding). */
  bucketedVolume: number;
  /** Volume in the open (not yet full) bucket. */
  openVolume: number;
  /** `true` on the first value read after `reset()`. */
  reset: boolean;
}

/**
 * A running VPIN computation; see {@link createVpin}.
 *
 * @example
 * ```ts
 * const vpin: Vpin = createVpin({ bucketVolume: 10 });
 * vpin.onTrade({ price: 100, quantity: 4, side: "buy", eventTime: 0 });
 * ```
 */
export interface Vpin {
  /** Feeds one trade (ignored when quantity is not > 0 or a field is not finite). */
  onTrade(t: Trade): void;
  /** The current value; O(1). */
  value(): VpinValue;
  /** Forgets everything (buckets, bars, σ history); the next `value()` has `reset: true`. */
  reset(): void;
  /** The completed buckets with both classifications final, oldest first (at most n). */
  completed(): readonly Bucket[];
}

/** A filled bucket whose BVC classification may still wait for its last bar. */
interface Filled {
  index: number;
  startTime: number;
  endTime: number;
  volume: number;
  buy: number;
  sell: number;
  bvcBuy: number;
  halfHalf: number;
  /** Volume from the still-open bar, classified when that bar closes. */
  pending: number;
}

/** Last-n window of buckets with running sums of volume and |V^S − V^B|. */
interface Window<T extends { startTime: number; endTime: number; index: number }> {
  push(item: T, imbalance: number): void;
  figure(): VpinFigure;
  items(): T[];
  clear(): void;
}

function createWindow<T extends { startTime: number; endTime: number; index: number }>(
  n: number,
  volumeOf: (item: T) => number,
): Window<T> {
  const ring: (T | undefined)[] = new Array(n);
  const imbalances = new Float64Array(n);
  let head = 0; // next slot to write
  let count = 0;
  let sumVolume = 0;
  let sumImbalance = 0;
  let sinceExact = 0;

  function recompute(): void {
    // Exact sums once every n pushes: amortized O(1), no drift from add/subtract.
    sumVolume = 0;
    sumImbalance = 0;
    for (let i = 0; i < count; i++) {
      const slot = (head - count + i + n) % n;
      sumVolume += volumeOf(ring[slot]!);
      sumImbalance += imbalances[slot];
    }
    sinceExact = 0;
  }

  return {
    push(item, imbalance) {
      if (count === n) {
        const old = ring[head]!;
        sumVolume -= volumeOf(old);
        sumImbalance -= imbalances[head];
      } else {
        count++;
      }
      ring[head] = item;
      imbalances[head] = imbalance;
      sumVolume += volumeOf(item);
      sumImbalance += imbalance;
      head = (head + 1) % n;
      if (++sinceExact >= n) recompute();
    },
    figure() {
      if (count === 0) {
        return {
          vpin: null,
          value: null,
          partial: true,
          buckets: 0,
          volume: 0,
          imbalance: 0,
          firstBucket: null,
          lastBucket: null,
          fromTime: null,
          toTime: null,
          windowMs: null,
        };
      }
      const first = ring[(head - count + n) % n]!;
      const last = ring[(head - 1 + n) % n]!;
      // Normalized by the rolling volume sum, so in [0, 1] (clamped against rounding only).
      const value = sumVolume > 0 ? Math.min(1, Math.max(0, sumImbalance / sumVolume)) : null;
      return {
        vpin: count === n ? value : null,
        value,
        partial: count < n,
        buckets: count,
        volume: sumVolume,
        imbalance: sumImbalance,
        firstBucket: first.index,
        lastBucket: last.index,
        fromTime: first.startTime,
        toTime: last.endTime,
        windowMs: last.endTime - first.startTime,
      };
    },
    items() {
      const out: T[] = [];
      for (let i = 0; i < count; i++) out.push(ring[(head - count + i + n) % n]!);
      return out;
    },
    clear() {
      ring.fill(undefined);
      head = 0;
      count = 0;
      sumVolume = 0;
      sumImbalance = 0;
      sinceExact = 0;
    },
  };
}

/** Rolling sample standard deviation (ddof = 1) of the last `size` bar price changes. */
function createSigma(size: number) {
  const ring = new Float64Array(size);
  let head = 0;
  let count = 0;
  let sum = 0;
  let sumSq = 0;
  let sinceExact = 0;
  return {
    push(x: number): void {
      if (count === size) {
        const old = ring[head];
        sum -= old;
        sumSq -= old * old;
      } else {
        count++;
      }
      ring[head] = x;
      sum += x;
      sumSq += x * x;
      head = (head + 1) % size;
      if (++sinceExact >= size) {
        sum = 0;
        sumSq = 0;
        for (let i = 0; i < count; i++) {
          const v = ring[i];
          sum += v;
          sumSq += v * v;
        }
        sinceExact = 0;
      }
    },
    /** σ, 0 when all samples are equal (up to rounding), `null` with fewer than 2 samples. */
    value(): number | null {
      if (count < 2) return null;
      const variance = (sumSq - (sum * sum) / count) / (count - 1);
      if (!(variance > (sumSq / count) * SIGMA_TOLERANCE)) return 0;
      return Math.sqrt(variance);
    },
    count: () => count,
    clear(): void {
      head = 0;
      count = 0;
      sum = 0;
      sumSq = 0;
      sinceExact = 0;
    },
  };
}

function finalBucket(f: Filled): Bucket {
  return Object.freeze({
    index: f.index,
    startTime: f.startTime,
    endTime: f.endTime,
    volume: f.volume,
    buy: f.buy,
    sell: f.sell,
    bvcBuy: f.bvcBuy,
    bvcSell: f.volume - f.bvcBuy,
    halfHalfVolume: f.halfHalf,
  });
}

/**
 * Creates a running VPIN over equal-volume buckets of size V, window n:
 * `VPIN = Σ_{τ=1..n} |V^S_τ − V^B_τ| / Σ_{τ=1..n} V_τ` (= `/(n·V)` for full buckets; normalized by
 * the rolling volume sum so it stays in [0, 1], cf. hudson-and-thames/mlfinlab#225).
 * Source: Easley, López de Prado & O'Hara, RFS 25(5), 2012; BVC as in the same paper.
 *
 * - Buckets: trades fill the open bucket in arrival order; a trade larger than the room left is
 *   split across buckets, its volume (and so its classification) prorated.
 * - Exact: the trade's taker side. A bucket enters the window when it fills.
 * - BVC: per time bar `floor(eventTime / barMs)` (only bars with trades exist; a trade stamped
 *   earlier than the current bar counts in the current bar), `ΔP_i` = last price of bar i − last
 *   price of the previous bar, `σ_ΔP` = sample standard deviation (ddof 1) of the last
 *   `sigmaBars` ΔP including bar i, and each bar's volume in a bucket gets
 *   `V^B = V·Z(ΔP_i/σ_ΔP)`, `V^S = V − V^B`. The first bar (no ΔP), bars with fewer than 2 ΔP
 *   in the history and bars with σ_ΔP = 0 are classified half/half (`halfHalfVolume` says how
 *   much). A bar is classified when a trade of a later bar arrives, so a BVC bucket enters its
 *   window once the bar that filled it closed (`pendingBuckets` counts the waiting ones).
 * - Cost: O(1) amortized per trade and bounded memory (O(n + sigmaBars)); a single trade
 *   spanning more than n + 1 buckets skips the buckets that could never be in the window.
 *
 * @param options `bucketVolume` V (required), `buckets` n (50), `barMs` (60 000), `sigmaBars` (50)
 * @returns `{ onTrade, value, reset, completed }`
 * @throws RangeError when an option is out of range
 * @example
 * ```ts
 * const vpin = createVpin({ bucketVolume: 10, buckets: 3 });
 * vpin.onTrade({ price: 100, quantity: 7, side: "buy", eventTime: 0 });
 * vpin.onTrade({ price: 100, quantity: 5, side: "sell", eventTime: 1_000 }); // fills bucket 0
 * vpin.value().exact.value; // |3 − 7| / 10 = 0.4 (partial: 1 of 3 buckets)
 * ```
 */
export function createVpin(options: VpinOptions): Vpin {
  const V = options.bucketVolume;
  const n = options.buckets ?? DEFAULT_VPIN_BUCKETS;
  const barMs = options.barMs ?? DEFAULT_VPIN_BAR_MS;
  const sigmaBars = options.sigmaBars ?? DEFAULT_VPIN_SIGMA_BARS;
  if (!(V > 0) || !Number.isFinite(V)) throw new RangeError(`bucketVolume must be > 0: ${V}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`buckets must be an integer ≥ 1: ${n}`);
  if (!(barMs > 0) || !Number.isFinite(barMs)) throw new RangeError(`barMs must be > 0: ${barMs}`);
  if (!Number.isInteger(sigmaBars) || sigmaBars < 2) {
    throw new RangeError(`sigmaBars must be an integer ≥ 2: ${sigmaBars}`);
  }
  const tolerance = V * FULL_TOLERANCE;

  const exactWindow = createWindow<Filled>(n, (f) => f.volume);
  const bvcWindow = createWindow<Bucket>(n, (b) => b.volume);
  const sigma = createSigma(sigmaBars);

  // Open bucket.
  let openVolume = 0;
  let openBuy = 0;
  let openSell = 0;
  let openBvcBuy = 0; // from closed bars
  let openHalf = 0;
  let openPending = 0; // from the current bar
  let openStart = 0;
  // Bars.
  let bar: number | null = null;
  let barClose = 0;
  let prevClose: number | null = null;
  let lastSigma: number | null = null;
  /** Filled buckets waiting for the current bar to close (only the last n can matter). */
  let pending: Filled[] = [];
  /** Filled buckets waiting for the current bar (including ones skipped or trimmed above). */
  let pendingCount = 0;
  // Totals.
  let filled = 0;
  let tradedVolume = 0;
  let bucketedVolume = 0;
  let resetFlag = false;

  function closeBar(): void {
    let z = 0.5;
    let half = true;
    if (prevClose !== null) {
      const dp = barClose - prevClose;
      sigma.push(dp);
      const s = sigma.value();
      lastSigma = s;
      if (s !== null && s > 0) {
        z = normalCdf(dp / s);
        half = false;
      }
    }
    for (const f of pending) {
      f.bvcBuy += f.pending * z;
      if (half) f.halfHalf += f.pending;
      f.pending = 0;
      bvcWindow.push(finalBucket(f), Math.abs(f.volume - 2 * f.bvcBuy));
    }
    pending = [];
    pendingCount = 0;
    openBvcBuy += openPending * z;
    if (half) openHalf += openPending;
    openPending = 0;
    prevClose = barClose;
  }

  function completeBucket(time: number): void {
    const f: Filled = {
      index: filled++,
      startTime: openStart,
      endTime: time,
      volume: openVolume,
      buy: openBuy,
      sell: openSell,
      bvcBuy: openBvcBuy,
      halfHalf: openHalf,
      pending: openPending,
    };
    exactWindow.push(f, Math.abs(openSell - openBuy));
    bucketedVolume += openVolume;
    pending.push(f);
    pendingCount++;
    if (pending.length > 2 * n) pending = pending.slice(pending.length - n);
    openVolume = 0;
    openBuy = 0;
    openSell = 0;
    openBvcBuy = 0;
    openHalf = 0;
    openPending = 0;
  }

  function add(quantity: number, buy: boolean, time: number): void {
    if (openVolume === 0) openStart = time;
    openVolume += quantity;
    if (buy) openBuy += quantity;
    else openSell += quantity;
    openPending += quantity;
  }

  function clear(): void {
    exactWindow.clear();
    bvcWindow.clear();
    sigma.clear();
    openVolume =
      openBuy =
      openSell =
      openBvcBuy =
      openHalf =
      openPending =
      openStart =
        0;
    bar = null;
    barClose = 0;
    prevClose = null;
    lastSigma = null;
    pending = [];
    pendingCount = 0;
    filled = 0;
    tradedVolume = 0;
    bucketedVolume = 0;
  }

  return {
    onTrade(t) {
      const q = t.quantity;
      const time = t.eventTime;
      if (!(q > 0) || !Number.isFinite(q) || !Number.isFinite(t.price)) return;
      if (!Number.isFinite(time)) return;
      const b = Math.floor(time / barMs);
      if (bar === null) bar = b;
      else if (b > bar) {
        closeBar();
        bar = b;
      }
      barClose = t.price;
      tradedVolume += q;
      const buy = t.side === "buy";
      let rest = q;
      while (rest > 0) {
        const room = V - openVolume;
        if (rest < room - tolerance) {
          add(rest, buy, time);
          break;
        }
        const take = Math.min(rest, room);
        add(take, buy, time);
        rest -= take;
        completeBucket(time);
        if (rest >= V * (n + 1)) {
          // Whole buckets of this one trade that n later ones push out of both windows.
          const skip = Math.floor(rest / V) - n;
          filled += skip;
          pendingCount += skip;
          bucketedVolume += skip * V;
          rest -= skip * V;
        }
      }
    },
    value() {
      const reset = resetFlag;
      resetFlag = false;
      return {
        exact: exactWindow.figure(),
        bvc: {
          ...bvcWindow.figure(),
          pendingBuckets: pendingCount,
          sigma: lastSigma,
          sigmaSamples: sigma.count(),
        },
        bucketVolume: V,
        n,
        barMs,
        sigmaBars,
        bucketsFilled: filled,
        tradedVolume,
        bucketedVolume,
        openVolume,
        reset,
      };
    },
    reset() {
      clear();
      resetFlag = true;
    },
    completed() {
      return bvcWindow.items();
    },
  };
}

/**
 * Empirical CDF rank of a VPIN value among historical values: `#{h ∈ history : h ≤ value} / |history|`
 * (Easley, López de Prado & O'Hara 2012 read VPIN through its CDF, e.g. alerts above 0.9).
 * O(|history|); non-finite history entries are ignored.
 *
 * @param value the VPIN value to rank
 * @param history recorded VPIN values (any order)
 * @returns the fraction in [0, 1], or `null` when `value` is not finite or the history is empty
 * @example
 * ```ts
 * cdfRank(0.3, [0.1, 0.2, 0.3, 0.4]); // 0.75
 * cdfRank(0.3, []); // null
 * ```
 */
export function cdfRank(value: number, history: readonly number[]): number | null {
  if (!Number.isFinite(value)) return null;
  let total = 0;
  let below = 0;
  for (const h of history) {
    if (!Number.isFinite(h)) continue;
    total++;
    if (h <= value) below++;
  }
  return total === 0 ? null : below / total;
}

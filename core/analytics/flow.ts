/**
 * Trade flow over rolling event-time windows and since the UTC day start: VWAP, TWAP, trade count
 * and volume with their rates, and the buy/sell volume split by taker side.
 *
 * Definitions (per window):
 * - VWAP `= Σ pᵢqᵢ / Σ qᵢ` over the window's trades (the standard volume-weighted average price).
 * - TWAP `= Σ pₖ·dₖ / Σ dₖ`: the time-weighted average of the last trade price, each price weighted
 *   by how long `dₖ` it stood within the window. A price set by a trade before the window stands
 *   from the window start; the last price stands until `now`. With no earlier price the average
 *   starts at the window's first trade. (The sampled form `(1/N) Σ P(t₀ + kΔ)` tends to this as
 *   Δ → 0.)
 * - Rates: trades and volume per second of the window's length.
 * - Buy/sell volume: volume of trades whose taker was the buyer / the seller; buy share
 *   `= buy / (buy + sell)`.
 *
 * Rolling windows cover `(now − W, now]` by event time. The day window covers
 * `[dayStart, now]` where `dayStart` is 00:00:00.000 UTC of `now`: a trade at or after midnight
 * starts a new day and nothing from the previous day (volume, VWAP, TWAP's price) enters it.
 *
 * Cost: O(1) amortized per trade. All windows share one ring buffer of trades; each keeps running
 * sums, relative to a reference price of its own (so equal prices give that price exactly), that
 * trades are added to and evicted from only in {@link Flow.onTrade}, by the trade's time: the
 * sequence of floating-point operations depends only on the trades. {@link Flow.value} subtracts
 * the trades that aged out since the latest trade (accumulated in the same order whatever the calls,
 * and cached until the next trade), so the same trades give bit-identical figures live, in replay
 * and from history however often `value` is called. A window that empties restarts its sums at 0,
 * and each window recomputes its sums from its trades once per (4 × its size + 4096) evictions, so
 * rounding does not accumulate.
 * @module
 */
import type { Trade } from "./types.ts";

/**
 * Milliseconds in a UTC day; the day window starts at `floor(t / DAY_MS) · DAY_MS`.
 *
 * @example
 * ```ts
 * import { DAY_MS } from "./flow.ts";
 *
 * const dayStart = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
 * ```
 */
export const DAY_MS = 86_400_000;

/**
 * Rolling windows used when none are given: 1 s, 10 s, 60 s, 300 s.
 *
 * @example
 * ```ts
 * import { createFlow, DEFAULT_FLOW_WINDOWS_MS } from "./flow.ts";
 *
 * const flow = createFlow({ windowsMs: [...DEFAULT_FLOW_WINDOWS_MS, 3_600_000] });
 * ```
 */
export const DEFAULT_FLOW_WINDOWS_MS: readonly number[] = [1_000, 10_000, 60_000, 300_000];

/**
 * Trade-flow figures over one window. Quantities that need at least one trade (or non-zero
 * volume) are `null` when there is none; nothing is ever NaN or Infinity.
 *
 * @example
 * ```ts
 * import type { FlowStats } from "./flow.ts";
 *
 * const empty: FlowStats = {
 *   windowMs: 1_000, from: 0, to: 1_000, complete: false, trades: 0, volume: 0, buyVolume: 0,
 *   sellVolume: 0, buyShare: null, vwap: null, twap: null, tradeRate: 0, volumeRate: 0,
 * };
 * ```
 */
export interface FlowStats {
  /** Length of the window in ms (rolling: W; day: `now − dayStart`). */
  windowMs: number;
  /** Window start, ms (rolling: exclusive `now − W`; day: inclusive `dayStart`). */
  from: number;
  /** Window end, ms (inclusive): the `now` asked for, clamped to the latest trade time. */
  to: number;
  /** Whether trades were followed over the whole window (first trade since creation/reset ≤ from). */
  complete: boolean;
  /** Number of trades in the window. */
  trades: number;
  /** Σ q, = buyVolume + sellVolume. */
  volume: number;
  /** Σ q of trades whose taker bought. */
  buyVolume: number;
  /** Σ q of trades whose taker sold. */
  sellVolume: number;
  /** buyVolume / volume; null when volume is 0. */
  buyShare: number | null;
  /** Σ p·q / Σ q; null when volume is 0. */
  vwap: number | null;
  /** Time-weighted last trade price (see the module doc); null when no price applies. */
  twap: number | null;
  /** trades / (windowMs / 1000); null when windowMs is 0 (day window at exactly midnight). */
  tradeRate: number | null;
  /** volume / (windowMs / 1000); null when windowMs is 0. */
  volumeRate: number | null;
}

/**
 * The day window's figures, with the UTC day they cover.
 *
 * @example
 * ```ts
 * import type { FlowDayStats } from "./flow.ts";
 *
 * const isToday = (d: FlowDayStats, now: number) => d.dayStart === now - (now % 86_400_000);
 * ```
 */
export interface FlowDayStats extends FlowStats {
  /** 00:00:00.000 UTC of the day, ms since the epoch. */
  dayStart: number;
}

/**
 * All trade-flow figures at one time.
 *
 * @example
 * ```ts
 * import { createFlow } from "./flow.ts";
 *
 * const v = createFlow().value(1_700_000_000_000);
 * v.windows.map((w) => w.windowMs); // [1000, 10000, 60000, 300000]
 * ```
 */
export interface FlowValue {
  /** Time of the value, ms: `now`, clamped so time never goes backwards. */
  time: number;
  /** True on the first value after {@link Flow.reset}. */
  reset: boolean;
  /** One entry per rolling window, in the order of `windowsMs`. */
  windows: readonly FlowStats[];
  /** Since 00:00:00.000 UTC of `time`. */
  day: FlowDayStats;
}

/**
 * Options of {@link createFlow}.
 *
 * @example
 * ```ts
 * import type { FlowOptions } from "./flow.ts";
 *
 * const opts: FlowOptions = { windowsMs: [5_000, 60_000] };
 * ```
 */
export interface FlowOptions {
  /** Rolling window lengths in ms, positive integers (default {@link DEFAULT_FLOW_WINDOWS_MS}). */
  windowsMs?: readonly number[];
}

/**
 * A trade-flow accumulator for one symbol.
 *
 * @example
 * ```ts
 * import { createFlow } from "./flow.ts";
 *
 * const flow = createFlow();
 * flow.onTrade({ price: 100, quantity: 1, side: "buy", eventTime: 1_000 });
 * flow.value(1_500).windows[0].vwap; // 100
 * ```
 */
export interface Flow {
  /**
   * Adds a trade. Trades must come in event-time order; a trade older than the latest one is
   * counted at the latest time. Trades with a non-finite or non-positive price, or a non-finite
   * or negative quantity, are ignored.
   */
  onTrade(trade: Trade): void;
  /**
   * The figures at `now` (ms, event time). Time only moves forward: `now` is clamped to the
   * latest trade time and to the latest `now` asked for.
   */
  value(now: number): FlowValue;
  /** Forgets everything (e.g. after a gap in the trades); the next value has `reset: true`. */
  reset(): void;
}

/** Offsets of the running sums in {@link Win.s} and {@link Win.v}: value, then compensation. */
const DEV = 0; // Σ (p − ref)·q
const BUY = 2; // Σ q of taker buys
const SELL = 4; // Σ q of taker sells
const SEG = 6; // Σ (pᵢ − ref)·(tᵢ₊₁ − tᵢ) over consecutive trades of the window

/** `s[i] += x`, Neumaier-compensated (Neumaier 1974): the rounding error goes to `s[i + 1]`. */
function kadd(s: Float64Array, i: number, x: number): void {
  const a = s[i];
  const t = a + x;
  s[i + 1] += Math.abs(a) >= Math.abs(x) ? (a - t) + x : (x - t) + a;
  s[i] = t;
}

/** The compensated difference `s[i] − v[i]`. */
function kdiff(s: Float64Array, v: Float64Array, i: number): number {
  return (s[i] - v[i]) + (s[i + 1] - v[i + 1]);
}

/** One rolling window: trades [head, tail) of the ring, with running sums relative to `ref`. */
interface Win {
  ms: number;
  head: number;
  ref: number;
  /** Running sums of the window's trades (compensated; offsets DEV, BUY, SELL, SEG). */
  s: Float64Array;
  nBuy: number; // taker buys among the window's trades
  evicted: number; // evictions since the sums were last recomputed
  // What value() aged out since the latest trade: trades [head, vHead), valid while tail = vTail.
  vTail: number;
  vHead: number;
  v: Float64Array;
  vNBuy: number;
}

/**
 * Creates a trade-flow accumulator: VWAP `Σpq/Σq`, TWAP `Σ p·d / Σ d` (time-weighted last price),
 * counts, volumes, rates and taker buy/sell split over rolling windows and since the UTC day start.
 *
 * @param options `windowsMs`: rolling window lengths in ms (default 1 s, 10 s, 60 s, 300 s).
 * @returns `{ onTrade, value, reset }`; O(1) amortized per trade, memory bounded by the trades in
 *   the longest window.
 * @throws RangeError when a window length is not a positive integer.
 * @example
 * ```ts
 * import { createFlow } from "./flow.ts";
 *
 * const flow = createFlow({ windowsMs: [10_000] });
 * flow.onTrade({ price: 100, quantity: 1, side: "buy", eventTime: 0 });
 * flow.onTrade({ price: 102, quantity: 3, side: "sell", eventTime: 4_000 });
 * const w = flow.value(8_000).windows[0];
 * // w.vwap = (100·1 + 102·3) / 4 = 101.5; w.twap = (100·4 + 102·4) / 8 = 101
 * ```
 */
export function createFlow(options: FlowOptions = {}): Flow {
  const windowsMs = options.windowsMs ?? DEFAULT_FLOW_WINDOWS_MS;
  for (const ms of windowsMs) {
    if (!Number.isInteger(ms) || ms <= 0) {
      throw new RangeError(`flow window must be a positive integer of ms, got ${ms}`);
    }
  }
  const wins: Win[] = windowsMs.map((ms) => ({
    ms,
    head: 0,
    ref: 0,
    s: new Float64Array(8),
    nBuy: 0,
    evicted: 0,
    vTail: -1,
    vHead: 0,
    v: new Float64Array(8),
    vNBuy: 0,
  }));

  // Ring buffer of trades by absolute index i (slot i & mask).
  let cap = 1024;
  let mask = cap - 1;
  let tArr = new Float64Array(cap);
  let pArr = new Float64Array(cap);
  let qArr = new Float64Array(cap);
  let buyArr = new Uint8Array(cap);

  let first = 0; // index of the first trade since creation/reset
  let bufHead = 0; // oldest index kept in the ring
  let tail = 0; // next index
  // Scalar state in one object: its number fields are updated in place (a closure's `let` of a
  // non-integer would be re-boxed on every write).
  const st = {
    lastT: -Infinity,
    lastNow: -Infinity,
    firstTime: Infinity, // event time of the first trade since reset
    // The UTC day of the latest trade: running sums from its first trade, relative to its price.
    dayStart: -Infinity,
    dayFirstT: 0,
    dayCount: 0,
    dayRef: 0,
    dayDev: 0,
    dayBuy: 0,
    daySell: 0,
    daySeg: 0,
  };
  let resetPending = false;

  function grow(): void {
    const nCap = cap * 2;
    const nMask = nCap - 1;
    const t = new Float64Array(nCap);
    const p = new Float64Array(nCap);
    const q = new Float64Array(nCap);
    const b = new Uint8Array(nCap);
    for (let i = bufHead; i < tail; i++) {
      const o = i & mask;
      const n = i & nMask;
      t[n] = tArr[o];
      p[n] = pArr[o];
      q[n] = qArr[o];
      b[n] = buyArr[o];
    }
    tArr = t;
    pArr = p;
    qArr = q;
    buyArr = b;
    cap = nCap;
    mask = nMask;
  }

  /** Recomputes a window's sums from its trades, relative to its first trade's price. */
  function rebuild(w: Win): void {
    const ref = pArr[w.head & mask];
    const sums = w.s;
    sums.fill(0);
    let nBuy = 0;
    for (let i = w.head; i < tail; i++) {
      const k = i & mask;
      const q = qArr[k];
      kadd(sums, DEV, (pArr[k] - ref) * q);
      if (buyArr[k] === 1) {
        kadd(sums, BUY, q);
        nBuy++;
      } else kadd(sums, SELL, q);
      if (i + 1 < tail) kadd(sums, SEG, (pArr[k] - ref) * (tArr[(i + 1) & mask] - tArr[k]));
    }
    w.ref = ref;
    w.nBuy = nBuy;
    w.evicted = 0;
  }

  function onTrade(trade: Trade): void {
    const p = trade.price;
    const q = trade.quantity;
    if (!(p > 0) || !Number.isFinite(p) || !(q >= 0) || !Number.isFinite(q)) return;
    const t = trade.eventTime > st.lastT ? trade.eventTime : st.lastT;
    if (!Number.isFinite(t)) return;
    const isBuy = trade.side === "buy";
    if (tail === first) st.firstTime = t;
    const prevK = (tail - 1) & mask;
    // Add to every window.
    for (let i = 0; i < wins.length; i++) {
      const w = wins[i];
      if (w.head === tail) {
        w.ref = p;
        w.nBuy = 0;
        w.s.fill(0);
      } else {
        kadd(w.s, SEG, (pArr[prevK] - w.ref) * (t - tArr[prevK]));
      }
      kadd(w.s, DEV, (p - w.ref) * q);
      if (isBuy) {
        kadd(w.s, BUY, q);
        w.nBuy++;
      } else kadd(w.s, SELL, q);
    }
    // The day: a trade at or after 00:00:00.000 UTC starts a new one.
    const day = Math.floor(t / DAY_MS) * DAY_MS;
    if (day !== st.dayStart) {
      st.dayStart = day;
      st.dayFirstT = t;
      st.dayCount = 0;
      st.dayRef = p;
      st.dayDev =
        st.dayBuy =
        st.daySell =
        st.daySeg =
          0;
    } else {
      st.daySeg += (pArr[prevK] - st.dayRef) * (t - tArr[prevK]);
    }
    st.dayCount++;
    st.dayDev += (p - st.dayRef) * q;
    if (isBuy) st.dayBuy += q;
    else st.daySell += q;
    // Store.
    if (tail - bufHead === cap) grow();
    const k = tail & mask;
    tArr[k] = t;
    pArr[k] = p;
    qArr[k] = q;
    buyArr[k] = isBuy ? 1 : 0;
    tail++;
    st.lastT = t;
    // Evict, by this trade's time only, what left each window (this trade itself stays).
    let keep = tail - 1;
    for (let i = 0; i < wins.length; i++) {
      const w = wins[i];
      const start = t - w.ms;
      let h = w.head;
      while (tArr[h & mask] <= start) {
        const hk = h & mask;
        const hq = qArr[hk];
        const hp = pArr[hk] - w.ref;
        kadd(w.s, DEV, -hp * hq);
        if (buyArr[hk] === 1) {
          kadd(w.s, BUY, -hq);
          w.nBuy--;
        } else kadd(w.s, SELL, -hq);
        kadd(w.s, SEG, -hp * (tArr[(h + 1) & mask] - tArr[hk]));
        h++;
        w.evicted++;
      }
      w.head = h;
      if (h === tail - 1 && w.evicted > 0) rebuild(w); // one trade left: exact sums
      else if (w.evicted > 4 * (tail - h) + 4096) rebuild(w);
      if (h - 1 < keep) keep = h - 1;
    }
    // Keep one trade before each window's head: its price is the window's carried price.
    bufHead = Math.max(bufHead, keep, first);
  }

  /**
   * Figures of the trades [head, tail) over [from, to] (`from` exclusive for rolling windows),
   * from their sums relative to `ref`; `headT` is the first trade's time and `carried` the price
   * set before the window (NaN when none applies).
   */
  function stats(
    trades: number,
    ref: number,
    dev: number,
    buyVolume: number,
    sellVolume: number,
    seg: number,
    headT: number,
    carried: number,
    from: number,
    to: number,
    lengthMs: number,
    complete: boolean,
  ): FlowStats {
    let vwap: number | null = null;
    let twap: number | null = null;
    const volume = buyVolume + sellVolume;
    if (trades > 0) {
      if (volume > 0) vwap = ref + dev / volume;
      const lastK = (tail - 1) & mask;
      let num = seg + (pArr[lastK] - ref) * (to - tArr[lastK]);
      let start = headT;
      if (!Number.isNaN(carried)) {
        num += (carried - ref) * (headT - from);
        start = from;
      }
      const dur = to - start;
      twap = dur > 0 ? ref + num / dur : pArr[lastK]; // zero length: the price standing at `to`
    } else if (!Number.isNaN(carried)) {
      twap = carried; // no trade in the window: the earlier price stood throughout
    }
    const seconds = lengthMs / 1000;
    return {
      windowMs: lengthMs,
      from,
      to,
      complete,
      trades,
      volume,
      buyVolume,
      sellVolume,
      buyShare: volume > 0 ? buyVolume / volume : null,
      vwap,
      twap,
      tradeRate: seconds > 0 ? trades / seconds : null,
      volumeRate: seconds > 0 ? volume / seconds : null,
    };
  }

  function windowStats(w: Win, time: number): FlowStats {
    const from = time - w.ms;
    // Age out, without touching the running sums, the trades at or before `from`.
    if (w.vTail !== tail) {
      w.vTail = tail;
      w.vHead = w.head;
      w.v.fill(0);
      w.vNBuy = 0;
    }
    let h = w.vHead;
    while (h < tail && tArr[h & mask] <= from) {
      const hk = h & mask;
      const hq = qArr[hk];
      const hp = pArr[hk] - w.ref;
      kadd(w.v, DEV, hp * hq);
      if (buyArr[hk] === 1) {
        kadd(w.v, BUY, hq);
        w.vNBuy++;
      } else kadd(w.v, SELL, hq);
      if (h + 1 < tail) kadd(w.v, SEG, hp * (tArr[(h + 1) & mask] - tArr[hk]));
      h++;
    }
    w.vHead = h;
    const carried = h > first ? pArr[(h - 1) & mask] : NaN;
    const complete = st.firstTime <= from;
    if (h === tail) return stats(0, 0, 0, 0, 0, 0, 0, carried, from, time, w.ms, complete);
    // (x − 0 is x exactly.) A side with no trade left has volume exactly 0, never a residue.
    const n = tail - h;
    const buys = w.nBuy - w.vNBuy;
    return stats(
      n,
      w.ref,
      kdiff(w.s, w.v, DEV),
      buys === 0 ? 0 : Math.max(0, kdiff(w.s, w.v, BUY)),
      buys === n ? 0 : Math.max(0, kdiff(w.s, w.v, SELL)),
      kdiff(w.s, w.v, SEG),
      tArr[h & mask],
      carried,
      from,
      time,
      w.ms,
      complete,
    );
  }

  function value(now: number): FlowValue {
    let time = now;
    if (time < st.lastT) time = st.lastT;
    if (time < st.lastNow) time = st.lastNow;
    st.lastNow = time;
    const windows = wins.map((w) => windowStats(w, time));
    const today = Math.floor(time / DAY_MS) * DAY_MS;
    const complete = st.firstTime <= today;
    const dayStats = today === st.dayStart
      ? stats(
        st.dayCount,
        st.dayRef,
        st.dayDev,
        st.dayBuy,
        st.daySell,
        st.daySeg,
        st.dayFirstT,
        NaN,
        today,
        time,
        time - today,
        complete,
      )
      : stats(0, 0, 0, 0, 0, 0, 0, NaN, today, time, time - today, complete); // no trade yet today
    const day: FlowDayStats = { ...dayStats, dayStart: today };
    const reset = resetPending;
    resetPending = false;
    return { time, reset, windows, day };
  }

  function reset(): void {
    first = bufHead = tail;
    for (const w of wins) {
      w.head = tail;
      w.nBuy = 0;
      w.s.fill(0);
      w.evicted = 0;
      w.vTail = -1;
    }
    st.lastT = -Infinity;
    st.firstTime = Infinity;
    st.dayStart = -Infinity;
    st.dayCount = 0;
    resetPending = true;
  }

  return { onTrade, value, reset };
}

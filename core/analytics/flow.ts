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
 * Cost: O(1) amortized per trade. Each window is a pair of indices into one ring buffer of trades
 * holding prefix sums (pushed in event order, never re-added), so every figure is a difference of
 * two prefix sums and does not depend on when or how often {@link Flow.value} is called: the same
 * trades give bit-identical figures live, in replay and from history. The prefix sums restart at
 * each UTC midnight, so their magnitude stays that of one day.
 * @module
 */
import type { Trade } from "./types.ts";

/** Milliseconds in a UTC day. */
export const DAY_MS = 86_400_000;

/** Rolling windows used when none are given: 1 s, 10 s, 60 s, 300 s. */
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

/** One rolling window: indices into the ring buffer, [head, tail). */
interface Win {
  ms: number;
  head: number;
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
  const wins: Win[] = windowsMs.map((ms) => ({ ms, head: 0 }));
  let longest: Win | undefined;
  for (const w of wins) if (longest === undefined || w.ms > longest.ms) longest = w;

  // Ring buffer of trades by absolute index i (slot i & mask). For trade i:
  // time, price, and prefix sums of the trades before it (B·ᵢ = Σ_{j<i}).
  let cap = 1024;
  let mask = cap - 1;
  let tArr = new Float64Array(cap);
  let pArr = new Float64Array(cap);
  let devArr = new Float64Array(cap); // Σ (p − ref)·q
  let buyArr = new Float64Array(cap); // Σ q, taker buy
  let sellArr = new Float64Array(cap); // Σ q, taker sell
  let segArr = new Float64Array(cap); // Σ (p_j − ref)·(t_{j+1} − t_j) over segments closed before i

  // Running totals (prefix sums over all trades pushed since the last day rebase).
  let totDev = 0;
  let totBuy = 0;
  let totSell = 0;
  let totSeg = 0;

  let first = 0; // index of the first trade since creation/reset
  let bufHead = 0; // oldest index kept in the ring
  let tail = 0; // next index
  let ref = 0; // reference price (first trade since reset): sums hold p − ref for precision
  let lastT = -Infinity;
  let lastNow = -Infinity;
  let firstTime = Infinity; // event time of the first trade since reset
  let dayStart = -Infinity; // UTC day of the latest trade
  let dayFirst = 0; // index of the day's first trade
  let dayFirstT = 0; // its time
  let resetPending = false;

  function grow(): void {
    const nCap = cap * 2;
    const nMask = nCap - 1;
    const arrays = [tArr, pArr, devArr, buyArr, sellArr, segArr].map((old) => {
      const next = new Float64Array(nCap);
      for (let i = bufHead; i < tail; i++) next[i & nMask] = old[i & mask];
      return next;
    });
    [tArr, pArr, devArr, buyArr, sellArr, segArr] = arrays;
    cap = nCap;
    mask = nMask;
  }

  /** Moves each window's head past trades at or before `now − W`; trims the ring. */
  function evict(now: number): void {
    for (const w of wins) {
      const start = now - w.ms;
      let h = w.head;
      while (h < tail && tArr[h & mask] <= start) h++;
      w.head = h;
    }
    // Keep one trade before the longest window's head: its price is the window's carried price.
    if (longest !== undefined) bufHead = Math.max(bufHead, longest.head - 1, first);
    else bufHead = Math.max(tail - 1, first);
  }

  function onTrade(trade: Trade): void {
    const p = trade.price;
    const q = trade.quantity;
    if (!(p > 0) || !Number.isFinite(p) || !(q >= 0) || !Number.isFinite(q)) return;
    const t = trade.eventTime > lastT ? trade.eventTime : lastT;
    if (!Number.isFinite(t)) return;
    if (tail === first) {
      ref = p;
      firstTime = t;
    } else {
      const k = (tail - 1) & mask; // close the previous price's segment
      totSeg += (pArr[k] - ref) * (t - tArr[k]);
    }
    const day = Math.floor(t / DAY_MS) * DAY_MS;
    if (day !== dayStart) {
      // New UTC day: restart the prefix sums at 0 so they stay of one day's magnitude.
      for (let i = bufHead; i < tail; i++) {
        const k = i & mask;
        devArr[k] -= totDev;
        buyArr[k] -= totBuy;
        sellArr[k] -= totSell;
        segArr[k] -= totSeg;
      }
      totDev =
        totBuy =
        totSell =
        totSeg =
          0;
      dayStart = day;
      dayFirst = tail;
      dayFirstT = t;
    }
    if (tail - bufHead === cap) grow();
    const k = tail & mask;
    tArr[k] = t;
    pArr[k] = p;
    devArr[k] = totDev;
    buyArr[k] = totBuy;
    sellArr[k] = totSell;
    segArr[k] = totSeg;
    totDev += (p - ref) * q;
    if (trade.side === "buy") totBuy += q;
    else totSell += q;
    tail++;
    lastT = t;
    evict(t);
  }

  /**
   * Figures of the trades [head, tail) over [from, to] (`from` exclusive for rolling windows).
   * `base*` are the prefix sums before trade `head`, `headT` its time; `carried` is the price set
   * before the window (NaN when none applies).
   */
  function stats(
    head: number,
    baseDev: number,
    baseBuy: number,
    baseSell: number,
    baseSeg: number,
    headT: number,
    carried: number,
    from: number,
    to: number,
    lengthMs: number,
    complete: boolean,
  ): FlowStats {
    const trades = tail - head;
    let buyVolume = 0;
    let sellVolume = 0;
    let vwap: number | null = null;
    let twap: number | null = null;
    if (trades > 0) {
      buyVolume = totBuy - baseBuy;
      sellVolume = totSell - baseSell;
      const volume = buyVolume + sellVolume;
      if (volume > 0) vwap = ref + (totDev - baseDev) / volume;
      const lastK = (tail - 1) & mask;
      let num = (totSeg - baseSeg) + (pArr[lastK] - ref) * (to - tArr[lastK]);
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
    const volume = buyVolume + sellVolume;
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
    const h = w.head;
    const k = h & mask;
    const inRing = h < tail;
    const from = time - w.ms;
    return stats(
      h,
      inRing ? devArr[k] : totDev,
      inRing ? buyArr[k] : totBuy,
      inRing ? sellArr[k] : totSell,
      inRing ? segArr[k] : totSeg,
      inRing ? tArr[k] : time,
      h > first ? pArr[(h - 1) & mask] : NaN,
      from,
      time,
      w.ms,
      firstTime <= from,
    );
  }

  function value(now: number): FlowValue {
    let time = now;
    if (time < lastT) time = lastT;
    if (time < lastNow) time = lastNow;
    lastNow = time;
    evict(time);
    const windows = wins.map((w) => windowStats(w, time));
    const today = Math.floor(time / DAY_MS) * DAY_MS;
    // The day's prefix sums restarted at 0 with its first trade; no trade yet today: empty.
    const dayHead = today === dayStart ? dayFirst : tail;
    const day: FlowDayStats = {
      ...stats(dayHead, 0, 0, 0, 0, dayFirstT, NaN, today, time, time - today, firstTime <= today),
      dayStart: today,
    };
    const reset = resetPending;
    resetPending = false;
    return { time, reset, windows, day };
  }

  function reset(): void {
    first = bufHead = tail;
    for (const w of wins) w.head = tail;
    totDev =
      totBuy =
      totSell =
      totSeg =
        0;
    ref = 0;
    lastT = -Infinity;
    firstTime = Infinity;
    dayStart = -Infinity;
    dayFirst = tail;
    resetPending = true;
  }

  return { onTrade, value, reset };
}

/**
 * Static figures of one book top: mid, spread, weighted mid (first-order microprice), book
 * imbalance over the top 1/5/10 levels, and depth within ±x bps of the mid.
 * @module
 */
import type { Level } from "../events.ts";
import type { BookTop } from "./types.ts";

/** Default depth bands of {@link bookMetrics}, bps around the mid. */
export const DEFAULT_DEPTH_BPS: readonly number[] = [10, 50];

/** Options of {@link bookMetrics}. */
export interface BookMetricsOptions {
  /** Depth bands, bps around the mid, each ≥ 0 (default 10 and 50). */
  depthBps?: readonly number[];
}

/** Quantity resting within ±`bps` of the mid. */
export interface DepthBand {
  /** Band half-width, bps of the mid. */
  bps: number;
  /** Σ bid quantity with price ≥ M·(1 − bps/10⁴), over the levels given; null without mid. */
  bid: number | null;
  /** Σ ask quantity with price ≤ M·(1 + bps/10⁴), over the levels given; null without mid. */
  ask: number | null;
}

/** Book imbalance figures. */
export interface BookImbalance {
  /** Signed ρ_1 = (qb_1−qa_1)/(qb_1+qa_1) ∈ [−1, 1]; null for an empty side or zero size. */
  l1: number | null;
  /** Signed ρ_5 = Σ_{i≤5}(qb_i−qa_i)/Σ_{i≤5}(qb_i+qa_i) over the levels present. */
  l5: number | null;
  /** Signed ρ_10 over the top 10 levels present. */
  l10: number | null;
  /** Unsigned I = qb_1/(qb_1+qa_1) ∈ [0, 1] (= (1 + ρ_1)/2). */
  unsignedL1: number | null;
}

/** What {@link bookMetrics} returns; every price figure is null when a side is empty. */
export interface BookMetrics {
  /** Event time of the book top, ms. */
  time: number;
  /** Levels present per side (what the depth and ρ_k figures cover). */
  bidLevels: number;
  /** Ask levels present. */
  askLevels: number;
  /** M = (Pb + Pa)/2. */
  mid: number | null;
  /** S = Pa − Pb (negative when the book is crossed). */
  spread: number | null;
  /** S / M · 10⁴; null when M ≤ 0. */
  spreadBps: number | null;
  /** P_w = I·Pa + (1−I)·Pb (Stoikov 2018, first order); null when qb+qa = 0. */
  weightedMid: number | null;
  /** Book imbalance over 1, 5 and 10 levels. */
  imbalance: BookImbalance;
  /** Quantity within each band, in the order of `depthBps`. */
  depth: DepthBand[];
}

/** ρ_k over the first k levels of each side (those present); null when Σ(qb+qa) = 0. */
function rho(bids: readonly Level[], asks: readonly Level[], k: number): number | null {
  let diff = 0;
  let total = 0;
  const nb = Math.min(k, bids.length);
  const na = Math.min(k, asks.length);
  for (let i = 0; i < nb; i++) {
    diff += bids[i][1];
    total += bids[i][1];
  }
  for (let i = 0; i < na; i++) {
    diff -= asks[i][1];
    total += asks[i][1];
  }
  if (!(total > 0)) return null;
  const r = diff / total;
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

/**
 * Mid, spread, weighted mid, book imbalance (top 1, 5, 10 levels) and depth within ±x bps of
 * one book top.
 *
 * `M = (Pb+Pa)/2`, `S = Pa−Pb`, `I = qb/(qb+qa)`, `P_w = I·Pa + (1−I)·Pb` (weighted mid, the
 * first-order microprice of Stoikov, Quantitative Finance 18(12), 2018),
 * `ρ_k = Σ_{i≤k}(qb_i−qa_i) / Σ_{i≤k}(qb_i+qa_i)` (book imbalance, e.g. Cartea, Jaimungal &
 * Penalva 2015), depth = Σ q of the levels within ±x bps of M (inclusive).
 *
 * Guards: an empty side gives null for every figure (mid, spread, weighted mid, imbalance,
 * depth); a zero total size gives null instead of NaN; P_w is clamped into [Pb, Pa] against
 * rounding, ρ into [−1, 1]. Levels beyond those given are not seen (depth covers the top given).
 * Cost: O(levels given + bands × levels), one small allocation for the result.
 *
 * @param top the book top (bids best first, asks best first).
 * @param options `depthBps`: band half-widths in bps (default 10 and 50).
 * @returns the {@link BookMetrics}.
 * @example
 * ```ts
 * import { bookMetrics } from "./book_metrics.ts";
 *
 * const m = bookMetrics({ bids: [[100, 3]], asks: [[101, 1]], time: 0 });
 * m.mid; // 100.5
 * m.weightedMid; // 0.75·101 + 0.25·100 = 100.75
 * m.imbalance.l1; // (3 − 1)/(3 + 1) = 0.5
 * ```
 */
export function bookMetrics(top: BookTop, options: BookMetricsOptions = {}): BookMetrics {
  const bps = options.depthBps ?? DEFAULT_DEPTH_BPS;
  const { bids, asks } = top;
  const bestBid = bids[0];
  const bestAsk = asks[0];
  if (bestBid === undefined || bestAsk === undefined) {
    return {
      time: top.time,
      bidLevels: bids.length,
      askLevels: asks.length,
      mid: null,
      spread: null,
      spreadBps: null,
      weightedMid: null,
      imbalance: { l1: null, l5: null, l10: null, unsignedL1: null },
      depth: bps.map((x) => ({ bps: x, bid: null, ask: null })),
    };
  }
  const [pb, qb] = bestBid;
  const [pa, qa] = bestAsk;
  const mid = (pb + pa) / 2;
  const spread = pa - pb;
  const size = qb + qa;
  let unsignedL1: number | null = null;
  let weightedMid: number | null = null;
  if (size > 0) {
    const i = qb / size;
    unsignedL1 = i > 1 ? 1 : i < 0 ? 0 : i;
    const lo = pb < pa ? pb : pa;
    const hi = pb < pa ? pa : pb;
    const w = unsignedL1 * pa + (1 - unsignedL1) * pb;
    weightedMid = w < lo ? lo : w > hi ? hi : w;
  }
  const depth: DepthBand[] = [];
  for (const x of bps) {
    const half = mid * x / 10_000;
    const bidFloor = mid - half;
    const askCeiling = mid + half;
    let bid = 0;
    for (let i = 0; i < bids.length && bids[i][0] >= bidFloor; i++) bid += bids[i][1];
    let ask = 0;
    for (let i = 0; i < asks.length && asks[i][0] <= askCeiling; i++) ask += asks[i][1];
    depth.push({ bps: x, bid, ask });
  }
  return {
    time: top.time,
    bidLevels: bids.length,
    askLevels: asks.length,
    mid,
    spread,
    spreadBps: mid > 0 ? spread / mid * 10_000 : null,
    weightedMid,
    imbalance: {
      l1: rho(bids, asks, 1),
      l5: rho(bids, asks, 5),
      l10: rho(bids, asks, 10),
      unsignedL1,
    },
    depth,
  };
}

/**
 * Order-flow imbalance (OFI) from every best-level change, summed over rolling event-time
 * windows, normalized by the average depth, and its multi-level variant over the top N levels.
 *
 * Per book update n and level m (m = 1 is the best level), Cont, Kukanov & Stoikov (2014), Xu,
 * Gould & Howison (2018):
 * `e_n = 1{Pb_n ≥ Pb_{n−1}}·qb_n − 1{Pb_n ≤ Pb_{n−1}}·qb_{n−1} − 1{Pa_n ≤ Pa_{n−1}}·qa_n + 1{Pa_n ≥ Pa_{n−1}}·qa_{n−1}`.
 *
 * A level a side does not have (an empty side, or a book shallower than m) counts as price −∞
 * (bids) / +∞ (asks) with quantity 0: a bid level that vanishes contributes `−qb_{n−1}`, one that
 * appears `+qb_n`; an ask level that vanishes `+qa_{n−1}`, one that appears `−qa_n`.
 * @module
 */
import type { BookTop } from "./types.ts";

/** Default rolling windows of {@link createOfi}, ms. */
export const DEFAULT_OFI_WINDOWS_MS: readonly number[] = [1_000, 10_000, 60_000];
/** Default number of levels of the multi-level OFI of {@link createOfi}. */
export const DEFAULT_OFI_LEVELS = 5;

/** Options of {@link createOfi}. */
export interface OfiOptions {
  /** Rolling windows by event time, ms, each > 0 (default 1 s, 10 s, 60 s). */
  windowsMs?: readonly number[];
  /** Levels N of the multi-level OFI, an integer ≥ 1 (default 5). Level 1 is the classic OFI. */
  levels?: number;
}

/** OFI over one rolling window `(now − ms, now]`. */
export interface OfiWindow {
  /** Window length, ms. */
  ms: number;
  /** Σ e_n of level 1 (best bid/ask) over the window (Cont, Kukanov & Stoikov 2014). */
  ofi: number;
  /**
   * `ofi / D̄`, D̄ = mean over the window's updates of the level-1 depth `(qb_n + qa_n)/2`;
   * `null` when the window has no update or D̄ = 0.
   */
  normalized: number | null;
  /** D̄, the average level-1 depth `(qb+qa)/2` over the window's updates; `null` without update. */
  depth: number | null;
  /** Number of updates (e_n values) in the window. */
  updates: number;
  /** Σ e_n per level m = 1..N over the window, best level first (Xu, Gould & Howison 2018). */
  levels: number[];
  /** Σ over the levels of `levels` (the multi-level total). */
  multiLevel: number;
}

/** What {@link Ofi.value} returns. */
export interface OfiValue {
  /** True on the first value after {@link Ofi.reset} (a book resync), false otherwise. */
  reset: boolean;
  /** Number of levels N of the multi-level variant. */
  levels: number;
  /** Event time of the last book update seen (ms), or `null` if none since creation/reset. */
  lastTime: number | null;
  /** One entry per configured window, in the configured order. */
  windows: OfiWindow[];
}

/** The OFI accumulator returned by {@link createOfi}. */
export interface Ofi {
  /** Feeds the top of the book after one update (time = its event time, ms). */
  onBook(top: BookTop): void;
  /** The windows ending at `now` (ms, event time; normally ≥ the last update's time). */
  value(now: number): OfiValue;
  /** Forgets everything (book resync after a gap); the next `value` has `reset: true`. */
  reset(): void;
}

/** Per-window running state: committed sums plus a cached look-ahead eviction for `value`. */
interface WindowState {
  ms: number;
  /** Absolute index of the oldest event still in the window. */
  head: number;
  sums: Float64Array;
  depthSum: number;
  /** Look-ahead cache: the committed state with events up to `vCut` (inclusive) removed. */
  vValid: boolean;
  vCut: number;
  vHead: number;
  vSums: Float64Array;
  vDepthSum: number;
}

/**
 * Creates a rolling order-flow-imbalance accumulator (Cont, Kukanov & Stoikov, J. Financial
 * Econometrics 12(1), 2014; multi-level: Xu, Gould & Howison, arXiv:1907.06230, 2018).
 *
 * `OFI_w(now) = Σ_{n: t_n ∈ (now−w, now]} e_n`; `normalized = OFI_w / mean((qb_n+qa_n)/2)`.
 * The first update after creation or `reset()` only sets the previous state (no e_n).
 *
 * Cost: O(N) per `onBook`, no allocation; windows evict by event time from one shared ring
 * buffer with running sums (O(1) amortized per event). Memory: N+2 numbers per update of the
 * longest window (the ring doubles when full, never shrinks). Times that go backwards are
 * clamped to the last time seen. Results depend only on the events and `now`, never on when or
 * how often `value` is called: `onBook` alone commits evictions, `value` looks ahead on a cached
 * copy, so live, replay and history give identical numbers. An empty window gives ofi 0 and
 * `normalized: null` (no division by zero).
 *
 * @param options `windowsMs` (default 1 000, 10 000, 60 000) and `levels` N (default 5).
 * @returns `{ onBook, value, reset }`.
 * @throws RangeError on a window ≤ 0 or not finite, or levels not an integer ≥ 1.
 * @example
 * ```ts
 * import { createOfi } from "./ofi.ts";
 *
 * const ofi = createOfi({ windowsMs: [1_000], levels: 1 });
 * ofi.onBook({ bids: [[100, 2]], asks: [[101, 3]], time: 0 }); // sets the previous state
 * ofi.onBook({ bids: [[100, 5]], asks: [[101, 3]], time: 100 }); // e = 5 − 2 = 3
 * ofi.value(100).windows[0].ofi; // 3
 * ```
 */
export function createOfi(options: OfiOptions = {}): Ofi {
  const windowsMs = options.windowsMs ?? DEFAULT_OFI_WINDOWS_MS;
  const n = options.levels ?? DEFAULT_OFI_LEVELS;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`levels must be an integer ≥ 1: ${n}`);
  if (windowsMs.length === 0) throw new RangeError("windowsMs must not be empty");
  for (const ms of windowsMs) {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`window must be > 0 ms: ${ms}`);
  }
  const windows: WindowState[] = windowsMs.map((ms) => ({
    ms,
    head: 0,
    sums: new Float64Array(n),
    depthSum: 0,
    vValid: false,
    vCut: 0,
    vHead: 0,
    vSums: new Float64Array(n),
    vDepthSum: 0,
  }));

  // Ring buffer of events (struct of arrays), indexed by absolute event number & mask.
  let capacity = 1024;
  let mask = capacity - 1;
  let times = new Float64Array(capacity);
  let depths = new Float64Array(capacity);
  let es = new Float64Array(capacity * n);
  let tail = 0; // absolute index of the next event

  // Previous book state per level: prices (±Infinity when absent) and quantities (0).
  const prevBidP = new Float64Array(n);
  const prevBidQ = new Float64Array(n);
  const prevAskP = new Float64Array(n);
  const prevAskQ = new Float64Array(n);
  let hasPrev = false;
  let resetFlag = false;
  // Double-valued scalars live in one object, updated in place: a closure's `let` holding a
  // non-integer is re-boxed on every write (an allocation per update).
  const st = { lastTime: 0, drained: 0 };

  function grow(): void {
    const next = capacity * 2;
    const nTimes = new Float64Array(next);
    const nDepths = new Float64Array(next);
    const nEs = new Float64Array(next * n);
    const nMask = next - 1;
    let oldest = tail;
    for (const w of windows) oldest = Math.min(oldest, w.head, w.vValid ? w.vHead : tail);
    for (let i = oldest; i < tail; i++) {
      const from = i & mask;
      const to = i & nMask;
      nTimes[to] = times[from];
      nDepths[to] = depths[from];
      for (let m = 0; m < n; m++) nEs[to * n + m] = es[from * n + m];
    }
    capacity = next;
    mask = nMask;
    times = nTimes;
    depths = nDepths;
    es = nEs;
  }

  function storePrev(top: BookTop): void {
    for (let m = 0; m < n; m++) {
      const b = top.bids[m];
      const a = top.asks[m];
      prevBidP[m] = b === undefined ? -Infinity : b[0];
      prevBidQ[m] = b === undefined ? 0 : b[1];
      prevAskP[m] = a === undefined ? Infinity : a[0];
      prevAskQ[m] = a === undefined ? 0 : a[1];
    }
  }

  /**
   * Subtracts the events from `head` on with time ≤ cut from `sums` (in place) and
   * `depthSum`; returns the new head and leaves the depth sum in `drained` (both exact 0 once
   * the window is empty).
   */
  function drain(
    head: number,
    sums: Float64Array,
    depthSum: number,
    cut: number,
  ): number {
    while (head < tail && times[head & mask] <= cut) {
      const at = (head & mask) * n;
      for (let m = 0; m < n; m++) sums[m] -= es[at + m];
      depthSum -= depths[head & mask];
      head++;
    }
    if (head === tail) {
      sums.fill(0);
      depthSum = 0;
    }
    st.drained = depthSum;
    return head;
  }

  /** Removes events with time ≤ cut from the committed sums of `w`. */
  function evict(w: WindowState, cut: number): void {
    if (w.head === tail || times[w.head & mask] > cut) return;
    w.head = drain(w.head, w.sums, w.depthSum, cut);
    w.depthSum = st.drained;
  }

  function onBook(top: BookTop): void {
    const time = top.time > st.lastTime || !hasPrev ? top.time : st.lastTime;
    if (!hasPrev) {
      storePrev(top);
      hasPrev = true;
      st.lastTime = time;
      return;
    }
    st.lastTime = time;
    let oldest = tail;
    for (const w of windows) {
      w.vValid = false;
      evict(w, time - w.ms);
      if (w.head < oldest) oldest = w.head;
    }
    if (tail - oldest >= capacity) grow();
    const slot = tail & mask;
    const at = slot * n;
    for (let m = 0; m < n; m++) {
      const b = top.bids[m];
      const a = top.asks[m];
      const bp = b === undefined ? -Infinity : b[0];
      const bq = b === undefined ? 0 : b[1];
      const ap = a === undefined ? Infinity : a[0];
      const aq = a === undefined ? 0 : a[1];
      const pbp = prevBidP[m];
      const pap = prevAskP[m];
      let e = 0;
      if (bp >= pbp) e += bq;
      if (bp <= pbp) e -= prevBidQ[m];
      if (ap <= pap) e -= aq;
      if (ap >= pap) e += prevAskQ[m];
      es[at + m] = e;
      prevBidP[m] = bp;
      prevBidQ[m] = bq;
      prevAskP[m] = ap;
      prevAskQ[m] = aq;
    }
    const depth = (prevBidQ[0] + prevAskQ[0]) / 2;
    times[slot] = time;
    depths[slot] = depth;
    tail++;
    for (const w of windows) {
      const sums = w.sums;
      for (let m = 0; m < n; m++) sums[m] += es[at + m];
      w.depthSum += depth;
    }
  }

  /** The window's sums at cut `now − ms`, without committing the evictions. */
  function lookAhead(w: WindowState, cut: number): [number, Float64Array, number] {
    if (w.head === tail || times[w.head & mask] > cut) return [w.head, w.sums, w.depthSum];
    if (!w.vValid || w.vCut > cut) {
      w.vHead = w.head;
      w.vSums.set(w.sums);
      w.vDepthSum = w.depthSum;
      w.vValid = true;
    }
    w.vCut = cut;
    w.vHead = drain(w.vHead, w.vSums, w.vDepthSum, cut);
    w.vDepthSum = st.drained;
    return [w.vHead, w.vSums, w.vDepthSum];
  }

  function value(now: number): OfiValue {
    const out: OfiWindow[] = [];
    for (const w of windows) {
      const [head, sums, depthSum] = lookAhead(w, now - w.ms);
      const updates = tail - head;
      const levels = Array.from(sums);
      let multiLevel = 0;
      for (const s of levels) multiLevel += s;
      const depth = updates > 0 ? depthSum / updates : null;
      const ofi = levels[0];
      out.push({
        ms: w.ms,
        ofi,
        normalized: depth !== null && depth > 0 ? ofi / depth : null,
        depth,
        updates,
        levels,
        multiLevel,
      });
    }
    const result: OfiValue = {
      reset: resetFlag,
      levels: n,
      lastTime: hasPrev ? st.lastTime : null,
      windows: out,
    };
    resetFlag = false;
    return result;
  }

  function reset(): void {
    hasPrev = false;
    st.lastTime = 0;
    tail = 0;
    for (const w of windows) {
      w.head = 0;
      w.sums.fill(0);
      w.depthSum = 0;
      w.vValid = false;
    }
    resetFlag = true;
  }

  return { onBook, value, reset };
}

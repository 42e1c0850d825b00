/**
 * Raw SVI smiles: `w(k) = a + b(ρ(k − m) + √((k − m)² + σ²))` for the total implied variance
 * w = σ_BS²·T at log-moneyness k = ln(K/F) (Gatheral 2004), the weighted least-squares fit of one
 * expiry and the butterfly no-arbitrage check.
 *
 * The fit is the quasi-explicit method of Zeliade Systems ("Quasi-explicit calibration of
 * Gatheral's SVI model", 2009): with y = (k − m)/σ the smile is a + d·y + c·√(y² + 1), linear in
 * (a, d, c) = (a, ρbσ, bσ) for fixed (m, σ). That linear problem is solved exactly under the
 * linear constraints
 *   |d| ≤ (1 − 1e-6)·c              (b ≥ 0, |ρ| < 1),
 *   c + |d| ≤ 2σ                    (wing slopes b(1 + |ρ|) ≤ 2: Lee's moment formula),
 *   a + c − |d| ≥ 0                 (sufficient for a + bσ√(1 − ρ²) ≥ 0, i.e. min w ≥ 0),
 * by enumerating the active sets of this 3-variable quadratic program (the optimum is the best
 * feasible equality-constrained solution); (m, σ) are searched on a grid and refined by
 * Nelder-Mead in (m, ln σ). Everything is deterministic.
 * @module
 */

/** Raw SVI parameters (total variance). */
export interface SviParams {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
}

/** One observation: log-moneyness k = ln(K/F), total variance w = σ²T, optional weight. */
export interface SviPoint {
  k: number;
  w: number;
  weight?: number;
}

/** Result of {@link checkButterfly}. */
export interface ButterflyCheck {
  /** True when g(k) < −1e-9 or w(k) ≤ 0 somewhere on the grid. */
  arbitrage: boolean;
  /** Smallest g(k) on the grid. */
  minG: number;
  /** Where it is. */
  kAtMin: number;
}

/** Result of {@link fitSvi}. */
export interface SviFit {
  params: SviParams;
  /** Weighted root-mean-square error in total variance: √(Σωᵢrᵢ² / Σωᵢ). */
  rmse: number;
  /**
   * Gatheral's butterfly condition g(k) ≥ 0 fails somewhere over the quoted strikes: the data's
   * k range widened by half its width (at least 0.05) on each side.
   */
  butterflyArbitrage: boolean;
  /** Smallest g(k) over the quoted strikes and where. */
  minG: number;
  kAtMinG: number;
  /**
   * g(k) < 0 somewhere in the far wings ([−3, 3] widened to the data, see
   * {@link checkButterfly}): extrapolation the quotes do not pin down, reported apart.
   */
  wingButterflyArbitrage: boolean;
  /** The data's k range [kMin, kMax]. */
  kRange: [number, number];
}

/**
 * The range the arbitrage checks of a fit cover: the quoted k range widened by half its width
 * (at least 0.05) on each side.
 * @example
 * ```ts
 * quotedRange([-0.1, 0.1]); // [-0.2, 0.2]
 * ```
 */
export function quotedRange([kMin, kMax]: [number, number]): [number, number] {
  const margin = Math.max(0.05, (kMax - kMin) / 2);
  return [kMin - margin, kMax + margin];
}

/** Bound on |ρ| (strictly inside ±1). */
const RHO_MAX = 1 - 1e-6;

/**
 * Raw SVI total variance at k.
 *
 * @param p parameters
 * @param k log-moneyness ln(K/F)
 * @returns w(k)
 * @example
 * ```ts
 * sviTotalVariance({ a: 0.04, b: 0.1, rho: -0.5, m: 0, sigma: 0.1 }, 0); // 0.05
 * ```
 */
export function sviTotalVariance(p: SviParams, k: number): number {
  const x = k - p.m;
  return p.a + p.b * (p.rho * x + Math.sqrt(x * x + p.sigma * p.sigma));
}

/**
 * Gatheral's butterfly density factor g(k) = (1 − kw'/(2w))² − (w'²/4)(1/w + 1/4) + w''/2
 * (Gatheral & Jacquier, "Arbitrage-free SVI volatility surfaces", 2014, eq. 2.1): the risk-
 * neutral density is non-negative iff g ≥ 0 (with w > 0).
 *
 * @param p parameters
 * @param k log-moneyness
 * @returns g(k) (−Infinity where w(k) ≤ 0)
 * @example
 * ```ts
 * sviG({ a: 0.04, b: 0.1, rho: -0.5, m: 0, sigma: 0.1 }, 0) > 0; // true
 * ```
 */
export function sviG(p: SviParams, k: number): number {
  const x = k - p.m;
  const r = Math.sqrt(x * x + p.sigma * p.sigma);
  const w = p.a + p.b * (p.rho * x + r);
  if (!(w > 0)) return -Infinity;
  const w1 = p.b * (p.rho + x / r);
  const w2 = (p.b * p.sigma * p.sigma) / (r * r * r);
  const u = 1 - (k * w1) / (2 * w);
  return u * u - ((w1 * w1) / 4) * (1 / w + 0.25) + w2 / 2;
}

/**
 * Checks g(k) ≥ 0 on an even grid (default: 401 points on [−3, 3] widened to cover `range`).
 *
 * @param p parameters
 * @param range optional [kMin, kMax] of the data, the grid covers it with 1 unit of margin
 * @param exact check exactly `range` (the quoted strikes) instead of the wide grid
 * @returns whether there is butterfly arbitrage, the minimum of g and where
 * @example
 * ```ts
 * checkButterfly({ a: 0.04, b: 0.1, rho: -0.5, m: 0, sigma: 0.1 }).arbitrage; // false
 * ```
 */
export function checkButterfly(
  p: SviParams,
  range?: [number, number],
  exact = false,
): ButterflyCheck {
  const lo = exact && range ? range[0] : Math.min(-3, (range?.[0] ?? 0) - 1);
  const hi = exact && range ? range[1] : Math.max(3, (range?.[1] ?? 0) + 1);
  const n = 400;
  let minG = Infinity;
  let kAtMin = lo;
  for (let i = 0; i <= n; i++) {
    const k = lo + ((hi - lo) * i) / n;
    const g = sviG(p, k);
    if (g < minG) {
      minG = g;
      kAtMin = k;
    }
  }
  return { arbitrage: minG < -1e-9, minG, kAtMin };
}

/** Weighted normal equations of the linear sub-problem for fixed (m, σ). */
interface Normal {
  /** XᵀΩX, row-major 3×3 over (a, d, c). */
  M: number[];
  /** XᵀΩw. */
  v: number[];
  /** Σωw². */
  ww: number;
}

function normalEquations(points: SviPoint[], m: number, sigma: number): Normal {
  const M = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const v = [0, 0, 0];
  let ww = 0;
  for (const pt of points) {
    const om = pt.weight ?? 1;
    const y = (pt.k - m) / sigma;
    const z = Math.sqrt(y * y + 1);
    const x = [1, y, z];
    for (let i = 0; i < 3; i++) {
      v[i] += om * x[i] * pt.w;
      for (let j = 0; j < 3; j++) M[i * 3 + j] += om * x[i] * x[j];
    }
    ww += om * pt.w * pt.w;
  }
  return { M, v, ww };
}

/** Solves A·x = r (n×n, row-major) by Gaussian elimination with partial pivoting; null if singular. */
function solveLinear(A: number[], r: number[], n: number): number[] | null {
  const a = A.slice();
  const x = r.slice();
  let scale = 0;
  for (const e of a) scale = Math.max(scale, Math.abs(e));
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let row = col + 1; row < n; row++) {
      if (Math.abs(a[row * n + col]) > Math.abs(a[piv * n + col])) piv = row;
    }
    if (Math.abs(a[piv * n + col]) <= 1e-13 * scale) return null;
    if (piv !== col) {
      for (let j = 0; j < n; j++) {
        const t = a[col * n + j];
        a[col * n + j] = a[piv * n + j];
        a[piv * n + j] = t;
      }
      const t = x[col];
      x[col] = x[piv];
      x[piv] = t;
    }
    for (let row = col + 1; row < n; row++) {
      const f = a[row * n + col] / a[col * n + col];
      if (f === 0) continue;
      for (let j = col; j < n; j++) a[row * n + j] -= f * a[col * n + j];
      x[row] -= f * x[col];
    }
  }
  for (let row = n - 1; row >= 0; row--) {
    let s = x[row];
    for (let j = row + 1; j < n; j++) s -= a[row * n + j] * x[j];
    x[row] = s / a[row * n + row];
  }
  return x;
}

/** Linear constraints g·(a, d, c) ≥ h for a given σ. */
function constraints(sigma: number): { g: number[]; h: number }[] {
  return [
    { g: [0, -1, RHO_MAX], h: 0 },
    { g: [0, 1, RHO_MAX], h: 0 },
    { g: [0, -1, -1], h: -2 * sigma },
    { g: [0, 1, -1], h: -2 * sigma },
    { g: [1, -1, 1], h: 0 },
    { g: [1, 1, 1], h: 0 },
  ];
}

/** Active sets of size 1..3 out of 6 constraints (size 0 is tried first). */
const ACTIVE_SETS: number[][] = (() => {
  const out: number[][] = [];
  for (let i = 0; i < 6; i++) {
    out.push([i]);
    for (let j = i + 1; j < 6; j++) {
      out.push([i, j]);
      for (let l = j + 1; l < 6; l++) out.push([i, j, l]);
    }
  }
  return out;
})();

/** Weighted SSE from the residuals (not the quadratic form, which cancels near a perfect fit). */
function sse(points: SviPoint[], m: number, sigma: number, x: number[]): number {
  let e = 0;
  for (const pt of points) {
    const y = (pt.k - m) / sigma;
    const r = x[0] + x[1] * y + x[2] * Math.sqrt(y * y + 1) - pt.w;
    e += (pt.weight ?? 1) * r * r;
  }
  return e;
}

function feasible(cs: { g: number[]; h: number }[], x: number[]): boolean {
  for (const c of cs) {
    const lhs = c.g[0] * x[0] + c.g[1] * x[1] + c.g[2] * x[2];
    if (lhs < c.h - 1e-12 * (1 + Math.abs(c.h) + Math.abs(x[2]))) return false;
  }
  return true;
}

/** Best (a, d, c) for fixed (m, σ) under the constraints, and its weighted SSE. */
function innerFit(points: SviPoint[], m: number, sigma: number): { x: number[]; sse: number } {
  const ne = normalEquations(points, m, sigma);
  const cs = constraints(sigma);
  const free = solveLinear(ne.M, ne.v, 3);
  if (free && feasible(cs, free)) return { x: free, sse: sse(points, m, sigma, free) };
  let best: { x: number[]; sse: number } = { x: [0, 0, 0], sse: ne.ww };
  for (const set of ACTIVE_SETS) {
    const n = 3 + set.length;
    const A = new Array<number>(n * n).fill(0);
    const r = new Array<number>(n).fill(0);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) A[i * n + j] = ne.M[i * 3 + j];
      r[i] = ne.v[i];
    }
    set.forEach((ci, q) => {
      for (let j = 0; j < 3; j++) {
        A[(3 + q) * n + j] = cs[ci].g[j];
        A[j * n + 3 + q] = cs[ci].g[j];
      }
      r[3 + q] = cs[ci].h;
    });
    const sol = solveLinear(A, r, n);
    if (!sol) continue;
    const x = sol.slice(0, 3);
    if (!feasible(cs, x)) continue;
    const e = sse(points, m, sigma, x);
    if (e < best.sse) best = { x, sse: e };
  }
  return best;
}

function toParams(x: number[], m: number, sigma: number): SviParams {
  const [a, d, c] = x;
  const b = c > 0 ? c / sigma : 0;
  const rho = c > 0 ? Math.max(-RHO_MAX, Math.min(RHO_MAX, d / c)) : 0;
  return { a, b, rho, m, sigma };
}

/** Nelder-Mead minimisation in 2 dimensions (standard coefficients 1, 2, ½, ½). */
function nelderMead(
  f: (p: [number, number]) => number,
  start: [number, number],
  step: [number, number],
  maxIter: number,
): { p: [number, number]; f: number } {
  let simplex: { p: [number, number]; f: number }[] = [
    start,
    [start[0] + step[0], start[1]] as [number, number],
    [start[0], start[1] + step[1]] as [number, number],
  ].map((p) => ({ p, f: f(p) }));
  for (let it = 0; it < maxIter; it++) {
    simplex.sort((u, v) => u.f - v.f);
    const [best, mid, worst] = simplex;
    const size = Math.max(
      Math.abs(mid.p[0] - best.p[0]) + Math.abs(worst.p[0] - best.p[0]),
      Math.abs(mid.p[1] - best.p[1]) + Math.abs(worst.p[1] - best.p[1]),
    );
    if (size < 1e-12 || worst.f - best.f <= 1e-30) break;
    const c: [number, number] = [(best.p[0] + mid.p[0]) / 2, (best.p[1] + mid.p[1]) / 2];
    const along = (t: number): [number, number] => [
      c[0] + t * (worst.p[0] - c[0]),
      c[1] + t * (worst.p[1] - c[1]),
    ];
    const rp = along(-1);
    const rf = f(rp);
    if (rf < best.f) {
      const ep = along(-2);
      const ef = f(ep);
      simplex = ef < rf ? [best, mid, { p: ep, f: ef }] : [best, mid, { p: rp, f: rf }];
    } else if (rf < mid.f) {
      simplex = [best, mid, { p: rp, f: rf }];
    } else {
      const cp = rf < worst.f ? along(-0.5) : along(0.5);
      const cf = f(cp);
      if (cf < Math.min(rf, worst.f)) {
        simplex = [best, mid, { p: cp, f: cf }];
      } else {
        const shrink = (q: { p: [number, number] }): { p: [number, number]; f: number } => {
          const p: [number, number] = [
            best.p[0] + 0.5 * (q.p[0] - best.p[0]),
            best.p[1] + 0.5 * (q.p[1] - best.p[1]),
          ];
          return { p, f: f(p) };
        };
        simplex = [best, shrink(mid), shrink(worst)];
      }
    }
  }
  simplex.sort((u, v) => u.f - v.f);
  return simplex[0];
}

/**
 * Fits raw SVI to one expiry's total variances (weighted least squares, see the module notes).
 * Needs at least 5 points with finite k, w ≥ 0 and weight > 0 (throws RangeError otherwise).
 *
 * @param points { k = ln(K/F), w = σ²T, weight? } of one expiry
 * @returns parameters, weighted RMSE in total variance and the butterfly check of the result
 * @example
 * ```ts
 * const truth = { a: 0.02, b: 0.1, rho: -0.4, m: 0.05, sigma: 0.15 };
 * const points = [-0.5, -0.25, 0, 0.25, 0.5].map((k) => ({ k, w: sviTotalVariance(truth, k) }));
 * fitSvi(points).params; // ≈ truth
 * ```
 */
export function fitSvi(points: SviPoint[]): SviFit {
  const pts = points.filter((p) =>
    Number.isFinite(p.k) && Number.isFinite(p.w) && p.w >= 0 && (p.weight ?? 1) > 0 &&
    Number.isFinite(p.weight ?? 1)
  );
  if (pts.length < 5) throw new RangeError(`fitSvi: need ≥ 5 valid points, got ${pts.length}`);
  let kMin = Infinity, kMax = -Infinity;
  for (const p of pts) {
    kMin = Math.min(kMin, p.k);
    kMax = Math.max(kMax, p.k);
  }
  const span = Math.max(kMax - kMin, 1e-3);
  const mLo = kMin - span, mHi = kMax + span;
  const lsLo = Math.log(1e-4), lsHi = Math.log(10);
  const clampP = (p: [number, number]): [number, number] => [
    Math.min(mHi, Math.max(mLo, p[0])),
    Math.min(lsHi, Math.max(lsLo, p[1])),
  ];
  const objective = (p: [number, number]): number => {
    const [m, ls] = clampP(p);
    return innerFit(pts, m, Math.exp(ls)).sse;
  };
  // Grid over (m, ln σ), then Nelder-Mead from the three best grid nodes.
  const grid: { p: [number, number]; f: number }[] = [];
  for (let i = 0; i <= 8; i++) {
    for (let j = 0; j <= 7; j++) {
      const p: [number, number] = [
        kMin - 0.25 * span + (1.5 * span * i) / 8,
        Math.log(0.005 * span) + ((Math.log(2 / 0.005)) * j) / 7,
      ];
      grid.push({ p, f: objective(p) });
    }
  }
  grid.sort((u, v) => u.f - v.f);
  let best = grid[0];
  for (const start of grid.slice(0, 3)) {
    const r = nelderMead(objective, start.p, [0.1 * span, 0.3], 400);
    if (r.f < best.f) best = r;
  }
  const [m, ls] = clampP(best.p);
  const sigma = Math.exp(ls);
  const inner = innerFit(pts, m, sigma);
  const params = toParams(inner.x, m, sigma);
  let num = 0, den = 0;
  for (const p of pts) {
    const om = p.weight ?? 1;
    const r = sviTotalVariance(params, p.k) - p.w;
    num += om * r * r;
    den += om;
  }
  const check = checkButterfly(params, quotedRange([kMin, kMax]), true);
  const wings = checkButterfly(params, [kMin, kMax]);
  return {
    params,
    rmse: Math.sqrt(num / den),
    butterflyArbitrage: check.arbitrage,
    minG: check.minG,
    kAtMinG: check.kAtMin,
    wingButterflyArbitrage: wings.arbitrage,
    kRange: [kMin, kMax],
  };
}

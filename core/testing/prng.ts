/**
 * A small seeded pseudo-random generator (mulberry32) and the distributions the
 * synthetic market draws from. Same seed, same sequence.
 * @module
 */

/**
 * Seeded random source with the distributions the emulator needs.
 *
 * @example
 * ```ts
 * import { createRng, type Rng } from "@quant-saas/gateway/testing";
 *
 * const rng: Rng = createRng(7);
 * const tradesThisTick = rng.poisson(3);
 * ```
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Log-normal with the given median and log-space sigma. */
  logNormal(median: number, sigma: number): number;
  /** Pareto with scale `min` and tail index `alpha` (heavy tail). */
  pareto(min: number, alpha: number): number;
  /** Poisson-distributed count with the given mean. */
  poisson(mean: number): number;
  /** Geometric count (0, 1, 2, ...) with the given mean. */
  geometric(mean: number): number;
}

/**
 * Creates a mulberry32 generator from a 32-bit seed.
 *
 * @example Same seed, same sequence
 * ```ts
 * import { createRng } from "@quant-saas/gateway/testing";
 *
 * const a = createRng(42), b = createRng(42);
 * console.log(a.next() === b.next()); // true
 * ```
 */
export function createRng(seed: number): Rng {
  let state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    pareto: (min, alpha) => min * Math.pow(1 - next(), -1 / alpha),
    poisson(mean) {
      if (mean <= 0) return 0;
      if (mean > 30) {
        return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
      }
      const limit = Math.exp(-mean);
      let k = 0;
      let p = next();
      while (p > limit) {
        k++;
        p *= next();
      }
      return k;
    },
    geometric(mean) {
      if (mean <= 0) return 0;
      const p = 1 / (1 + mean);
      return Math.floor(Math.log(1 - next()) / Math.log(1 - p));
    },
  };
}

/**
 * Stable 32-bit hash of a string (FNV-1a), to derive per-instrument seeds.
 *
 * @example A per-instrument seed
 * ```ts
 * import { createRng, hashString } from "@quant-saas/gateway/testing";
 *
 * const rng = createRng(hashString("BTCUSDT"));
 * ```
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

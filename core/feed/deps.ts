/**
 * The runtime dependencies a plugin's connection code takes from its caller, so tests can
 * watch REST traffic (`fetch`), fix the clock and make backoff jitter reproducible.
 * @module
 */

/**
 * Replaceable runtime dependencies of a feed (all optional at the call site).
 *
 * @example A feed that takes its clock and randomness from the caller
 * ```ts
 * import type { FeedDeps } from "@quant-saas/gateway";
 *
 * const defaults: FeedDeps = { fetch, now: Date.now, random: Math.random };
 * export function startFeed(deps: Partial<FeedDeps> = {}): FeedDeps {
 *   return { ...defaults, ...deps };
 * }
 * ```
 */
export interface FeedDeps {
  /** Used for every REST request. */
  fetch: typeof fetch;
  /** Wall clock, epoch ms. */
  now: () => number;
  /** Uniform in [0, 1), e.g. for backoff jitter. */
  random: () => number;
}

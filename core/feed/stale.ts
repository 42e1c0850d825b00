/**
 * Stale (silence) detection: a connection that delivers nothing at all for
 * `deadAfterMs` is dead even if its socket looks open (half-open TCP, a
 * stalled exchange). Checked on a timer a few times per `deadAfterMs`.
 * @module
 */

/**
 * Options of {@link startStaleCheck}.
 *
 * @example
 * ```ts
 * import type { StaleCheckOptions } from "@quant-saas/gateway";
 *
 * const options: StaleCheckOptions = {
 *   deadAfterMs: 30_000,
 *   now: Date.now,
 *   lastActivity: () => undefined,
 *   onStale: (reason) => console.warn(reason),
 * };
 * ```
 */
export interface StaleCheckOptions {
  /** Stale after this long without activity. */
  deadAfterMs: number;
  /** Check period; default a quarter of `deadAfterMs`, within 10..1000 ms ({@link staleCheckEvery}). */
  everyMs?: number;
  /** Wall clock, epoch ms. */
  now: () => number;
  /** Time of the last activity (a frame, or the open); `undefined` while there is nothing to watch. */
  lastActivity(): number | undefined;
  /** Words for a silence of `ms`; default `no data for ${ms} ms`. */
  describe?(ms: number): string;
  /** A further stale condition (e.g. an unanswered ping): its reason, or `undefined` when fine. */
  check?(now: number): string | undefined;
  /** Called with the reason each time a check finds the watched thing stale. */
  onStale(reason: string): void;
}

/**
 * The default check period for `deadAfterMs`: a quarter of it, at least 10 ms
 * and at most 1 s.
 *
 * @example
 * ```ts
 * import { staleCheckEvery } from "@quant-saas/gateway";
 *
 * staleCheckEvery(10_000); // 1000
 * staleCheckEvery(200); // 50
 * ```
 */
export function staleCheckEvery(deadAfterMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(deadAfterMs / 4)));
}

/**
 * Starts checking for silence; returns the function that stops it.
 *
 * @example Declare a polling loop stale after 5 s without an answer
 * ```ts
 * import { startStaleCheck } from "@quant-saas/gateway";
 *
 * let lastAnswerAt: number | undefined = Date.now();
 * const stop = startStaleCheck({
 *   deadAfterMs: 5000,
 *   now: Date.now,
 *   lastActivity: () => lastAnswerAt,
 *   onStale: (reason) => console.warn(`stale: ${reason}`), // "no data for 5250 ms"
 * });
 * lastAnswerAt = Date.now(); // on every answer
 * stop();
 * ```
 */
export function startStaleCheck(options: StaleCheckOptions): () => void {
  const { deadAfterMs, now } = options;
  const describe = options.describe ?? ((ms: number) => `no data for ${ms} ms`);
  const timer = setInterval(() => {
    const last = options.lastActivity();
    if (last === undefined) return;
    const t = now();
    const silent = t - last;
    if (silent > deadAfterMs) {
      options.onStale(describe(silent));
      return;
    }
    const reason = options.check?.(t);
    if (reason !== undefined) options.onStale(reason);
  }, options.everyMs ?? staleCheckEvery(deadAfterMs));
  return () => clearInterval(timer);
}

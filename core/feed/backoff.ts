/**
 * Capped exponential backoff with full jitter (AWS architecture blog,
 * "Exponential Backoff And Jitter"): a random delay in `[0, min(cap, base * 2^n)]`,
 * optionally after a few immediate retries.
 * @module
 */

/**
 * Backoff bounds, ms.
 *
 * @example Kraken's advice: three immediate retries, then backoff
 * ```ts
 * import type { BackoffOptions } from "@quant-saas/gateway";
 *
 * const backoff: BackoffOptions = { baseMs: 1000, capMs: 60_000, immediateRetries: 3 };
 * ```
 */
export interface BackoffOptions {
  /** Ceiling of the first backed-off retry. */
  baseMs: number;
  /** Largest ceiling, whatever the attempt. */
  capMs: number;
  /** Retries made at once (delay 0) before backing off; default 0. */
  immediateRetries?: number;
}

/**
 * Delay before retry number `attempt` (0 = first retry). `random` returns [0, 1).
 *
 * @example Delays of the first retries
 * ```ts
 * import { backoffDelay } from "@quant-saas/gateway";
 *
 * const options = { baseMs: 100, capMs: 30_000 };
 * backoffDelay(0, options); // somewhere in 0..100 ms
 * backoffDelay(3, options, () => 0.999999); // 800 ms, the ceiling of the 4th retry
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const immediate = options.immediateRetries ?? 0;
  if (attempt < immediate) return 0;
  const ceiling = Math.min(
    options.capMs,
    options.baseMs * 2 ** Math.min(attempt - immediate, 30),
  );
  return Math.floor(random() * (ceiling + 1));
}

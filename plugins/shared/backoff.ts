/**
 * Capped exponential backoff with full jitter (AWS architecture blog,
 * "Exponential Backoff And Jitter"): a random delay in `[0, min(cap, base * 2^attempt)]`.
 * @module
 */

/** Backoff bounds, ms. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/** Delay before retry number `attempt` (0 = first retry). `random` returns [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    options.capMs,
    options.baseMs * 2 ** Math.min(attempt, 30),
  );
  return Math.floor(random() * (ceiling + 1));
}

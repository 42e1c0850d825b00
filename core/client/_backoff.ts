/**
 * Reconnect delays of the typed client: exponential from `baseMs`, capped at `capMs`, with
 * "equal jitter" (half the step fixed, half random) so many clients dropped at once do not
 * come back in step.
 * @module
 */

/** Reconnect settings; defaults 250 ms, 10 s, unlimited attempts. */
export interface BackoffOptions {
  /** First reconnect delay step, ms (default 250). */
  baseMs?: number;
  /** Largest reconnect delay step, ms (default 10000). */
  capMs?: number;
  /** Reconnect attempts before giving up (default unlimited). */
  maxAttempts?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 = the first after a drop), in ms:
 * `step / 2 + random() * step / 2` with `step = min(capMs, baseMs * 2^attempt)`.
 * @example
 * ```ts
 * backoffDelay(0, { baseMs: 100 }, () => 0); // 50
 * backoffDelay(10, { baseMs: 100, capMs: 1000 }, () => 1); // 1000
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 250;
  const cap = options.capMs ?? 10_000;
  const step = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return step / 2 + random() * step / 2;
}

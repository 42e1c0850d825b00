/**
 * Reconnect delays: Kraken's advice (retry at once a few times after a random
 * drop, no more often than every 5 s after maintenance) on top of capped
 * exponential backoff with full jitter (a random delay in
 * `[0, min(cap, base * 2^n)]`).
 * @module
 */

/** Backoff bounds and Kraken's reconnect rules, ms. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Retries made at once (delay 0) before backing off. */
  immediateRetries: number;
  /** Least delay while the exchange reports (or just reported) maintenance. */
  maintenanceDelayMs: number;
}

/**
 * Delay before retry number `attempt` (0 = first retry). `maintenance` raises
 * it to at least `maintenanceDelayMs`. `random` returns [0, 1).
 */
export function reconnectDelay(
  attempt: number,
  options: BackoffOptions,
  maintenance = false,
  random: () => number = Math.random,
): number {
  let delay = 0;
  if (attempt >= options.immediateRetries) {
    const n = Math.min(attempt - options.immediateRetries, 30);
    const ceiling = Math.min(options.capMs, options.baseMs * 2 ** n);
    delay = Math.floor(random() * (ceiling + 1));
  }
  return maintenance ? Math.max(delay, options.maintenanceDelayMs) : delay;
}

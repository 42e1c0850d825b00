/**
 * Reconnect delays: Kraken's advice (retry at once a few times after a random
 * drop, no more often than every 5 s after maintenance) on top of the SDK's
 * capped exponential backoff with full jitter.
 * @module
 */
import { backoffDelay, type BackoffOptions as SdkBackoffOptions } from "../../mod.ts";

/** Backoff bounds and Kraken's reconnect rules, ms. */
export interface BackoffOptions extends SdkBackoffOptions {
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
  const delay = backoffDelay(attempt, options, random);
  return maintenance ? Math.max(delay, options.maintenanceDelayMs) : delay;
}

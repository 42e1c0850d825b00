/**
 * A local token bucket mirroring Deribit's credit limiter: each request costs
 * `cost` credits from a pool of at most `max`, refilled continuously at
 * `refillPerSec`. A request that would overdraw the pool waits (Deribit answers
 * `too_many_requests` 10028 and closes the session instead).
 * @module
 */

/** Bucket parameters, credits. */
export interface CreditLimit {
  cost: number;
  max: number;
  refillPerSec: number;
}

/** A credit pool. */
export interface CreditBucket {
  /** Ms until one request can be afforded (0: now). */
  waitMs(now: number): number;
  /** Spends one request's credits; false (nothing spent) when they are not there. */
  take(now: number): boolean;
  /** Credits now. */
  credits(now: number): number;
}

/**
 * Creates a full bucket.
 *
 * @example Deribit's default: 20 requests/s, bursts of 100
 * ```ts
 * import { createCreditBucket } from "./credits.ts";
 *
 * const bucket = createCreditBucket({ cost: 500, max: 50_000, refillPerSec: 10_000 }, 0);
 * let sent = 0;
 * while (bucket.take(0)) sent++;
 * console.log(sent, bucket.waitMs(0)); // 100 50
 * ```
 */
export function createCreditBucket(limit: CreditLimit, now: number): CreditBucket {
  let credits = limit.max;
  let at = now;
  const refill = (t: number) => {
    if (t > at) {
      credits = Math.min(limit.max, credits + (t - at) * limit.refillPerSec / 1000);
      at = t;
    }
  };
  return {
    waitMs(t) {
      refill(t);
      if (credits >= limit.cost) return 0;
      return Math.ceil((limit.cost - credits) * 1000 / limit.refillPerSec);
    },
    take(t) {
      refill(t);
      if (credits < limit.cost) return false;
      credits -= limit.cost;
      return true;
    },
    credits(t) {
      refill(t);
      return credits;
    },
  };
}

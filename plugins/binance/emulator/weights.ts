/**
 * REST request-weight accounting per calendar minute, as Binance does it:
 * over the limit answers 429; continuing to send while limited gets an IP
 * ban (418). Both carry `Retry-After`.
 * @module
 */

/** The verdict for one request. */
export interface WeightVerdict {
  status: 200 | 429 | 418;
  /** Weight used in the current minute, this request included. */
  used: number;
  /** Seconds to wait, for 429 and 418. */
  retryAfterSec?: number;
}

/** Per-minute weight limiter. */
export interface WeightLimiter {
  /** Charges `weight` at time `now` and says whether the request may proceed. */
  charge(weight: number, now: number): WeightVerdict;
  /** Weight used in the current minute. */
  used(now: number): number;
}

/** Options of {@link createWeightLimiter}. */
export interface WeightLimiterOptions {
  maxPerMinute: number;
  /** Requests refused with 429 in one minute before the ban starts. Default 10. */
  banAfterRejections?: number;
  /** Ban length. Default 120 s (Binance: 2 minutes to 3 days). */
  banMs?: number;
}

/** Creates a limiter. */
export function createWeightLimiter(options: WeightLimiterOptions): WeightLimiter {
  const banAfter = options.banAfterRejections ?? 10;
  const banMs = options.banMs ?? 120_000;
  let minute = -1;
  let used = 0;
  let rejected = 0;
  let bannedUntil = 0;
  const roll = (now: number): void => {
    const m = Math.floor(now / 60_000);
    if (m !== minute) {
      minute = m;
      used = 0;
      rejected = 0;
    }
  };
  return {
    charge(weight, now) {
      roll(now);
      used += weight;
      if (now < bannedUntil) {
        return { status: 418, used, retryAfterSec: Math.ceil((bannedUntil - now) / 1000) };
      }
      if (used <= options.maxPerMinute) return { status: 200, used };
      if (++rejected > banAfter) {
        bannedUntil = now + banMs;
        return { status: 418, used, retryAfterSec: Math.ceil(banMs / 1000) };
      }
      return { status: 429, used, retryAfterSec: Math.ceil(((minute + 1) * 60_000 - now) / 1000) };
    },
    used(now) {
      roll(now);
      return used;
    },
  };
}

/**
 * Rate and concurrency limiters keyed by principal (API key label or IP).
 * Token buckets refill continuously; idle entries are pruned lazily so memory
 * stays bounded without timers.
 * @module
 */

/** Outcome of {@link RateLimiter.take}. */
export type Take = { ok: true } | { ok: false; retryAfterMs: number };

/** Token buckets: `limit` tokens per `windowMs`, per id. */
export interface RateLimiter {
  /** Takes one token for `id` under a budget of `limit` per window. */
  take(id: string, limit: number, now: number): Take;
  /** Ids tracked now (for tests and metrics). */
  size(): number;
}

/** Creates token buckets refilling `limit` tokens every `windowMs`. */
export function createRateLimiter(windowMs: number, maxIds = 100_000): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const prune = (now: number) => {
    // A bucket untouched for a whole window is full again: it carries no information.
    for (const [id, b] of buckets) if (now - b.at >= windowMs) buckets.delete(id);
  };
  return {
    take(id, limit, now) {
      if (limit <= 0) return { ok: false, retryAfterMs: windowMs };
      let bucket = buckets.get(id);
      if (!bucket) {
        if (buckets.size >= maxIds) prune(now);
        bucket = { tokens: limit, at: now };
        buckets.set(id, bucket);
      } else {
        const refill = ((now - bucket.at) / windowMs) * limit;
        bucket.tokens = Math.min(limit, bucket.tokens + refill);
        bucket.at = now;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / limit) * windowMs) };
    },
    size: () => buckets.size,
  };
}

/** Counts concurrent holders (connections) per id. */
export interface ConcurrencyLimiter {
  /** Takes a slot for `id` if fewer than `max` are held; false otherwise. */
  acquire(id: string, max: number): boolean;
  /** Gives back a slot taken by {@link acquire}. */
  release(id: string): void;
  /** Slots held by `id`. */
  held(id: string): number;
}

/** Creates a concurrency limiter. */
export function createConcurrencyLimiter(): ConcurrencyLimiter {
  const counts = new Map<string, number>();
  return {
    acquire(id, max) {
      const n = counts.get(id) ?? 0;
      if (n >= max) return false;
      counts.set(id, n + 1);
      return true;
    },
    release(id) {
      const n = (counts.get(id) ?? 0) - 1;
      if (n > 0) counts.set(id, n);
      else counts.delete(id);
    },
    held: (id) => counts.get(id) ?? 0,
  };
}

/** Counts events per id in the current clock minute (older minutes are forgotten). */
export interface MinuteCounter {
  /** Counts one event for `id`. */
  add(id: string, now: number): void;
  /** Events of `id` in the minute of `now`. */
  get(id: string, now: number): number;
}

/**
 * Creates a per-minute counter; it holds the ids of one minute only.
 *
 * @example
 * ```ts
 * import { createMinuteCounter } from "./limits.ts";
 *
 * const rest = createMinuteCounter();
 * rest.add("acct:k1", 60_000);
 * console.log(rest.get("acct:k1", 61_000), rest.get("acct:k1", 120_000)); // 1 0
 * ```
 */
export function createMinuteCounter(): MinuteCounter {
  let minute = -1;
  let counts = new Map<string, number>();
  const roll = (now: number) => {
    const m = Math.floor(now / 60_000);
    if (m !== minute) {
      minute = m;
      counts = new Map();
    }
  };
  return {
    add(id, now) {
      roll(now);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    },
    get(id, now) {
      roll(now);
      return counts.get(id) ?? 0;
    },
  };
}

/**
 * Sign-in lockout: after `maxFailures` failed sign-ins within `windowMs` for one username, or
 * from one IP, further attempts are refused (429 `locked`, `Retry-After`) until the oldest of
 * those failures leaves the window, even with the right password. Failures are rows in the
 * accounts database, so a restart does not reset them.
 * @module
 */
import type { AccountsStore } from "./store.ts";

/** Lockout settings. */
export interface LockoutOptions {
  /** Failures allowed within the window (the next attempt is refused). Default 5. */
  maxFailures?: number;
  /** The window, ms. Default 15 minutes. */
  windowMs?: number;
  now?: () => number;
}

/** The lockout. */
export interface Lockout {
  /** 0 when `username` from `ip` may try now, else ms until it may (`ip` undefined: the username only). */
  retryAfterMs(username: string, ip: string | undefined): number;
  /** Records a failed attempt. */
  failed(username: string, ip: string): void;
  /** A successful sign-in clears the username's failures (not the IP's). */
  succeeded(username: string): void;
}

/**
 * Creates the lockout over the accounts store.
 *
 * @example
 * ```ts
 * import { openAccountsStore } from "./store.ts";
 * import { createLockout } from "./lockout.ts";
 *
 * const lockout = createLockout(openAccountsStore(":memory:"));
 * for (let i = 0; i < 5; i++) lockout.failed("alice", "203.0.113.9");
 * console.log(lockout.retryAfterMs("alice", "198.51.100.1") > 0); // true
 * ```
 */
export function createLockout(store: AccountsStore, options: LockoutOptions = {}): Lockout {
  const max = options.maxFailures ?? 5;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const now = options.now ?? Date.now;
  /** Ms until fewer than `max` failures remain in the window. */
  const wait = (column: "username" | "ip", value: string, at: number) => {
    const times = store.failuresSince(column, value, at - windowMs);
    if (times.length < max) return 0;
    // Newest first: the max-th newest must leave the window before the next attempt.
    return Math.max(1, times[max - 1] + windowMs - at);
  };
  return {
    retryAfterMs(username, ip) {
      const at = now();
      return Math.max(wait("username", username, at), ip === undefined ? 0 : wait("ip", ip, at));
    },
    failed(username, ip) {
      const at = now();
      store.transaction(() => {
        store.deleteFailuresBefore(at - windowMs);
        store.insertFailure(username, ip, at);
      });
    },
    succeeded: (username) => store.deleteFailuresOf(username),
  };
}

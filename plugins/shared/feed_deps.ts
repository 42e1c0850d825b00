/**
 * The runtime dependencies a plugin's connection code takes from its caller, so tests can
 * watch REST traffic (`fetch`), fix the clock and make backoff jitter reproducible.
 * @module
 */

/** Replaceable runtime dependencies of a feed (all optional at the call site). */
export interface FeedDeps {
  fetch: typeof fetch;
  now: () => number;
  random: () => number;
}

/**
 * Abortable delay.
 * @module
 */

/**
 * Resolves `true` after `ms`, or `false` as soon as `signal` aborts (timer cleared).
 *
 * @example Poll until the feed stops
 * ```ts
 * import { sleep } from "@quant-saas/gateway";
 *
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 50);
 * while (await sleep(10, controller.signal)) {
 *   // poll a REST endpoint...
 * }
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

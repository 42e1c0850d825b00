/**
 * The app's state exposed on `window.__qs` for browser tests and for a curious person with the
 * devtools open (read-only figures; nothing reads them back).
 *
 * @example
 * ```ts
 * expose("chart", { bars: 300 });
 * ```
 */

/** Sets `window.__qs[key]` to `value` (merging objects). */
export function expose(key: string, value: Record<string, unknown>): void {
  const w = globalThis as unknown as { __qs?: Record<string, Record<string, unknown>> };
  const root = w.__qs ??= {};
  root[key] = { ...(root[key] ?? {}), ...value };
}

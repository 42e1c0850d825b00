/**
 * Number and time formatting shared by the views.
 *
 * @example
 * ```ts
 * fmt(60012.345, 2); // "60,012.35"
 * ```
 */

/** A number with `digits` decimals and thousands separators; "—" for null/NaN. */
export function fmt(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Decimals that show a price of this size sensibly. */
export function priceDigits(price: number | undefined): number {
  if (!price) return 2;
  if (price >= 1000) return 2;
  if (price >= 1) return 4;
  return 6;
}

/** HH:MM:SS.mmm of an epoch-ms time, UTC. */
export function clock(ms: number | undefined): string {
  if (!ms) return "—";
  return new Date(ms).toISOString().slice(11, 23);
}

/** Milliseconds as a short human duration. */
export function ago(ms: number | undefined): string {
  if (ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

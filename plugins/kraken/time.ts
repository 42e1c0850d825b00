/**
 * Time helpers for the hot path: Kraken's RFC 3339 timestamps (microseconds or
 * nanoseconds, always UTC `Z`) to epoch milliseconds, and epoch milliseconds to
 * ISO 8601 without building `Date` objects.
 * @module
 */

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Epoch milliseconds of `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (fraction truncated
 * to milliseconds); `NaN` for anything else, including impossible dates.
 */
export function parseTime(value: unknown): number {
  if (typeof value !== "string") return NaN;
  const s = value;
  const n = s.length;
  if (n < 20 || n > 40 || s.charCodeAt(n - 1) !== 90 /* Z */) return NaN;
  if (
    s[4] !== "-" || s[7] !== "-" || (s[10] !== "T" && s[10] !== "t") || s[13] !== ":" ||
    s[16] !== ":"
  ) return NaN;
  const y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]) return NaN;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return NaN;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
  let ms = 0;
  if (n > 20) {
    if (s[19] !== "." || n === 21) return NaN;
    for (let i = 20; i < n - 1; i++) {
      const digit = s.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return NaN;
      if (i < 23) ms = ms * 10 + digit;
    }
    for (let i = Math.min(n - 1, 23); i < 23; i++) ms *= 10;
  }
  return daysFromCivil(y, mo, d) * DAY_MS + h * 3_600_000 + mi * 60_000 + se * 1000 + ms;
}

/** `new Date(ms).toISOString()` without a `Date` (one implementation for every plugin). */
export { isoTime } from "../../mod.ts";

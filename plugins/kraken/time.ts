/**
 * Time helpers for the hot path: Kraken's RFC 3339 timestamps (microseconds or
 * nanoseconds, always UTC `Z`) to epoch milliseconds, and epoch milliseconds to
 * ISO 8601 without building `Date` objects.
 * @module
 */

const DAY_MS = 86_400_000;
/** Last millisecond of the year 9999. */
const MAX_FAST_MS = 253_402_300_799_999;

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

function pad2(n: number): string {
  return n < 10 ? "0" + n : "" + n;
}

function pad3(n: number): string {
  return n < 10 ? "00" + n : n < 100 ? "0" + n : "" + n;
}

/** `new Date(ms).toISOString()` for an integer `ms`, e.g. `"2023-10-06T17:35:55.440Z"`. */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms <= MAX_FAST_MS)) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rem = ms - days * DAY_MS;
  const hour = Math.floor(rem / 3_600_000);
  rem -= hour * 3_600_000;
  const minute = Math.floor(rem / 60_000);
  rem -= minute * 60_000;
  const second = Math.floor(rem / 1000);
  const milli = rem - second * 1000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const y = year < 1000 ? ("000" + year).slice(-4) : "" + year;
  return y + "-" + pad2(month) + "-" + pad2(day) + "T" + pad2(hour) + ":" + pad2(minute) + ":" +
    pad2(second) + "." + pad3(milli) + "Z";
}

/**
 * Time conversions for the hot path: RFC 3339 strings with up to nanosecond
 * precision (Coinbase's `timestamp`, `time`, `event_time`) to epoch
 * milliseconds, and epoch milliseconds to ISO 8601, without building `Date`s.
 * @module
 */

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function digits(s: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Epoch milliseconds of an RFC 3339 date-time such as
 * `"2023-02-09T20:19:35.39625135Z"` or `"2023-02-09T20:19:35+01:00"` (fraction
 * truncated to the millisecond); `NaN` when `value` is not one.
 */
export function parseTime(value: unknown): number {
  if (typeof value !== "string") return NaN;
  const s = value;
  const n = s.length;
  if (n < 20 || n > 40) return NaN;
  if (
    s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 ||
    (s.charCodeAt(10) !== 84 && s.charCodeAt(10) !== 116) ||
    s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58
  ) return NaN;
  const year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  const hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (
    !(month >= 1 && month <= 12 && day >= 1 && day <= DAYS_IN_MONTH[month - 1]) ||
    !(hour <= 23 && minute <= 59 && second <= 60)
  ) return NaN;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) {
    return NaN;
  }
  let i = 19;
  let millis = 0;
  if (s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (i < n) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (i - start < 3) millis = millis * 10 + d;
      i++;
    }
    const count = i - start;
    if (count === 0 || count > 9) return NaN;
    if (count === 1) millis *= 100;
    else if (count === 2) millis *= 10;
  }
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    i++;
  } else if (z === 43 || z === 45) {
    if (n - i !== 6 || s.charCodeAt(i + 3) !== 58) return NaN;
    const oh = digits(s, i + 1, 2), om = digits(s, i + 4, 2);
    if (!(oh <= 23 && om <= 59)) return NaN;
    offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else return NaN;
  if (i !== n) return NaN;
  if (Number.isNaN(year + month + day + hour + minute + second)) return NaN;
  return daysFromCivil(year, month, day) * DAY_MS + hour * 3_600_000 + minute * 60_000 +
    second * 1000 + millis - offsetMin * 60_000;
}

/** `new Date(ms).toISOString()` without a `Date` (one implementation for every plugin). */
export { isoTime } from "../../mod.ts";

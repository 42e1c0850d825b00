/**
 * Fast `Date#toISOString` for the hot path: the same output for millisecond
 * timestamps, about 4x cheaper because no `Date` object is built.
 * @module
 */

/** Last millisecond of the year 9999; later times fall back to `Date`. */
const MAX_FAST_MS = 253_402_300_799_999;
const DAY_MS = 86_400_000;

function pad2(n: number): string {
  return n < 10 ? "0" + n : "" + n;
}

function pad3(n: number): string {
  return n < 10 ? "00" + n : n < 100 ? "0" + n : "" + n;
}

/**
 * The last second formatted (`"2023-01-01T00:00:00."`) and its number: a feed's events
 * mostly fall in the same second, so most calls only append the milliseconds.
 * Owned by this module; one cache per isolate.
 */
let cachedSecond = -1;
let cachedPrefix = "";

/**
 * `new Date(ms).toISOString()` for an integer `ms`, e.g. `"2023-01-01T00:00:00.000Z"`.
 *
 * @example Event time of a trade
 * ```ts
 * import { isoTime } from "@quant-saas/gateway";
 *
 * isoTime(1_672_531_200_123); // "2023-01-01T00:00:00.123Z"
 * ```
 */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms <= MAX_FAST_MS && ms === Math.floor(ms))) {
    return new Date(ms).toISOString();
  }
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = secondPrefix(second * 1000);
    cachedSecond = second;
  }
  return cachedPrefix + pad3(ms - second * 1000) + "Z";
}

/** `"YYYY-MM-DDTHH:MM:SS."` of a whole-second `ms`. */
function secondPrefix(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  let rem = ms - days * DAY_MS;
  const hour = Math.floor(rem / 3_600_000);
  rem -= hour * 3_600_000;
  const minute = Math.floor(rem / 60_000);
  rem -= minute * 60_000;
  const second = Math.floor(rem / 1000);
  // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-compatible low-level date algorithms").
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) -
      Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const y = year < 1000 ? ("000" + year).slice(-4) : "" + year;
  return y + "-" + pad2(month) + "-" + pad2(day) + "T" + pad2(hour) + ":" +
    pad2(minute) + ":" + pad2(second) + ".";
}

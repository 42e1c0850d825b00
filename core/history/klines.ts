/**
 * OHLCV bars of any interval from 1s to 1d computed from recorded trades, bars
 * aligned to UTC epoch multiples of the interval and keyed by trade time, fields
 * as in Binance klines. Volumes are summed exactly in decimal (scaled BigInt),
 * then rounded once, as an exchange that sums decimals reports them.
 * @module
 */
import type { KlineEvent, TradeEvent } from "../events.ts";

/** One bar: the OHLCV fields of a live `kline` event (open time a multiple of the interval). */
export type Kline = Pick<
  KlineEvent,
  "openTime" | "closeTime" | "open" | "high" | "low" | "close" | "volume" | "quoteVolume" | "trades"
>;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of an interval such as `1s`, `15m`, `4h`, `1d`; throws RangeError outside 1s..1d. */
export function intervalMs(interval: string): number {
  const m = /^([1-9]\d{0,4})([smhd])$/.exec(interval);
  if (!m) throw new RangeError(`bad interval ${JSON.stringify(interval)}: use e.g. 1s, 5m, 1h, 1d`);
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  if (ms < 1000 || ms > 86_400_000) {
    throw new RangeError(`interval ${interval} is outside 1s..1d`);
  }
  return ms;
}

const POW10 = Array.from({ length: 16 }, (_, d) => 10 ** d);
const POW10_BIG = Array.from({ length: 100 }, (_, d) => 10n ** BigInt(d));
const SAFE = 2 ** 52;

/** Decimals of `v` when it is an exact decimal with at most 15 of them, else -1. */
function decimalsOf(v: number): number {
  for (let d = 0; d <= 15; d++) {
    const m = Math.round(v * POW10[d]);
    if (m / POW10[d] === v) return Number.isSafeInteger(m) ? d : -1;
  }
  return -1;
}

/**
 * An exact decimal sum: `acc` (a safe integer) and `big` at 10^-`scale`, plus a
 * float part for values that are not short decimals. Numbers first, BigInt only
 * when a sum outgrows 2^52 or the scale grows.
 */
interface DecimalSum {
  scale: number;
  acc: number;
  big: bigint;
  float: number;
}

const newSum = (): DecimalSum => ({ scale: 0, acc: 0, big: 0n, float: 0 });

/** Adds the integer `m` at 10^-`d` exactly. */
function addScaled(sum: DecimalSum, m: number, d: number): void {
  if (d > sum.scale) {
    sum.big = (sum.big + BigInt(sum.acc)) * POW10_BIG[d - sum.scale];
    sum.acc = 0;
    sum.scale = d;
  }
  if (d < sum.scale) {
    const f = POW10[sum.scale - d];
    if (sum.scale - d <= 15 && Math.abs(m * f) <= SAFE) m *= f;
    else {
      sum.big += BigInt(m) * POW10_BIG[sum.scale - d];
      return;
    }
  }
  sum.acc += m;
  if (sum.acc > SAFE || sum.acc < -SAFE) {
    sum.big += BigInt(sum.acc);
    sum.acc = 0;
  }
}

/**
 * `v` as the exact decimal of its shortest round-trip text (`String(v)`, what the
 * exchange sent when it sent at most 17 digits), or undefined (NaN, ±Infinity).
 */
function decimalOf(v: number): [bigint, number] | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(v));
  if (!m) return undefined;
  const frac = m[3] ?? "";
  let digits = BigInt(m[2] + frac);
  let scale = frac.length - Number(m[4] ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  if (scale > 60) return undefined;
  return [m[1] ? -digits : digits, scale];
}

/** Adds `a × b` (b = 1 for a plain sum) exactly, through BigInt when the numbers are long. */
function addProduct(sum: DecimalSum, a: number, b: number): void {
  const da = decimalsOf(a), db = b === 1 ? 0 : decimalsOf(b);
  if (da < 0 || db < 0) {
    const x = decimalOf(a), y = decimalOf(b);
    if (!x || !y) {
      sum.float += a * b;
      return;
    }
    const d = x[1] + y[1];
    if (d > sum.scale) addScaled(sum, 0, d);
    sum.big += x[0] * y[0] * 10n ** BigInt(sum.scale - d);
    return;
  }
  const ma = Math.round(a * POW10[da]), mb = Math.round(b * POW10[db]);
  const m = ma * mb;
  if (Math.abs(m) <= SAFE) addScaled(sum, m, da + db);
  else {
    // Too large for a double: add through BigInt at the sum's scale.
    const d = da + db;
    if (d > sum.scale) addScaled(sum, 0, d);
    sum.big += BigInt(ma) * BigInt(mb) * POW10_BIG[sum.scale - d];
  }
}

function valueOf(sum: DecimalSum): number {
  const total = sum.big + BigInt(sum.acc);
  if (sum.scale === 0) return Number(total) + sum.float;
  const neg = total < 0n;
  const abs = neg ? -total : total;
  const p = POW10_BIG[sum.scale];
  const text = `${neg ? "-" : ""}${abs / p}.${(abs % p).toString().padStart(sum.scale, "0")}`;
  return Number(text) + sum.float;
}

/** Parses ISO 8601 trade times, reusing the date part while it does not change. */
function createTimeParser(): (iso: string) => number {
  let prefix = "";
  let base = NaN;
  return (iso) => {
    if (prefix !== "" && iso.length === 24 && iso.charCodeAt(23) === 90 && iso.startsWith(prefix)) {
      const ms = Number(iso.slice(20, 23));
      if (ms >= 0) return base + ms;
    }
    const t = Date.parse(iso);
    if (iso.length === 24 && iso[19] === ".") {
      prefix = iso.slice(0, 20);
      base = Date.parse(prefix + "000Z");
    }
    return t;
  };
}

/**
 * Folds trades (any order within a bar is fine for H/L/volume; open and close follow
 * the order given, which is the recorded order) into bars with `openTime` in [from, to].
 */
export async function* klinesFromTrades(
  trades: AsyncIterable<TradeEvent>,
  interval: string,
  from: number,
  to: number,
): AsyncGenerator<Kline> {
  const ms = intervalMs(interval);
  const first = Math.floor(from / ms) * ms;
  let bar: Kline | undefined;
  let vol = newSum(), quote = newSum();
  const parseTime = createTimeParser();
  const close = (): Kline => {
    const b = bar!;
    b.volume = valueOf(vol);
    b.quoteVolume = valueOf(quote);
    return b;
  };
  for await (const t of trades) {
    const time = parseTime(t.timestamp);
    const open = Math.floor(time / ms) * ms;
    if (open < first || open > to) continue;
    if (bar && open !== bar.openTime) {
      if (open < bar.openTime) continue; // a late trade of a bar already emitted
      yield close();
      bar = undefined;
    }
    if (!bar) {
      bar = {
        openTime: open,
        closeTime: open + ms - 1,
        open: t.price,
        high: t.price,
        low: t.price,
        close: t.price,
        volume: 0,
        quoteVolume: 0,
        trades: 0,
      };
      vol = newSum();
      quote = newSum();
    }
    if (t.price > bar.high) bar.high = t.price;
    if (t.price < bar.low) bar.low = t.price;
    bar.close = t.price;
    bar.trades++;
    addProduct(vol, t.quantity, 1);
    addProduct(quote, t.price, t.quantity);
  }
  if (bar) yield close();
}

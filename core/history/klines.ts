/**
 * OHLCV bars of any interval from 1s to 1d computed from recorded trades, bars
 * aligned to UTC epoch multiples of the interval and keyed by trade time, fields
 * as in Binance klines. Volumes are summed exactly in decimal (scaled BigInt),
 * then rounded once, as an exchange that sums decimals reports them.
 * @module
 */
import type { TradeEvent } from "../events.ts";

/** One bar. */
export interface Kline {
  /** Start of the bar, epoch ms (a multiple of the interval). */
  openTime: number;
  /** Last millisecond of the bar. */
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Base volume. */
  volume: number;
  /** Quote volume (Σ price × quantity). */
  quoteVolume: number;
  trades: number;
}

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

const SCALE = 18;
const SCALE_BIG = 10n ** BigInt(SCALE);
const POW10 = Array.from({ length: 16 }, (_, d) => 10 ** d);
const POW10_BIG = Array.from({ length: 40 }, (_, d) => 10n ** BigInt(d));

/** `v` as an exact scaled integer `[int, decimals]`, or undefined when it has over 15 decimals. */
function exact(v: number): [bigint, number] | undefined {
  for (let d = 0; d <= 15; d++) {
    const m = Math.round(v * POW10[d]);
    if (m / POW10[d] === v && Number.isSafeInteger(m)) return [BigInt(m), d];
  }
  return undefined;
}

/** An exact decimal sum: a BigInt at 10^-18, plus a float fallback for values that are not. */
interface DecimalSum {
  big: bigint;
  float: number;
}

function addProduct(sum: DecimalSum, a: number, b: number): void {
  const x = exact(a), y = exact(b);
  if (!x || !y || x[1] + y[1] > SCALE) {
    sum.float += a * b;
    return;
  }
  sum.big += x[0] * y[0] * POW10_BIG[SCALE - x[1] - y[1]];
}

function valueOf(sum: DecimalSum): number {
  const neg = sum.big < 0n;
  const abs = neg ? -sum.big : sum.big;
  const int = abs / SCALE_BIG, frac = abs % SCALE_BIG;
  const text = `${neg ? "-" : ""}${int}.${frac.toString().padStart(SCALE, "0")}`;
  return Number(text) + sum.float;
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
  let vol: DecimalSum = { big: 0n, float: 0 }, quote: DecimalSum = { big: 0n, float: 0 };
  const close = (): Kline => {
    const b = bar!;
    b.volume = valueOf(vol);
    b.quoteVolume = valueOf(quote);
    return b;
  };
  for await (const t of trades) {
    const time = Date.parse(t.timestamp);
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
      vol = { big: 0n, float: 0 };
      quote = { big: 0n, float: 0 };
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

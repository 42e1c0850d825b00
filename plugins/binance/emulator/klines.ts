/**
 * Kline (candlestick) intervals, their UTC boundaries, and a per-interval
 * candle series built from trades.
 * @module
 */

/** Binance's kline intervals. */
export const KLINE_INTERVALS = [
  "1s",
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "6h",
  "8h",
  "12h",
  "1d",
  "3d",
  "1w",
  "1M",
] as const;

/** One Binance kline interval. */
export type KlineInterval = typeof KLINE_INTERVALS[number];

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const FIXED: Readonly<Record<Exclude<KlineInterval, "1M">, number>> = {
  "1s": SECOND,
  "1m": MINUTE,
  "3m": 3 * MINUTE,
  "5m": 5 * MINUTE,
  "15m": 15 * MINUTE,
  "30m": 30 * MINUTE,
  "1h": HOUR,
  "2h": 2 * HOUR,
  "4h": 4 * HOUR,
  "6h": 6 * HOUR,
  "8h": 8 * HOUR,
  "12h": 12 * HOUR,
  "1d": DAY,
  "3d": 3 * DAY,
  "1w": 7 * DAY,
};

/** True when `value` is a Binance kline interval. */
export function isKlineInterval(value: string): value is KlineInterval {
  return (KLINE_INTERVALS as readonly string[]).includes(value);
}

/** Open time of the candle containing `time` (weeks start Monday 00:00; `offsetMs` shifts the day, e.g. UTC+8). */
export function candleOpenTime(
  interval: KlineInterval,
  time: number,
  offsetMs = 0,
): number {
  const t = time + offsetMs;
  let open: number;
  if (interval === "1M") {
    const d = new Date(t);
    open = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  } else if (interval === "1w") {
    const monday = 4 * DAY; // 1970-01-05 was a Monday
    open = Math.floor((t - monday) / FIXED["1w"]) * FIXED["1w"] + monday;
  } else {
    open = Math.floor(t / FIXED[interval]) * FIXED[interval];
  }
  return open - offsetMs;
}

/** Close time (last millisecond) of the candle opening at `openTime`. */
export function candleCloseTime(
  interval: KlineInterval,
  openTime: number,
  offsetMs = 0,
): number {
  if (interval === "1M") {
    const d = new Date(openTime + offsetMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - offsetMs - 1;
  }
  return openTime + FIXED[interval] - 1;
}

/** One candle; prices in ticks, volumes in steps, quote volumes in price×qty units. */
export interface Candle {
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: bigint;
  trades: number;
  /** First and last trade id, -1 when the candle has no trade. */
  firstTradeId: number;
  lastTradeId: number;
  takerBuyVolume: number;
  takerBuyQuoteVolume: bigint;
  closed: boolean;
}

/** A trade as the candle series needs it. */
export interface CandleTrade {
  id: number;
  price: number;
  qty: number;
  time: number;
  /** True when the taker bought. */
  takerBuy: boolean;
}

/** Candles of one interval for one symbol. */
export interface CandleSeries {
  readonly interval: KlineInterval;
  /** The open candle. */
  current(): Candle;
  /** Adds a trade (rolling candles forward first if its time is past the open one). */
  add(trade: CandleTrade): Candle[];
  /** Closes candles whose time is over at `now`; returns the candles closed (oldest first). */
  roll(now: number): Candle[];
  /** Up to `limit` candles (closed, then the open one) with open time in [start, end]. */
  history(limit: number, start?: number, end?: number): Candle[];
}

const emptyCandle = (
  interval: KlineInterval,
  time: number,
  price: number,
  offsetMs: number,
): Candle => {
  const openTime = candleOpenTime(interval, time, offsetMs);
  return {
    openTime,
    closeTime: candleCloseTime(interval, openTime, offsetMs),
    open: price,
    high: price,
    low: price,
    close: price,
    volume: 0,
    quoteVolume: 0n,
    trades: 0,
    firstTradeId: -1,
    lastTradeId: -1,
    takerBuyVolume: 0,
    takerBuyQuoteVolume: 0n,
    closed: false,
  };
};

/** Creates a candle series starting at `now` with price `price`, keeping `keep` closed candles. */
export function createCandleSeries(
  interval: KlineInterval,
  now: number,
  price: number,
  keep = 1000,
  offsetMs = 0,
): CandleSeries {
  const closed: Candle[] = [];
  let open = emptyCandle(interval, now, price, offsetMs);
  const roll = (time: number): Candle[] => {
    const done: Candle[] = [];
    let rolled = 0;
    while (time > open.closeTime) {
      open.closed = true;
      done.push(open);
      closed.push(open);
      if (closed.length > keep) closed.shift();
      rolled++;
      // After a long pause, jump instead of emitting thousands of empty candles.
      const next = rolled >= keep ? time : open.closeTime + 1;
      open = emptyCandle(interval, next, open.close, offsetMs);
    }
    return done;
  };
  return {
    interval,
    current: () => open,
    add(trade) {
      const done = roll(trade.time);
      const quote = BigInt(trade.price) * BigInt(trade.qty);
      if (open.trades === 0) {
        open.open = open.high = open.low = trade.price;
        open.firstTradeId = trade.id;
      }
      open.high = Math.max(open.high, trade.price);
      open.low = Math.min(open.low, trade.price);
      open.close = trade.price;
      open.volume += trade.qty;
      open.quoteVolume += quote;
      open.trades++;
      open.lastTradeId = trade.id;
      if (trade.takerBuy) {
        open.takerBuyVolume += trade.qty;
        open.takerBuyQuoteVolume += quote;
      }
      return done;
    },
    roll,
    history(limit, start = -Infinity, end = Infinity) {
      const all = [...closed, open].filter((c) => c.openTime >= start && c.openTime <= end);
      return start > -Infinity ? all.slice(0, limit) : all.slice(-limit);
    },
  };
}

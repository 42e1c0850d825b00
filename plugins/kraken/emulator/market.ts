/**
 * The synthetic market of one pair, in integer units: a fair price on a
 * random walk, an L2 book that follows it (quantity changes, cancels and new
 * levels, never crossed), and taker orders with heavy-tailed (Pareto) sizes
 * that sweep the best levels, producing trades with consecutive ids from 1.
 * Candles of every Kraken interval and running statistics follow the trades.
 * @module
 */
import { type BookSide, createBookSide, type Side } from "./book.ts";
import type { PairSpec } from "./pairs.ts";
import { createRng, hashString } from "../../../testing.ts";

/** Kraken `ohlc` intervals, minutes. */
export const OHLC_INTERVALS: readonly number[] = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];

/** One trade. Price in ticks, quantity in units. */
export interface MarketTrade {
  id: number;
  price: number;
  qty: number;
  /** Epoch microseconds. */
  timeUs: number;
  /** Taker side. */
  side: "buy" | "sell";
  ordType: "market" | "limit";
}

/** One candle. Prices in ticks, volume in units; `notional` is Σ price×qty in real terms. */
export interface Candle {
  begin: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  notional: number;
  trades: number;
}

/** Running statistics since the market started (the emulator's "24 h"). */
export interface MarketStats {
  first: number;
  last: number;
  high: number;
  low: number;
  volume: number;
  notional: number;
}

/** Parameters of a pair's market. */
export interface MarketOptions {
  seed: number;
  tickMs: number;
  tradesPerSecond: number;
  /** Levels kept per side (at least the deepest subscription, 1000). */
  bookLevels: number;
  now: number;
}

/** What one tick produced. */
export interface TickResult {
  trades: MarketTrade[];
}

/** One pair's running market. */
export interface SymbolMarket {
  readonly spec: PairSpec;
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** Advances the market by one tick at time `now` (ms). */
  tick(now: number): TickResult;
  /** Incremented on every book change. */
  version(): number;
  /** The last `n` trades, oldest first. */
  recentTrades(n: number): MarketTrade[];
  /** Id of the last trade (0 before the first). */
  lastTradeId(): number;
  /** Closed candles of `interval` (at most 10, oldest first) then the current one. */
  candles(interval: number): Candle[];
  stats(): MarketStats | undefined;
}

const TRADE_HISTORY = 50;
const CANDLE_HISTORY = 10;

/** Creates the market of one pair. */
export function createSymbolMarket(spec: PairSpec, options: MarketOptions): SymbolMarket {
  const rng = createRng((options.seed ^ hashString(spec.symbol)) >>> 0);
  const bids = createBookSide("bid");
  const asks = createBookSide("ask");
  const priceScale = 10 ** spec.pricePrecision;
  const qtyScale = 10 ** spec.qtyPrecision;
  let fair = Math.round(spec.startPrice * priceScale) + 0.5;
  let version = 0;
  let tradeId = 0;
  let microSeq = 0;
  const recent: MarketTrade[] = [];
  const series = new Map<number, { closed: Candle[]; current?: Candle }>(
    OHLC_INTERVALS.map((i) => [i, { closed: [] }]),
  );
  let stats: MarketStats | undefined;
  const tickVol = 0.0004 * Math.sqrt(options.tickMs / 1000);

  const gapMean = (): number => Math.max(1, fair * 2e-5);
  const unitsFor = (notional: number): number => (notional / (fair / priceScale)) * qtyScale;
  const levelQty = (rank: number): number =>
    Math.max(1, Math.round(rng.logNormal(unitsFor(2000) * (1 + rank / 30), 0.9)));
  const sideOf = (side: Side): BookSide => side === "bid" ? bids : asks;
  const deeper = (side: Side, price: number, by: number): number =>
    side === "bid" ? price - by : price + by;

  const set = (side: Side, price: number, qty: number): void => {
    if (sideOf(side).set(price, qty) !== qty) version++;
  };

  /** True when a new level at `price` keeps the book uncrossed. */
  const fits = (side: Side, price: number): boolean => {
    if (price <= 0) return false;
    const other = side === "bid" ? asks.best() : bids.best();
    if (other === undefined) return true;
    return side === "bid" ? price < other : price > other;
  };

  const refill = (side: Side): void => {
    const book = sideOf(side);
    while (book.size() < options.bookLevels) {
      const worst = book.worst();
      const start = side === "bid" ? Math.ceil(fair) - 1 : Math.floor(fair) + 1;
      const price = worst === undefined
        ? start
        : deeper(side, worst, 1 + rng.geometric(gapMean() - 1));
      if (!fits(side, price)) return;
      set(side, price, levelQty(book.size()));
    }
    while (book.size() > options.bookLevels + 50) set(side, book.worst()!, 0);
  };

  const record = (trade: MarketTrade): void => {
    recent.push(trade);
    if (recent.length > TRADE_HISTORY) recent.shift();
    const value = (trade.price / priceScale) * (trade.qty / qtyScale);
    const ms = Math.floor(trade.timeUs / 1000);
    for (const [interval, s] of series) {
      const begin = Math.floor(ms / (interval * 60_000)) * interval * 60_000;
      if (s.current && s.current.begin !== begin) {
        s.closed.push(s.current);
        if (s.closed.length > CANDLE_HISTORY) s.closed.shift();
        s.current = undefined;
      }
      const c = s.current ??= {
        begin,
        open: trade.price,
        high: trade.price,
        low: trade.price,
        close: trade.price,
        volume: 0,
        notional: 0,
        trades: 0,
      };
      c.high = Math.max(c.high, trade.price);
      c.low = Math.min(c.low, trade.price);
      c.close = trade.price;
      c.volume += trade.qty;
      c.notional += value;
      c.trades++;
    }
    stats ??= {
      first: trade.price,
      last: trade.price,
      high: trade.price,
      low: trade.price,
      volume: 0,
      notional: 0,
    };
    stats.last = trade.price;
    stats.high = Math.max(stats.high, trade.price);
    stats.low = Math.min(stats.low, trade.price);
    stats.volume += trade.qty;
    stats.notional += value;
  };

  /**
   * One taker order sweeping up to three levels of the opposite side; `arbitrage`
   * takes a whole level left on the wrong side of the fair price.
   */
  const takerOrder = (now: number, out: MarketTrade[], arbitrage?: Side): void => {
    const bb = bids.best(), ba = asks.best();
    if (bb === undefined || ba === undefined) return;
    const mid = (bb + ba) / 2;
    const pBuy = 0.5 + Math.max(-0.3, Math.min(0.3, (fair - mid) / (4 * gapMean())));
    const takerBuys = arbitrage ? arbitrage === "ask" : rng.next() < pBuy;
    const book = takerBuys ? asks : bids;
    const ordType = arbitrage || rng.next() < 0.7 ? "market" : "limit";
    let remaining = arbitrage
      ? book.qty(book.best()!)
      : Math.max(1, Math.round(rng.pareto(unitsFor(150), 1.4)));
    for (let swept = 0; swept < 3 && remaining > 0 && book.size() > 1; swept++) {
      const price = book.best()!;
      const available = book.qty(price);
      const fill = Math.min(remaining, available);
      remaining -= fill;
      set(book.side, price, available - fill);
      const trade: MarketTrade = {
        id: ++tradeId,
        price,
        qty: fill,
        timeUs: now * 1000 + (microSeq++ % 1000),
        side: takerBuys ? "buy" : "sell",
        ordType,
      };
      record(trade);
      out.push(trade);
    }
  };

  /** One maker action: change a quantity, cancel a level, or add one near the fair price. */
  const makerAction = (): void => {
    const side: Side = rng.next() < 0.5 ? "bid" : "ask";
    const book = sideOf(side);
    const rank = Math.min(book.size() - 1, rng.geometric(6));
    const r = rng.next();
    if (rank >= 0 && r < 0.45) {
      set(side, book.at(rank)!, levelQty(rank));
    } else if (rank >= 0 && r < 0.7 && book.size() > 20) {
      set(side, book.at(rank)!, 0);
    } else {
      const from = side === "bid" ? Math.ceil(fair) - 1 : Math.floor(fair) + 1;
      const price = deeper(side, from, rng.geometric(gapMean() * 2));
      if (fits(side, price)) set(side, price, levelQty(rng.geometric(3)));
    }
  };

  /** Keeps liquidity near the fair price: makers follow it. */
  const quoteNearFair = (side: Side): void => {
    const best = sideOf(side).best();
    const distance = best === undefined ? Infinity : Math.abs(fair - best);
    if (distance <= 2 * gapMean()) return;
    const from = side === "bid" ? Math.ceil(fair) - 1 : Math.floor(fair) + 1;
    const price = deeper(side, from, rng.geometric(gapMean() / 2));
    if (fits(side, price) && sideOf(side).qty(price) === 0) set(side, price, levelQty(0));
  };

  refill("bid");
  refill("ask");

  return {
    spec,
    bids,
    asks,
    tick(now) {
      fair = Math.max(10, fair * Math.exp(tickVol * rng.normal()));
      const trades: MarketTrade[] = [];
      const takers = rng.poisson((options.tradesPerSecond * options.tickMs) / 1000);
      for (let i = 0; i < takers; i++) takerOrder(now, trades);
      for (let i = 0; i < 3; i++) {
        if (asks.best()! < fair - gapMean()) takerOrder(now, trades, "ask");
        else if (bids.best()! > fair + gapMean()) takerOrder(now, trades, "bid");
        else break;
      }
      const makers = rng.poisson(3);
      for (let i = 0; i < makers; i++) makerAction();
      quoteNearFair("bid");
      quoteNearFair("ask");
      refill("bid");
      refill("ask");
      return { trades };
    },
    version: () => version,
    recentTrades: (n) => recent.slice(-n),
    lastTradeId: () => tradeId,
    candles(interval) {
      const s = series.get(interval);
      if (!s) return [];
      return s.current ? [...s.closed, s.current] : [...s.closed];
    },
    stats: () => stats,
  };
}

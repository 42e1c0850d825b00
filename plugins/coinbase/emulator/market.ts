/**
 * The synthetic market of one product: a fair price on a random walk, an L2
 * book that follows it (adds, cancels, size changes, never crossed), taker
 * orders with heavy-tailed sizes that sweep the best levels, consecutive
 * numeric trade ids, a 5-minute candle and 24 h ticker statistics.
 * @module
 */
import {
  type BookSideName as Side,
  createEmulatorBookSide as createBookSide,
  type EmulatorBookSide as BookSide,
} from "../../../testing.ts";
import { createRng, hashString } from "../../../testing.ts";
import type { ProductSpec } from "./products.ts";

/** One executed trade (price in ticks, size in steps). */
export interface MarketTrade {
  id: number;
  price: number;
  size: number;
  /** Epoch ms. */
  time: number;
  /** The taker's side (Coinbase's wire `side` is the maker's: the opposite). */
  takerSide: "buy" | "sell";
}

/** The open 5-minute candle (prices in ticks, volume in steps). */
export interface Candle {
  /** Bucket start, epoch seconds. */
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Since-start statistics the ticker reports. */
export interface TickerStats {
  last: number;
  open: number;
  low: number;
  high: number;
  /** Steps traded. */
  volume: number;
}

/** Receives what the market produces, synchronously. */
export interface MarketSink {
  trade(spec: ProductSpec, trade: MarketTrade): void;
  /** A level's new absolute size (0 removes it). */
  bookChange(spec: ProductSpec, side: Side, price: number, size: number): void;
  /** One taker order finished matching (Coinbase sends a ticker on every match). */
  match(spec: ProductSpec): void;
}

/** Parameters of a product's market. */
export interface MarketOptions {
  seed: number;
  tickMs: number;
  tradesPerSecond: number;
  bookLevels: number;
  /** Trades kept for snapshots and tests. */
  history: number;
  now: number;
}

/** One product's running market. */
export interface ProductMarket {
  readonly spec: ProductSpec;
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** Advances the market by one tick at time `now`. */
  tick(now: number): void;
  lastTradeId(): number;
  /** The last `n` trades, oldest first. */
  recentTrades(n: number): MarketTrade[];
  /** The candle of the bucket containing `now` (a quiet new bucket opens at the last close). */
  candle(now: number): Candle;
  stats(): TickerStats;
}

/** Length of one candle, seconds. */
export const CANDLE_SECONDS = 300;

const VOL_PER_MINUTE = 0.001;
const TYPICAL_TRADE_NOTIONAL = 150;

/** Creates the market of one product, reporting to `sink`. */
export function createProductMarket(
  spec: ProductSpec,
  options: MarketOptions,
  sink: MarketSink,
): ProductMarket {
  const rng = createRng((options.seed ^ hashString(spec.productId)) >>> 0);
  const bids = createBookSide("bid");
  const asks = createBookSide("ask");
  const priceScale = 10 ** spec.priceDecimals;
  const sizeScale = 10 ** spec.sizeDecimals;
  const history: MarketTrade[] = [];
  let fair = spec.startTicks + 0.5;
  let tradeId = 100_000_000 + rng.int(900_000_000);
  const bucket = (ms: number) => Math.floor(ms / 1000 / CANDLE_SECONDS) * CANDLE_SECONDS;
  let candle: Candle = {
    start: bucket(options.now),
    open: spec.startTicks,
    high: spec.startTicks,
    low: spec.startTicks,
    close: spec.startTicks,
    volume: 0,
  };
  const stats: TickerStats = {
    last: spec.startTicks,
    open: spec.startTicks,
    low: spec.startTicks,
    high: spec.startTicks,
    volume: 0,
  };

  const gapMean = (): number => Math.max(1, fair * 2e-5);
  const typicalSteps = (): number =>
    Math.max(1, (TYPICAL_TRADE_NOTIONAL / (fair / priceScale)) * sizeScale);
  const levelQty = (depth: number): number =>
    Math.max(1, Math.round(rng.logNormal(typicalSteps() * 4 * (1 + depth / 30), 0.9)));
  const sideOf = (side: Side): BookSide => side === "bid" ? bids : asks;
  const fits = (side: Side, price: number): boolean =>
    price > 0 && (side === "bid" ? price < fair : price > fair);
  const deeper = (side: Side, price: number, by: number): number =>
    side === "bid" ? price - by : price + by;
  const gap = (depth: number): number =>
    1 + rng.geometric((gapMean() - 1) * Math.min(1, 0.2 + depth / 20));

  const setLevel = (side: Side, price: number, qty: number): void => {
    const prev = sideOf(side).set(price, qty);
    if (prev !== qty) sink.bookChange(spec, side, price, qty);
  };

  const rollCandle = (now: number): void => {
    const start = bucket(now);
    if (start <= candle.start) return;
    const c = candle.close;
    candle = { start, open: c, high: c, low: c, close: c, volume: 0 };
  };

  const record = (trade: MarketTrade): void => {
    history.push(trade);
    if (history.length > options.history) history.splice(0, history.length - options.history);
    rollCandle(trade.time);
    candle.close = trade.price;
    candle.high = Math.max(candle.high, trade.price);
    candle.low = Math.min(candle.low, trade.price);
    candle.volume += trade.size;
    stats.last = trade.price;
    stats.low = Math.min(stats.low, trade.price);
    stats.high = Math.max(stats.high, trade.price);
    stats.volume += trade.size;
    sink.trade(spec, trade);
  };

  // Initial book (no events).
  for (const side of ["bid", "ask"] as const) {
    let price = side === "bid" ? Math.ceil(fair) - 1 : Math.floor(fair) + 1;
    for (let i = 0; i < options.bookLevels && price > 0; i++) {
      sideOf(side).set(price, levelQty(i));
      price = deeper(side, price, gap(i));
    }
  }

  /** One taker order: sweeps up to three levels of the opposite side. */
  const takerOrder = (now: number): void => {
    const bb = bids.best();
    const ba = asks.best();
    if (bb === undefined || ba === undefined) return;
    const mid = (bb + ba) / 2;
    const pBuy = 0.5 + Math.max(-0.25, Math.min(0.25, (fair - mid) / (4 * gapMean())));
    const takerBuys = rng.next() < pBuy;
    const book = takerBuys ? asks : bids;
    let remaining = Math.max(1, Math.round(rng.pareto(typicalSteps() / 2, 1.4)));
    let matched = false;
    for (let swept = 0; swept < 3 && remaining > 0 && book.size() > 1; swept++) {
      const price = book.best()!;
      const available = book.qty(price);
      const fill = Math.min(remaining, available);
      const r = rng.next();
      const makers = fill < 3 || r < 0.7 ? 1 : r < 0.9 ? 2 : 3;
      let left = fill;
      const takerSide = takerBuys ? "buy" : "sell";
      for (let m = makers; m > 1; m--) {
        const size = 1 + rng.int(left - (m - 1));
        left -= size;
        record({ id: ++tradeId, price, size, time: now, takerSide });
      }
      record({ id: ++tradeId, price, size: left, time: now, takerSide });
      setLevel(takerBuys ? "ask" : "bid", price, available - fill);
      remaining -= fill;
      matched = true;
    }
    if (matched) sink.match(spec);
  };

  const refillInside = (side: Side): void => {
    const book = sideOf(side);
    const best = book.best();
    const distance = best === undefined ? Infinity : Math.abs(fair - best);
    if (distance <= gapMean() / 2 && rng.next() > 0.3) return;
    const offset = 1 + rng.geometric(Math.max(0, gapMean() / 16 - 1));
    const price = side === "bid" ? Math.ceil(fair) - offset : Math.floor(fair) + offset;
    if (!fits(side, price)) return;
    setLevel(side, price, book.qty(price) + levelQty(0));
  };

  const churn = (): void => {
    const side: Side = rng.next() < 0.5 ? "bid" : "ask";
    const book = sideOf(side);
    if (book.size() === 0) return;
    const index = Math.min(book.size() - 1, rng.geometric(8));
    const price = book.priceAt(index)!;
    const r = rng.next();
    if (r < 0.5) {
      const qty = book.qty(price);
      const next = Math.max(1, Math.round(qty * rng.logNormal(1, 0.4)));
      setLevel(side, price, next === qty ? qty + 1 : next);
    } else if (r < 0.72) {
      if (book.size() > 1) setLevel(side, price, 0);
    } else {
      const candidate = deeper(side, price, 1 + rng.int(Math.ceil(gapMean())));
      if (fits(side, candidate) && book.qty(candidate) === 0) {
        setLevel(side, candidate, levelQty(index));
      }
    }
  };

  const normalizeDepth = (side: Side): void => {
    const book = sideOf(side);
    while (book.size() > options.bookLevels) setLevel(side, book.worst()!, 0);
    while (book.size() < options.bookLevels) {
      const worst = book.worst();
      const price = worst === undefined
        ? (side === "bid" ? Math.ceil(fair) - 1 : Math.floor(fair) + 1)
        : deeper(side, worst, gap(book.size()));
      if (!fits(side, price)) break;
      setLevel(side, price, levelQty(book.size()));
    }
  };

  const sigmaPerTick = (): number =>
    fair * VOL_PER_MINUTE / Math.sqrt(60_000 / Math.max(1, options.tickMs));
  const tradesPerTick = options.tradesPerSecond * options.tickMs / 1000;
  let tradesPerOrder = 1.5;
  const churnPerTick = 1.5 * Math.max(0.2, options.tickMs / 50);

  return {
    spec,
    bids,
    asks,
    tick(now) {
      rollCandle(now);
      fair = Math.max(10, fair + sigmaPerTick() * rng.normal());
      // Makers pull quotes the fair price has moved through.
      while (bids.size() > 0 && bids.best()! >= fair) setLevel("bid", bids.best()!, 0);
      while (asks.size() > 0 && asks.best()! <= fair) setLevel("ask", asks.best()!, 0);
      refillInside("bid");
      refillInside("ask");
      const count = rng.poisson(tradesPerTick / tradesPerOrder);
      for (let i = 0; i < count; i++) {
        const before = tradeId;
        takerOrder(now);
        tradesPerOrder = Math.max(1, 0.98 * tradesPerOrder + 0.02 * (tradeId - before));
      }
      refillInside("bid");
      refillInside("ask");
      const changes = rng.poisson(churnPerTick);
      for (let i = 0; i < changes; i++) churn();
      normalizeDepth("bid");
      normalizeDepth("ask");
    },
    lastTradeId: () => tradeId,
    recentTrades: (n) => history.slice(Math.max(0, history.length - n)),
    candle(now) {
      rollCandle(now);
      return { ...candle };
    },
    stats: () => ({ ...stats }),
  };
}

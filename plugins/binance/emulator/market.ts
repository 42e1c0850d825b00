/**
 * The synthetic market of one symbol: a fair price on a random walk, an L2 book
 * that follows it (adds, cancels, quantity changes, never crossed), and taker
 * orders with heavy-tailed sizes that take liquidity from the best levels.
 * Every level change gets the next update id; trades get consecutive ids from 1.
 * @module
 */
import {
  type BookSideName as Side,
  createEmulatorBookSide as createBookSide,
  type EmulatorBookSide as BookSide,
} from "../../../testing.ts";
import { createIdRing, type IdRing } from "./id_ring.ts";
import {
  type Candle,
  type CandleSeries,
  createCandleSeries,
  KLINE_INTERVALS,
  type KlineInterval,
} from "./klines.ts";
import { createRng, hashString } from "../../../testing.ts";
import type { SymbolSpec } from "./symbols.ts";

/** One executed trade (price in ticks, quantity in steps). */
export interface MarketTrade {
  id: number;
  price: number;
  qty: number;
  time: number;
  /** The buyer was the maker (the taker sold). */
  buyerMaker: boolean;
}

/** One aggregate trade: the fills of one taker order at one price. */
export interface MarketAggTrade {
  id: number;
  price: number;
  qty: number;
  firstId: number;
  lastId: number;
  time: number;
  buyerMaker: boolean;
}

/** One book level change with the update id it got. */
export interface BookChange {
  side: Side;
  price: number;
  /** New absolute quantity; 0 removes the level. */
  qty: number;
  updateId: number;
}

/** Best bid and offer after an update. */
export interface Bbo {
  updateId: number;
  bidPrice: number;
  bidQty: number;
  askPrice: number;
  askQty: number;
}

/** A book state at some update id (prices in ticks, quantities in steps, best first). */
export interface BookState {
  lastUpdateId: number;
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
}

/** Receives everything the market produces, synchronously. */
export interface MarketSink {
  trade(spec: SymbolSpec, trade: MarketTrade): void;
  aggTrade(spec: SymbolSpec, agg: MarketAggTrade): void;
  bookChange(spec: SymbolSpec, change: BookChange): void;
  bbo(spec: SymbolSpec, bbo: Bbo): void;
  /** Candles of one series closed, oldest first (`series` is the key, see {@link seriesKey}). */
  candleClosed(spec: SymbolSpec, series: string, candles: Candle[]): void;
}

/** Parameters of a symbol's market. */
export interface MarketOptions {
  seed: number;
  tickMs: number;
  tradesPerSecond: number;
  bookLevels: number;
  tradeHistory: number;
  /** Changes kept to rebuild older book states (stale snapshots). */
  journalSize?: number;
  now: number;
}

/** One symbol's running market. */
export interface SymbolMarket {
  readonly spec: SymbolSpec;
  readonly bids: BookSide;
  readonly asks: BookSide;
  readonly trades: IdRing<MarketTrade>;
  readonly aggTrades: IdRing<MarketAggTrade>;
  /** Advances the market by one tick at time `now`. */
  tick(now: number): void;
  /** Update id of the last book change. */
  updateId(): number;
  /** Id of the last trade (0 before the first). */
  lastTradeId(): number;
  /** Current best bid/offer, undefined if a side is empty. */
  bbo(): Bbo | undefined;
  /** The book now, `limit` levels per side. */
  snapshot(limit: number): BookState;
  /** The oldest book state still reconstructible (older than anything streamed recently). */
  staleSnapshot(limit: number): BookState;
  /** The candle series for `interval` (with a UTC offset in ms), created on first use. */
  series(interval: KlineInterval, offsetMs?: number): CandleSeries;
  /** Closes candles whose time is over; reported through the sink. */
  rollCandles(now: number): void;
  /** The next trade is recorded (REST) without being reported to the sink's `trade`. */
  skipNextTrade(): void;
  /** REST stops serving trades and aggregate trades up to now (and the pending skipped trade). */
  forgetHistory(): void;
  /** Clears `skipNextTrade` and `forgetHistory`. */
  resetTradeFaults(): void;
  /**
   * Benchmarks only: one synthetic trade at the best bid or ask (alternating), with
   * the next trade id, recorded for REST and reported through the sink's `trade`.
   * No book, aggTrade or kline change, no PRNG draw (the market stays reproducible).
   */
  benchTrade(now: number): void;
}

/** Key of a candle series: `1m` or `1d@+08:00`. */
export function seriesKey(interval: KlineInterval, offsetMs = 0): string {
  if (offsetMs === 0) return interval;
  const hours = offsetMs / 3600000;
  return `${interval}@${hours >= 0 ? "+" : "-"}${String(Math.abs(hours)).padStart(2, "0")}:00`;
}

const VOL_PER_MINUTE = 0.001;
const TYPICAL_TRADE_NOTIONAL = 150;

/** Creates the market of one symbol, reporting to `sink`. */
export function createSymbolMarket(
  spec: SymbolSpec,
  options: MarketOptions,
  sink: MarketSink,
): SymbolMarket {
  const rng = createRng((options.seed ^ hashString(spec.symbol)) >>> 0);
  const bids = createBookSide("bid");
  const asks = createBookSide("ask");
  const trades = createIdRing<MarketTrade>(options.tradeHistory);
  const aggTrades = createIdRing<MarketAggTrade>(options.tradeHistory);
  const journalSize = options.journalSize ?? 8192;
  const journal: Array<{ id: number; side: Side; price: number; prev: number }> = [];
  let journalHead = 0;
  const series = new Map<string, CandleSeries>();

  const priceScale = Math.pow(10, spec.priceDecimals);
  const qtyScale = Math.pow(10, spec.qtyDecimals);
  let fair = spec.startTicks + 0.5;
  let updateId = 1_000_000_000 + rng.int(1_000_000_000);
  let tradeId = 0;
  let aggId = 0;
  let hideTrade = false;
  let forgetHidden = false;
  let lastBbo: Bbo | undefined;
  let lastNow = options.now;

  const gapMean = (): number => Math.max(1, fair * 2e-5);
  const typicalSteps = (): number =>
    Math.max(1, (TYPICAL_TRADE_NOTIONAL / (fair / priceScale)) * qtyScale);
  const levelQty = (depth: number): number =>
    Math.max(1, Math.round(rng.logNormal(typicalSteps() * 4 * (1 + depth / 30), 0.9)));
  const sideOf = (side: Side): BookSide => side === "bid" ? bids : asks;
  /** Valid for a new level: bids strictly below fair, asks strictly above. */
  const fits = (side: Side, price: number): boolean =>
    price > 0 && (side === "bid" ? price < fair : price > fair);

  const emitBbo = (): void => {
    const bb = bids.best();
    const ba = asks.best();
    if (bb === undefined || ba === undefined) return;
    const bq = bids.qty(bb);
    const aq = asks.qty(ba);
    if (
      lastBbo && lastBbo.bidPrice === bb && lastBbo.bidQty === bq &&
      lastBbo.askPrice === ba && lastBbo.askQty === aq
    ) return;
    lastBbo = { updateId, bidPrice: bb, bidQty: bq, askPrice: ba, askQty: aq };
    sink.bbo(spec, lastBbo);
  };

  const setLevel = (side: Side, price: number, qty: number): void => {
    const book = sideOf(side);
    const prev = book.set(price, qty);
    if (prev === qty) return;
    updateId++;
    const entry = { id: updateId, side, price, prev };
    if (journal.length < journalSize) journal.push(entry);
    else {
      journal[journalHead] = entry;
      journalHead = (journalHead + 1) % journalSize;
    }
    sink.bookChange(spec, { side, price, qty, updateId });
    emitBbo();
  };

  const deeper = (side: Side, price: number, by: number): number =>
    side === "bid" ? price - by : price + by;
  const gap = (depth: number): number =>
    1 + rng.geometric((gapMean() - 1) * Math.min(1, 0.2 + depth / 20));

  // Initial book, at the start id (no events).
  for (const side of ["bid", "ask"] as const) {
    const book = sideOf(side);
    let price = side === "bid" ? Math.ceil(fair) - 1 : Math.floor(fair) + 1;
    for (let i = 0; i < options.bookLevels && price > 0; i++) {
      book.set(price, levelQty(i));
      price = deeper(side, price, gap(i));
    }
  }
  for (const interval of KLINE_INTERVALS) {
    series.set(interval, createCandleSeries(interval, options.now, spec.startTicks));
  }

  const recordTrade = (trade: MarketTrade): void => {
    trades.push(trade.id, trade);
    if (hideTrade) {
      hideTrade = false;
      if (forgetHidden) {
        trades.forgetBelow(trade.id + 1);
        forgetHidden = false;
      }
    } else sink.trade(spec, trade);
    for (const [key, s] of series) {
      const closed = s.add({
        id: trade.id,
        price: trade.price,
        qty: trade.qty,
        time: trade.time,
        takerBuy: !trade.buyerMaker,
      });
      if (closed.length > 0) sink.candleClosed(spec, key, closed);
    }
  };

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
    for (let swept = 0; swept < 3 && remaining > 0 && book.size() > 1; swept++) {
      const price = book.best()!;
      const available = book.qty(price);
      const fill = Math.min(remaining, available);
      const r = rng.next();
      const makers = fill < 3 || r < 0.7 ? 1 : r < 0.9 ? 2 : 3;
      const firstId = tradeId + 1;
      let left = fill;
      for (let m = makers; m > 1; m--) {
        const qty = 1 + rng.int(left - (m - 1));
        left -= qty;
        recordTrade({ id: ++tradeId, price, qty, time: now, buyerMaker: !takerBuys });
      }
      recordTrade({ id: ++tradeId, price, qty: left, time: now, buyerMaker: !takerBuys });
      const agg: MarketAggTrade = {
        id: ++aggId,
        price,
        qty: fill,
        firstId,
        lastId: tradeId,
        time: now,
        buyerMaker: !takerBuys,
      };
      aggTrades.push(agg.id, agg);
      sink.aggTrade(spec, agg);
      setLevel(takerBuys ? "ask" : "bid", price, available - fill);
      remaining -= fill;
    }
  };

  const refillInside = (side: Side): void => {
    const book = sideOf(side);
    const best = book.best();
    const distance = best === undefined ? Infinity : Math.abs(fair - best);
    if (distance <= gapMean() / 2 && rng.next() > 0.3) return;
    const offset = 1 + rng.geometric(Math.max(0, gapMean() / 16 - 1));
    const price = side === "bid" ? Math.ceil(fair) - offset : Math.floor(fair) + offset;
    if (!fits(side, price)) return;
    const current = book.qty(price);
    setLevel(side, price, current + levelQty(0));
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
    fair * VOL_PER_MINUTE / Math.sqrt(60000 / Math.max(1, options.tickMs));
  const tradesPerTick = options.tradesPerSecond * options.tickMs / 1000;
  let tradesPerOrder = 1.5;
  const churnPerTick = 1.5 * Math.max(0.2, options.tickMs / 50);

  const copyJournalOrder = () =>
    journal.length < journalSize
      ? journal
      : [...journal.slice(journalHead), ...journal.slice(0, journalHead)];

  return {
    spec,
    bids,
    asks,
    trades,
    aggTrades,
    tick(now) {
      lastNow = now;
      fair = Math.max(10, fair + sigmaPerTick() * rng.normal());
      // Makers pull quotes the fair price has moved through.
      while (bids.size() > 0 && bids.best()! >= fair) setLevel("bid", bids.best()!, 0);
      while (asks.size() > 0 && asks.best()! <= fair) setLevel("ask", asks.best()!, 0);
      refillInside("bid");
      refillInside("ask");
      // Taker orders fill 1+ trades each; aim the order rate at the trade rate.
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
    updateId: () => updateId,
    lastTradeId: () => tradeId,
    bbo() {
      const bb = bids.best();
      const ba = asks.best();
      if (bb === undefined || ba === undefined) return undefined;
      return { updateId, bidPrice: bb, bidQty: bids.qty(bb), askPrice: ba, askQty: asks.qty(ba) };
    },
    snapshot: (limit) => ({
      lastUpdateId: updateId,
      bids: bids.levels(limit),
      asks: asks.levels(limit),
    }),
    staleSnapshot(limit) {
      const ordered = copyJournalOrder();
      if (ordered.length === 0) {
        return { lastUpdateId: updateId, bids: bids.levels(limit), asks: asks.levels(limit) };
      }
      const oldBids = bids.clone();
      const oldAsks = asks.clone();
      for (let i = ordered.length - 1; i >= 0; i--) {
        const { side, price, prev } = ordered[i];
        (side === "bid" ? oldBids : oldAsks).set(price, prev);
      }
      return {
        lastUpdateId: ordered[0].id - 1,
        bids: oldBids.levels(limit),
        asks: oldAsks.levels(limit),
      };
    },
    series(interval, offsetMs = 0) {
      const key = seriesKey(interval, offsetMs);
      let s = series.get(key);
      if (!s) {
        s = createCandleSeries(interval, lastNow, Math.round(fair), 1000, offsetMs);
        series.set(key, s);
      }
      return s;
    },
    rollCandles(now) {
      lastNow = Math.max(lastNow, now);
      for (const [key, s] of series) {
        const closed = s.roll(now);
        if (closed.length > 0) sink.candleClosed(spec, key, closed);
      }
    },
    skipNextTrade() {
      hideTrade = true;
    },
    forgetHistory() {
      trades.forgetBelow(tradeId + 1);
      aggTrades.forgetBelow(aggId + 1);
      forgetHidden = hideTrade;
    },
    benchTrade(now) {
      const bb = bids.best();
      const ba = asks.best();
      if (bb === undefined || ba === undefined) return;
      const takerBuys = (tradeId & 1) === 0;
      const trade: MarketTrade = {
        id: ++tradeId,
        price: takerBuys ? ba : bb,
        qty: 1 + (tradeId % 7),
        time: now,
        buyerMaker: !takerBuys,
      };
      trades.push(trade.id, trade);
      if (hideTrade) {
        hideTrade = false;
        if (forgetHidden) {
          trades.forgetBelow(trade.id + 1);
          forgetHidden = false;
        }
      } else sink.trade(spec, trade);
    },
    resetTradeFaults() {
      hideTrade = false;
      forgetHidden = false;
      trades.unforget();
      aggTrades.unforget();
    },
  };
}

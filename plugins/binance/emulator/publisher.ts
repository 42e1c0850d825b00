/**
 * Turns what the markets produce into stream frames: real-time trades,
 * aggregate trades and book tickers; diff-depth events aggregated per 100 ms /
 * 1000 ms window (U = previous u + 1), partial-depth snapshots, and klines.
 * Applies the depth faults (skip, reorder, duplicate) and silence.
 * @module
 */
import type { BookSideName as Side } from "../../../testing.ts";
import type { Connection } from "./connection.ts";
import type { FaultState } from "./faults.ts";
import type { Hub } from "./hub.ts";
import type { Candle } from "./klines.ts";
import type { BookChange, MarketSink, SymbolMarket } from "./market.ts";
import {
  aggTradeFrame,
  bookTickerFrame,
  depthUpdateFrame,
  klineFrame,
  levelsJson,
  nowMicros,
  partialDepthFrame,
  tradeFrame,
} from "./payloads.ts";
import { type DepthSpeed, parseStream, type StreamSpec } from "./streams.ts";
import type { SymbolSpec } from "./symbols.ts";

/** What the publisher reads. */
export interface PublisherDeps {
  hub: Hub<Connection>;
  faults: FaultState;
  /** The market of an uppercase symbol, if listed. */
  market(symbol: string): SymbolMarket | undefined;
  /** False while the market is paused. */
  isRunning(): boolean;
  /** Benchmarks: field added to `@trade` payloads with the send time in µs (off when empty). */
  stampField?: string;
}

/** Stream publisher. */
export interface Publisher {
  /** Where the markets report. */
  readonly sink: MarketSink;
  /** Ends the current `speed` window: sends diff-depth events and partial books. */
  flushDepth(speed: DepthSpeed): void;
  /** Sends the open candle on every kline stream except `1s` (Binance: every 2 s). */
  pushKlines(): void;
  /** Sends any depth event a reorder fault is holding back. */
  releaseHeld(): void;
}

interface DepthWindow {
  firstId: number;
  lastId: number;
  bids: Map<number, number>;
  asks: Map<number, number>;
}

interface StreamNames {
  lower: string;
  trade: string;
  aggTrade: string;
  bookTicker: string;
  depth: Record<DepthSpeed, string>;
}

const newWindow = (): DepthWindow => ({ firstId: 0, lastId: 0, bids: new Map(), asks: new Map() });
const SUB_DAY_OFFSET_ALIAS = new Set(["1d", "3d", "1w", "1M"]);

const sortedLevels = (levels: Map<number, number>, side: Side): Array<[number, number]> =>
  [...levels].sort(side === "bid" ? (a, b) => b[0] - a[0] : (a, b) => a[0] - b[0]);

/** Creates the publisher. */
export function createPublisher(deps: PublisherDeps): Publisher {
  const { hub, faults } = deps;
  const names = new Map<string, StreamNames>();
  const windows = new Map<string, Record<DepthSpeed, DepthWindow>>();
  const parsed = new Map<string, StreamSpec | undefined>();
  const lastPartial = new Map<string, number>();
  const lastKline = new Map<string, string>();
  const stampKey = deps.stampField ? JSON.stringify(deps.stampField) : undefined;

  const namesOf = (spec: SymbolSpec): StreamNames => {
    let n = names.get(spec.symbol);
    if (!n) {
      const lower = spec.symbol.toLowerCase();
      n = {
        lower,
        trade: `${lower}@trade`,
        aggTrade: `${lower}@aggTrade`,
        bookTicker: `${lower}@bookTicker`,
        depth: { 100: `${lower}@depth@100ms`, 1000: `${lower}@depth` },
      };
      names.set(spec.symbol, n);
    }
    return n;
  };
  const windowsOf = (symbol: string): Record<DepthSpeed, DepthWindow> => {
    let w = windows.get(symbol);
    if (!w) windows.set(symbol, w = { 100: newWindow(), 1000: newWindow() });
    return w;
  };
  const specOf = (stream: string): StreamSpec | undefined => {
    if (!parsed.has(stream)) parsed.set(stream, parseStream(stream));
    return parsed.get(stream);
  };
  const addChange = (w: DepthWindow, change: BookChange): void => {
    if (w.firstId === 0) w.firstId = change.updateId;
    w.lastId = change.updateId;
    (change.side === "bid" ? w.bids : w.asks).set(change.price, change.qty);
  };

  const publishCandles = (
    spec: SymbolSpec,
    stream: string,
    interval: string,
    candles: Candle[],
  ): void => {
    if (!hub.has(stream)) return;
    const now = Date.now();
    for (const c of candles) hub.publish(stream, (tm) => klineFrame(spec, interval, c, now, tm));
  };

  const sink: MarketSink = {
    trade(spec, trade) {
      const now = Date.now();
      if (faults.silenced(now)) return;
      if (stampKey === undefined) {
        hub.publish(namesOf(spec).trade, (tm) => tradeFrame(spec, trade, now, tm));
        return;
      }
      // Stamped when the payload is built, i.e. just before the hub writes it.
      hub.publish(
        namesOf(spec).trade,
        (tm) => tradeFrame(spec, trade, now, tm, { key: stampKey, us: nowMicros() }),
      );
    },
    aggTrade(spec, agg) {
      const now = Date.now();
      if (faults.silenced(now)) return;
      hub.publish(namesOf(spec).aggTrade, (tm) => aggTradeFrame(spec, agg, now, tm));
    },
    bbo(spec, bbo) {
      if (faults.silenced(Date.now())) return;
      hub.publish(namesOf(spec).bookTicker, () => bookTickerFrame(spec, bbo));
    },
    bookChange(spec, change) {
      const w = windowsOf(spec.symbol);
      addChange(w[100], change);
      addChange(w[1000], change);
    },
    candleClosed(spec, key, candles) {
      if (faults.silenced(Date.now())) return;
      const recent = candles.slice(-3);
      const interval = key.split("@")[0];
      const base = `${namesOf(spec).lower}@kline_${key}`;
      publishCandles(spec, base, interval, recent);
      if (key === interval && !SUB_DAY_OFFSET_ALIAS.has(interval)) {
        publishCandles(spec, `${base}@+08:00`, interval, recent);
      }
    },
  };

  const flushDiff = (symbol: string, speed: DepthSpeed, now: number): void => {
    const all = windows.get(symbol);
    const w = all?.[speed];
    const market = deps.market(symbol);
    if (!all || !w || w.firstId === 0 || !market) return;
    all[speed] = newWindow();
    const spec = market.spec;
    const stream = namesOf(spec).depth[speed];
    const f = faults.depth(symbol, speed);
    if (!hub.has(stream)) {
      f.held = undefined;
      return;
    }
    if (faults.silenced(now)) return;
    let bids: string | undefined;
    let asks: string | undefined;
    const send = (): void =>
      hub.publish(stream, (tm) => {
        bids ??= levelsJson(spec, sortedLevels(w.bids, "bid"));
        asks ??= levelsJson(spec, sortedLevels(w.asks, "ask"));
        return depthUpdateFrame(spec, now, w.firstId, w.lastId, bids, asks, tm);
      });
    if (f.held) {
      const held = f.held;
      f.held = undefined;
      send();
      held();
    } else if (f.skip > 0) {
      f.skip--;
    } else if (f.reorder > 0) {
      f.reorder--;
      f.held = send;
    } else {
      send();
      if (f.duplicate > 0) {
        f.duplicate--;
        send();
      }
    }
  };

  const flushPartial = (speed: DepthSpeed, now: number): void => {
    if (faults.silenced(now)) return;
    for (const stream of hub.streams()) {
      const s = specOf(stream);
      if (s?.kind !== "partialDepth" || s.speed !== speed) continue;
      const market = deps.market(s.symbol);
      if (!market) continue;
      const id = market.updateId();
      if (!deps.isRunning() && lastPartial.get(stream) === id) continue;
      lastPartial.set(stream, id);
      const spec = market.spec;
      const text = partialDepthFrame(
        id,
        levelsJson(spec, market.bids.levels(s.levels)),
        levelsJson(spec, market.asks.levels(s.levels)),
      );
      hub.publish(stream, () => text);
    }
  };

  return {
    sink,
    flushDepth(speed) {
      const now = Date.now();
      for (const symbol of windows.keys()) flushDiff(symbol, speed, now);
      flushPartial(speed, now);
    },
    pushKlines() {
      const now = Date.now();
      if (faults.silenced(now)) return;
      for (const stream of hub.streams()) {
        const s = specOf(stream);
        if (s?.kind !== "kline" || s.interval === "1s") continue;
        const market = deps.market(s.symbol);
        if (!market) continue;
        const offset = SUB_DAY_OFFSET_ALIAS.has(s.interval) ? s.offsetMs : 0;
        const candle = market.series(s.interval, offset).current();
        const state = `${candle.openTime}|${candle.trades}`;
        if (!deps.isRunning() && lastKline.get(stream) === state) continue;
        lastKline.set(stream, state);
        hub.publish(stream, (tm) => klineFrame(market.spec, s.interval, candle, now, tm));
      }
    },
    releaseHeld() {
      for (const symbol of windows.keys()) {
        for (const speed of [100, 1000] as const) {
          const f = faults.depth(symbol, speed);
          const held = f.held;
          f.held = undefined;
          held?.();
        }
      }
    },
  };
}

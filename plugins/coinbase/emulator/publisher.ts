/**
 * Turns what the markets produce into channel messages and fans them out to
 * the connections subscribed: `l2_data` updates batched per window (absolute
 * sizes, last change per level wins), `market_trades` batched (Coinbase: every
 * 250 ms, newest first), a `ticker` on every match, the open candle every
 * second, and the snapshot of each channel for new subscriptions.
 * @module
 */
import type { BookSideName as Side } from "../../../testing.ts";
import type { ClientConnection } from "./connection.ts";
import type { MarketSink, MarketTrade, ProductMarket } from "./market.ts";
import type { ProductSpec } from "./products.ts";
import {
  bookChanges,
  candleEvents,
  type Envelope,
  level2Events,
  type LevelChange,
  nanoTime,
  tickerEvents,
  tradeEvents,
} from "./wire.ts";

/** `event_time` of snapshot levels, as Coinbase sends it. */
const SNAPSHOT_EVENT_TIME = "1970-01-01T00:00:00Z";

/** What the publisher reads. */
export interface PublisherDeps {
  connections(): Iterable<ClientConnection>;
  market(productId: string): ProductMarket | undefined;
  /** Trades in a `market_trades` snapshot. */
  tradeSnapshotSize: number;
  /** False while the market is paused. */
  isRunning(): boolean;
}

/** Channel publisher. */
export interface Publisher {
  /** Where the markets report. */
  readonly sink: MarketSink;
  /** Sends the level changes collected since the last flush. */
  flushLevel2(): void;
  /** Sends the trades collected since the last flush. */
  flushTrades(): void;
  /** Sends the open candle of every product that changed (or, while running, every product). */
  pushCandles(): void;
  /** The snapshot message of `channel` for `productId`. */
  snapshot(channel: string, productId: string): Envelope | undefined;
}

/** Creates the publisher. */
export function createPublisher(deps: PublisherDeps): Publisher {
  const windows = new Map<string, Map<string, LevelChange>>();
  const pendingTrades = new Map<string, MarketTrade[]>();
  const lastCandle = new Map<string, string>();

  const publish = (channel: string, product: string, build: () => Envelope): void => {
    let envelope: Envelope | undefined;
    for (const conn of deps.connections()) {
      if (!conn.listens(channel, product)) continue;
      envelope ??= build();
      conn.send(envelope);
    }
  };

  const sink: MarketSink = {
    bookChange(spec: ProductSpec, side: Side, price: number, size: number) {
      let w = windows.get(spec.productId);
      if (!w) windows.set(spec.productId, w = new Map());
      w.set(`${side}${price}`, [side, price, size]);
    },
    trade(spec, trade) {
      let list = pendingTrades.get(spec.productId);
      if (!list) pendingTrades.set(spec.productId, list = []);
      list.push(trade);
    },
    match(spec) {
      const market = deps.market(spec.productId);
      if (!market) return;
      publish("ticker", spec.productId, () => ({
        channel: "ticker",
        timestamp: nanoTime(Date.now()),
        events: tickerEvents(market, "update"),
      }));
    },
  };

  return {
    sink,
    flushLevel2() {
      for (const [product, w] of windows) {
        if (w.size === 0) continue;
        const market = deps.market(product);
        const changes = [...w.values()];
        w.clear();
        if (!market) continue;
        publish("level2", product, () => {
          const t = nanoTime(Date.now());
          return {
            channel: "l2_data",
            timestamp: t,
            events: level2Events(market.spec, "update", changes, t),
          };
        });
      }
    },
    flushTrades() {
      for (const [product, list] of pendingTrades) {
        if (list.length === 0) continue;
        const market = deps.market(product);
        const trades = list.splice(0);
        if (!market) continue;
        publish("market_trades", product, () => ({
          channel: "market_trades",
          timestamp: nanoTime(Date.now()),
          events: tradeEvents(market.spec, "update", trades),
        }));
      }
    },
    pushCandles() {
      const now = Date.now();
      const seen = new Set<string>();
      for (const conn of deps.connections()) {
        for (const product of conn.subscriptions().candles ?? []) seen.add(product);
      }
      for (const product of seen) {
        const market = deps.market(product);
        if (!market) continue;
        const events = candleEvents(market.spec, "update", market.candle(now));
        if (!deps.isRunning() && lastCandle.get(product) === events) continue;
        lastCandle.set(product, events);
        publish("candles", product, () => ({
          channel: "candles",
          timestamp: nanoTime(now),
          events,
        }));
      }
    },
    snapshot(channel, product) {
      const market = deps.market(product);
      if (!market) return undefined;
      const now = Date.now();
      const timestamp = nanoTime(now);
      switch (channel) {
        case "level2":
          return {
            channel: "l2_data",
            timestamp,
            events: level2Events(market.spec, "snapshot", bookChanges(market), SNAPSHOT_EVENT_TIME),
          };
        case "market_trades":
          return {
            channel: "market_trades",
            timestamp,
            events: tradeEvents(
              market.spec,
              "snapshot",
              market.recentTrades(deps.tradeSnapshotSize),
            ),
          };
        case "ticker":
          return { channel: "ticker", timestamp, events: tickerEvents(market, "snapshot") };
        case "candles":
          return {
            channel: "candles",
            timestamp,
            events: candleEvents(market.spec, "snapshot", market.candle(now)),
          };
        default:
          return undefined;
      }
    },
  };
}

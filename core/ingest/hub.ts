/**
 * The hub: takes every item the feeds deliver (in order, none lost) and turns it
 * into state updates and client frames.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";
import type { FeedInfo } from "./supervisor.ts";
import type { GapEvent, KlineEvent, QuoteEvent, TradeEvent } from "../events.ts";
import type { RecentLog } from "../recovery/recent_log.ts";
import type { Delivery } from "../delivery/policy.ts";
import type { Books } from "../books/books.ts";
import type { Catalog } from "../market/catalog.ts";
import type { MarketState } from "../market/state.ts";
import type { Metrics } from "../server/metrics.ts";
import { streamId, type Subscriptions } from "../delivery/subscriptions.ts";
import { encodeOnce } from "../delivery/wire.ts";
import {
  analyticsFrame,
  bookStatusFrame,
  consolidatedFrame,
  errorFrame,
  feedStatusFrame,
  gapFrame,
  type Position,
  type StreamEvent,
} from "../protocol/frames.ts";
import type { Consolidator } from "../books/consolidated.ts";
import { getLogger } from "../server/log.ts";
import { type TopLevels, topNInto } from "../books/book.ts";
import {
  createSymbolAnalytics,
  type Metric,
  METRICS,
  type SymbolAnalytics,
  type SymbolAnalyticsOptions,
} from "../analytics/engine.ts";
import type { VpinCalibration } from "../analytics/vpin_calibration.ts";

/** Default least event time between two `analytics` frames of one symbol, ms (10 frames/s). */
export const DEFAULT_ANALYTICS_INTERVAL_MS = 100;

/** Book levels per side the analytics read after each book update. */
const ANALYTICS_BOOK_LEVELS = 10;

/** Settings of the per-symbol analytics the hub computes. */
export interface HubAnalyticsOptions {
  /** False: no analytics are computed (no cost per event); default true. */
  enabled?: boolean;
  /** Least event time between two `analytics` frames of one symbol, ms; default 100. */
  intervalMs?: number;
  /** VPIN bucket volume (the same for every symbol); unset: from the calibration, else `null`. */
  vpinBucketVolume?: number;
  /**
   * The VPIN calibration of a symbol, looked up (synchronously) when its analytics are created:
   * VPIN then runs at its bucket volume (unless one is configured) and ranks against its
   * history. One arriving later goes in through {@link Hub.calibrateVpin}.
   */
  vpinCalibration?: (exchange: string, symbol: string) => VpinCalibration | undefined;
}

/** What the hub works with. */
export interface HubDeps {
  subscriptions: Subscriptions;
  books: Books;
  market: MarketState;
  catalog: Catalog;
  delivery: Delivery;
  metrics: Metrics;
  consolidator: Consolidator;
  /** Where the hub's warnings go; default `quant-saas.hub` (a replay's private hub passes a silent one). */
  log?: {
    info(message: string, properties?: Record<string, unknown>): void;
    warning(message: string, properties?: Record<string, unknown>): void;
  };
  /** Clock of book status frames; default the wall clock (a replay passes the item's receive time). */
  now?: () => number;
  /** Where every trade, quote, kline and gap item is kept for `since` recovery (the live hub). */
  recent?: RecentLog;
  /** The epoch of the positions, put in feed `status` frames (the live hub). */
  epoch?: () => string;
  /** The order-flow analytics computed per symbol (defaults: 100 ms, no VPIN). */
  analytics?: HubAnalyticsOptions;
}

/** The hub's entry points. */
export interface Hub {
  /**
   * One item from a feed, with its hub sequence number `seq`. Trade, quote, kline and gap
   * items take their place in their stream: `prev` (given by an edge, else the hub's last
   * `seq` on that stream) and `seq` go into their frames as `prev`/`pos`, and the item into
   * the recent log.
   */
  onItem(exchange: string, item: FeedItem, seq: number, prev?: number): void;
  /** A feed's state changed: tell its subscribers with a `status` frame. */
  onState(info: FeedInfo): void;
  /** The `status` frame for a feed as it is now. */
  statusFrame(info: FeedInfo): string;
  /** The analytics of a symbol, once a trade or book of it arrived. */
  analytics(exchange: string, symbol: string): SymbolAnalytics | undefined;
  /**
   * The event time (ms) the analytics of a symbol are at: that of the latest trade or book
   * update it took in; undefined before the first.
   */
  analyticsTime(exchange: string, symbol: string): number | undefined;
  /**
   * A symbol's VPIN calibration arrived: its analytics, when they exist, take it from now on
   * (`SymbolAnalytics.calibrateVpin`); ones created later look it up through the options.
   */
  calibrateVpin(exchange: string, symbol: string, calibration: VpinCalibration): void;
  /** The `analytics` frame of a symbol now, with `metrics`; undefined before its first event. */
  analyticsFrame(exchange: string, symbol: string, metrics: readonly Metric[]): string | undefined;
}

/** The analytics of one symbol and where its emission stands. */
interface AnalyticsState {
  engine: SymbolAnalytics;
  /** The latest event time taken in (the figures are read at it). */
  time: number;
  /** Event time of the last `analytics` frame sent. */
  lastEmit: number;
  /** The symbol's `analytics` stream id (built once, not per event). */
  key: string;
  /** The top levels handed to the engine, reused for every book update. */
  top: TopLevels & { time: number };
}

/** Creates the hub. */
export function createHub(deps: HubDeps): Hub {
  const { subscriptions, books, market, catalog, delivery, metrics, consolidator, recent } = deps;
  const epoch = deps.epoch;
  const statusFrame = (info: FeedInfo) => feedStatusFrame(info, epoch?.());

  /** Per stream id: the `seq` of its last item (the next item's `prev`). */
  const lastOfStream = new Map<string, number>();
  /** Places `item` in stream `key` at `seq`: records it for recovery and returns its position. */
  const place = (
    key: string,
    item: TradeEvent | QuoteEvent | KlineEvent | GapEvent,
    seq: number,
    given: number | undefined,
  ): Position => {
    const prev = given ?? lastOfStream.get(key) ?? 0;
    lastOfStream.set(key, seq);
    recent?.append(key, { seq, prev, item });
    return { pos: seq, prev };
  };

  // Labelled counter children are looked up once per (exchange, type), not hashed per event.
  const counters = new Map<string, { inc(): void }>();
  const countIn = (exchange: string, type: string) => {
    const key = `${exchange}|${type}`;
    let counter = counters.get(key);
    if (!counter) {
      counter = metrics.messagesIn.labels({ exchange, type });
      counters.set(key, counter);
    }
    counter.inc();
  };
  const lagGauges = new Map<string, { set(value: number): void }>();
  const setLag = (exchange: string, lagMs: number) => {
    let gauge = lagGauges.get(exchange);
    if (!gauge) {
      gauge = metrics.feedLag.labels({ exchange });
      lagGauges.set(exchange, gauge);
    }
    gauge.set(lagMs);
  };

  /** Sends the consolidated quote of the symbol's unified name if it changed and anyone wants it. */
  const consolidate = (exchange: string, symbol: string) => {
    const unified = catalog.unified(exchange, symbol);
    if (unified === undefined) return;
    const key = streamId("consolidated", "*", unified);
    const audience = subscriptions.audience(key);
    if (!audience) return;
    const quote = consolidator.update(exchange, symbol);
    if (!quote) return;
    const text = consolidatedFrame(quote);
    for (const client of audience.plain) delivery.send(client, text, key);
    for (const client of audience.raw) delivery.send(client, text, key);
  };
  const analyticsOn = deps.analytics?.enabled ?? true;
  const analyticsInterval = deps.analytics?.intervalMs ?? DEFAULT_ANALYTICS_INTERVAL_MS;
  const vpinBucketVolume = deps.analytics?.vpinBucketVolume;
  const engineOptions: SymbolAnalyticsOptions = vpinBucketVolume === undefined
    ? {}
    : { vpin: { bucketVolume: vpinBucketVolume } };
  /** Per exchange, per symbol: its analytics, created at its first trade or book. */
  const analyticsByExchange = new Map<string, Map<string, AnalyticsState>>();
  const analyticsOf = (exchange: string, symbol: string) =>
    analyticsByExchange.get(exchange)?.get(symbol);
  const analyticsFor = (exchange: string, symbol: string): AnalyticsState => {
    let bySymbol = analyticsByExchange.get(exchange);
    if (!bySymbol) analyticsByExchange.set(exchange, bySymbol = new Map());
    let state = bySymbol.get(symbol);
    if (!state) {
      const vpinCalibration = deps.analytics?.vpinCalibration?.(exchange, symbol);
      state = {
        engine: createSymbolAnalytics(
          vpinCalibration ? { ...engineOptions, vpinCalibration } : engineOptions,
        ),
        time: -Infinity,
        lastEmit: -Infinity,
        key: streamId("analytics", exchange, symbol),
        top: { bids: [], asks: [], time: 0 },
      };
      bySymbol.set(symbol, state);
    }
    return state;
  };
  const analyticsText = (
    exchange: string,
    symbol: string,
    state: AnalyticsState,
    metrics: readonly Metric[],
  ) =>
    analyticsFrame({
      exchange,
      symbol,
      unified: catalog.unified(exchange, symbol),
      ...state.engine.value(state.time, metrics),
    });
  /**
   * After an event at `time`: sends the symbol's analytics to its subscribers when at least
   * the interval of event time passed since the last frame (so live and a replay send the
   * same frames); one frame per distinct set of metrics, conflatable for slow clients.
   */
  const emitAnalytics = (exchange: string, symbol: string, state: AnalyticsState, time: number) => {
    if (time > state.time) state.time = time;
    if (state.time < state.lastEmit + analyticsInterval) return;
    const key = state.key;
    const audience = subscriptions.audience(key);
    if (!audience) return;
    state.lastEmit = state.time;
    const texts = new Map<string, string>();
    for (const group of [audience.plain, audience.raw]) {
      for (const client of group) {
        const metrics = subscriptions.get(client, key)?.metrics ?? METRICS;
        const id = metrics.join(",");
        let text = texts.get(id);
        if (text === undefined) {
          text = analyticsText(exchange, symbol, state, metrics);
          texts.set(id, text);
        }
        delivery.send(client, text, key);
      }
    }
  };
  const log = deps.log ?? getLogger(["quant-saas", "hub"]);
  const now = deps.now ?? Date.now;
  const feedLog = (exchange: string) => getLogger(["quant-saas", "feed", exchange]);

  /** Sends an event to a stream's audience; `ckey` marks it conflatable for slow clients. */
  const fanout = (key: string, event: StreamEvent, at: Position, ckey?: string) => {
    const audience = subscriptions.audience(key);
    if (!audience) return;
    const encoded = encodeOnce(event, catalog.unified(event.exchange, event.symbol), at);
    if (audience.plain.size > 0) {
      const text = encoded.plain();
      for (const client of audience.plain) delivery.send(client, text, ckey);
    }
    if (audience.raw.size > 0) {
      const text = encoded.withRaw();
      for (const client of audience.raw) delivery.send(client, text, ckey);
    }
  };

  /** Sends `text` to every client following one of `exchange`'s streams. */
  const broadcastStatus = (text: string, exchange: string) => {
    for (const client of subscriptions.onExchange(exchange).keys()) delivery.send(client, text);
  };

  const onQuote = (event: QuoteEvent, seq: number, prev: number | undefined) => {
    market.quote(event);
    countIn(event.exchange, "quote");
    const key = streamId("quote", event.exchange, event.symbol);
    fanout(key, event, place(key, event, seq, prev), key);
    consolidate(event.exchange, event.symbol);
  };

  return {
    statusFrame,
    analytics: (exchange, symbol) => analyticsOf(exchange, symbol)?.engine,
    calibrateVpin(exchange, symbol, calibration) {
      analyticsOf(exchange, symbol)?.engine.calibrateVpin(calibration);
    },
    analyticsTime(exchange, symbol) {
      const state = analyticsOf(exchange, symbol);
      return state && state.time !== -Infinity ? state.time : undefined;
    },
    analyticsFrame(exchange, symbol, metrics) {
      const state = analyticsOf(exchange, symbol);
      if (!state || state.time === -Infinity) return undefined;
      return analyticsText(exchange, symbol, state, metrics);
    },
    onState(info) {
      metrics.feedUp.set(
        { exchange: info.exchange, emulator: String(info.emulator) },
        info.state === "connected" ? 1 : 0,
      );
      const level = info.state === "connected" ? "info" : "warning";
      log[level]("feed {exchange} is {state}{emulatorNote}: {reason}", {
        exchange: info.exchange,
        state: info.state,
        emulatorNote: info.emulator ? " (EMULATOR, not the real exchange)" : "",
        reason: info.reason ?? "-",
      });
      broadcastStatus(statusFrame(info), info.exchange);
    },
    onItem(exchange, item, seq, prev) {
      switch (item.type) {
        case "trade": {
          market.trade(item);
          countIn(exchange, "trade");
          setLag(exchange, item.receiveTime - item.eventTime);
          const key = streamId("trade", exchange, item.symbol);
          fanout(key, item, place(key, item, seq, prev));
          if (!analyticsOn) break;
          const state = analyticsFor(exchange, item.symbol);
          state.engine.onTrade(item);
          emitAnalytics(exchange, item.symbol, state, item.eventTime);
          break;
        }
        case "quote": {
          // Keep quotes consistent with the book: never go back behind the book's update id.
          const book = books.get(exchange, item.symbol);
          if (
            book?.synced && item.updateId !== undefined &&
            book.book.updateId !== undefined && item.updateId < book.book.updateId
          ) break;
          onQuote(item, seq, prev);
          break;
        }
        case "kline":
          market.entry(exchange, item.symbol).counts.kline++;
          countIn(exchange, "kline");
          {
            const key = streamId("kline", exchange, item.symbol);
            fanout(key, item, place(key, item, seq, prev), `${key}|${item.interval}`);
          }
          break;
        case "book": {
          market.entry(exchange, item.symbol).counts.book++;
          countIn(exchange, "book");
          const before = books.get(exchange, item.symbol);
          const wasSynced = before?.synced ?? false;
          if (!books.apply(item)) break;
          consolidate(exchange, item.symbol);
          const entry = books.get(exchange, item.symbol);
          if (entry && analyticsOn) {
            const state = analyticsFor(exchange, item.symbol);
            // The engine reads the top at once and keeps only the latest: one reused top.
            const top = state.top;
            topNInto(entry.book, ANALYTICS_BOOK_LEVELS, top);
            top.time = item.eventTime;
            state.engine.onBook(top);
            emitAnalytics(exchange, item.symbol, state, item.eventTime);
          }
          if (item.snapshot && wasSynced === false) {
            broadcastBookStatus(
              exchange,
              item.symbol,
              bookStatusFrame(exchange, item.symbol, "synced", item.receiveTime),
            );
          }
          break;
        }
        case "gap": {
          market.entry(exchange, item.symbol).counts.gap++;
          metrics.tradeGaps.inc({ exchange });
          log.warning("trade gap on {exchange} {symbol}: ids {fromId}..{toId} lost ({reason})", {
            ...item,
          });
          const key = streamId("trade", exchange, item.symbol);
          const at = place(key, item, seq, prev);
          const audience = subscriptions.audience(key);
          if (!audience) break;
          const text = gapFrame(item, at);
          for (const client of audience.plain) delivery.send(client, text);
          for (const client of audience.raw) delivery.send(client, text);
          break;
        }
        case "instruments":
          catalog.setInstruments(exchange, item.instruments, item.streamed);
          reresolve(exchange, item.streamed);
          break;
        case "book_status": {
          if (item.state === "resyncing") {
            books.markUnsynced(exchange, item.symbol);
            analyticsOf(exchange, item.symbol)?.engine.onResync();
            metrics.bookResyncs.inc({ exchange, symbol: item.symbol });
            log.warning("book {exchange} {symbol} resynchronizing: {reason}", {
              exchange,
              symbol: item.symbol,
              reason: item.reason ?? "-",
            });
          } else if (item.state === "synced") {
            // Continuity verified by the plugin: the held book is exact and deltas resume.
            // (After a fresh snapshot the book is already synced and this is a no-op.)
            if (!books.markSynced(exchange, item.symbol)) break;
          } else break;
          broadcastBookStatus(
            exchange,
            item.symbol,
            bookStatusFrame(exchange, item.symbol, item.state, now(), item.reason),
          );
          break;
        }
        case "malformed":
          metrics.malformed.inc({ exchange });
          feedLog(exchange).warning("malformed frame dropped: {reason}", {
            reason: item.reason,
            frame: item.frame,
          });
          break;
        case "log":
          feedLog(exchange)[item.level](item.message, item.properties ?? {});
          break;
        case "status":
          if (item.state === "reconnecting") metrics.reconnects.inc({ exchange });
          break;
      }
    },
  };

  /**
   * Until a feed reports its instruments, client names resolve to the configured name
   * they match (written as `BTC/USDT`, `BTCUSDT` or `BTC-USDT`). Once the list arrives, subscriptions made under a name the exchange
   * streams differently (`BTCUSDT` on Coinbase is `BTC-USDT`) move to the native symbol;
   * a name the exchange does not list is dropped with an `unknown_symbol` error frame.
   */
  function reresolve(exchange: string, streamed: readonly string[]) {
    for (const [client, subs] of subscriptions.onExchange(exchange)) {
      for (const sub of subs) {
        const { symbol } = sub.stream;
        if (streamed.includes(symbol)) continue;
        const native = catalog.resolve(exchange, symbol);
        if (native === undefined) {
          subscriptions.remove(client, sub.stream);
          delivery.send(
            client,
            errorFrame(
              "unknown_symbol",
              `${exchange} does not list ${symbol}; that subscription was dropped`,
            ),
          );
          continue;
        }
        subscriptions.move(client, sub, native);
      }
    }
  }

  function broadcastBookStatus(exchange: string, symbol: string, text: string) {
    const entry = books.get(exchange, symbol);
    if (!entry) return;
    for (const group of entry.views.values()) {
      for (const client of group.raw) delivery.send(client, text);
      for (const client of group.plain) delivery.send(client, text);
    }
  }
}

/**
 * Reading a recording: every query streams (async iterators over bounded
 * batches), works while the recorder is writing, and skips and counts damaged
 * blocks or files instead of throwing.
 * @module
 */
import type { TradeEvent } from "../events.ts";
import { bookAt, type HistoricalBook } from "./book_at.ts";
import { catalogOf, type HistoryCatalog } from "./catalog.ts";
import { createDayReader, type ReadProblems } from "./day_reader.ts";
import { type Kline, klinesFromTrades } from "./klines.ts";
import { mergedBatches } from "./merge.ts";
import type { EventFilter, RecordedItem } from "./types.ts";

/** A recorded trade with its place in the recording. */
export interface RecordedTrade {
  /** Hub sequence number. */
  seq: number;
  /** Gateway receive time, epoch ms. */
  receiveTime: number;
  trade: TradeEvent;
}

/** Queries over one recording folder. */
export interface HistoryReader {
  /** Recorded items passing `filter`, in hub order (by sequence number), in batches. */
  eventBatches(filter: EventFilter, batchSize?: number): AsyncGenerator<RecordedItem[]>;
  /** Like {@link HistoryReader.eventBatches}, one item at a time. */
  events(filter: EventFilter): AsyncGenerator<RecordedItem>;
  /**
   * Trades of one exchange + symbol received in [from, to] (and recorded after hub sequence
   * `afterSeq`, for a cursor), in recorded order and batches, each with its place in the recording.
   */
  tradeBatches(
    exchange: string,
    symbol: string,
    from: number,
    to: number,
    options?: { raw?: boolean; afterSeq?: number; batchSize?: number },
  ): AsyncGenerator<RecordedTrade[]>;
  /** Trades of one exchange + symbol received in [from, to], in recorded order (`raw` included unless `raw: false`). */
  trades(
    exchange: string,
    symbol: string,
    from: number,
    to: number,
    options?: { raw?: boolean },
  ): AsyncGenerator<TradeEvent>;
  /** The book as the gateway had it at `at` (best `depth` levels per side). */
  bookAt(
    exchange: string,
    symbol: string,
    at: number,
    depth?: number,
  ): Promise<HistoricalBook | undefined>;
  /**
   * Bars of `interval` (1s..1d) with open time in [from, to], from recorded trades
   * (by trade time). Throws RangeError on a bad interval.
   */
  klines(
    exchange: string,
    symbol: string,
    interval: string,
    from: number,
    to: number,
  ): AsyncGenerator<Kline>;
  /** What is recorded. */
  catalog(): HistoryCatalog;
  /** Damaged blocks and unreadable days met so far. */
  problems(): ReadProblems;
  close(): void;
}

/** How far trade time may trail receive time when klines look for a bar's trades, ms. */
const TRADE_TIME_SLACK_MS = 60_000;

/**
 * Opens the recording in `dir` for reading.
 *
 * @example
 * ```ts
 * const history = openHistory("/var/lib/quant/history");
 * for await (const t of history.trades("binance", "BTCUSDT", from, to)) console.log(t.price);
 * history.close();
 * ```
 */
export function openHistory(dir: string): HistoryReader {
  const reader = createDayReader(dir);
  const tradeBatches = async function* (
    exchange: string,
    symbol: string,
    from: number,
    to: number,
    options: { raw?: boolean; afterSeq?: number; batchSize?: number } = {},
  ): AsyncGenerator<RecordedTrade[]> {
    const filter = {
      from,
      to,
      exchanges: [exchange],
      symbols: [symbol],
      channels: ["trade" as const],
      markers: false,
      raw: options.raw ?? true,
      afterSeq: options.afterSeq,
    };
    for await (const batch of mergedBatches(reader, filter, options.batchSize)) {
      const out: RecordedTrade[] = [];
      for (const rec of batch) {
        if (rec.item.type === "trade" && rec.item.symbol === symbol) {
          out.push({ seq: rec.seq, receiveTime: rec.receiveTime, trade: rec.item });
        }
      }
      if (out.length > 0) yield out;
    }
  };
  const trades = async function* (
    exchange: string,
    symbol: string,
    from: number,
    to: number,
    options: { raw?: boolean } = {},
  ) {
    for await (const batch of tradeBatches(exchange, symbol, from, to, options)) {
      for (const { trade } of batch) yield trade;
    }
  };
  return {
    eventBatches: (filter, batchSize) => mergedBatches(reader, filter, batchSize),
    async *events(filter) {
      for await (const batch of mergedBatches(reader, filter)) yield* batch;
    },
    tradeBatches,
    trades,
    bookAt: (exchange, symbol, at, depth) => bookAt(reader, exchange, symbol, at, depth),
    klines(exchange, symbol, interval, from, to) {
      const source = trades(
        exchange,
        symbol,
        from - TRADE_TIME_SLACK_MS,
        to + TRADE_TIME_SLACK_MS + 86_400_000,
        { raw: false },
      );
      return klinesFromTrades(source, interval, from, to);
    },
    catalog: () => catalogOf(reader),
    problems: () => ({ ...reader.problems }),
    close: () => reader.close(),
  };
}

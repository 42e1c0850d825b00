/**
 * The tables `deno task export` writes: one per channel, one row per trade,
 * quote or kline, and one row per changed book level. Column names are
 * snake_case; times are UTC milliseconds (Parquet `TIMESTAMP_MILLIS`, CSV ISO
 * 8601 with a `Z`). The column list here is the documented schema
 * (docs/history.md, "Command line").
 * @module
 */
import type { BookUpdate, Channel, KlineEvent, QuoteEvent, TradeEvent } from "../events.ts";

/** Column types, as Parquet physical/logical types. */
export type ColumnType = "TIMESTAMP" | "DOUBLE" | "INT64" | "STRING" | "BOOLEAN";

/** One column of a table. */
export interface Column {
  name: string;
  type: ColumnType;
  /** May be empty (CSV: empty field; Parquet: null). */
  nullable?: boolean;
}

/** A cell: epoch ms for TIMESTAMP, a number for DOUBLE/INT64. */
export type Cell = number | string | boolean | null;

/** A table: its columns and the rows one recorded event yields. */
export interface Table<E> {
  /** File name part: `trades`, `quotes`, `klines`, `book`. */
  name: string;
  columns: readonly Column[];
  rows(event: E): Cell[][];
}

/** Trade time: the ISO `timestamp` when it parses, else the exchange event time. */
const timeOf = (e: { timestamp: string; eventTime: number }): number => {
  const t = Date.parse(e.timestamp);
  return Number.isFinite(t) ? t : e.eventTime;
};

/** One row per trade. */
export const TRADES: Table<TradeEvent> = {
  name: "trades",
  columns: [
    { name: "timestamp", type: "TIMESTAMP" },
    { name: "receive_time", type: "TIMESTAMP" },
    { name: "price", type: "DOUBLE" },
    { name: "quantity", type: "DOUBLE" },
    { name: "side", type: "STRING" },
    { name: "trade_id", type: "STRING" },
  ],
  rows: (e) => [[timeOf(e), e.receiveTime, e.price, e.quantity, e.side, String(e.tradeId)]],
};

/** One row per best bid/offer change. */
export const QUOTES: Table<QuoteEvent> = {
  name: "quotes",
  columns: [
    { name: "timestamp", type: "TIMESTAMP" },
    { name: "receive_time", type: "TIMESTAMP" },
    { name: "bid_price", type: "DOUBLE" },
    { name: "bid_quantity", type: "DOUBLE" },
    { name: "ask_price", type: "DOUBLE" },
    { name: "ask_quantity", type: "DOUBLE" },
    { name: "update_id", type: "INT64", nullable: true },
  ],
  rows: (e) => [[
    timeOf(e),
    e.receiveTime,
    e.bidPrice,
    e.bidQuantity,
    e.askPrice,
    e.askQuantity,
    e.updateId ?? null,
  ]],
};

/** One row per candle update the exchange sent (`closed` marks the final one). */
export const KLINES: Table<KlineEvent> = {
  name: "klines",
  columns: [
    { name: "timestamp", type: "TIMESTAMP" },
    { name: "receive_time", type: "TIMESTAMP" },
    { name: "interval", type: "STRING" },
    { name: "open_time", type: "TIMESTAMP" },
    { name: "close_time", type: "TIMESTAMP" },
    { name: "open", type: "DOUBLE" },
    { name: "high", type: "DOUBLE" },
    { name: "low", type: "DOUBLE" },
    { name: "close", type: "DOUBLE" },
    { name: "volume", type: "DOUBLE" },
    { name: "quote_volume", type: "DOUBLE" },
    { name: "trades", type: "INT64" },
    { name: "closed", type: "BOOLEAN" },
  ],
  rows: (e) => [[
    timeOf(e),
    e.receiveTime,
    e.interval,
    e.openTime,
    e.closeTime,
    e.open,
    e.high,
    e.low,
    e.close,
    e.volume,
    e.quoteVolume,
    e.trades,
    e.closed,
  ]],
};

/**
 * One row per level of each book update: a snapshot's rows (`snapshot` true)
 * replace the whole book, an update's rows are absolute quantities (0 removes the
 * level). Rows of one update share `timestamp`, `receive_time` and `update_id`.
 */
export const BOOK: Table<BookUpdate> = {
  name: "book",
  columns: [
    { name: "timestamp", type: "TIMESTAMP" },
    { name: "receive_time", type: "TIMESTAMP" },
    { name: "side", type: "STRING" },
    { name: "price", type: "DOUBLE" },
    { name: "quantity", type: "DOUBLE" },
    { name: "snapshot", type: "BOOLEAN" },
    { name: "update_id", type: "INT64", nullable: true },
  ],
  rows(e) {
    const t = timeOf(e);
    const id = e.updateId ?? null;
    const rows: Cell[][] = [];
    for (const [price, qty] of e.bids) {
      rows.push([t, e.receiveTime, "bid", price, qty, e.snapshot, id]);
    }
    for (const [price, qty] of e.asks) {
      rows.push([t, e.receiveTime, "ask", price, qty, e.snapshot, id]);
    }
    return rows;
  },
};

/** The table of each channel. */
export const TABLES: {
  trade: Table<TradeEvent>;
  quote: Table<QuoteEvent>;
  kline: Table<KlineEvent>;
  book: Table<BookUpdate>;
} = { trade: TRADES, quote: QUOTES, kline: KLINES, book: BOOK };

/** Channels in export order. */
export const EXPORT_CHANNELS: readonly Channel[] = ["trade", "quote", "kline", "book"];

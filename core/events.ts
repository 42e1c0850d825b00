/**
 * Normalized market events: the one shape every exchange plugin produces and
 * every client receives. Field names of `trade` follow the seed format exactly.
 * @module
 */

/** Taker side of a trade. */
export type Side = "buy" | "sell";

/** Data channels a client can subscribe to. */
export type Channel = "trade" | "quote" | "kline" | "book";

/** The channels, as a list (for validation). */
export const CHANNELS: readonly Channel[] = ["trade", "quote", "kline", "book"];

/** A price level: price and absolute quantity (0 removes the level). */
export type Level = [price: number, quantity: number];

/** Fields every data event carries. */
export interface EventBase {
  /** Exchange id, e.g. `"binance"`. */
  exchange: string;
  /** Exchange-native symbol, e.g. `"BTCUSDT"`. */
  symbol: string;
  /** Exchange event time, milliseconds since the epoch. */
  eventTime: number;
  /** Gateway receive time, milliseconds since the epoch. */
  receiveTime: number;
  /** The exchange's own frame (the payload, unwrapped from any stream envelope). */
  raw?: unknown;
}

/** One executed trade. */
export interface TradeEvent extends EventBase {
  type: "trade";
  price: number;
  quantity: number;
  /** Trade time, ISO 8601. */
  timestamp: string;
  /** Exchange trade id (consecutive per symbol on Binance). */
  tradeId: number | string;
  /** Taker side. */
  side: Side;
}

/** Best bid and ask with quantities. */
export interface QuoteEvent extends EventBase {
  type: "quote";
  bidPrice: number;
  bidQuantity: number;
  askPrice: number;
  askQuantity: number;
  /** Quote time, ISO 8601. */
  timestamp: string;
  /** Exchange order-book update id, where the exchange has one. */
  updateId?: number;
}

/** One candle (OHLCV). */
export interface KlineEvent extends EventBase {
  type: "kline";
  /** Interval, Binance notation: `1m`, `5m`, `1h`, ... */
  interval: string;
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  /** True once the candle is final. */
  closed: boolean;
  /** Event time, ISO 8601. */
  timestamp: string;
}

/**
 * An order-book change from a plugin: `snapshot: true` replaces the whole book,
 * otherwise each level is an absolute quantity (0 removes it). Plugins emit only
 * validated, in-order updates; on a gap they emit a `book` status and a new snapshot.
 */
export interface BookUpdate extends EventBase {
  type: "book";
  snapshot: boolean;
  bids: Level[];
  asks: Level[];
  /** Exchange update id of the last change included (Binance `u`). */
  updateId?: number;
  /** Exchange update id of the first change included (Binance `U`). */
  firstUpdateId?: number;
  /** Event time, ISO 8601. */
  timestamp: string;
}

/** Trades that were missed and could not be backfilled, reported instead of hidden. */
export interface GapEvent {
  type: "gap";
  exchange: string;
  symbol: string;
  channel: "trade";
  /** First missing trade id (inclusive). */
  fromId: number;
  /** Last missing trade id (inclusive). */
  toId: number;
  reason: string;
  receiveTime: number;
}

/** One instrument an exchange lists, from its own metadata. */
export interface Instrument {
  /** Exchange-native symbol. */
  symbol: string;
  base: string;
  quote: string;
  /** Unified name, `BASE/QUOTE`. */
  unified: string;
  /** Price decimals, where known. */
  pricePrecision?: number;
  /** Quantity decimals, where known. */
  quantityPrecision?: number;
}

/** The instruments a plugin found at start-up. */
export interface InstrumentsEvent {
  type: "instruments";
  exchange: string;
  /** Every instrument the exchange lists. */
  instruments: Instrument[];
  /** Exchange-native symbols this feed actually streams. */
  streamed: string[];
}

/** Events a plugin emits through its context. */
export type MarketEvent =
  | TradeEvent
  | QuoteEvent
  | KlineEvent
  | BookUpdate
  | GapEvent
  | InstrumentsEvent;

/** Connection state of one feed. */
export type FeedState =
  | "connecting"
  | "connected"
  | "reconnecting"
  | "stale"
  | "stopped"
  | "failed";

/** A feed state change as a plugin reports it. */
export interface FeedStatusUpdate {
  state: FeedState;
  /** Human-readable reason, e.g. `"serverShutdown"` or `"no data for 30000 ms"`. */
  reason?: string;
  /** True when the peer is a local emulator, not the real exchange. */
  emulator?: boolean;
}

/**
 * Order-book sync state of one symbol as a plugin reports it. After `resyncing`,
 * the core refuses updates until a snapshot arrives or the plugin reports
 * `synced` (continuity verified): report `synced` before the first update that
 * continues the held book.
 */
export interface BookStatusUpdate {
  symbol: string;
  state: "syncing" | "synced" | "resyncing";
  reason?: string;
}

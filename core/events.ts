/**
 * Normalized market events: the one shape every exchange plugin produces and
 * every client receives. Field names of `trade` follow the seed format exactly.
 * @module
 */

/**
 * Taker side of a trade.
 *
 * @example
 * ```ts
 * import type { Side } from "@quant-saas/gateway";
 *
 * const side: Side = "buy";
 * ```
 */
export type Side = "buy" | "sell";

/**
 * Data channels a client can subscribe to.
 *
 * @example
 * ```ts
 * import type { Channel } from "@quant-saas/gateway";
 *
 * const wanted: Channel[] = ["trade", "book"];
 * ```
 */
export type Channel = "trade" | "quote" | "kline" | "book";

/**
 * The channels, as a list (for validation).
 *
 * @example Validate a configured channel
 * ```ts
 * import { type Channel, CHANNELS } from "@quant-saas/gateway";
 *
 * const isChannel = (name: string): name is Channel => (CHANNELS as readonly string[]).includes(name);
 * isChannel("trade"); // true
 * ```
 */
export const CHANNELS: readonly Channel[] = ["trade", "quote", "kline", "book"];

/**
 * A price level: price and absolute quantity (0 removes the level).
 *
 * @example
 * ```ts
 * import type { Level } from "@quant-saas/gateway";
 *
 * const bid: Level = [67_000.5, 0.25];
 * ```
 */
export type Level = [price: number, quantity: number];

/**
 * Fields every data event carries.
 *
 * @example
 * ```ts
 * import type { EventBase } from "@quant-saas/gateway";
 *
 * const base: EventBase = {
 *   exchange: "myex",
 *   symbol: "BTC-USD",
 *   eventTime: 1_700_000_000_000,
 *   receiveTime: 1_700_000_000_004,
 * };
 * ```
 */
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

/**
 * One executed trade.
 *
 * @example
 * ```ts
 * import { isoTime, type TradeEvent } from "@quant-saas/gateway";
 *
 * const trade: TradeEvent = {
 *   type: "trade",
 *   exchange: "myex",
 *   symbol: "BTC-USD",
 *   price: 67_000.5,
 *   quantity: 0.01,
 *   timestamp: isoTime(1_700_000_000_000),
 *   tradeId: 42,
 *   side: "buy",
 *   eventTime: 1_700_000_000_000,
 *   receiveTime: 1_700_000_000_004,
 * };
 * ```
 */
export interface TradeEvent extends EventBase {
  /** Discriminant. */
  type: "trade";
  /** Trade price. */
  price: number;
  /** Traded base quantity. */
  quantity: number;
  /** Trade time, ISO 8601. */
  timestamp: string;
  /** Exchange trade id (consecutive per symbol on Binance). */
  tradeId: number | string;
  /** Taker side. */
  side: Side;
}

/**
 * Best bid and ask with quantities.
 *
 * @example
 * ```ts
 * import { isoTime, type QuoteEvent } from "@quant-saas/gateway";
 *
 * const quote: QuoteEvent = {
 *   type: "quote",
 *   exchange: "myex",
 *   symbol: "BTC-USD",
 *   bidPrice: 67_000,
 *   bidQuantity: 1.5,
 *   askPrice: 67_000.5,
 *   askQuantity: 0.2,
 *   timestamp: isoTime(1_700_000_000_000),
 *   eventTime: 1_700_000_000_000,
 *   receiveTime: 1_700_000_000_004,
 * };
 * ```
 */
export interface QuoteEvent extends EventBase {
  /** Discriminant. */
  type: "quote";
  /** Best bid price. */
  bidPrice: number;
  /** Quantity at the best bid. */
  bidQuantity: number;
  /** Best ask price. */
  askPrice: number;
  /** Quantity at the best ask. */
  askQuantity: number;
  /** Quote time, ISO 8601. */
  timestamp: string;
  /** Exchange order-book update id, where the exchange has one. */
  updateId?: number;
  /**
   * Option and derivative analytics from the exchange's ticker (Deribit `ticker.{instrument}`):
   * absent on spot quotes. Implied volatilities are in percent, as Deribit sends them.
   */
  option?: QuoteOptionFields;
}

/**
 * What a derivatives ticker adds to a quote (Deribit `ticker.{instrument}.{interval}` fields).
 * Every field is optional: a future has a mark price and open interest but no greeks.
 *
 * @example An option's ticker fields
 * ```ts
 * import type { QuoteOptionFields } from "@quant-saas/gateway";
 *
 * const fields: QuoteOptionFields = {
 *   markPrice: 0.0415, // premium in BTC (inverse option)
 *   markIv: 52.3,      // percent
 *   underlyingPrice: 101_250,
 *   underlyingIndex: "BTC-27DEC26",
 *   indexPrice: 100_980,
 *   interestRate: 0,
 *   greeks: { delta: 0.52, gamma: 0.00002, vega: 120.5, theta: -85.1, rho: 30.2 },
 *   openInterest: 1250,
 * };
 * ```
 */
export interface QuoteOptionFields {
  /** Mark price (options: premium in the settlement coin for inverse options). */
  markPrice?: number;
  /** Mark implied volatility, percent (e.g. 52.3). */
  markIv?: number;
  /** Implied volatility of the best bid, percent. */
  bidIv?: number;
  /** Implied volatility of the best ask, percent. */
  askIv?: number;
  /** Price of the underlying the IV is computed against (Deribit: the matching future, or `SYN.` synthetic). */
  underlyingPrice?: number;
  /** Name of that underlying (an instrument, `SYN.BTC-…`, or `index_price`). */
  underlyingIndex?: string;
  /** The exchange's index price (Deribit `btc_usd`, `eth_usd`). */
  indexPrice?: number;
  /** Interest rate the exchange uses in its pricing, as it sends it. */
  interestRate?: number;
  /** The exchange's greeks (Deribit: vega and rho per 1 % change, theta per day, in USD). */
  greeks?: { delta: number; gamma: number; vega: number; theta: number; rho: number };
  /** Open interest (Deribit: contracts for options, USD for futures). */
  openInterest?: number;
}

/**
 * One candle (OHLCV).
 *
 * @example
 * ```ts
 * import { isoTime, type KlineEvent } from "@quant-saas/gateway";
 *
 * const candle: KlineEvent = {
 *   type: "kline",
 *   exchange: "myex",
 *   symbol: "BTC-USD",
 *   interval: "1m",
 *   openTime: 1_700_000_040_000,
 *   closeTime: 1_700_000_099_999,
 *   open: 67_000,
 *   high: 67_010,
 *   low: 66_990,
 *   close: 67_005,
 *   volume: 3.2,
 *   quoteVolume: 214_410,
 *   trades: 120,
 *   closed: false,
 *   timestamp: isoTime(1_700_000_050_000),
 *   eventTime: 1_700_000_050_000,
 *   receiveTime: 1_700_000_050_003,
 * };
 * ```
 */
export interface KlineEvent extends EventBase {
  /** Discriminant. */
  type: "kline";
  /** Interval, Binance notation: `1m`, `5m`, `1h`, ... */
  interval: string;
  /** Start of the candle, epoch ms. */
  openTime: number;
  /** Last millisecond of the candle, epoch ms. */
  closeTime: number;
  /** First trade price. */
  open: number;
  /** Highest trade price. */
  high: number;
  /** Lowest trade price. */
  low: number;
  /** Last trade price. */
  close: number;
  /** Base volume. */
  volume: number;
  /** Quote volume. */
  quoteVolume: number;
  /** Number of trades. */
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
 *
 * @example A snapshot of two levels per side
 * ```ts
 * import { type BookUpdate, isoTime } from "@quant-saas/gateway";
 *
 * const snapshot: BookUpdate = {
 *   type: "book",
 *   exchange: "myex",
 *   symbol: "BTC-USD",
 *   snapshot: true,
 *   bids: [[67_000, 1.5], [66_999.5, 2]],
 *   asks: [[67_000.5, 0.2], [67_001, 3]],
 *   timestamp: isoTime(1_700_000_000_000),
 *   eventTime: 1_700_000_000_000,
 *   receiveTime: 1_700_000_000_004,
 * };
 * ```
 */
export interface BookUpdate extends EventBase {
  /** Discriminant. */
  type: "book";
  /** True when the update replaces the whole book. */
  snapshot: boolean;
  /** Bid levels (absolute quantities). */
  bids: Level[];
  /** Ask levels (absolute quantities). */
  asks: Level[];
  /** Exchange update id of the last change included (Binance `u`). */
  updateId?: number;
  /** Exchange update id of the first change included (Binance `U`). */
  firstUpdateId?: number;
  /** Event time, ISO 8601. */
  timestamp: string;
}

/**
 * Trades that were missed and could not be backfilled, reported instead of hidden.
 *
 * @example
 * ```ts
 * import type { GapEvent } from "@quant-saas/gateway";
 *
 * const gap: GapEvent = {
 *   type: "gap",
 *   exchange: "myex",
 *   symbol: "BTC-USD",
 *   channel: "trade",
 *   fromId: 1001,
 *   toId: 1004,
 *   reason: "connection lost; backfill unavailable",
 *   receiveTime: 1_700_000_000_004,
 * };
 * ```
 */
export interface GapEvent {
  /** Discriminant. */
  type: "gap";
  /** Exchange id. */
  exchange: string;
  /** Exchange-native symbol. */
  symbol: string;
  /** The channel that has the gap. */
  channel: "trade";
  /** First missing trade id (inclusive). */
  fromId: number;
  /** Last missing trade id (inclusive). */
  toId: number;
  /** Why the trades are missing. */
  reason: string;
  /** When the gap was noticed, epoch ms. */
  receiveTime: number;
}

/**
 * One instrument an exchange lists, from its own metadata.
 *
 * @example
 * ```ts
 * import { type Instrument, unifiedName } from "@quant-saas/gateway";
 *
 * const btcusd: Instrument = {
 *   symbol: "BTC-USD",
 *   base: "BTC",
 *   quote: "USD",
 *   unified: unifiedName("BTC", "USD"),
 *   pricePrecision: 2,
 *   tickSize: 0.01,
 *   stepSize: 0.00000001,
 *   minQuantity: 0.00000001,
 *   maxQuantity: 3400,
 *   minNotional: 1,
 * };
 * ```
 */
export interface Instrument {
  /** Exchange-native symbol. */
  symbol: string;
  /** Base asset, e.g. `"BTC"`. */
  base: string;
  /** Quote asset, e.g. `"USD"`. */
  quote: string;
  /**
   * Unified name: `BASE/QUOTE` for spot; for derivatives (`kind` set and not `spot`) the
   * exchange's own name, e.g. Deribit's `BTC-27DEC26-100000-C`.
   */
  unified: string;
  /** Price decimals, where known. */
  pricePrecision?: number;
  /** Quantity decimals, where known. */
  quantityPrecision?: number;
  /**
   * Price increment: an order price must be a multiple of it. Binance
   * `PRICE_FILTER.tickSize`; Coinbase `price_increment` (else `quote_increment`);
   * Kraken `price_increment` (else the deprecated `tick_size`). Absent when the
   * exchange does not say, or says something that is not a positive number.
   */
  tickSize?: number;
  /**
   * Quantity increment: an order quantity must be a multiple of it. Binance
   * `LOT_SIZE.stepSize`; Coinbase `base_increment`; Kraken `qty_increment`
   * (10^-`lot_decimals` in REST `AssetPairs`).
   */
  stepSize?: number;
  /**
   * Smallest order quantity, in base units. Binance `LOT_SIZE.minQty`; Coinbase
   * `base_min_size`; Kraken `qty_min` (REST `ordermin`).
   */
  minQuantity?: number;
  /**
   * Largest order quantity, in base units. Binance `LOT_SIZE.maxQty`; Coinbase
   * `base_max_size`; Kraken lists none.
   */
  maxQuantity?: number;
  /**
   * Smallest order value (price × quantity), in quote units. Binance
   * `NOTIONAL.minNotional` (else the legacy `MIN_NOTIONAL.minNotional`);
   * Coinbase `quote_min_size` (Exchange API: `min_market_funds`); Kraken
   * `cost_min` (REST `costmin`).
   */
  minNotional?: number;
  /** What the instrument is; absent means spot. */
  kind?: "spot" | "future" | "perpetual" | "option";
  /**
   * The unit of this instrument's quantities (trades, book levels, `minQuantity`) when it is
   * not the base asset: Deribit inverse futures and perpetuals count `USD`, options count
   * contracts of `option.contractSize` coins. Absent means base units.
   */
  quantityUnit?: string;
  /** The option contract, for options only. */
  option?: OptionContract;
}

/**
 * The contract terms of an option instrument.
 *
 * @example Deribit's BTC-27DEC26-100000-C
 * ```ts
 * import type { OptionContract } from "@quant-saas/gateway";
 *
 * const terms: OptionContract = {
 *   underlying: "BTC",
 *   expiry: Date.UTC(2026, 11, 27, 8), // 08:00 UTC
 *   strike: 100_000,
 *   type: "call",
 *   contractSize: 1,
 *   settlement: "BTC",
 *   inverse: true,
 * };
 * ```
 */
export interface OptionContract {
  /** Underlying asset, e.g. `"BTC"`. */
  underlying: string;
  /** Expiration, epoch ms (08:00 UTC on Deribit). */
  expiry: number;
  /** Strike price, in the quote currency of the underlying (USD on Deribit). */
  strike: number;
  /** Call or put. */
  type: "call" | "put";
  /** Underlying units per contract (1 BTC on Deribit). */
  contractSize: number;
  /** Settlement currency: `"BTC"` (inverse) or `"USDC"` (linear) on Deribit. */
  settlement: string;
  /** True when the premium is quoted in the underlying coin (inverse option). */
  inverse: boolean;
}

/**
 * The instruments a plugin found at start-up.
 *
 * @example Report the listed instruments and the ones streamed
 * ```ts
 * import { type Instrument, type InstrumentsEvent, matchSymbols } from "@quant-saas/gateway";
 *
 * const instruments: Instrument[] = [{ symbol: "BTC-USD", base: "BTC", quote: "USD", unified: "BTC/USD" }];
 * const event: InstrumentsEvent = {
 *   type: "instruments",
 *   exchange: "myex",
 *   instruments,
 *   streamed: matchSymbols(["BTC/USD"], instruments).streamed,
 * };
 * ```
 */
export interface InstrumentsEvent {
  /** Discriminant. */
  type: "instruments";
  /** Exchange id. */
  exchange: string;
  /** Every instrument the exchange lists. */
  instruments: Instrument[];
  /** Exchange-native symbols this feed actually streams. */
  streamed: string[];
}

/**
 * Events a plugin emits through its context.
 *
 * @example
 * ```ts
 * import type { MarketEvent } from "@quant-saas/gateway";
 *
 * const symbolOf = (event: MarketEvent): string | undefined =>
 *   event.type === "instruments" ? undefined : event.symbol;
 * ```
 */
export type MarketEvent =
  | TradeEvent
  | QuoteEvent
  | KlineEvent
  | BookUpdate
  | GapEvent
  | InstrumentsEvent;

/**
 * Connection state of one feed.
 *
 * @example
 * ```ts
 * import type { FeedState } from "@quant-saas/gateway";
 *
 * const healthy = (state: FeedState): boolean => state === "connected";
 * ```
 */
export type FeedState =
  | "connecting"
  | "connected"
  | "reconnecting"
  | "stale"
  | "stopped"
  | "failed";

/**
 * A feed state change as a plugin reports it.
 *
 * @example
 * ```ts
 * import type { FeedStatusUpdate } from "@quant-saas/gateway";
 *
 * const update: FeedStatusUpdate = { state: "stale", reason: "no data for 30000 ms" };
 * ```
 */
export interface FeedStatusUpdate {
  /** The new state. */
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
 *
 * @example
 * ```ts
 * import type { BookStatusUpdate } from "@quant-saas/gateway";
 *
 * const update: BookStatusUpdate = { symbol: "BTC-USD", state: "resyncing", reason: "sequence gap" };
 * ```
 */
export interface BookStatusUpdate {
  /** Exchange-native symbol. */
  symbol: string;
  /** Sync state of the symbol's book. */
  state: "syncing" | "synced" | "resyncing";
  /** Why the state changed. */
  reason?: string;
}

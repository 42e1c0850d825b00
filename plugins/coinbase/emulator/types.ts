/**
 * Public surface of the Coinbase Advanced Trade emulator: a local server
 * speaking Coinbase's public market-data WebSocket and REST protocol over a
 * synthetic market, with switchable faults.
 * @module
 */
import type { ReceivedMessage } from "./connection.ts";

export type { ReceivedMessage } from "./connection.ts";

/** Options for {@link startCoinbaseEmulator}. Every field has a default. */
export interface CoinbaseEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Products listed. Default BTC-USD ETH-USD SOL-USD BTC-USDT ETH-USDT. */
  products?: string[];
  /** PRNG seed, so a run can be repeated. Default 1. */
  seed?: number;
  /** Market tick in ms. Default 50. */
  tickMs?: number;
  /** Mean trades per product per second. Default 6. */
  tradesPerSecond?: number;
  /** Levels per side of the emulated book. Default 150. */
  bookLevels?: number;
  /** `l2_data` update batching window, ms. Default 50. */
  level2BatchMs?: number;
  /** `market_trades` batching window, ms (Coinbase: 250). */
  tradeBatchMs?: number;
  /** Interval of candle updates, ms (Coinbase: 1000). */
  candleIntervalMs?: number;
  /** Interval of heartbeats, ms (Coinbase: 1000). */
  heartbeatIntervalMs?: number;
  /** `heartbeat_counter` as a string (docs, default) or an integer (seen in captures). */
  heartbeatCounter?: "string" | "number";
  /** Close a connection that has not subscribed after this long (Coinbase: 5000). */
  subscribeDeadlineMs?: number;
  /** Close a connection whose channel sent nothing for this long, unless `heartbeats` is subscribed (Coinbase: 60–90 s; default 60 s plus a seeded 0–30 s). */
  idleCloseMs?: number;
  /** Incoming messages per second per connection before disconnect (Coinbase: 8). */
  maxMessagesPerSecond?: number;
  /** Trades in a `market_trades` snapshot. Default 50. */
  tradeSnapshotSize?: number;
  /** Start generating the market at once (default true); see `pause`/`resume`/`tick`. */
  autoStart?: boolean;
}

/** A price level as Coinbase prints it: decimal strings. */
export type WireLevel = [price: string, size: string];

/** The emulator's own full book of one product, for exact comparison. */
export interface EmulatorBook {
  /** Best first. */
  bids: WireLevel[];
  /** Best first. */
  asks: WireLevel[];
}

/** One emulated trade as sent (`side` is the maker's side) plus the taker side. */
export interface EmulatorTrade {
  trade_id: string;
  product_id: string;
  price: string;
  size: string;
  side: string;
  time: string;
  takerSide: "buy" | "sell";
}

/** Switchable faults. Each affects what happens from the call on. */
export interface CoinbaseFaults {
  /** Drops every open WebSocket; `abrupt: true` destroys the TCP socket without a close frame. */
  dropConnections(opts?: { abrupt?: boolean }): void;
  /** Refuses new WebSocket connections (HTTP 503 on upgrade) for `ms`. */
  refuseConnections(ms: number): void;
  /** On every connection, swallows the next `l2_data` message (any message without level2): a gap in `sequence_num`. */
  skipSequence(): void;
  /** Sends `count` malformed frames on every connection (default 7, one of each kind). */
  sendMalformed(count?: number): void;
  /** Holds back every outgoing message (heartbeats included) for `ms`, then delivers them. */
  silence(ms: number): void;
  /** Clears every fault (held messages are delivered). */
  reset(): void;
}

/** A running emulator. */
export interface CoinbaseEmulator {
  readonly port: number;
  /** `ws://127.0.0.1:<port>`: pass as COINBASE_WS_URL. */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>`: pass as COINBASE_REST_URL. */
  readonly restUrl: string;
  readonly faults: CoinbaseFaults;
  /** Stops market generation (connections stay open; pending batches still go out). */
  pause(): void;
  /** Restarts market generation. */
  resume(): void;
  /** Runs `n` market ticks synchronously and sends everything they produce. */
  tick(n?: number): void;
  /** The emulator's current full book of `productId`. */
  book(productId: string): EmulatorBook;
  /** Id of the last trade of `productId` (ids are consecutive). */
  lastTradeId(productId: string): number;
  /** The last `n` trades of `productId`, oldest first. */
  trades(productId: string, n?: number): EmulatorTrade[];
  /** Open WebSocket connections now. */
  connectionCount(): number;
  /** WebSocket connections accepted since start. */
  totalConnections(): number;
  /** Subscriptions of every open connection, as the acks list them. */
  subscriptions(): Record<string, string[]>[];
  /** Every message clients sent, oldest first (the last 10 000). */
  received(): ReceivedMessage[];
  /** Stops everything and frees the port. */
  close(): Promise<void>;
}

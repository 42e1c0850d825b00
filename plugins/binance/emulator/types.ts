/**
 * Public surface of the Binance emulator: a local server speaking Binance Spot's
 * public WebSocket and REST protocol over a synthetic market, with switchable faults.
 * @module
 */

/** Options for {@link startBinanceEmulator}. Every field has a default. */
export interface BinanceEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Symbols listed (uppercase). Default BTCUSDT ETHUSDT SOLUSDT ADAUSDT. */
  symbols?: string[];
  /** PRNG seed, so a run can be repeated. Default 1. */
  seed?: number;
  /** Market tick in ms (trades, book changes). Default 50. */
  tickMs?: number;
  /** Mean trades per symbol per second. Default 8. */
  tradesPerSecond?: number;
  /** Ping interval in ms (Binance: 20000). */
  pingIntervalMs?: number;
  /** Close when no pong for this long (Binance: 60000). */
  pongTimeoutMs?: number;
  /** Connection lifetime before `serverShutdown` and close (Binance: 24 h). */
  maxConnectionMs?: number;
  /** Incoming messages per second per connection before disconnect (Binance: 5). */
  maxMessagesPerSecond?: number;
  /** Streams per connection (Binance: 1024). */
  maxStreams?: number;
  /** REST request weight per minute (Binance: 6000). */
  maxWeightPerMinute?: number;
  /** Levels per side kept in the emulated book. Default 300. */
  bookLevels?: number;
  /** Trades kept for REST backfill per symbol. Default 20000. */
  tradeHistory?: number;
  /** Start generating the market at once (default true); see `pause`/`resume`/`tick`. */
  autoStart?: boolean;
  /**
   * Benchmarks: name of an extra field added to every `@trade` payload, holding the
   * send time in µs since the epoch (`performance.timeOrigin + performance.now()`),
   * e.g. `"benchTs"` → `{"e":"trade",...,"M":true,"benchTs":1795605169111847}`.
   * Off (undefined or empty) by default: frames are then exactly Binance's.
   */
  stampField?: string;
  /**
   * Benchmarks only: additional synthetic trades per second across all symbols
   * (round-robin), evenly paced by a 1 ms timer with catch-up, generated without the
   * market model (no book sweep, no aggTrade, no kline update; ids stay consecutive
   * and REST `historicalTrades` serves them). 0 (default) turns it off. Combine with
   * `tradesPerSecond: 0` for a pure, burst-free trade stream. Setting it (even to 0)
   * also enables `POST /_bench/rate?tradesPerSecond=N`; see `setBenchRate`.
   */
  benchTradesPerSecond?: number;
}

/** A price level as Binance sends it: decimal strings. */
export type WireLevel = [price: string, quantity: string];

/** The emulator's own full book for one symbol, for tests to compare against. */
export interface EmulatorBook {
  lastUpdateId: number;
  /** Best first. */
  bids: WireLevel[];
  /** Best first. */
  asks: WireLevel[];
}

/** Switchable faults. Each affects what happens from the call on. */
export interface BinanceFaults {
  /** Drops every open WebSocket; `abrupt: true` destroys the TCP socket without a close frame. */
  dropConnections(opts?: { abrupt?: boolean }): void;
  /** Refuses new WebSocket connections (HTTP 503 on upgrade) for `ms`. */
  refuseConnections(ms: number): void;
  /** Swallows the next diff-depth event of `symbol` (a gap in U/u). */
  skipDepthEvent(symbol: string): void;
  /** Sends the next two diff-depth events of `symbol` in swapped order. */
  reorderDepthEvents(symbol: string): void;
  /** Sends the next diff-depth event of `symbol` twice. */
  duplicateDepthEvent(symbol: string): void;
  /** Sends `count` malformed frames on every connection (bad JSON, wrong types, NaN, negative qty, price 0, unknown symbol). */
  sendMalformed(count?: number): void;
  /** The next `count` depth snapshots of `symbol` are older than the events already streamed. */
  staleSnapshot(symbol: string, count?: number): void;
  /** The next `count` REST requests answer `status` (429 or 418) with `Retry-After: retryAfterSec`. */
  rateLimit(opts: { status?: 429 | 418; retryAfterSec: number; count?: number }): void;
  /** Sends `serverShutdown` on every connection, then closes them after `closeAfterMs` (default 1000). */
  serverShutdown(closeAfterMs?: number): void;
  /** Stops sending data frames (pings continue, connections stay open) for `ms`. */
  silence(ms: number): void;
  /** Drops one trade of `symbol` from the live stream (still served by REST backfill). */
  skipTrade(symbol: string): void;
  /** Forgets REST trade history below the current trade id, so backfill of older ids is impossible. */
  forgetTradeHistory(symbol: string): void;
  /** Clears every fault. */
  reset(): void;
}

/** A running emulator. */
export interface BinanceEmulator {
  readonly port: number;
  /** `ws://127.0.0.1:<port>`: pass as BINANCE_WS_URL. */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>`: pass as BINANCE_REST_URL. */
  readonly restUrl: string;
  readonly faults: BinanceFaults;
  /** Stops market generation (connections stay open). */
  pause(): void;
  /** Restarts market generation. */
  resume(): void;
  /** Runs `n` market ticks synchronously and sends what they produce. */
  tick(n?: number): void;
  /** The emulator's current full book for `symbol`. */
  book(symbol: string): EmulatorBook;
  /** Id of the last trade generated for `symbol` (ids are consecutive from 1 upward). */
  lastTradeId(symbol: string): number;
  /**
   * Benchmarks: changes the bench trade rate (trades per second across all symbols,
   * 0 stops them); pacing restarts from now. When started with `benchTradesPerSecond`
   * the emulator also answers `POST /_bench/rate?tradesPerSecond=N` (other processes).
   */
  setBenchRate(tradesPerSecond: number): void;
  /** Open WebSocket connections now. */
  connectionCount(): number;
  /** WebSocket connections accepted since start. */
  totalConnections(): number;
  /** Streams currently subscribed, per open connection. */
  subscriptions(): string[][];
  /** Stops everything and frees the port. */
  close(): Promise<void>;
}

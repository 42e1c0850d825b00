/**
 * Public surface of the Kraken emulator: a local server speaking Kraken's
 * Spot WebSocket v2 protocol over a seeded synthetic market, with switchable faults.
 * @module
 */
import type { Level } from "../../../mod.ts";

/** Options for `startKrakenEmulator`. Every field has a default. */
export interface KrakenEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Pairs listed; default BTC/USD ETH/USD SOL/USD BTC/USDT ETH/USDT ADA/USD (unknown names are ignored). */
  symbols?: string[];
  /** PRNG seed, so a run can be repeated. Default 1. */
  seed?: number;
  /** Market tick in ms. Default 50. */
  tickMs?: number;
  /** Mean taker orders per pair per second. Default 8. */
  tradesPerSecond?: number;
  /** Heartbeat interval once subscribed (Kraken: ~1 s). */
  heartbeatMs?: number;
  /** Close a connection after this long without a client message (Kraken: ~60 s). */
  idleTimeoutMs?: number;
  /** Levels per side kept in the emulated book (at least 1000, the deepest subscription). Default 1100. */
  bookLevels?: number;
  /** Start generating the market at once (default true); see `pause`/`resume`/`tick`. */
  autoStart?: boolean;
}

/** The emulator's book of one pair at some depth, as a client parses it: numbers, best first. */
export interface EmulatorBook {
  bids: Level[];
  asks: Level[];
  /** Kraken checksum of this book. */
  checksum: number;
}

/** Switchable faults. Each affects what happens from the call on. */
export interface KrakenFaults {
  /** Drops every open WebSocket; `abrupt: true` destroys the TCP socket without a close frame. */
  dropConnections(opts?: { abrupt?: boolean }): void;
  /** Refuses new WebSocket connections (HTTP 503 on upgrade) for `ms`. */
  refuseConnections(ms: number): void;
  /** The next book message (snapshot or update) of `symbol` carries a wrong checksum. */
  corruptChecksum(symbol: string): void;
  /** Sends `count` malformed frames on every connection. */
  sendMalformed(count?: number): void;
  /** Withholds every outgoing frame (data, heartbeats, pongs, acks) for `ms`. */
  silence(ms: number): void;
  /**
   * Engine maintenance for `ms`: `status` `maintenance` on every connection, no
   * market data; with `disconnect`, connections are closed and new ones refused
   * meanwhile. Then `status` `online` and the market resumes.
   */
  maintenance(ms: number, opts?: { disconnect?: boolean }): void;
  /** Clears every fault (an ongoing maintenance ends at once). */
  reset(): void;
}

/** A running emulator. */
export interface KrakenEmulator {
  readonly port: number;
  /** `ws://127.0.0.1:<port>/v2`: pass as KRAKEN_WS_URL. */
  readonly wsUrl: string;
  readonly faults: KrakenFaults;
  /** Stops market generation (connections stay open, heartbeats go on). */
  pause(): void;
  /** Restarts market generation. */
  resume(): void;
  /** Runs `n` market ticks synchronously and sends what they produce. */
  tick(n?: number): void;
  /** The book of `symbol` truncated to `depth` levels per side. */
  book(symbol: string, depth: number): EmulatorBook;
  /** Id of the last trade of `symbol` (ids are consecutive from 1). */
  lastTradeId(symbol: string): number;
  /** Open WebSocket connections now. */
  connectionCount(): number;
  /** WebSocket connections accepted since start. */
  totalConnections(): number;
  /** Subscriptions per open connection, e.g. `book:BTC/USD@100`, `trade:BTC/USD`. */
  subscriptions(): string[][];
  /** Stops everything and frees the port. */
  close(): Promise<void>;
}

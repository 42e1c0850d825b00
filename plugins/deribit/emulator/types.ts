/**
 * Public surface of the Deribit emulator: a local server speaking Deribit's JSON-RPC 2.0
 * WebSocket API (v2, public methods) over a seeded BTC and ETH option chain, with faults.
 * @module
 */

/** A credit limit: cost per request, pool, refill per second. */
export interface EmulatorCreditLimit {
  cost: number;
  max: number;
  refillPerSec: number;
}

/** Options for `startDeribitEmulator`. Every field has a default. */
export interface DeribitEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** PRNG seed, so a run can be repeated. Default 1. */
  seed?: number;
  /** Market tick in ms (the book and ticker channels aggregate per 100 ms on Deribit). Default 100. */
  tickMs?: number;
  /** Mean trades per currency per second. Default 10. */
  tradesPerSecond?: number;
  /** Option strikes each side of the forward, per expiry. Default 6. */
  strikesEachSide?: number;
  /** Least `public/set_heartbeat` interval accepted, seconds (Deribit: 10). Default 10. */
  minHeartbeatSec?: number;
  /** Speed-up of the index walk. Default 20. */
  volBoost?: number;
  /** Deribit's limits for ordinary requests (default 500 / 50 000 / 10 000 a second). */
  credits?: EmulatorCreditLimit;
  /** ... and for `public/subscribe` / `public/unsubscribe` (default 3 000 / 30 000 / 10 000). */
  subscribeCredits?: EmulatorCreditLimit;
  /** Start generating the market at once (default true); see `pause`/`resume`/`tick`. */
  autoStart?: boolean;
  /** Wall clock of the market start (default `Date.now()`). */
  startTime?: number;
}

/** Switchable faults. Each affects what happens from the call on. */
export interface DeribitFaults {
  /** Closes every open WebSocket; `abrupt: true` destroys the TCP socket without a close frame. */
  dropConnections(opts?: { abrupt?: boolean }): void;
  /** The next book change of `instrument` is lost: the following one's `prev_change_id` breaks continuity. */
  dropBookChange(instrument: string): void;
  /** Sends `count` malformed frames on every connection. */
  sendMalformed(count?: number): void;
  /** Withholds every outgoing frame (data, heartbeats, answers) for `ms`. */
  silence(ms: number): void;
  /** Refuses new WebSocket connections (HTTP 503 on upgrade) for `ms`. */
  refuseConnections(ms: number): void;
  /** Clears every fault. */
  reset(): void;
}

/** One request a client made, as the emulator saw it. */
export interface RequestRecord {
  connection: number;
  method: string;
  at: number;
  /** Channels of a subscribe / unsubscribe. */
  channels?: number;
}

/** A running emulator. */
export interface DeribitEmulator {
  readonly port: number;
  /** `ws://127.0.0.1:<port>/ws/api/v2`: pass as DERIBIT_WS_URL. */
  readonly wsUrl: string;
  readonly faults: DeribitFaults;
  pause(): void;
  resume(): void;
  /** Runs `n` market ticks synchronously and sends what they produce. */
  tick(n?: number): void;
  /** Every listed instrument name. */
  instruments(): string[];
  /** The book of `instrument`: levels best first, amounts as sent. */
  book(
    instrument: string,
  ): { bids: [number, number][]; asks: [number, number][]; changeId: number };
  /** The `ticker` data of `instrument` now. */
  ticker(instrument: string): Record<string, unknown>;
  /** Index price of `BTC` / `ETH`. */
  index(currency: string): number;
  /** Open WebSocket connections now. */
  connectionCount(): number;
  /** WebSocket connections accepted since start. */
  totalConnections(): number;
  /** Subscribed channels per open connection. */
  subscriptions(): string[][];
  /** Every request received, in order. */
  requests(): RequestRecord[];
  /** `test_request`s sent and answered, and connections closed for not answering one. */
  heartbeats(): { sent: number; answered: number; closedUnanswered: number };
  /** Requests refused with `too_many_requests` (10028). */
  rateLimited(): number;
  close(): Promise<void>;
}

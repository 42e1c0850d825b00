/**
 * Fault switches: the state behind {@link BinanceFaults} and the queries the
 * server, publisher and REST handler make against it.
 * @module
 */
import type { DepthSpeed } from "./streams.ts";
import type { BinanceFaults } from "./types.ts";

/** Pending diff-depth faults of one symbol on one depth stream speed. */
export interface DepthFaults {
  skip: number;
  duplicate: number;
  reorder: number;
  /** An event held back to be sent after the next one (reorder). */
  held?: () => void;
}

/** A forced REST status. */
export interface ForcedStatus {
  status: 429 | 418;
  retryAfterSec: number;
}

/** Fault state as the emulator's parts read and consume it. */
export interface FaultState {
  /** True while new WebSocket connections are refused. */
  refusing(now: number): boolean;
  /** True while data frames are withheld. */
  silenced(now: number): boolean;
  /** The depth faults of `symbol` at `speed` (created empty on first use). */
  depth(symbol: string, speed: DepthSpeed): DepthFaults;
  /** Consumes one stale-snapshot fault of `symbol`; true if the snapshot must be stale. */
  takeStaleSnapshot(symbol: string): boolean;
  /** Consumes one forced REST status, if any is pending. */
  takeForcedStatus(): ForcedStatus | undefined;
}

/** What the faults act on. */
export interface FaultTargets {
  dropConnections(abrupt: boolean): void;
  serverShutdown(closeAfterMs: number): void;
  sendMalformed(count: number): void;
  skipTrade(symbol: string): void;
  forgetTradeHistory(symbol: string): void;
  /** Clears trade skips and forgotten history. */
  resetTrades(): void;
  /** Flushes depth events held back by a reorder fault. */
  releaseHeld(): void;
}

/** Creates the fault switches (`faults`) and their state (`state`). */
export function createFaults(
  targets: FaultTargets,
  now: () => number = Date.now,
): { faults: BinanceFaults; state: FaultState } {
  let refuseUntil = 0;
  let silentUntil = 0;
  const depth = new Map<string, DepthFaults>();
  const stale = new Map<string, number>();
  let forced: (ForcedStatus & { count: number }) | undefined;

  const depthOf = (symbol: string, speed: DepthSpeed): DepthFaults => {
    const key = `${symbol}|${speed}`;
    let f = depth.get(key);
    if (!f) depth.set(key, f = { skip: 0, duplicate: 0, reorder: 0 });
    return f;
  };
  const bothSpeeds = (symbol: string, apply: (f: DepthFaults) => void): void => {
    apply(depthOf(symbol.toUpperCase(), 100));
    apply(depthOf(symbol.toUpperCase(), 1000));
  };

  const state: FaultState = {
    refusing: (t) => t < refuseUntil,
    silenced: (t) => t < silentUntil,
    depth: depthOf,
    takeStaleSnapshot(symbol) {
      const n = stale.get(symbol) ?? 0;
      if (n <= 0) return false;
      stale.set(symbol, n - 1);
      return true;
    },
    takeForcedStatus() {
      if (!forced || forced.count <= 0) return undefined;
      forced.count--;
      return { status: forced.status, retryAfterSec: forced.retryAfterSec };
    },
  };

  const faults: BinanceFaults = {
    dropConnections: (opts) => targets.dropConnections(opts?.abrupt ?? false),
    refuseConnections(ms) {
      refuseUntil = now() + ms;
    },
    skipDepthEvent: (symbol) => bothSpeeds(symbol, (f) => f.skip++),
    reorderDepthEvents: (symbol) => bothSpeeds(symbol, (f) => f.reorder++),
    duplicateDepthEvent: (symbol) => bothSpeeds(symbol, (f) => f.duplicate++),
    sendMalformed: (count = 6) => targets.sendMalformed(count),
    staleSnapshot(symbol, count = 1) {
      const key = symbol.toUpperCase();
      stale.set(key, (stale.get(key) ?? 0) + count);
    },
    rateLimit(opts) {
      forced = {
        status: opts.status ?? 429,
        retryAfterSec: opts.retryAfterSec,
        count: opts.count ?? 1,
      };
    },
    serverShutdown: (closeAfterMs = 1000) => targets.serverShutdown(closeAfterMs),
    silence(ms) {
      silentUntil = now() + ms;
    },
    skipTrade: (symbol) => targets.skipTrade(symbol.toUpperCase()),
    forgetTradeHistory: (symbol) => targets.forgetTradeHistory(symbol.toUpperCase()),
    reset() {
      refuseUntil = 0;
      silentUntil = 0;
      stale.clear();
      forced = undefined;
      for (const f of depth.values()) {
        f.skip = f.duplicate = f.reorder = 0;
      }
      targets.releaseHeld();
      targets.resetTrades();
    },
  };
  return { faults, state };
}

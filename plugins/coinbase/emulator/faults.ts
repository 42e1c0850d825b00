/**
 * Fault switches: the state behind {@link CoinbaseFaults} and the queries the
 * server and connections make against it.
 * @module
 */
import type { CoinbaseFaults } from "./types.ts";

/** Fault state as the emulator's parts read it. */
export interface FaultState {
  /** True while new WebSocket connections are refused. */
  refusing(now: number): boolean;
  /** True while outgoing messages are held back. */
  silenced(now: number): boolean;
}

/** What the faults act on. */
export interface FaultTargets {
  dropConnections(abrupt: boolean): void;
  skipSequence(): void;
  sendMalformed(count: number): void;
  /** Delivers messages held back by `silence`. */
  releaseHeld(): void;
}

/** Creates the fault switches (`faults`) and their state (`state`). */
export function createFaults(
  targets: FaultTargets,
  now: () => number = Date.now,
): { faults: CoinbaseFaults; state: FaultState } {
  let refuseUntil = 0;
  let silentUntil = 0;
  const state: FaultState = {
    refusing: (t) => t < refuseUntil,
    silenced: (t) => t < silentUntil,
  };
  const faults: CoinbaseFaults = {
    dropConnections: (opts) => targets.dropConnections(opts?.abrupt ?? false),
    refuseConnections(ms) {
      refuseUntil = now() + ms;
    },
    skipSequence: () => targets.skipSequence(),
    sendMalformed: (count = 7) => targets.sendMalformed(count),
    silence(ms) {
      silentUntil = now() + ms;
    },
    reset() {
      refuseUntil = 0;
      silentUntil = 0;
      targets.releaseHeld();
    },
  };
  return { faults, state };
}

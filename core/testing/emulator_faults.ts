/**
 * Fault switches for the conformance kit from an emulator that follows the shipped
 * emulators' shape (`faults.dropConnections/sendMalformed/silence`, `connectionCount()`).
 * @module
 */
import type { EmulatorFaults } from "../ingest/plugin_entry.ts";

/** The fault modes an emulator exposes in the shipped emulators' shape. */
export interface FaultingEmulator {
  /** The emulator's fault modes. */
  faults: {
    dropConnections(): void;
    sendMalformed(count?: number): void;
    silence(ms: number): void;
  };
  /** Open WebSocket connections now. */
  connectionCount(): number;
}

/**
 * The conformance kit's {@link EmulatorFaults} on an emulator's own fault modes.
 *
 * @example
 * ```ts
 * import { emulatorFaults, type FaultingEmulator } from "@quant-saas/gateway/testing";
 *
 * declare const emu: FaultingEmulator & { wsUrl: string; close(): Promise<void> };
 * const running = { env: { MYEX_WS_URL: emu.wsUrl }, faults: emulatorFaults(emu), close: emu.close };
 * ```
 */
export function emulatorFaults(emu: FaultingEmulator): EmulatorFaults {
  return {
    drop: () => emu.faults.dropConnections(),
    sendMalformed: (count) => emu.faults.sendMalformed(count),
    silence: (ms) => emu.faults.silence(ms),
    connections: () => emu.connectionCount(),
  };
}

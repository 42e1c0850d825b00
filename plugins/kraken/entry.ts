/**
 * Registration of the Kraken plugin: Worker and bundled emulator.
 * @module
 */
import type { EmulatorFaults, PluginEntry } from "../../mod.ts";
import { kraken } from "./mod.ts";

/** The Kraken entry of the plugin registry. */
export const krakenEntry: PluginEntry = {
  plugin: kraken,
  worker: new URL("./worker.ts", import.meta.url),
  async emulator() {
    const { startKrakenEmulator } = await import("./emulator/mod.ts");
    const emu = await startKrakenEmulator();
    return { env: { KRAKEN_WS_URL: emu.wsUrl }, faults: faultsOf(emu), close: () => emu.close() };
  },
};

/** The conformance kit's fault switches, on the emulator's own fault modes. */
const faultsOf = (emu: {
  faults: {
    dropConnections(): void;
    sendMalformed(count?: number): void;
    silence(ms: number): void;
  };
  connectionCount(): number;
}): EmulatorFaults => ({
  drop: () => emu.faults.dropConnections(),
  sendMalformed: (count) => emu.faults.sendMalformed(count),
  silence: (ms) => emu.faults.silence(ms),
  connections: () => emu.connectionCount(),
});

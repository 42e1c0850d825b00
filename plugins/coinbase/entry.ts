/**
 * Registration of the Coinbase plugin: Worker and bundled emulator.
 * @module
 */
import type { EmulatorFaults, PluginEntry } from "../../mod.ts";
import { coinbase } from "./mod.ts";

/** The Coinbase entry of the plugin registry. */
export const coinbaseEntry: PluginEntry = {
  plugin: coinbase,
  worker: new URL("./worker.ts", import.meta.url),
  async emulator() {
    // The emulator lists its default products; configured names are matched against them.
    const { startCoinbaseEmulator } = await import("./emulator/mod.ts");
    const emu = await startCoinbaseEmulator();
    return {
      env: { COINBASE_WS_URL: emu.wsUrl, COINBASE_REST_URL: emu.restUrl },
      faults: faultsOf(emu),
      close: () => emu.close(),
    };
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

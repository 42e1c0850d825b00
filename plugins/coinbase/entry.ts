/**
 * Registration of the Coinbase plugin: Worker and bundled emulator.
 * @module
 */
import { emulatorFaults } from "../../testing.ts";
import type { PluginEntry } from "../../mod.ts";
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
      faults: emulatorFaults(emu),
      close: () => emu.close(),
    };
  },
};

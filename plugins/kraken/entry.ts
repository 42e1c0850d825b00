/**
 * Registration of the Kraken plugin: Worker and bundled emulator.
 * @module
 */
import { emulatorFaults } from "../../testing.ts";
import type { PluginEntry } from "../../mod.ts";
import { kraken } from "./mod.ts";

/** The Kraken entry of the plugin registry. */
export const krakenEntry: PluginEntry = {
  plugin: kraken,
  worker: new URL("./worker.ts", import.meta.url),
  async emulator() {
    const { startKrakenEmulator } = await import("./emulator/mod.ts");
    const emu = await startKrakenEmulator();
    return {
      env: { KRAKEN_WS_URL: emu.wsUrl },
      faults: emulatorFaults(emu),
      close: () => emu.close(),
    };
  },
};

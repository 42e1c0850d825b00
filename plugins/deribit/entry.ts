/**
 * Registration of the Deribit plugin: Worker and bundled emulator.
 * @module
 */
import { emulatorFaults } from "../../testing.ts";
import type { PluginEntry } from "../../mod.ts";
import { deribit } from "./mod.ts";

/** The Deribit entry of the plugin registry. */
export const deribitEntry: PluginEntry = {
  plugin: deribit,
  worker: new URL("./worker.ts", import.meta.url),
  async emulator() {
    const { startDeribitEmulator } = await import("./emulator/mod.ts");
    const emu = await startDeribitEmulator();
    return {
      env: { DERIBIT_WS_URL: emu.wsUrl, DERIBIT_EMULATOR: "true" },
      faults: emulatorFaults(emu),
      close: () => emu.close(),
    };
  },
};

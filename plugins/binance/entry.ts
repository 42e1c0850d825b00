/**
 * Registration of the Binance plugin: Worker, bundled emulator, and the
 * Binance-compatible proxy under `/binance`.
 * @module
 */
import { emulatorFaults } from "../../testing.ts";
import type { PluginEntry } from "../../mod.ts";
import { binance, binanceConfigSchema } from "./mod.ts";
import { createBinanceProxy } from "./proxy/mod.ts";

/** The Binance entry of the plugin registry. */
export const binanceEntry: PluginEntry = {
  plugin: binance,
  worker: new URL("./worker.ts", import.meta.url),
  async emulator(symbols) {
    const { startBinanceEmulator } = await import("./emulator/mod.ts");
    const emu = await startBinanceEmulator({ symbols });
    return {
      env: { BINANCE_WS_URL: emu.wsUrl, BINANCE_REST_URL: emu.restUrl },
      faults: emulatorFaults(emu),
      close: () => emu.close(),
    };
  },
  extensions(env) {
    // The Binance-compatible proxy under /binance (off with BINANCE_PROXY=false).
    if (/^(false|0|off|no)$/i.test(env.BINANCE_PROXY ?? "")) return [];
    const { wsUrl, restUrl } = binanceConfigSchema.parse({
      wsUrl: env.BINANCE_WS_URL,
      restUrl: env.BINANCE_REST_URL,
    });
    return [createBinanceProxy({ wsUrl, restUrl })];
  },
};

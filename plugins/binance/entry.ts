/**
 * Registration of the Binance plugin: Worker, bundled emulator, and the
 * Binance-compatible proxy under `/binance`.
 * @module
 */
import type { EmulatorFaults, PluginEntry } from "../../mod.ts";
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
      faults: faultsOf(emu),
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

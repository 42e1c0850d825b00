/**
 * The exchange plugins this gateway ships. Adding an exchange = its folder plus
 * one entry here.
 * @module
 */
import type { FeedPlugin } from "../core/plugin.ts";
import { binance } from "./binance/mod.ts";
import { coinbase } from "./coinbase/mod.ts";
import { kraken } from "./kraken/mod.ts";

/** A running local emulator and the settings that point its plugin at it. */
export interface RunningEmulator {
  /** Environment variables (plugin settings) that point the plugin at the emulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** One shipped plugin. */
export interface PluginEntry {
  // deno-lint-ignore no-explicit-any
  plugin: FeedPlugin<any>;
  /** Worker module that runs the plugin. */
  worker: URL;
  /** Starts the bundled emulator of this exchange on 127.0.0.1. */
  emulator(symbols: string[]): Promise<RunningEmulator>;
}

/** Shipped plugins, by exchange id. */
export const registry: readonly PluginEntry[] = [
  {
    plugin: binance,
    worker: new URL("./binance/worker.ts", import.meta.url),
    async emulator(symbols) {
      const { startBinanceEmulator } = await import("./binance/emulator/mod.ts");
      const emu = await startBinanceEmulator({ symbols });
      return {
        env: { BINANCE_WS_URL: emu.wsUrl, BINANCE_REST_URL: emu.restUrl },
        close: () => emu.close(),
      };
    },
  },
  {
    plugin: coinbase,
    worker: new URL("./coinbase/worker.ts", import.meta.url),
    async emulator() {
      // The emulator lists its default products; configured names are matched against them.
      const { startCoinbaseEmulator } = await import("./coinbase/emulator/mod.ts");
      const emu = await startCoinbaseEmulator();
      return {
        env: { COINBASE_WS_URL: emu.wsUrl, COINBASE_REST_URL: emu.restUrl },
        close: () => emu.close(),
      };
    },
  },
  {
    plugin: kraken,
    worker: new URL("./kraken/worker.ts", import.meta.url),
    async emulator() {
      const { startKrakenEmulator } = await import("./kraken/emulator/mod.ts");
      const emu = await startKrakenEmulator();
      return { env: { KRAKEN_WS_URL: emu.wsUrl }, close: () => emu.close() };
    },
  },
];

/**
 * The exchange plugins this gateway ships. Adding an exchange = its folder plus
 * one entry here.
 * @module
 */
import type { FeedPlugin } from "../core/plugin.ts";
import { binance } from "./binance/mod.ts";

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
];

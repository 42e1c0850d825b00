/**
 * The exchange plugins this gateway ships. Adding an exchange = its folder plus
 * one entry here.
 * @module
 */
import type { GatewayExtension } from "../core/gateway.ts";
import type { FeedPlugin } from "../core/plugin.ts";
import { binance, binanceConfigSchema } from "./binance/mod.ts";
import { createBinanceProxy } from "./binance/proxy/mod.ts";
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
  /**
   * Extra endpoints this exchange serves on the gateway's port (mounted under
   * their own path prefix), built from the plugin settings in `env` (the
   * emulator's in demo mode).
   */
  extensions?(env: Record<string, string | undefined>): GatewayExtension[];
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
    extensions(env) {
      // The Binance-compatible proxy under /binance (off with BINANCE_PROXY=false).
      if (/^(false|0|off|no)$/i.test(env.BINANCE_PROXY ?? "")) return [];
      const { wsUrl, restUrl } = binanceConfigSchema.parse({
        wsUrl: env.BINANCE_WS_URL,
        restUrl: env.BINANCE_REST_URL,
      });
      return [createBinanceProxy({ wsUrl, restUrl })];
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

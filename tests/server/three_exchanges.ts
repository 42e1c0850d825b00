/**
 * The three shipped plugins against their emulators behind one gateway, started and
 * waited for (every feed connected, the six BTC/USDT and ETH/USDT books synced).
 */
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import { startCoinbaseEmulator } from "../../plugins/coinbase/emulator/mod.ts";
import { startKrakenEmulator } from "../../plugins/kraken/emulator/mod.ts";
import { registry } from "../../plugins/registry.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import type { FeedSpec } from "../../core/ingest/supervisor.ts";
import type { Channel } from "../../core/events.ts";
import type { CoreConfig } from "../../core/server/config.ts";
import type { Gateway } from "../../core/server/gateway.ts";
import { gatewayWith, getJson, waitFor } from "../helpers.ts";

/** The exchanges, in the order their feeds are configured. */
export const EXCHANGES = ["binance", "coinbase", "kraken"] as const;

/** The running stack. */
export interface ThreeExchanges {
  gateway: Gateway;
  bn: Awaited<ReturnType<typeof startBinanceEmulator>>;
  cb: Awaited<ReturnType<typeof startCoinbaseEmulator>>;
  kr: Awaited<ReturnType<typeof startKrakenEmulator>>;
  /** Closes the gateway, then the three emulators. */
  close(): Promise<void>;
}

/** Starts the emulators (seeded `seed`, `seed + 1`, `seed + 2`) and the gateway, and waits. */
export async function startThreeExchanges(options: {
  seed: number;
  channels: readonly Channel[];
  gateway?: Partial<Record<keyof CoreConfig, unknown>>;
}): Promise<ThreeExchanges> {
  const bn = await startBinanceEmulator({ symbols: ["BTCUSDT", "ETHUSDT"], seed: options.seed });
  const cb = await startCoinbaseEmulator({ seed: options.seed + 1 });
  const kr = await startKrakenEmulator({ seed: options.seed + 2 });
  const closeEmulators = () => Promise.all([bn.close(), cb.close(), kr.close()]).then(() => {});
  const env = {
    BINANCE_WS_URL: bn.wsUrl,
    BINANCE_REST_URL: bn.restUrl,
    COINBASE_WS_URL: cb.wsUrl,
    COINBASE_REST_URL: cb.restUrl,
    KRAKEN_WS_URL: kr.wsUrl,
  };
  const feeds: FeedSpec[] = EXCHANGES.map((name) => {
    const entry = registry.find((e) => e.plugin.name === name)!;
    return {
      plugin: entry.plugin,
      workerUrl: entry.worker,
      config: pluginConfig(entry.plugin, env),
      symbols: ["BTC/USDT", "ETH/USDT"],
      channels: [...options.channels],
    };
  });
  let gateway: Gateway;
  try {
    gateway = await gatewayWith(feeds, options.gateway);
  } catch (err) {
    await closeEmulators();
    throw err;
  }
  const close = async () => {
    await gateway.close();
    await closeEmulators();
  };
  try {
    await waitFor(
      async () => {
        const { body } = await getJson(gateway, "/health");
        return (body.feeds as { state: string }[]).every((f) => f.state === "connected") &&
          (body.books as { synced: boolean }[]).filter((b) => b.synced).length === 6;
      },
      20_000,
      "three feeds connected and six books synced",
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { gateway, bn, cb, kr, close };
}

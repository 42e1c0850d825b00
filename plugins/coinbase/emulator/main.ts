/**
 * CLI: runs a Coinbase emulator until SIGINT.
 *
 * ```sh
 * deno run --allow-net --allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE \
 *   plugins/coinbase/emulator/main.ts --port 9444 --products BTC-USD,ETH-USD
 * ```
 * Options: `--port`, `--products`, `--seed`, `--tick-ms`, `--trades-per-second`,
 * `--book-levels`, `--subscribe-deadline-ms`, `--idle-close-ms`, `--heartbeat-counter string|number`.
 * @module
 */
import { parseArgs } from "node:util";
import type { CoinbaseEmulatorOptions } from "./types.ts";

/** Environment variables `npm:ws` reads when it loads (Deno needs `--allow-env` for them). */
export const WS_ENV = ["WS_NO_BUFFER_UTIL", "WS_NO_UTF_8_VALIDATE"] as const;

const NUMERIC = {
  "port": "port",
  "seed": "seed",
  "tick-ms": "tickMs",
  "trades-per-second": "tradesPerSecond",
  "book-levels": "bookLevels",
  "subscribe-deadline-ms": "subscribeDeadlineMs",
  "idle-close-ms": "idleCloseMs",
} as const;

/** Parses command-line arguments into emulator options. */
export function parseCliOptions(args: string[]): CoinbaseEmulatorOptions {
  const { values } = parseArgs({
    args,
    options: {
      products: { type: "string" },
      "heartbeat-counter": { type: "string" },
      ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: "string" as const }])),
    },
  });
  const options: CoinbaseEmulatorOptions = {};
  const record = values as Record<string, string | undefined>;
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = record[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a non-negative number`);
    options[key] = n;
  }
  if (values.products) {
    options.products = values.products.split(",").map((s) => s.trim()).filter(Boolean);
  }
  const counter = values["heartbeat-counter"];
  if (counter !== undefined) {
    if (counter !== "string" && counter !== "number") {
      throw new Error("--heartbeat-counter must be string or number");
    }
    options.heartbeatCounter = counter;
  }
  return options;
}

if (import.meta.main) {
  const denied = WS_ENV.filter((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state !== "granted"
  );
  if (denied.length > 0) {
    console.error(`npm:ws reads ${denied.join(", ")} at load: add --allow-env=${WS_ENV.join(",")}`);
    Deno.exit(2);
  }
  const options = parseCliOptions(Deno.args);
  const { startCoinbaseEmulator } = await import("./emulator.ts");
  const emu = await startCoinbaseEmulator(options);
  console.log(`Coinbase emulator listening on 127.0.0.1:${emu.port}`);
  console.log(`  COINBASE_WS_URL=${emu.wsUrl}`);
  console.log(`  COINBASE_REST_URL=${emu.restUrl}`);
  Deno.addSignalListener("SIGINT", () => {
    emu.close().then(() => Deno.exit(0));
  });
}

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
import { runEmulatorCli } from "../../../testing.ts";

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
  await runEmulatorCli(
    "Coinbase",
    async () => (await import("./emulator.ts")).startCoinbaseEmulator(parseCliOptions(Deno.args)),
    (emu) => [`COINBASE_WS_URL=${emu.wsUrl}`, `COINBASE_REST_URL=${emu.restUrl}`],
  );
}

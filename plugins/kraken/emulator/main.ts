/**
 * CLI: runs a Kraken emulator until SIGINT.
 *
 * ```sh
 * deno run --allow-net --allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE \
 *   plugins/kraken/emulator/main.ts --port 9444 --symbols BTC/USD,ETH/USD
 * ```
 * Options: `--port`, `--symbols`, `--seed`, `--tick-ms`, `--trades-per-second`,
 * `--heartbeat-ms`, `--idle-timeout-ms`, `--book-levels`.
 * @module
 */
import { parseArgs } from "node:util";
import type { KrakenEmulatorOptions } from "./types.ts";
import { runEmulatorCli } from "../../../testing.ts";

const NUMERIC = {
  "port": "port",
  "seed": "seed",
  "tick-ms": "tickMs",
  "trades-per-second": "tradesPerSecond",
  "heartbeat-ms": "heartbeatMs",
  "idle-timeout-ms": "idleTimeoutMs",
  "book-levels": "bookLevels",
} as const;

/** Parses command-line arguments into emulator options. */
export function parseCliOptions(args: string[]): KrakenEmulatorOptions {
  const { values } = parseArgs({
    args,
    options: {
      symbols: { type: "string" },
      ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: "string" as const }])),
    },
  });
  const options: KrakenEmulatorOptions = {};
  const record = values as Record<string, string | undefined>;
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = record[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a non-negative number`);
    options[key] = n;
  }
  if (values.symbols) {
    options.symbols = values.symbols.split(",").map((s) => s.trim()).filter(Boolean);
  }
  return options;
}

if (import.meta.main) {
  await runEmulatorCli(
    "Kraken",
    async () => (await import("./emulator.ts")).startKrakenEmulator(parseCliOptions(Deno.args)),
    (emu) => [`KRAKEN_WS_URL=${emu.wsUrl}`],
  );
}

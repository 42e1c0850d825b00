/**
 * CLI: runs a Binance emulator until SIGINT.
 *
 * ```sh
 * deno run --allow-net --allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE \
 *   plugins/binance/emulator/main.ts --port 9443 --symbols BTCUSDT,ETHUSDT
 * ```
 * Options: `--port`, `--symbols`, `--seed`, `--tick-ms`, `--trades-per-second`,
 * `--book-levels`, `--ping-interval-ms`, `--pong-timeout-ms`; for benchmarks
 * `--stamp-field NAME` (µs send time in each `@trade` payload) and
 * `--bench-trades-per-second N` (evenly paced synthetic trades, see types.ts).
 * @module
 */
import { parseArgs } from "node:util";
import type { BinanceEmulatorOptions } from "./types.ts";
import { runEmulatorCli } from "../../../testing.ts";

const NUMERIC = {
  "port": "port",
  "seed": "seed",
  "tick-ms": "tickMs",
  "trades-per-second": "tradesPerSecond",
  "book-levels": "bookLevels",
  "ping-interval-ms": "pingIntervalMs",
  "pong-timeout-ms": "pongTimeoutMs",
  "bench-trades-per-second": "benchTradesPerSecond",
} as const;

/** Parses command-line arguments into emulator options. */
export function parseCliOptions(args: string[]): BinanceEmulatorOptions {
  const { values } = parseArgs({
    args,
    options: {
      symbols: { type: "string" },
      "stamp-field": { type: "string" },
      ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: "string" as const }])),
    },
  });
  const options: BinanceEmulatorOptions = {};
  const record = values as Record<string, string | undefined>;
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = record[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a non-negative number`);
    options[key] = n;
  }
  const stampField = values["stamp-field"];
  if (stampField !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(stampField)) {
      throw new Error("--stamp-field must be an identifier (letters, digits, _), e.g. benchTs");
    }
    options.stampField = stampField;
  }
  if (values.symbols) {
    options.symbols = values.symbols.split(",").map((s) => s.trim()).filter(Boolean);
  }
  return options;
}

if (import.meta.main) {
  await runEmulatorCli(
    "Binance",
    async () => (await import("./emulator.ts")).startBinanceEmulator(parseCliOptions(Deno.args)),
    (
      emu,
    ) => [
      `BINANCE_WS_URL=${emu.wsUrl}`,
      `BINANCE_REST_URL=${emu.restUrl}`,
      `e.g. ${emu.wsUrl}/stream?streams=btcusdt@trade/btcusdt@depth@100ms`,
    ],
  );
}

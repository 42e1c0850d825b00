/**
 * CLI: runs a Deribit emulator until SIGINT.
 *
 * ```sh
 * deno task emulator:deribit --port 9445 --seed 7
 * ```
 * Options: `--port`, `--seed`, `--tick-ms`, `--trades-per-second`, `--strikes-each-side`,
 * `--min-heartbeat-sec`.
 * @module
 */
import { parseArgs } from "node:util";
import type { DeribitEmulatorOptions } from "./types.ts";
import { runEmulatorCli } from "../../../testing.ts";

const NUMERIC = {
  "port": "port",
  "seed": "seed",
  "tick-ms": "tickMs",
  "trades-per-second": "tradesPerSecond",
  "strikes-each-side": "strikesEachSide",
  "min-heartbeat-sec": "minHeartbeatSec",
} as const;

/** Parses command-line arguments into emulator options. */
export function parseCliOptions(args: string[]): DeribitEmulatorOptions {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(
      Object.keys(NUMERIC).map((k) => [k, { type: "string" as const }]),
    ),
  });
  const options: DeribitEmulatorOptions = {};
  const record = values as Record<string, string | undefined>;
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = record[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a non-negative number`);
    options[key] = n;
  }
  return options;
}

if (import.meta.main) {
  await runEmulatorCli(
    "Deribit",
    async () => (await import("./emulator.ts")).startDeribitEmulator(parseCliOptions(Deno.args)),
    (emu) => [`DERIBIT_WS_URL=${emu.wsUrl} DERIBIT_EMULATOR=true`],
  );
}

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

/** Environment variables `npm:ws` reads when it loads (Deno needs `--allow-env` for them). */
export const WS_ENV = ["WS_NO_BUFFER_UTIL", "WS_NO_UTF_8_VALIDATE"] as const;

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
  const denied = WS_ENV.filter((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state !== "granted"
  );
  if (denied.length > 0) {
    console.error(`npm:ws reads ${denied.join(", ")} at load: add --allow-env=${WS_ENV.join(",")}`);
    Deno.exit(2);
  }
  const { startDeribitEmulator } = await import("./emulator.ts");
  const emu = await startDeribitEmulator(parseCliOptions(Deno.args));
  console.log(`Deribit emulator listening on 127.0.0.1:${emu.port}`);
  console.log(`  DERIBIT_WS_URL=${emu.wsUrl} DERIBIT_EMULATOR=true`);
  Deno.addSignalListener("SIGINT", () => {
    emu.close().then(() => Deno.exit(0));
  });
}

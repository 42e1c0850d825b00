/**
 * The system under test for the probe scripts (slow_consumer.ts, batch_burst.ts): the
 * bundled Binance emulator and the gateway pointed at it, each in its own process.
 * @module
 */
import { freePort, type Proc, sleep, spawn } from "./procs.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();

/** What to start. */
export interface StackOptions {
  symbols: readonly string[];
  /** Extra emulator flags (e.g. `--bench-trades-per-second`). */
  emulatorArgs?: string[];
  /** Extra gateway environment (settings). */
  env?: Record<string, string>;
  /** CPU lists for `taskset` (undefined = unpinned). */
  emulatorCpus?: string;
  gatewayCpus?: string;
  logLevel?: string;
}

/** The running emulator and gateway. */
export interface Stack {
  emulator: Proc;
  emulatorPort: number;
  gateway: Proc;
  /** The gateway's HTTP port on 127.0.0.1. */
  port: number;
}

/** Starts the emulator, then the gateway, and resolves once `/ready` answers 200. */
export async function startStack(o: StackOptions): Promise<Stack> {
  const emulator = spawn("emulator", [
    DENO,
    "run",
    "--allow-net",
    "--allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE",
    `${ROOT}plugins/binance/emulator/main.ts`,
    ...["--port", "0", "--symbols", o.symbols.join(","), ...(o.emulatorArgs ?? [])],
  ], { cpus: o.emulatorCpus });
  const emulatorPort = Number(
    /:(\d+)\s*$/.exec(await emulator.waitLine((l) => l.includes("listening on"), 20_000))![1],
  );
  const port = freePort();
  const gateway = spawn("gateway", [
    DENO,
    "run",
    "-A",
    "--unstable-worker-options",
    `${ROOT}main.ts`,
    ...["--port", String(port), "--host", "127.0.0.1", "--log-level", o.logLevel ?? "warning"],
  ], {
    env: {
      BINANCE_WS_URL: `ws://127.0.0.1:${emulatorPort}`,
      BINANCE_REST_URL: `http://127.0.0.1:${emulatorPort}`,
      SYMBOLS: o.symbols.join(","),
      EXCHANGES: "binance",
      ...o.env,
    },
    cpus: o.gatewayCpus,
    cwd: ROOT,
  });
  const deadline = Date.now() + 20_000;
  while (true) {
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(async (r) => {
      await r.body?.cancel();
      return r.status === 200;
    }).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`gateway not ready: ${gateway.stderrTail()}`);
    await sleep(50);
  }
  return { emulator, emulatorPort, gateway, port };
}

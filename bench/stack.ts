/**
 * The system under test for the bench scripts (run.ts, slow_consumer.ts, batch_burst.ts,
 * quote_overload.ts): the bundled Binance emulator and the gateway pointed at it, each in
 * its own process.
 * @module
 */
import { freePort, type Proc, sleep, spawn } from "./procs.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();

/** A running emulator. */
export interface Emulator {
  proc: Proc;
  port: number;
}

/** Starts the Binance emulator on a free port; `args` are extra emulator flags. */
export async function startEmulator(
  o: { symbols: readonly string[]; args?: string[]; cpus?: string },
): Promise<Emulator> {
  const proc = spawn("emulator", [
    DENO,
    "run",
    "--allow-net",
    "--allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE",
    `${ROOT}plugins/binance/emulator/main.ts`,
    ...["--port", "0", "--symbols", o.symbols.join(","), ...(o.args ?? [])],
  ], { cpus: o.cpus });
  const line = await proc.waitLine((l) => l.includes("listening on"), 20_000);
  return { proc, port: Number(/:(\d+)\s*$/.exec(line)![1]) };
}

/** What the gateway is started with. */
export interface GatewayOptions {
  symbols: readonly string[];
  /** Extra environment (settings). */
  env?: Record<string, string>;
  /** Extra `deno run` flags (e.g. `--cpu-prof`). */
  flags?: string[];
  cpus?: string;
  logLevel?: string;
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number;
}

/** A running gateway. */
export interface Gateway {
  proc: Proc;
  /** HTTP port on 127.0.0.1. */
  port: number;
}

/** Starts the gateway against `emulator` and resolves once `/ready` answers 200. */
export async function startGateway(emulator: Emulator, o: GatewayOptions): Promise<Gateway> {
  const port = o.port ?? freePort();
  const proc = spawn("gateway", [
    DENO,
    "run",
    "-A",
    "--unstable-worker-options",
    ...(o.flags ?? []),
    `${ROOT}main.ts`,
    ...["--port", String(port), "--host", "127.0.0.1", "--log-level", o.logLevel ?? "warning"],
  ], {
    env: {
      BINANCE_WS_URL: `ws://127.0.0.1:${emulator.port}`,
      BINANCE_REST_URL: `http://127.0.0.1:${emulator.port}`,
      SYMBOLS: o.symbols.join(","),
      EXCHANGES: "binance",
      ...o.env,
    },
    cpus: o.cpus,
    cwd: ROOT,
  });
  const deadline = Date.now() + 20_000;
  while (true) {
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(async (r) => {
      await r.body?.cancel();
      return r.status === 200;
    }).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`gateway not ready within 20 s: ${proc.stderrTail().slice(-1500)}`);
    }
    await sleep(50);
  }
  return { proc, port };
}

/** What to start: both processes. */
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
  const emulator = await startEmulator({
    symbols: o.symbols,
    args: o.emulatorArgs,
    cpus: o.emulatorCpus,
  });
  const gateway = await startGateway(emulator, {
    symbols: o.symbols,
    env: o.env,
    cpus: o.gatewayCpus,
    logLevel: o.logLevel,
  });
  return {
    emulator: emulator.proc,
    emulatorPort: emulator.port,
    gateway: gateway.proc,
    port: gateway.port,
  };
}

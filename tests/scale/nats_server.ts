/**
 * A private `nats-server -js` for one test: a free loopback port, a temporary store,
 * stopped (and its store removed) by the test. Tests never share a server or its state.
 * @module
 */

/** A running test NATS server. */
export interface TestNatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (kept across {@link TestNatsServer.restart}). */
  readonly storeDir: string;
  /** Process id of the server now running (changes on restart). */
  pid(): number;
  /** Stops the server with SIGKILL (no clean shutdown), keeping the store. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store (after {@link TestNatsServer.kill}). */
  restart(): Promise<void>;
  /** Stops it and removes the store. */
  stop(): Promise<void>;
}

const NATS_SERVER = Deno.env.get("NATS_SERVER_BIN") ?? "nats-server";

/** True when a `nats-server` binary can be run here (tests that need one skip otherwise, and say so). */
export function natsServerAvailable(): boolean {
  try {
    const out = new Deno.Command(NATS_SERVER, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    return out.success;
  } catch {
    return false;
  }
}

/** Why a NATS test is skipped when the server binary is missing. */
export const NO_NATS_SERVER =
  `no ${NATS_SERVER} binary on this machine (apt-get install nats-server)`;

/**
 * Starts a private JetStream server on a free port (plus `extraArgs`, e.g. `--user`/`--pass`);
 * resolves once it accepts connections.
 */
export async function startNatsServer(extraArgs: string[] = []): Promise<TestNatsServer> {
  const storeDir = await Deno.makeTempDir({ prefix: "quant-saas-nats-" });
  const port = freePort();
  const spawn = (port: number, storeDir: string) => spawnServer(port, storeDir, extraArgs);
  let child = spawn(port, storeDir);
  await waitListening(port, child);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    pid: () => child.pid,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
    },
    async restart() {
      child = spawn(port, storeDir);
      await waitListening(port, child);
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await Deno.remove(storeDir, { recursive: true }).catch(() => {});
    },
  };
}

function spawnServer(port: number, storeDir: string, extraArgs: string[]): Deno.ChildProcess {
  return new Deno.Command(NATS_SERVER, {
    args: ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir, ...extraArgs],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitListening(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`nats-server on port ${port} exited before it listened`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nats-server did not listen on 127.0.0.1:${port} within 10 s`);
}

/**
 * `deno task demo:cluster`: the scale-out deployment on one machine, offline — the bundled
 * exchange emulators, a private `nats-server -js` (unless `NATS_URL` names one), two ingest
 * nodes (leader and standby), two edges and a recorder, each a `main.ts --role ...` process.
 * Prints where each node listens; Ctrl-C stops every process it started (by pid).
 *
 * ```sh
 * deno task demo:cluster                 # edges on ws://127.0.0.1:3000/ws and :3001
 * EDGE_PORT=4000 deno task demo:cluster  # edges on 4000 and 4001
 * ```
 * @module
 */
import { registry } from "../../plugins/registry.ts";
import type { RunningEmulator } from "../ingest/plugin_entry.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

/** One child process of the demo. */
interface Node {
  name: string;
  url: string;
  child: Deno.ChildProcess;
}

/** A free TCP port on 127.0.0.1. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts a private JetStream server; resolves with its URL once it accepts connections. */
async function startNats(): Promise<{ url: string; child: Deno.ChildProcess; dir: string }> {
  const bin = Deno.env.get("NATS_SERVER_BIN") ?? "nats-server";
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "quant-saas-cluster-nats-" });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(bin, {
      args: ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    throw new Error(
      `cannot run ${bin}: install nats-server (Debian: apt-get install nats-server) or set NATS_URL`,
    );
  }
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { url: `nats://127.0.0.1:${port}`, child, dir };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nats-server did not listen on 127.0.0.1:${port}`);
}

/** Starts `main.ts --role <role>` on `port` with `env`; resolves once `/health` answers. */
async function startNode(
  name: string,
  role: string,
  port: number,
  env: Record<string, string>,
): Promise<Node> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-worker-options", `${ROOT}main.ts`, "--role", role],
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warning" },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}/health`).then(async (r) => {
      await r.body?.cancel();
      return true;
    }).catch(() => false);
    if (ok) return { name, url, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer ${url}/health within 30 s`);
}

/** Runs the demo until SIGINT/SIGTERM. */
export async function main(): Promise<number> {
  const nodes: Node[] = [];
  const emulators: RunningEmulator[] = [];
  let nats: Awaited<ReturnType<typeof startNats>> | undefined;
  const recordDir = await Deno.makeTempDir({ prefix: "quant-saas-cluster-history-" });
  try {
    const natsUrl = Deno.env.get("NATS_URL") || (nats = await startNats()).url;
    const feedEnv: Record<string, string> = {
      SYMBOLS: SYMBOLS.join(","),
      EXCHANGES: registry.map((e) => e.plugin.name).join(","),
    };
    for (const entry of registry) {
      const emu = await entry.emulator(SYMBOLS);
      emulators.push(emu);
      Object.assign(feedEnv, emu.env, { [`${entry.plugin.name.toUpperCase()}_EMULATOR`]: "true" });
    }
    const base = { NATS_URL: natsUrl, NO_COLOR: "1" };
    const edgePort = Number(Deno.env.get("EDGE_PORT") ?? 3000);
    nodes.push(await startNode("ingest-a", "ingest", freePort(), { ...base, ...feedEnv }));
    nodes.push(await startNode("ingest-b", "ingest", freePort(), { ...base, ...feedEnv }));
    nodes.push(
      await startNode("recorder", "recorder", freePort(), { ...base, RECORD_DIR: recordDir }),
    );
    for (const i of [0, 1]) {
      nodes.push(
        await startNode(`edge-${i + 1}`, "edge", edgePort + i, { ...base, REPLAY_DIR: recordDir }),
      );
    }
    console.log(
      [
        "",
        "Quant-SaaS scale-out demo (EMULATED exchanges: synthetic data, not real markets)",
        `  NATS         ${natsUrl}${nats ? " (private, temporary store)" : ""}`,
        ...nodes.map((n) =>
          `  ${n.name.padEnd(12)} pid ${String(n.child.pid).padEnd(8)} ${n.url}/health` +
          (n.name.startsWith("edge") ? `   ${n.url.replace("http", "ws")}/ws` : "")
        ),
        `  recording    ${recordDir}`,
        'Try: subscribe on one edge, `kill -9` it, reconnect to the other with "since";',
        'or `kill -9` the ingest node whose /health says "leading": true. Ctrl-C stops everything.',
        "",
      ].join("\n"),
    );
    const { promise, resolve } = Promise.withResolvers<void>();
    for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => resolve());
    await promise;
    return 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    for (const node of nodes.reverse()) {
      try {
        node.child.kill("SIGTERM");
      } catch { /* gone */ }
      await node.child.status;
    }
    for (const emu of emulators) await emu.close();
    if (nats) {
      try {
        nats.child.kill("SIGTERM");
      } catch { /* gone */ }
      await nats.child.status;
      await Deno.remove(nats.dir, { recursive: true }).catch(() => {});
    }
    await Deno.remove(recordDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());

/**
 * A scale-out deployment for tests and benchmarks, as separate processes: the
 * program (main.ts) started with `--role ingest|edge|recorder|all`, each on a free
 * port, against a private NATS server and emulators the caller runs. Every process
 * started here is stopped by its pid (SIGTERM, or SIGKILL to simulate a crash).
 * @module
 */

/** One running node (a `main.ts` process). */
export interface ClusterNode {
  readonly role: string;
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** GET /health as JSON. */
  health(): Promise<Record<string, unknown>>;
  /** SIGKILL: no clean shutdown. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Resolves when the process exited. */
  readonly exited: Promise<Deno.CommandStatus>;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../..", import.meta.url).pathname;

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts `main.ts --role <role>` with `env` (NATS_URL, exchange URLs, ...) on a free port
 * and resolves once its `/health` answers.
 */
export async function startNode(
  role: "all" | "ingest" | "edge" | "recorder",
  name: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<ClusterNode> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      "--config",
      `${ROOT}deno.json`,
      MAIN,
      "--role",
      role,
      ...args,
    ],
    cwd: ROOT,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      NO_COLOR: "1",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length > 2_000_000) text = text.slice(-1_000_000);
    }
  };
  pump(child.stdout).catch(() => {});
  pump(child.stderr).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const node: ClusterNode = {
    role,
    name,
    port,
    url,
    pid: child.pid,
    output: () => text,
    async health() {
      const res = await fetch(`${url}/health`);
      return await res.json();
    },
    async kill9() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }
      await status;
    },
    async stop() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* gone */ }
      }
      const timer = setTimeout(() => {
        try {
          if (!exited) child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5000);
      await status;
      clearTimeout(timer);
    },
    exited: status,
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`${name} (${role}) exited before answering /health:\n${text.slice(-3000)}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 503) return node;
    } catch { /* not yet listening */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  await node.kill9();
  throw new Error(`${name} (${role}) did not answer /health within 30 s:\n${text.slice(-3000)}`);
}

/**
 * Scale-out benchmark: the same load against one `--role all` process and against
 * 1 ingest + 2 edges on NATS JetStream (a private `nats-server -js`), on this machine.
 *
 * The Binance emulator sends stamped trades at `--rate` per second over 4 symbols; every
 * client subscribes to all 4, so deliveries/s = rate × clients. Load generators
 * (bench/loadgen.ts) measure deliveries/s and end-to-end latency (client receive time −
 * the emulator's µs stamp in `raw`: exchange → ingest → NATS → edge → client). In the
 * scale-out run the clients are split evenly over the two edges.
 *
 * ```sh
 * deno run --config deno.dev.json -A bench/scale_out.ts --clients 1000 --rates 20,50,100
 * ```
 * Writes bench/results/scale-out-<date>.md and .json.
 * @module
 */
import { parseArgs } from "node:util";
import { cpuOf, DEV_CONFIG, freePort, type Proc, rssMiB, sleep, spawn, stopAll } from "./procs.ts";
import { startEmulator } from "./stack.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"];
const STAMP = "benchTs";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "1000" },
    rates: { type: "string", default: "25,100" },
    "warmup-ms": { type: "string", default: "3000" },
    "window-ms": { type: "string", default: "5000" },
    windows: { type: "string", default: "3" },
    /** Which setups to run, comma-separated: all, scale-out. */
    modes: { type: "string", default: "all,scale-out" },
    out: { type: "string", default: `${ROOT}bench/results` },
  },
});
const clients = Number(values.clients);
const rates = values.rates!.split(",").map(Number);
const warmupMs = Number(values["warmup-ms"]);
const windowMs = Number(values["window-ms"]);
const windowCount = Number(values.windows);

// deno-lint-ignore no-explicit-any
type Json = any;

interface Cell {
  mode: "all" | "scale-out";
  rate: number;
  offered: number;
  /** Median over windows of the summed deliveries/s. */
  deliveriesPerSec: number;
  p50: number | null;
  p99: number | null;
  /** CPU % of the serving processes (sum), median over windows. */
  cpuPct: number;
  rssMiB: number;
}

/** Starts a node of the program and waits for /health. */
async function startNode(
  name: string,
  role: string,
  env: Record<string, string>,
): Promise<{ proc: Proc; port: number }> {
  const port = freePort();
  const proc = spawn(name, [
    DENO,
    "run",
    "-A",
    "--unstable-worker-options",
    `${ROOT}main.ts`,
    // `all` is the default role: no flag, so the same script also runs older versions (A/B).
    ...(role === "all" ? [] : ["--role", role]),
    ...["--port", String(port), "--host", "127.0.0.1", "--log-level", "warning"],
  ], { env, cwd: ROOT });
  const deadline = Date.now() + 30_000;
  while (true) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(async (r) => {
      await r.body?.cancel();
      return r.status === 200;
    }).catch(() => false);
    if (ok) return { proc, port };
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${name} not healthy within 30 s: ${proc.stderrTail().slice(-1500)}`);
    }
    await sleep(100);
  }
}

/** Starts a private JetStream server; returns it and its URL. */
async function startNats(): Promise<{ proc: Proc; url: string; dir: string }> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "bench-nats-" });
  const proc = spawn("nats", [
    "nats-server",
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    "-js",
    "-sd",
    dir,
  ]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { proc, url: `nats://127.0.0.1:${port}`, dir };
    } catch {
      await sleep(50);
    }
  }
  throw new Error("nats-server did not start");
}

async function runCell(mode: Cell["mode"], rate: number): Promise<Cell> {
  const emu = await startEmulator({
    symbols: SYMBOLS,
    args: [
      ...["--trades-per-second", "0", "--stamp-field", STAMP],
      ...["--bench-trades-per-second", String(rate)],
    ],
  });
  const exchangeEnv = {
    BINANCE_WS_URL: `ws://127.0.0.1:${emu.port}`,
    BINANCE_REST_URL: `http://127.0.0.1:${emu.port}`,
    SYMBOLS: SYMBOLS.join(","),
    EXCHANGES: "binance",
    CHANNELS: "trade",
  };
  const servers: Proc[] = [];
  let nats: Awaited<ReturnType<typeof startNats>> | undefined;
  const urls: string[] = [];
  try {
    if (mode === "all") {
      const node = await startNode("all", "all", exchangeEnv);
      servers.push(node.proc);
      urls.push(`ws://127.0.0.1:${node.port}/ws`);
    } else {
      nats = await startNats();
      const natsEnv = { NATS_URL: nats.url, NATS_STORAGE: "memory" };
      const ingest = await startNode("ingest", "ingest", { ...exchangeEnv, ...natsEnv });
      servers.push(ingest.proc);
      for (const name of ["edge1", "edge2"]) {
        const edge = await startNode(name, "edge", natsEnv);
        servers.push(edge.proc);
        urls.push(`ws://127.0.0.1:${edge.port}/ws`);
      }
    }
    const lgs: Proc[] = urls.map((url, i) =>
      spawn(`loadgen${i}`, [
        DENO,
        "run",
        ...DEV_CONFIG,
        "-A",
        `${ROOT}bench/loadgen.ts`,
        ...["--url", url, "--clients", String(Math.round(clients / urls.length))],
        ...["--wait-go", "--subscribe-on-go", "--stamp-field", STAMP, "--label", `lg${i}`],
        ...["--warmup-ms", String(warmupMs), "--window-ms", String(windowMs)],
        ...["--windows", String(windowCount), "--concurrency", "128"],
      ])
    );
    await Promise.all(lgs.map((lg) => lg.waitLine((l) => l.includes('"event":"ready"'), 60_000)));
    // Every serving process counts, nats-server included.
    const measured = nats ? [...servers, nats.proc] : servers;
    const cpu0 = measured.map((s) => cpuOf(s.pid).total);
    const t0 = performance.now();
    for (const lg of lgs) await lg.write("go\n");
    const lines = await Promise.all(
      lgs.map((lg) =>
        lg.waitLine(
          (l) => l.includes('"event":"result"'),
          60_000 + warmupMs + windowCount * windowMs,
        )
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuPct = measured.reduce((a, s, i) => a + (cpuOf(s.pid).total - cpu0[i]), 0) / seconds *
      100;
    const rss = measured.reduce((a, s) => a + rssMiB(s.pid), 0);
    const results: Json[] = lines.map((l) => JSON.parse(l));
    const perWindow = results[0].windows.map((_: Json, w: number) => ({
      rate: results.reduce((a, r) => a + r.windows[w].eventsPerSec, 0),
      // Several load generators: the worst one's percentiles (an upper bound of the merged value).
      p50: Math.max(...results.map((r) => r.windows[w].latencyMs.p50 ?? 0)),
      p99: Math.max(...results.map((r) => r.windows[w].latencyMs.p99 ?? 0)),
    }));
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const lg of lgs) await lg.stop();
    return {
      mode,
      rate,
      offered: rate * clients,
      deliveriesPerSec: Math.round(med(perWindow.map((w: Json) => w.rate))),
      p50: med(perWindow.map((w: Json) => w.p50)),
      p99: med(perWindow.map((w: Json) => w.p99)),
      cpuPct: Math.round(cpuPct),
      rssMiB: Math.round(rss),
    };
  } finally {
    for (const s of servers.reverse()) await s.stop();
    if (nats) {
      await nats.proc.stop();
      await Deno.remove(nats.dir, { recursive: true }).catch(() => {});
    }
    await emu.proc.stop();
  }
}

const cells: Cell[] = [];
try {
  for (const rate of rates) {
    for (const mode of values.modes!.split(",") as Cell["mode"][]) {
      const cell = await runCell(mode, rate);
      console.log(JSON.stringify(cell));
      cells.push(cell);
    }
  }
} finally {
  await stopAll();
}
const date = new Date().toISOString().slice(0, 10);
const fmt = (v: number | null, d = 2) => v === null ? "-" : v.toFixed(d);
const table = [
  "| rate (trades/s) | offered deliveries/s | mode | delivered/s | p50 ms | p99 ms | server CPU % (sum, nats-server included) | server RSS MiB (sum) |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ...cells.map((c) =>
    `| ${c.rate} | ${c.offered} | ${c.mode} | ${c.deliveriesPerSec} | ${fmt(c.p50)} | ${
      fmt(c.p99)
    } | ${c.cpuPct} | ${c.rssMiB} |`
  ),
].join("\n");
const md = `# Scale-out benchmark, ${date}\n\n` +
  `${clients} clients, each subscribed to trades of ${SYMBOLS.join(", ")} (Binance emulator, ` +
  `stamped trades). \`all\`: one process. \`scale-out\`: 1 ingest + 2 edges + nats-server 2.9.10 ` +
  `(memory storage), clients split evenly over the edges. Latency = client receive − emulator ` +
  `stamp; medians of ${windowCount} windows of ${windowMs} ms after ${warmupMs} ms warm-up; ` +
  `percentiles are the worse of the load generators. Same machine (2 cores), one run.\n\n` +
  table + "\n";
await Deno.writeTextFile(`${values.out}/scale-out-${date}.md`, md);
await Deno.writeTextFile(`${values.out}/scale-out-${date}.json`, JSON.stringify(cells, null, 2));
console.log(md);

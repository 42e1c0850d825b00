/**
 * Fan-out benchmark runner: `deno task bench` (full matrix, < 10 min) and
 * `deno task bench --quick` (key figures, < 60 s).
 *
 * For every cell it starts, each in its own process: the Binance emulator (µs
 * send stamps in every trade, evenly paced bench trades), the server under test
 * (the gateway `main.ts`, the Node `ws` relay bench/ws_relay.mjs, or the per-write
 * ceiling bench/ceiling_server.ts), and the load generator bench/loadgen.ts. The
 * server is pinned to CPU 0, emulator and load generator to CPU 1 (`--no-pin` to
 * let the scheduler decide). It measures deliveries/s, end-to-end latency
 * (emulator send → client receive, HDR histogram), server CPU (per thread) and
 * RSS from /proc, connect and reconnect times, idle memory, and prints a Markdown
 * table (medians over the measurement windows, target, pass/miss, ratios vs the
 * ws relay), also written to bench/results/latest.md and latest.json.
 *
 * Load: every client subscribes to the trades of the 4 default symbols (raw:
 * true), so each emulator trade is one delivery per client. "paced" offers
 * 100k deliveries/s (100000/N events/s). "saturate" offers 1.25× the per-write
 * ceiling measured for the same N in this run (the ceiling itself is a closed
 * loop); delivered/s is then the server's capacity and latency is queueing.
 *
 * Options: --quick, --no-pin, --windows K, --window-ms, --warmup-ms,
 * --only <substring of cell ids>, --skip-slow, --profile (gateway CPU profile of
 * the N=1000 saturate cell into bench/results/prof/), --out <dir>.
 * @module
 */
import { parseArgs } from "node:util";
import * as hdr from "hdr-histogram-js";
import { cpuOf, median, openFileLimit, type Proc, rssMiB, sleep, spawn, stopAll } from "./procs.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BENCH = new URL(".", import.meta.url).pathname;
const DENO = Deno.execPath();
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"];
const STAMP = "benchTs";
const WS_ENV = "--allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE";
const PACED_DELIVERIES = 100_000;
const SATURATE_FACTOR = 1.25;
const BATCH_OFFERED_DELIVERIES = 1_250_000;

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    "no-pin": { type: "boolean", default: false },
    windows: { type: "string" },
    "window-ms": { type: "string" },
    "warmup-ms": { type: "string" },
    only: { type: "string" },
    "skip-slow": { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    out: { type: "string", default: `${BENCH}results` },
  },
});
const QUICK = args.quick!;
const PIN = !args["no-pin"] && navigator.hardwareConcurrency >= 2;
const WINDOWS = Number(args.windows ?? (QUICK ? 2 : 3));
const WINDOW_MS = Number(args["window-ms"] ?? (QUICK ? 2000 : 3000));
const WARMUP_MS = Number(args["warmup-ms"] ?? (QUICK ? 1000 : 1500));
const SERVER_CPUS = PIN ? "0" : undefined;
const CLIENT_CPUS = PIN ? "1" : undefined;

type ServerKind = "gateway" | "relay" | "ceiling";
type Mode = "paced" | "saturate";

interface Cell {
  id: string;
  server: ServerKind;
  n: number;
  mode: Mode;
  batch: boolean;
  reconnect: number;
}

interface WindowSample {
  deliveriesPerSec: number;
  framesPerSec: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  receiving: number;
  openAtEnd: number;
  loadgenCpuPct: number;
  serverCpuPct: number;
  serverThreadsPct: Record<string, number>;
  emulatorCpuPct: number;
  rssMiB: number;
  rssMaxMiB: number;
  histogram: string;
}

interface CellResult {
  id: string;
  server: ServerKind;
  n: number;
  mode: Mode;
  batch: boolean;
  offeredEventsPerSec: number | null;
  offeredDeliveriesPerSec: number | null;
  windows: WindowSample[];
  median: {
    deliveriesPerSec: number;
    framesPerSec: number;
    p50: number;
    p99: number;
    p999: number;
    serverCpuPct: number;
    loadgenCpuPct: number;
    emulatorCpuPct: number;
    rssMiB: number;
    rssMaxMiB: number;
    receiving: number;
  };
  /** All windows' latency merged. */
  latencyMerged: { p50: number; p99: number; p999: number; max: number } | null;
  connected: number;
  rssConnectedMiB: number;
  connectMs: { p50: number | null; p99: number | null };
  connectAllMs: number;
  reconnectHandshakeMs: { p50: number | null; p99: number | null };
  reconnectFirstEventMs: { p50: number | null; p99: number | null };
  closeCodes: Record<string, number>;
  errors: Record<string, number>;
  serverLog: string;
  error?: string;
}

// ---------------------------------------------------------------- processes

interface Emulator {
  proc: Proc;
  port: number;
}

async function startEmulator(
  opts: { benchRate?: number; defaultMarket?: boolean },
): Promise<Emulator> {
  const args = [
    "run",
    "--allow-net",
    WS_ENV,
    `${ROOT}plugins/binance/emulator/main.ts`,
    "--port",
    "0",
    "--symbols",
    SYMBOLS.join(","),
  ];
  if (!opts.defaultMarket) {
    args.push(
      "--trades-per-second",
      "0",
      "--stamp-field",
      STAMP,
      "--bench-trades-per-second",
      String(opts.benchRate ?? 0),
    );
  }
  const proc = spawn("emulator", [DENO, ...args], { cpus: CLIENT_CPUS });
  const line = await proc.waitLine((l) => l.includes("listening on"), 20_000);
  const port = Number(/:(\d+)\s*$/.exec(line)![1]);
  return { proc, port };
}

interface Server {
  proc: Proc;
  url: string;
}

async function startGateway(
  emu: Emulator,
  opts: { channels?: string; profileDir?: string } = {},
): Promise<Server> {
  const port = freePortSafe();
  const env: Record<string, string> = {
    BINANCE_WS_URL: `ws://127.0.0.1:${emu.port}`,
    BINANCE_REST_URL: `http://127.0.0.1:${emu.port}`,
    SYMBOLS: SYMBOLS.join(","),
  };
  if (opts.channels) env.CHANNELS = opts.channels;
  const flags = ["run", "-A", "--unstable-worker-options"];
  if (opts.profileDir) flags.push("--cpu-prof", `--cpu-prof-dir=${opts.profileDir}`);
  const proc = spawn(
    "gateway",
    [
      DENO,
      ...flags,
      `${ROOT}main.ts`,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--log-level",
      "warning",
    ],
    { env, cpus: SERVER_CPUS, cwd: ROOT },
  );
  const deadline = Date.now() + 20_000;
  while (true) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/ready`);
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`gateway not ready within 20 s: ${proc.stderrTail().slice(-1500)}`);
    }
    await sleep(50);
  }
  return { proc, url: `ws://127.0.0.1:${port}/ws` };
}

async function startRelay(emu: Emulator): Promise<Server> {
  const port = freePortSafe();
  const streams = SYMBOLS.map((s) => `${s.toLowerCase()}@trade`).join("/");
  const proc = spawn(
    "relay",
    [
      nodePath(),
      `${BENCH}ws_relay.mjs`,
      "--port",
      String(port),
      "--upstream",
      `ws://127.0.0.1:${emu.port}/stream?streams=${streams}`,
    ],
    { cpus: SERVER_CPUS, cwd: ROOT },
  );
  await proc.waitLine((l) => l.startsWith("relay upstream connected"), 20_000);
  return { proc, url: `ws://127.0.0.1:${port}/ws` };
}

async function startCeiling(rate: number): Promise<Server> {
  const port = freePortSafe();
  const proc = spawn(
    "ceiling",
    [
      DENO,
      "run",
      "--allow-net",
      `${BENCH}ceiling_server.ts`,
      "--port",
      String(port),
      "--rate",
      String(rate),
      "--stamp-field",
      STAMP,
    ],
    { cpus: SERVER_CPUS },
  );
  await proc.waitLine((l) => l.includes("listening on"), 20_000);
  return { proc, url: `ws://127.0.0.1:${port}/ws` };
}

function freePortSafe(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

let nodeBin: string | undefined;
function nodePath(): string {
  if (nodeBin) return nodeBin;
  for (const p of ["/usr/bin/node", "/usr/local/bin/node"]) {
    try {
      Deno.statSync(p);
      return nodeBin = p;
    } catch { /* next */ }
  }
  return nodeBin = "node";
}

// ---------------------------------------------------------------- load

interface LoadOptions {
  n: number;
  url: string;
  subscribe: boolean;
  windows: number;
  warmupMs: number;
  windowMs: number;
  reconnect: number;
  /** Pids whose CPU/RSS is sampled per window. */
  server: Proc;
  emulator?: Proc;
  /** Called once every client is connected (idle), before `go`. */
  onReady?: () => Promise<void>;
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function runLoad(
  o: LoadOptions,
): Promise<{ result: Json; samples: Json[]; rssConnected: number }> {
  const args = [
    "run",
    "-A",
    `${BENCH}loadgen.ts`,
    "--url",
    o.url,
    "--clients",
    String(o.n),
    "--wait-go",
    "--warmup-ms",
    String(o.warmupMs),
    "--window-ms",
    String(o.windowMs),
    "--windows",
    String(o.windows),
    "--reconnect",
    String(o.reconnect),
    "--stamp-field",
    STAMP,
  ];
  args.push(o.subscribe ? "--subscribe-on-go" : "--no-subscribe");
  const lg = spawn("loadgen", [DENO, ...args], { cpus: CLIENT_CPUS });
  try {
    await lg.waitLine((l) => l.includes('"event":"ready"'), 30_000 + o.n * 5);
    const rssConnected = rssMiB(o.server.pid);
    if (o.onReady) await o.onReady();
    const samples: Json[] = [];
    let cur: Json;
    let rssTimer: ReturnType<typeof setInterval> | undefined;
    lg.onLine((line) => {
      if (line.includes('"event":"window_start"')) {
        cur = {
          t0: performance.now(),
          cpu0: cpuOf(o.server.pid),
          emu0: o.emulator ? cpuOf(o.emulator.pid).total : NaN,
          rssMax: rssMiB(o.server.pid),
        };
        rssTimer = setInterval(() => {
          cur.rssMax = Math.max(cur.rssMax, rssMiB(o.server.pid));
        }, 250);
      } else if (line.includes('"event":"window_end"') && cur) {
        clearInterval(rssTimer);
        const dt = (performance.now() - cur.t0) / 1000;
        const cpu1 = cpuOf(o.server.pid);
        const threads: Record<string, number> = {};
        for (const [k, v] of Object.entries(cpu1.threads)) {
          threads[k] = round((v - (cur.cpu0.threads[k] ?? 0)) / dt * 100, 1);
        }
        samples.push({
          serverCpuPct: (cpu1.total - cur.cpu0.total) / dt * 100,
          serverThreadsPct: threads,
          emulatorCpuPct: o.emulator ? (cpuOf(o.emulator.pid).total - cur.emu0) / dt * 100 : NaN,
          rssMiB: rssMiB(o.server.pid),
          rssMaxMiB: Math.max(cur.rssMax, rssMiB(o.server.pid)),
        });
        cur = undefined;
      }
    });
    await lg.write("go\n");
    const line = await lg.waitLine(
      (l) => l.includes('"event":"result"'),
      60_000 + o.warmupMs + o.windows * o.windowMs + o.n * 5,
    );
    clearInterval(rssTimer);
    return { result: JSON.parse(line), samples, rssConnected };
  } finally {
    await lg.stop();
  }
}

// ---------------------------------------------------------------- cells

const results: CellResult[] = [];
const log = (msg: string) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

function ceilingDeliveries(n: number): number | undefined {
  const c = results.find((r) => r.server === "ceiling" && r.n === n && r.mode === "saturate");
  const v = c?.median.deliveriesPerSec;
  return v && Number.isFinite(v) && v > 0 ? v : undefined;
}

function offeredEvents(cell: Cell): number {
  if (cell.batch) return Math.ceil(BATCH_OFFERED_DELIVERIES / cell.n);
  if (cell.mode === "paced") return Math.max(1, Math.round(PACED_DELIVERIES / cell.n));
  const ceiling = ceilingDeliveries(cell.n) ?? 250_000;
  return Math.ceil(SATURATE_FACTOR * ceiling / cell.n);
}

async function runCell(cell: Cell): Promise<CellResult> {
  const started = performance.now();
  let emu: Emulator | undefined;
  let server: Server | undefined;
  const offered = cell.server === "ceiling" && cell.mode === "saturate" ? 0 : offeredEvents(cell);
  const base: CellResult = {
    id: cell.id,
    server: cell.server,
    n: cell.n,
    mode: cell.mode,
    batch: cell.batch,
    offeredEventsPerSec: offered || null,
    offeredDeliveriesPerSec: offered ? offered * cell.n : null,
    windows: [],
    median: {
      deliveriesPerSec: NaN,
      framesPerSec: NaN,
      p50: NaN,
      p99: NaN,
      p999: NaN,
      serverCpuPct: NaN,
      loadgenCpuPct: NaN,
      emulatorCpuPct: NaN,
      rssMiB: NaN,
      rssMaxMiB: NaN,
      receiving: NaN,
    },
    latencyMerged: null,
    connected: 0,
    rssConnectedMiB: NaN,
    connectMs: { p50: null, p99: null },
    connectAllMs: NaN,
    reconnectHandshakeMs: { p50: null, p99: null },
    reconnectFirstEventMs: { p50: null, p99: null },
    closeCodes: {},
    errors: {},
    serverLog: "",
  };
  try {
    if (cell.server === "ceiling") {
      server = await startCeiling(offered);
    } else {
      emu = await startEmulator({ benchRate: offered });
      const profileDir = args.profile && cell.server === "gateway" && cell.n === 1000 &&
          cell.mode === "saturate" && !cell.batch
        ? `${args.out}/prof`
        : undefined;
      if (profileDir) Deno.mkdirSync(profileDir, { recursive: true });
      server = cell.server === "gateway"
        ? await startGateway(emu, { channels: "trade", profileDir })
        : await startRelay(emu);
    }
    const url = cell.batch ? `${server.url}?batch=1` : server.url;
    const { result, samples, rssConnected } = await runLoad({
      n: cell.n,
      url,
      subscribe: true,
      windows: WINDOWS,
      warmupMs: WARMUP_MS,
      windowMs: WINDOW_MS,
      reconnect: cell.reconnect,
      server: server.proc,
      emulator: emu?.proc,
    });
    const windows: WindowSample[] = result.windows.map((w: Json, i: number) => ({
      deliveriesPerSec: w.eventsPerSec,
      framesPerSec: w.framesPerSec,
      p50: w.latencyMs.p50,
      p99: w.latencyMs.p99,
      p999: w.latencyMs.p999,
      max: w.latencyMs.max,
      receiving: w.receiving,
      openAtEnd: w.openAtEnd,
      loadgenCpuPct: w.loadgenCpuPct,
      serverCpuPct: samples[i]?.serverCpuPct ?? NaN,
      serverThreadsPct: samples[i]?.serverThreadsPct ?? {},
      emulatorCpuPct: samples[i]?.emulatorCpuPct ?? NaN,
      rssMiB: samples[i]?.rssMiB ?? NaN,
      rssMaxMiB: samples[i]?.rssMaxMiB ?? NaN,
      histogram: w.latencyHistogram,
    }));
    const pick = (f: (w: WindowSample) => number | null) => median(windows.map(f));
    base.windows = windows;
    base.median = {
      deliveriesPerSec: pick((w) => w.deliveriesPerSec),
      framesPerSec: pick((w) => w.framesPerSec),
      p50: pick((w) => w.p50),
      p99: pick((w) => w.p99),
      p999: pick((w) => w.p999),
      serverCpuPct: pick((w) => w.serverCpuPct),
      loadgenCpuPct: pick((w) => w.loadgenCpuPct),
      emulatorCpuPct: pick((w) => w.emulatorCpuPct),
      rssMiB: pick((w) => w.rssMiB),
      rssMaxMiB: pick((w) => w.rssMaxMiB),
      receiving: pick((w) => w.receiving),
    };
    base.latencyMerged = mergeLatency(windows.map((w) => w.histogram));
    base.connected = result.connected;
    base.rssConnectedMiB = rssConnected;
    base.connectMs = { p50: result.connectMs.p50, p99: result.connectMs.p99 };
    base.connectAllMs = result.connectAllMs;
    base.reconnectHandshakeMs = {
      p50: result.reconnectHandshakeMs.p50,
      p99: result.reconnectHandshakeMs.p99,
    };
    base.reconnectFirstEventMs = {
      p50: result.reconnectFirstEventMs.p50,
      p99: result.reconnectFirstEventMs.p99,
    };
    base.closeCodes = result.closeCodes;
    base.errors = result.errors;
  } catch (err) {
    base.error = err instanceof Error ? err.message : String(err);
    log(`cell ${cell.id} failed: ${base.error}`);
  } finally {
    if (server) {
      await server.proc.stop(
        cell.server === "relay" || cell.server === "ceiling" ? "SIGTERM" : "SIGINT",
      );
      base.serverLog = server.proc.stderrTail().split("\n").filter((l) => l.trim()).slice(-5).join(
        "\n",
      );
    }
    if (emu) await emu.proc.stop("SIGINT");
  }
  const m = base.median;
  log(
    `${cell.id}: ${fmtInt(m.deliveriesPerSec)} deliveries/s (frames ${fmtInt(m.framesPerSec)}), ` +
      `p50 ${fmt(m.p50)} p99 ${fmt(m.p99)} ms, server CPU ${fmt(m.serverCpuPct, 0)}%, ` +
      `RSS ${fmt(m.rssMiB, 0)} MiB, loadgen CPU ${fmt(m.loadgenCpuPct, 0)}%, ` +
      `closes ${JSON.stringify(base.closeCodes)} (${
        ((performance.now() - started) / 1000).toFixed(1)
      } s)`,
  );
  results.push(base);
  return base;
}

function mergeLatency(histograms: string[]) {
  const parts = histograms.filter(Boolean);
  if (parts.length === 0) return null;
  const merged = hdr.build({ bitBucketSize: 64, autoResize: true });
  for (const b64 of parts) merged.add(hdr.decodeFromCompressedBase64(b64, 64));
  if (merged.totalCount === 0) return null;
  return {
    p50: merged.getValueAtPercentile(50) / 1000,
    p99: merged.getValueAtPercentile(99) / 1000,
    p999: merged.getValueAtPercentile(99.9) / 1000,
    max: merged.maxValue / 1000,
  };
}

// ---------------------------------------------------------------- idle memory

interface IdleResult {
  server: "gateway" | "relay";
  idleRssMiB: number;
  n: number;
  rssWithClientsMiB: number;
  perClientKiB: number;
  connected: number;
  connectMs: { p50: number | null; p99: number | null };
  connectAllMs: number;
  error?: string;
}

async function rssSteady(pid: number, samples = 5, gapMs = 300): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    xs.push(rssMiB(pid));
    await sleep(gapMs);
  }
  return median(xs);
}

async function runIdle(
  kind: "gateway" | "relay",
  n: number,
  settleMs: number,
): Promise<IdleResult> {
  log(`idle memory (${kind}): default emulator market, 4 symbols, 0 then ${n} idle clients`);
  const out: IdleResult = {
    server: kind,
    idleRssMiB: NaN,
    n,
    rssWithClientsMiB: NaN,
    perClientKiB: NaN,
    connected: 0,
    connectMs: { p50: null, p99: null },
    connectAllMs: NaN,
  };
  let emu: Emulator | undefined;
  let server: Server | undefined;
  try {
    emu = await startEmulator({ defaultMarket: true });
    server = kind === "gateway" ? await startGateway(emu) : await startRelay(emu);
    await sleep(settleMs);
    out.idleRssMiB = await rssSteady(server.proc.pid);
    const srv = server;
    const { result } = await runLoad({
      n,
      url: server.url,
      subscribe: false,
      windows: 0,
      warmupMs: 0,
      windowMs: 0,
      reconnect: 0,
      server: server.proc,
      onReady: async () => {
        await sleep(settleMs);
        out.rssWithClientsMiB = await rssSteady(srv.proc.pid);
      },
    });
    out.connected = result.connected;
    out.connectMs = { p50: result.connectMs.p50, p99: result.connectMs.p99 };
    out.connectAllMs = result.connectAllMs;
    out.perClientKiB = (out.rssWithClientsMiB - out.idleRssMiB) * 1024 / Math.max(1, out.connected);
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    log(`idle ${kind} failed: ${out.error}`);
  } finally {
    if (server) await server.proc.stop(kind === "gateway" ? "SIGINT" : "SIGTERM");
    if (emu) await emu.proc.stop("SIGINT");
  }
  log(
    `idle ${kind}: ${fmt(out.idleRssMiB)} MiB idle, ${
      fmt(out.rssWithClientsMiB)
    } MiB with ${out.connected} clients ` +
      `→ ${fmt(out.perClientKiB)} KiB/client; connect p50 ${fmt(out.connectMs.p50)} p99 ${
        fmt(out.connectMs.p99)
      } ms`,
  );
  return out;
}

// ---------------------------------------------------------------- slow consumer

async function runSlow(): Promise<Json | undefined> {
  log("slow consumer probe (bench/slow_consumer.ts, ~40 s)");
  const args = ["run", "-A", `${BENCH}slow_consumer.ts`, "--json", ...(PIN ? ["--pin"] : [])];
  const p = spawn("slow_consumer", [DENO, ...args]);
  try {
    const line = await p.waitLine((l) => l.startsWith('{"event":"slow_result"'), 120_000);
    return JSON.parse(line);
  } catch (err) {
    log(`slow consumer failed: ${err instanceof Error ? err.message : err}`);
    return { error: String(err) };
  } finally {
    await p.stop();
  }
}

// ---------------------------------------------------------------- report

const fmt = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
const fmtInt = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? "–"
    : Math.round(x).toLocaleString("en-US");
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "–";

function find(server: ServerKind, n: number, mode: Mode, batch = false) {
  return results.find((r) =>
    r.server === server && r.n === n && r.mode === mode && r.batch === batch && !r.error
  );
}

interface TargetRow {
  metric: string;
  target: string;
  measured: string;
  relay: string;
  ratio: string;
  verdict: string;
}

function targets(idle: IdleResult[], slow: Json | undefined): TargetRow[] {
  const rows: TargetRow[] = [];
  const verdict = (ok: boolean | undefined, by?: string) =>
    ok === undefined ? "n/a" : ok ? "**pass**" : `**MISS**${by ? ` (${by})` : ""}`;
  const gwSat = find("gateway", 1000, "saturate");
  const relaySat = find("relay", 1000, "saturate");
  const ceil = find("ceiling", 1000, "saturate");
  const d = gwSat?.median.deliveriesPerSec ?? NaN;
  rows.push({
    metric: "Fan-out N=1000, 1 event/frame, saturating: deliveries/s",
    target: "≥ 150,000",
    measured: fmtInt(d),
    relay: fmtInt(relaySat?.median.deliveriesPerSec),
    ratio: ratio(d, relaySat?.median.deliveriesPerSec ?? NaN),
    verdict: verdict(gwSat ? d >= 150_000 : undefined, `${fmt(d / 1500, 0)}% of target`),
  });
  const c = ceil?.median.deliveriesPerSec ?? NaN;
  rows.push({
    metric: `… share of the per-write ceiling (bare Deno.serve, 200-B pre-encoded: ${fmtInt(c)}/s)`,
    target: "≥ 85%",
    measured: Number.isFinite(d / c) ? `${(d / c * 100).toFixed(0)}%` : "–",
    relay: Number.isFinite(c) && relaySat
      ? `${(relaySat.median.deliveriesPerSec / c * 100).toFixed(0)}%`
      : "–",
    ratio: "",
    verdict: verdict(gwSat && ceil ? d / c >= 0.85 : undefined),
  });
  const b = find("gateway", 1000, "saturate", true);
  const be = b?.median.deliveriesPerSec ?? NaN;
  rows.push({
    metric: `Batched (?batch=1) N=1000: events delivered/s (offered ${
      fmtInt(b?.offeredDeliveriesPerSec)
    }; ${fmt(be / (b?.median.framesPerSec ?? NaN), 2)} events/frame)`,
    target: "≥ 1,000,000",
    measured: fmtInt(be),
    relay: fmtInt(relaySat?.median.deliveriesPerSec),
    ratio: ratio(be, relaySat?.median.deliveriesPerSec ?? NaN),
    verdict: verdict(b ? be >= 1_000_000 : undefined, `${fmt(be / 10000, 0)}% of target`),
  });
  const p = find("gateway", 1000, "paced");
  const rp = find("relay", 1000, "paced");
  rows.push({
    metric: `Latency N=1000 @ 100k deliveries/s: p50 ms (delivered ${
      fmtInt(p?.median.deliveriesPerSec)
    }/s)`,
    target: "≤ 1 ms",
    measured: fmt(p?.median.p50),
    relay: fmt(rp?.median.p50),
    ratio: ratio(p?.median.p50 ?? NaN, rp?.median.p50 ?? NaN),
    verdict: verdict(p ? p.median.p50 <= 1 : undefined, `${fmt(p?.median.p50)} ms`),
  });
  rows.push({
    metric: "… p99 ms",
    target: "≤ 5 ms",
    measured: fmt(p?.median.p99),
    relay: fmt(rp?.median.p99),
    ratio: ratio(p?.median.p99 ?? NaN, rp?.median.p99 ?? NaN),
    verdict: verdict(p ? p.median.p99 <= 5 : undefined, `${fmt(p?.median.p99)} ms`),
  });
  rows.push({
    metric: "… p99.9 ms (informative)",
    target: "",
    measured: fmt(p?.median.p999),
    relay: fmt(rp?.median.p999),
    ratio: ratio(p?.median.p999 ?? NaN, rp?.median.p999 ?? NaN),
    verdict: "",
  });
  const big = results.filter((r) =>
    r.server === "gateway" && r.n >= 10_000 && !r.batch && !r.error
  );
  if (big.length > 0) {
    const worst = Math.min(
      ...big.flatMap((r) => r.windows.map((w) => Math.min(w.receiving, w.openAtEnd))),
    );
    rows.push({
      metric: "10,000 concurrent clients, all receiving (every window, paced and saturating)",
      target: "10,000",
      measured: fmtInt(worst),
      relay: fmtInt(
        Math.min(
          ...results.filter((r) => r.server === "relay" && r.n >= 10_000 && !r.error)
            .flatMap((r) => r.windows.map((w) => Math.min(w.receiving, w.openAtEnd))),
        ),
      ),
      ratio: "",
      verdict: verdict(worst >= 10_000),
    });
  } else {
    rows.push({
      metric: "10,000 concurrent clients, all receiving",
      target: "10,000",
      measured: "not run",
      relay: "",
      ratio: "",
      verdict: "n/a",
    });
  }
  const gi = idle.find((i) => i.server === "gateway");
  const ri = idle.find((i) => i.server === "relay");
  rows.push({
    metric: "RSS idle, 4 symbols, all channels, 0 clients (MiB)",
    target: "≤ 60",
    measured: fmt(gi?.idleRssMiB, 1),
    relay: fmt(ri?.idleRssMiB, 1),
    ratio: ratio(gi?.idleRssMiB ?? NaN, ri?.idleRssMiB ?? NaN),
    verdict: verdict(gi && Number.isFinite(gi.idleRssMiB) ? gi.idleRssMiB <= 60 : undefined),
  });
  rows.push({
    metric: `RSS per idle client (Δ RSS / ${fmtInt(gi?.connected)} clients, KiB)`,
    target: "≤ 25",
    measured: fmt(gi?.perClientKiB, 1),
    relay: fmt(ri?.perClientKiB, 1),
    ratio: ratio(gi?.perClientKiB ?? NaN, ri?.perClientKiB ?? NaN),
    verdict: verdict(gi && Number.isFinite(gi.perClientKiB) ? gi.perClientKiB <= 25 : undefined),
  });
  if (slow && !slow.error) {
    rows.push({
      metric: `Slow consumer (never reads): RSS slope last half ${
        fmt(slow.rssSlopeMiBPerMin, 2)
      } MiB/min, max ${fmt(slow.rssMaxMiB, 0)} MiB; others' p99 ${fmt(slow.baselineP99, 2)} → ${
        fmt(slow.withSlowP99, 2)
      } ms; cut off: ${slow.disconnected}`,
      target: "bounded, p99 unaffected",
      measured: slow.bounded ? "bounded" : "NOT bounded",
      relay: "",
      ratio: "",
      verdict: verdict(slow.bounded && slow.othersUnaffected),
    });
  } else {
    rows.push({
      metric: "Slow consumer bounded",
      target: "bounded",
      measured: slow?.error ? "error" : "not run (bench/slow_consumer.ts)",
      relay: "",
      ratio: "",
      verdict: "n/a",
    });
  }
  return rows;
}

function render(idle: IdleResult[], slow: Json | undefined, meta: Json): string {
  const out: string[] = [];
  out.push(`# Fan-out benchmark (${QUICK ? "quick" : "full"})`);
  out.push("");
  out.push(
    `${meta.date} · Deno ${Deno.version.deno} · Node ${meta.node} · ${navigator.hardwareConcurrency} CPUs · ` +
      `${PIN ? "server pinned to CPU 0, emulator + loadgen to CPU 1" : "unpinned"} · ` +
      `${WINDOWS} windows × ${WINDOW_MS} ms after ${WARMUP_MS} ms warm-up, medians over windows · ` +
      `load avg at start ${meta.loadavg} · total ${meta.totalSec} s`,
  );
  out.push("");
  out.push("## Targets");
  out.push("");
  out.push("| Metric | Target | Gateway | ws relay | Gateway/ws | Verdict |");
  out.push("|---|---|---|---|---|---|");
  for (const r of targets(idle, slow)) {
    out.push(
      `| ${r.metric} | ${r.target} | ${r.measured} | ${r.relay} | ${r.ratio} | ${r.verdict} |`,
    );
  }
  out.push("");
  out.push("## Matrix");
  out.push("");
  out.push(
    "Deliveries = trade events received by clients (batched frames count each event). Latency = client receive − emulator send stamp (ms). " +
      "CPU in % of one core. *saturate*: offered 1.25× the ceiling's rate for that N; latency there is queueing delay.",
  );
  out.push("");
  out.push(
    "| Server | N | Load | Offered/s | Delivered/s | vs ws | Events/frame | p50 | p99 | p99.9 | Server CPU (main/worker) | RSS MiB (max) | Loadgen CPU | Connect p50/p99 ms | Reconnect→1st event p50/p99 ms | Closes |",
  );
  out.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  const order: ServerKind[] = ["gateway", "relay", "ceiling"];
  const sorted = [...results].sort((a, b) =>
    a.n - b.n || a.mode.localeCompare(b.mode) || Number(a.batch) - Number(b.batch) ||
    order.indexOf(a.server) - order.indexOf(b.server)
  );
  for (const r of sorted) {
    const m = r.median;
    const relay = r.server === "gateway" ? find("relay", r.n, r.mode) : undefined;
    const th = r.windows[0]?.serverThreadsPct ?? {};
    const thr = r.server === "gateway"
      ? ` (${fmt(median(r.windows.map((w) => w.serverThreadsPct.deno)), 0)}/${
        fmt(median(r.windows.map((w) => w.serverThreadsPct["worker-1"])), 0)
      })`
      : Object.keys(th).length
      ? ""
      : "";
    const closes = Object.keys(r.closeCodes).length ? JSON.stringify(r.closeCodes) : "0";
    out.push(
      `| ${r.server}${r.batch ? " batch=1" : ""} | ${fmtInt(r.n)} | ${r.mode} | ${
        r.offeredDeliveriesPerSec ? fmtInt(r.offeredDeliveriesPerSec) : "closed loop"
      } | ${fmtInt(m.deliveriesPerSec)} | ${
        relay ? ratio(m.deliveriesPerSec, relay.median.deliveriesPerSec) : ""
      } | ${fmt(m.deliveriesPerSec / m.framesPerSec, 2)} | ${fmt(m.p50)} | ${fmt(m.p99)} | ${
        fmt(m.p999)
      } | ${fmt(m.serverCpuPct, 0)}%${thr} | ${fmt(m.rssMiB, 0)} (${fmt(m.rssMaxMiB, 0)}) | ${
        fmt(m.loadgenCpuPct, 0)
      }% | ${fmt(r.connectMs.p50, 1)}/${fmt(r.connectMs.p99, 1)} | ${
        fmt(r.reconnectFirstEventMs.p50, 1)
      }/${fmt(r.reconnectFirstEventMs.p99, 1)} | ${
        r.error ? `ERROR: ${r.error.slice(0, 80)}` : closes
      } |`,
    );
  }
  out.push("");
  out.push("## Idle memory");
  out.push("");
  out.push(
    "| Server | RSS idle MiB | N idle clients | RSS with clients MiB | KiB/client | Connect p50/p99 ms | Connect all (ms) |",
  );
  out.push("|---|---|---|---|---|---|---|");
  for (const i of idle) {
    out.push(
      `| ${i.server} | ${fmt(i.idleRssMiB, 1)} | ${fmtInt(i.connected)} | ${
        fmt(i.rssWithClientsMiB, 1)
      } | ${fmt(i.perClientKiB, 1)} | ${fmt(i.connectMs.p50, 1)}/${fmt(i.connectMs.p99, 1)} | ${
        fmtInt(i.connectAllMs)
      } |${i.error ? ` ERROR ${i.error.slice(0, 80)}` : ""}`,
    );
  }
  if (slow && !slow.error) {
    out.push("");
    out.push("## Slow consumer");
    out.push("");
    out.push("```");
    out.push(slow.summary ?? JSON.stringify(slow));
    out.push("```");
  }
  out.push("");
  out.push("## Raw per-window figures");
  out.push("");
  out.push("```");
  for (const r of sorted) {
    out.push(
      `${r.id.padEnd(28)} ` +
        r.windows.map((w) =>
          `[${fmtInt(w.deliveriesPerSec)}/s p50 ${fmt(w.p50)} p99 ${fmt(w.p99)} cpu ${
            fmt(w.serverCpuPct, 0)
          }% rss ${fmt(w.rssMiB, 0)} lg ${fmt(w.loadgenCpuPct, 0)}% emu ${
            fmt(w.emulatorCpuPct, 0)
          }%]`
        ).join(" "),
    );
  }
  out.push("```");
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- main

function cells(): Cell[] {
  const list: Cell[] = [];
  const add = (server: ServerKind, n: number, mode: Mode, batch = false) =>
    list.push({
      id: `${server}${batch ? "-batch" : ""}-${n}-${mode}`,
      server,
      n,
      mode,
      batch,
      reconnect: server === "ceiling" ? 0 : Math.min(100, n / 10),
    });
  const ns = QUICK ? [1000] : [100, 1000, 10_000];
  for (const n of ns) {
    add("ceiling", n, "saturate");
    add("gateway", n, "saturate");
    add("relay", n, "saturate");
    add("gateway", n, "paced");
    if (!QUICK || n === 1000) add("relay", n, "paced");
    if (!QUICK && n === 1000) add("ceiling", n, "paced");
  }
  add("gateway", 1000, "saturate", true);
  if (!QUICK) add("gateway", 100, "saturate", true);
  return args.only ? list.filter((c) => c.id.includes(args.only!)) : list;
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const limit = openFileLimit();
  const maxN = QUICK ? 1000 : 10_000;
  if (limit < maxN + 500) {
    log(
      `open-file limit ${limit} is below ${maxN + 500}: raise it (ulimit -n 65536) for N=${maxN}`,
    );
  }
  const nodeVersion = await new Deno.Command(nodePath(), { args: ["--version"] }).output()
    .then((o) => new TextDecoder().decode(o.stdout).trim()).catch(() => "?");
  const loadavg = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  log(
    `${QUICK ? "quick" : "full"} run: ${
      PIN ? "pinned (server CPU 0, clients CPU 1)" : "unpinned"
    }, ` +
      `${WINDOWS}×${WINDOW_MS} ms windows, load average ${loadavg}`,
  );

  const idle: IdleResult[] = [];
  const runAll = !args.only;
  if (runAll || "idle".includes(args.only!)) {
    idle.push(await runIdle("gateway", QUICK ? 1000 : 10_000, QUICK ? 1500 : 2000));
  }
  for (const cell of cells()) {
    log(`cell ${cell.id}`);
    await runCell(cell);
  }
  if (!QUICK && (runAll || "idle".includes(args.only!))) {
    idle.push(await runIdle("relay", 10_000, 2000));
  }
  let slow: Json | undefined;
  if (!QUICK && !args["skip-slow"] && (runAll || "slow".includes(args.only!))) {
    slow = await runSlow();
  }

  const meta = {
    date: new Date().toISOString(),
    node: nodeVersion,
    loadavg,
    totalSec: Math.round((performance.now() - t0) / 1000),
  };
  const md = render(idle, slow, meta);
  console.log(md);
  Deno.mkdirSync(args.out!, { recursive: true });
  const name = QUICK ? "latest-quick" : "latest";
  Deno.writeTextFileSync(`${args.out}/${name}.md`, md);
  Deno.writeTextFileSync(
    `${args.out}/${name}.json`,
    JSON.stringify(
      {
        meta: {
          ...meta,
          quick: QUICK,
          pinned: PIN,
          windows: WINDOWS,
          windowMs: WINDOW_MS,
          warmupMs: WARMUP_MS,
        },
        targets: targets(idle, slow),
        cells: results.map((r) => ({
          ...r,
          windows: r.windows.map(({ histogram: _h, ...w }) => w),
        })),
        idle,
        slowConsumer: slow,
      },
      null,
      2,
    ),
  );
  log(`wrote ${args.out}/${name}.md and .json in ${meta.totalSec} s`);
  return 0;
}

const cleanup = async () => {
  await stopAll();
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", cleanup);
Deno.addSignalListener("SIGTERM", cleanup);
try {
  const code = await main();
  await stopAll();
  Deno.exit(code);
} catch (err) {
  console.error(err);
  await stopAll();
  Deno.exit(1);
}

/**
 * Recording (or analytics) overhead on live fan-out: the same cell (Binance emulator + gateway +
 * load generator, as bench/run.ts builds it) with recording off and on, in ONE run,
 * alternating off/on/off/on... so drift on the shared machine cancels out. Each run
 * starts fresh processes; the "on" runs give the gateway `RECORD_DIR=<tmp folder>`.
 *
 * `--feature analytics` compares instead the gateway computing the order-flow analytics
 * (the default) with `ANALYTICS_ENABLED=false`; both sides then stream trades and books
 * from the emulator (`CHANNELS=trade,book`), so every book update and trade goes through
 * the analytics in the "on" runs.
 *
 * `--feature paper` compares paper trading on with `--accounts` (default 1,000) open-access
 * accounts each holding a resting order near the touch of BTCUSDT (bench/paper_accounts.ts)
 * against `PAPER_ENABLED=false`; both sides stream trades and books.
 *
 *   deno run -A bench/recording_overhead.ts [--feature recording|analytics|paper] [--accounts 1000] [--rounds 3] [--clients 200] [--rate 500]
 *     [--windows 3] [--window-ms 3000] [--warmup-ms 1500] [--no-pin] [--out bench/results/recording-<date>.md]
 *
 * `--rate` is the emulator's trades/s over the 4 symbols; every client subscribes to
 * all of them with `raw: true`, so deliveries/s offered = rate × clients (default
 * 100,000/s, the paced load of bench/run.ts). Reported per run and as medians: the
 * deliveries/s received, the gateway's CPU (whole process: hub, plugin Worker and the
 * recorder's writer Worker, all pinned to CPU 0) and its CPU µs per delivery, and for
 * "on" runs the bytes recorded. At a paced load the delivered rate is the offered
 * one in both modes, so the overhead shows in CPU per delivery: the capacity lost to
 * recording is 1 − cpu_off / cpu_on per delivery (target ≤ 5%). Raise `--rate` past
 * the gateway's capacity to compare delivered rates directly.
 *
 * Whether the gateway really recorded is read from `/health` (a `recording` field)
 * and from the folder (day files written); when it did not (a gateway without the
 * recording wiring), the script says so and still runs both sides.
 * @module
 */
import { parseArgs } from "node:util";
import { cpuOf, DEV_CONFIG, median, type Proc, spawn, stopAll } from "./procs.ts";
import { startStack } from "./stack.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    feature: { type: "string", default: "recording" },
    accounts: { type: "string", default: "1000" },
    rounds: { type: "string", default: "3" },
    clients: { type: "string", default: "200" },
    rate: { type: "string", default: "500" },
    windows: { type: "string", default: "3" },
    "window-ms": { type: "string", default: "3000" },
    "warmup-ms": { type: "string", default: "1500" },
    "no-pin": { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const FEATURE = values.feature === "analytics" || values.feature === "paper"
  ? values.feature
  : "recording";
const ACCOUNTS = Number(values.accounts);
const ROUNDS = Number(values.rounds);
const CLIENTS = Number(values.clients);
const RATE = Number(values.rate);
const WINDOWS = Number(values.windows);
const WINDOW_MS = Number(values["window-ms"]);
const WARMUP_MS = Number(values["warmup-ms"]);
const PIN = !values["no-pin"] && navigator.hardwareConcurrency >= 2;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"];
const BENCH = new URL(".", import.meta.url).pathname;

/** One measured run. */
interface Run {
  mode: "off" | "on";
  round: number;
  /** Median over the windows. */
  deliveriesPerSec: number;
  serverCpuPct: number;
  cpuUsPerDelivery: number;
  p99Ms: number | null;
  /** Recording state as /health reports it (undefined: no such field). */
  health?: unknown;
  /** Day files and bytes in RECORD_DIR after the run ("on" only). */
  recordedFiles?: number;
  recordedBytes?: number;
}

/** Total size and count of the files in `dir`. */
function folderSize(dir: string): { files: number; bytes: number } {
  let files = 0, bytes = 0;
  for (const e of Deno.readDirSync(dir)) {
    if (!e.isFile) continue;
    files++;
    bytes += Deno.statSync(`${dir}/${e.name}`).size;
  }
  return { files, bytes };
}

/** The recording part of `/health`, if the gateway reports one. */
async function recordingHealth(port: number): Promise<unknown> {
  try {
    const body = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
    return body.recording ?? body.record ?? body.history;
  } catch {
    return undefined;
  }
}

async function measure(mode: "off" | "on", round: number): Promise<Run> {
  const recordDir = mode === "on" && FEATURE === "recording"
    ? await Deno.makeTempDir({ prefix: "rec-overhead-" })
    : "";
  const env: Record<string, string> = FEATURE === "analytics"
    ? { CHANNELS: "trade,book", ...(mode === "off" ? { ANALYTICS_ENABLED: "false" } : {}) }
    : FEATURE === "paper"
    ? { CHANNELS: "trade,book", ...(mode === "off" ? { PAPER_ENABLED: "false" } : {}) }
    : { CHANNELS: "trade", ...(recordDir ? { RECORD_DIR: recordDir } : {}) };
  const stack = await startStack({
    symbols: SYMBOLS,
    emulatorArgs: [
      ...["--trades-per-second", "0", "--stamp-field", "benchTs"],
      ...["--bench-trades-per-second", String(RATE)],
    ],
    env,
    gatewayCpus: PIN ? "0" : undefined,
    emulatorCpus: PIN ? "1" : undefined,
  });
  let lg: Proc | undefined;
  let accounts: Proc | undefined;
  try {
    const health = await recordingHealth(stack.port);
    if (FEATURE === "paper" && mode === "on") {
      // The gateway's book must be synced before the accounts read it.
      for (let i = 0; i < 200; i++) {
        const res = await fetch(
          `http://127.0.0.1:${stack.port}/api/book?exchange=binance&symbol=BTCUSDT&depth=1`,
        );
        const book = await res.json();
        if (book.synced) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      accounts = spawn("paper-accounts", [
        Deno.execPath(),
        "run",
        "-A",
        `${BENCH}paper_accounts.ts`,
        ...["--url", `ws://127.0.0.1:${stack.port}/ws`, "--accounts", String(ACCOUNTS)],
      ], { cpus: PIN ? "1" : undefined });
      const ready = JSON.parse(
        await accounts.waitLine((l) => l.includes('"event":"ready"'), 60_000),
      );
      console.error(`paper accounts: ${ready.resting} resting orders, ${ready.refused} refused`);
    }
    lg = spawn("loadgen", [
      Deno.execPath(),
      "run",
      ...DEV_CONFIG,
      "-A",
      `${BENCH}loadgen.ts`,
      ...["--url", `ws://127.0.0.1:${stack.port}/ws`, "--clients", String(CLIENTS)],
      ...["--wait-go", "--subscribe-on-go", "--stamp-field", "benchTs"],
      ...["--warmup-ms", String(WARMUP_MS), "--window-ms", String(WINDOW_MS)],
      ...["--windows", String(WINDOWS)],
    ], { cpus: PIN ? "1" : undefined });
    await lg.waitLine((l) => l.includes('"event":"ready"'), 60_000);
    const cpu: number[] = [];
    let start: { t: number; cpu: number } | undefined;
    lg.onLine((line) => {
      if (line.includes('"event":"window_start"')) {
        start = { t: performance.now(), cpu: cpuOf(stack.gateway.pid).total };
      } else if (line.includes('"event":"window_end"') && start) {
        const dt = (performance.now() - start.t) / 1000;
        cpu.push((cpuOf(stack.gateway.pid).total - start.cpu) / dt * 100);
        start = undefined;
      }
    });
    await lg.write("go\n");
    const line = await lg.waitLine(
      (l) => l.includes('"event":"result"'),
      120_000 + WARMUP_MS + WINDOWS * WINDOW_MS,
    );
    const result = JSON.parse(line);
    const rates: number[] = result.windows.map((w: { eventsPerSec: number }) => w.eventsPerSec);
    const perDelivery = rates.map((r, i) => (cpu[i] / 100) * 1e6 / r);
    const run: Run = {
      mode,
      round,
      deliveriesPerSec: median(rates),
      serverCpuPct: median(cpu),
      cpuUsPerDelivery: median(perDelivery),
      p99Ms: median(result.windows.map((w: { latencyMs: { p99: number } }) => w.latencyMs?.p99)),
      health,
    };
    if (recordDir) {
      await stack.gateway.stop();
      const size = folderSize(recordDir);
      run.recordedFiles = size.files;
      run.recordedBytes = size.bytes;
    }
    return run;
  } finally {
    await lg?.stop();
    await accounts?.stop();
    await stack.gateway.stop();
    await stack.emulator.stop();
    if (recordDir) await Deno.remove(recordDir, { recursive: true }).catch(() => {});
  }
}

const fmt = (x: number, d = 0) =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: d }) : "–";

const runs: Run[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    // off, on, off, on, ...: neighbours share the machine's state, drift cancels in the medians.
    for (const mode of ["off", "on"] as const) {
      const run = await measure(mode, round);
      runs.push(run);
      console.error(
        `round ${round} ${mode}: ${fmt(run.deliveriesPerSec)} deliveries/s, server CPU ${
          fmt(run.serverCpuPct, 1)
        }%, ${fmt(run.cpuUsPerDelivery, 3)} µs/delivery` +
          (mode === "on" && FEATURE === "recording"
            ? `, recorded ${run.recordedFiles} files / ${
              fmt(run.recordedBytes ?? 0)
            } B, /health recording: ${JSON.stringify(run.health) ?? "(no field)"}`
            : ""),
      );
    }
  }
} finally {
  await stopAll();
}

const side = (mode: "off" | "on") => runs.filter((r) => r.mode === mode);
const off = side("off"), on = side("on");
const m = (rs: Run[], f: (r: Run) => number) => median(rs.map(f));
/** The gateway recorded: `/health` says `recording.enabled` or day files were written. */
const recorded = FEATURE === "analytics" || on.some((r) =>
  (r.recordedFiles ?? 0) > 0 ||
  (typeof r.health === "object" && r.health !== null && "enabled" in r.health &&
    r.health.enabled === true)
);
const deliveriesDrop = 1 - m(on, (r) => r.deliveriesPerSec) / m(off, (r) => r.deliveriesPerSec);
const capacityDrop = 1 - m(off, (r) => r.cpuUsPerDelivery) / m(on, (r) => r.cpuUsPerDelivery);
/** Per round (neighbouring runs, so slow drift cancels): CPU per delivery on / off − 1. */
const pairRatios = off.map((o, i) => on[i] ? on[i].cpuUsPerDelivery / o.cpuUsPerDelivery - 1 : NaN);
const date = new Date().toISOString().slice(0, 10);
const lines = [
  `# ${
    { recording: "Recording", analytics: "Analytics", paper: "Paper trading" }[FEATURE]
  } overhead on live fan-out (${date})`,
  "",
  `${CLIENTS} clients × 4 symbols' trades (raw), emulator ${RATE} trades/s ` +
  `(${fmt(RATE * CLIENTS)} deliveries/s offered), ${ROUNDS} rounds off/on alternating, ` +
  `${WINDOWS} × ${WINDOW_MS} ms windows after ${WARMUP_MS} ms; ` +
  (PIN ? "gateway on CPU 0, emulator and clients on CPU 1." : "unpinned."),
  "",
  FEATURE === "paper"
    ? `Paper trading on in the "on" runs with ${ACCOUNTS} open-access accounts, each with one resting order within the top 20 BTCUSDT bid levels; \`PAPER_ENABLED=false\` in the "off" runs; \`CHANNELS=trade,book\` in both.`
    : FEATURE === "analytics"
    ? 'Analytics computed in the "on" runs (the default), `ANALYTICS_ENABLED=false` in the "off" runs; `CHANNELS=trade,book` in both.'
    : recorded
    ? 'Recording was active in the "on" runs (day files written).'
    : '**Note: the gateway did not record in the "on" runs** (`/health` has no enabled `recording`, no ' +
      "files in RECORD_DIR): this gateway has no recording wiring yet, so both sides measure " +
      "the same thing. Run again on a gateway that records.",
  "",
  `| run | ${FEATURE} | deliveries/s | gateway CPU % | CPU µs / delivery | p99 ms | recorded bytes |`,
  "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  ...runs.map((r) =>
    `| ${r.round} | ${r.mode} | ${fmt(r.deliveriesPerSec)} | ${fmt(r.serverCpuPct, 1)} | ${
      fmt(r.cpuUsPerDelivery, 3)
    } | ${fmt(r.p99Ms ?? NaN, 2)} | ${
      r.mode === "on" && FEATURE === "recording" ? fmt(r.recordedBytes ?? 0) : ""
    } |`
  ),
  `| **median** | off | ${fmt(m(off, (r) => r.deliveriesPerSec))} | ${
    fmt(m(off, (r) => r.serverCpuPct), 1)
  } | ${fmt(m(off, (r) => r.cpuUsPerDelivery), 3)} | | |`,
  `| **median** | on | ${fmt(m(on, (r) => r.deliveriesPerSec))} | ${
    fmt(m(on, (r) => r.serverCpuPct), 1)
  } | ${fmt(m(on, (r) => r.cpuUsPerDelivery), 3)} | | |`,
  "",
  `Deliveries/s with ${FEATURE} on vs off: ${deliveriesDrop > 0 ? "−" : "+"}${
    fmt(Math.abs(deliveriesDrop) * 100, 1)
  }% ` +
  `(at a paced load both sides get the offered rate). ` +
  `Capacity lost to ${FEATURE} (1 − CPU per delivery off / on): **${
    fmt(capacityDrop * 100, 1)
  }%** (target ≤ 5%). Per round, CPU per delivery on vs off: ${
    pairRatios.map((r) => `${r >= 0 ? "+" : "−"}${fmt(Math.abs(r) * 100, 1)}%`).join(", ")
  } (median ${fmt(median(pairRatios) * 100, 1)}%).`,
];
const report = lines.join("\n") + "\n";
console.log(report);
if (values.out) await Deno.writeTextFile(values.out, report);

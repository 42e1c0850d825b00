/**
 * Compares the single-isolate ceiling (bench/ceiling_server.ts) with the K-isolate
 * parallel ceiling (bench/parallel_ceiling.ts) at one N, paced and saturating,
 * launching server and load generators the way bench/run.ts does (own processes,
 * `taskset` pinning, `--wait-go --subscribe-on-go`, ceil(N / 2500) load generators).
 *
 * ```sh
 * deno run -A bench/parallel_compare.ts                       # N=1000, all configs, 2 rounds
 * deno run -A bench/parallel_compare.ts --n 10000 --modes saturate \
 *   --configs ceil-p,k2-lg1,k2-free --rounds 1
 * ```
 * Configs (server CPUs / loadgen CPUs): `ceil-p` ceiling 0/1, `ceil-free` ceiling
 * unpinned/unpinned, `k1-p` K=1 0/1, `k2-cpu0` K=2 0/1 (both isolates on one
 * core), `k2-lg1` K=2 0,1/1, `k2-free` K=2 unpinned/unpinned. Rounds interleave
 * the configs; each run waits for an idle machine (< 15% busy), and windows in which
 * other processes took > 15% of a core are left out of the medians (a run with
 * fewer than half clean windows is repeated, up to twice). Prints one Markdown
 * row per config and mode (medians over the clean windows of every round) and writes `<out>/parallel-latest.{md,json}`.
 * @module
 */
import { DEV_CONFIG } from "./procs.ts";
import { parseArgs } from "node:util";
import { busyPct, cpuOf, cpuTimes, freePort, median, type Proc, spawn, stopAll } from "./procs.ts";

const BENCH = new URL(".", import.meta.url).pathname;
const DENO = Deno.execPath();
const STAMP = "benchTs";
const CLIENTS_PER_LOADGEN = 2500;

/** One server/pinning configuration. */
export interface Config {
  id: string;
  isolates: number;
  /** 0 = bench/ceiling_server.ts. */
  parallel: boolean;
  serverCpus?: string;
  loadgenCpus?: string;
}

/** Every known configuration, by id. */
export const CONFIGS: Record<string, Config> = {
  "ceil-p": { id: "ceil-p", parallel: false, isolates: 1, serverCpus: "0", loadgenCpus: "1" },
  "ceil-free": { id: "ceil-free", parallel: false, isolates: 1 },
  "k1-p": { id: "k1-p", parallel: true, isolates: 1, serverCpus: "0", loadgenCpus: "1" },
  "k2-cpu0": { id: "k2-cpu0", parallel: true, isolates: 2, serverCpus: "0", loadgenCpus: "1" },
  "k2-lg1": { id: "k2-lg1", parallel: true, isolates: 2, serverCpus: "0,1", loadgenCpus: "1" },
  "k2-free": { id: "k2-free", parallel: true, isolates: 2 },
};

/** One measurement window. */
export interface Window {
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  serverCpuPct: number;
  threadsPct: Record<string, number>;
  loadgenCpuPct: number;
  coreBusyPct: number[];
  /** Busy % of both cores not accounted for by server + loadgens (other users). */
  foreignPct: number;
  receiving: number;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** Runs one config × mode; returns its windows, split and the server's final line. */
export async function runOne(
  c: Config,
  o: { n: number; rate: number; windows: number; windowMs: number; warmupMs: number },
): Promise<{ windows: Window[]; split: number[] | null; final: Json }> {
  const port = freePort();
  const cmd = c.parallel
    ? [
      DENO,
      "run",
      ...DEV_CONFIG,
      "-A",
      "--unstable-net",
      `${BENCH}parallel_ceiling.ts`,
      "--isolates",
      String(c.isolates),
    ]
    : [DENO, "run", "--allow-net", `${BENCH}ceiling_server.ts`];
  cmd.push("--port", String(port), "--rate", String(o.rate), "--stamp-field", STAMP);
  const server = spawn(c.id, cmd, { cpus: c.serverCpus });
  const lgs: Proc[] = [];
  try {
    await server.waitLine((l) => l.includes("listening on"), 20_000);
    const k = Math.max(1, Math.ceil(o.n / CLIENTS_PER_LOADGEN));
    const share = (i: number) => Math.floor(o.n / k) + (i < o.n % k ? 1 : 0);
    for (let i = 0; i < k; i++) {
      lgs.push(spawn(`loadgen${i}`, [
        DENO,
        "run",
        ...DEV_CONFIG,
        "-A",
        `${BENCH}loadgen.ts`,
        ...["--url", `ws://127.0.0.1:${port}/ws`, "--clients", String(share(i))],
        ...["--wait-go", "--subscribe-on-go", "--stamp-field", STAMP, "--label", `lg${i}`],
        ...["--warmup-ms", String(o.warmupMs), "--window-ms", String(o.windowMs)],
        ...["--windows", String(o.windows), "--concurrency", String(Math.ceil(256 / k))],
      ], { cpus: c.loadgenCpus }));
    }
    const all = (pred: (l: string) => boolean, ms: number) =>
      Promise.all(lgs.map((lg) => lg.waitLine(pred, ms)));
    await all((l) => l.includes('"event":"ready"'), 30_000 + o.n * 5);
    const samples: Array<{ cpu: number; threads: Record<string, number>; cores: number[] }> = [];
    let cur: { t0: number; cpu: ReturnType<typeof cpuOf>; cores: ReturnType<typeof cpuTimes> };
    lgs[0].onLine((line) => {
      if (line.includes('"event":"window_start"')) {
        cur = { t0: performance.now(), cpu: cpuOf(server.pid), cores: cpuTimes() };
      } else if (line.includes('"event":"window_end"') && cur) {
        const dt = (performance.now() - cur.t0) / 1000;
        const cpu = cpuOf(server.pid);
        const threads: Record<string, number> = {};
        for (const [name, v] of Object.entries(cpu.threads)) {
          const pct = (v - (cur.cpu.threads[name] ?? 0)) / dt * 100;
          if (pct >= 0.5) threads[name] = Math.round(pct);
        }
        samples.push({
          cpu: (cpu.total - cur.cpu.total) / dt * 100,
          threads,
          cores: busyPct(cur.cores, cpuTimes()),
        });
      }
    });
    for (const lg of lgs) await lg.write("go\n");
    const lines = await all(
      (l) => l.includes('"event":"result"'),
      60_000 + o.warmupMs + o.windows * o.windowMs + o.n * 5,
    );
    const results: Json[] = lines.map((l) => JSON.parse(l));
    const windows: Window[] = results[0].windows.map((_: Json, i: number) => {
      const ws: Json[] = results.map((r) => r.windows[i]);
      const s = samples[i];
      const lgCpu = ws.reduce((a, w) => a + w.loadgenCpuPct, 0);
      return {
        deliveriesPerSec: ws.reduce((a, w) => a + w.eventsPerSec, 0),
        // Several loadgens: the worst one's percentiles (upper bound of the merged value).
        p50: Math.max(...ws.map((w) => w.latencyMs.p50 ?? NaN)),
        p99: Math.max(...ws.map((w) => w.latencyMs.p99 ?? NaN)),
        serverCpuPct: s?.cpu ?? NaN,
        threadsPct: s?.threads ?? {},
        loadgenCpuPct: lgCpu,
        coreBusyPct: s?.cores.map((x) => Math.round(x)) ?? [],
        foreignPct: s ? s.cores.reduce((a, b) => a + b, 0) - s.cpu - lgCpu : NaN,
        receiving: ws.reduce((a, w) => a + w.receiving, 0),
      };
    });
    const splitLine = [...server.lines].reverse().find((l) => l.includes('"event":"split"'));
    const split = splitLine ? JSON.parse(splitLine).clients : null;
    await Promise.all(lgs.map((lg) => lg.stop()));
    await server.stop("SIGTERM");
    const finalLine = server.lines.find((l) => l.startsWith('{"sent"'));
    return { windows, split, final: finalLine ? JSON.parse(finalLine) : null };
  } finally {
    await Promise.all(lgs.map((lg) => lg.stop()));
    await server.stop("SIGTERM");
  }
}

/** Windows where other processes took more than this (% of a core) are left out. */
const FOREIGN_MAX_PCT = 15;

/** Waits until both cores together are < 15% busy for 1 s (other users); false on timeout. */
async function waitIdle(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, 1000));
    if (busyPct(a, cpuTimes()).reduce((x, y) => x + y, 0) < 15) return true;
  }
  return false;
}

const fmt = (x: number, d = 1) => Number.isFinite(x) ? x.toFixed(d) : "–";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      n: { type: "string", default: "1000" },
      configs: { type: "string", default: Object.keys(CONFIGS).join(",") },
      modes: { type: "string", default: "paced,saturate" },
      rounds: { type: "string", default: "2" },
      windows: { type: "string", default: "3" },
      "window-ms": { type: "string", default: "3000" },
      "warmup-ms": { type: "string", default: "1500" },
      deliveries: { type: "string", default: "100000" },
      out: { type: "string", default: `${BENCH}results` },
    },
  });
  const n = Number(values.n);
  const configs = values.configs!.split(",").map((id) => {
    const c = CONFIGS[id];
    if (!c) throw new Error(`unknown config ${id}`);
    return c;
  });
  const modes = values.modes!.split(",");
  const all: Json[] = [];
  const started = new Date().toISOString();
  const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  console.error(`start ${started}, loadavg ${load()}`);
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const mode of modes) {
      for (const c of configs) {
        const rate = mode === "paced" ? Number(values.deliveries) / n : 0;
        let res;
        for (let attempt = 0;; attempt++) {
          const idle = await waitIdle(180_000);
          if (!idle) console.error("machine not idle after 180 s; measuring anyway");
          res = await runOne(c, {
            n,
            rate,
            windows: Number(values.windows),
            windowMs: Number(values["window-ms"]),
            warmupMs: Number(values["warmup-ms"]),
          });
          const clean = res.windows.filter((w) => !(w.foreignPct > FOREIGN_MAX_PCT)).length;
          if (clean * 2 >= res.windows.length || attempt >= 2) break;
          console.error(`r${r} ${mode} ${c.id}: only ${clean} clean windows, repeating`);
        }
        all.push({ round: r, mode, config: c.id, n, loadavg: load(), ...res });
        const hop = (res.final?.workers ?? []).map((w: Json) =>
          `hop ${fmt(w.hopMeanUs, 0)}/${fmt(w.hopMaxUs, 0)} µs bcast ${
            fmt(w.broadcastMeanUs, 0)
          } µs`
        );
        console.error(
          `r${r} ${mode} ${c.id}: skipped ${res.final?.skipped ?? "?"} ${hop.join("; ")}`,
        );
        for (const w of res.windows) {
          console.error(
            `r${r} ${mode} ${c.id}: ${Math.round(w.deliveriesPerSec)}/s p50 ${fmt(w.p50, 2)} p99 ${
              fmt(w.p99, 2)
            } ms srv ${fmt(w.serverCpuPct, 0)}% ${JSON.stringify(w.threadsPct)} lg ${
              fmt(w.loadgenCpuPct, 0)
            }% cores ${w.coreBusyPct.join("/")} foreign ${fmt(w.foreignPct, 0)}% split ${
              JSON.stringify(res.split)
            }`,
          );
        }
      }
    }
  }
  await stopAll();
  const rows = [
    `N=${n} · ${started} · loadavg at end ${load()}`,
    "",
    "| mode | config | deliveries/s | p50 ms | p99 ms | server CPU % | loadgen CPU % | cores busy % | foreign % | split | clean windows |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const mode of modes) {
    for (const c of configs) {
      const runs = all.filter((x) => x.mode === mode && x.config === c.id);
      const every: Window[] = runs.flatMap((x) => x.windows);
      const clean = every.filter((w) => !(w.foreignPct > FOREIGN_MAX_PCT));
      const ws = clean.length > 0 ? clean : every;
      const m = (f: (w: Window) => number) => median(ws.map(f));
      rows.push(
        `| ${mode} | ${c.id} | ${Math.round(m((w) => w.deliveriesPerSec))} | ${
          fmt(m((w) => w.p50), 2)
        } | ${fmt(m((w) => w.p99), 2)} | ${fmt(m((w) => w.serverCpuPct), 0)} | ${
          fmt(m((w) => w.loadgenCpuPct), 0)
        } | ${fmt(m((w) => w.coreBusyPct[0]), 0)}/${fmt(m((w) => w.coreBusyPct[1]), 0)} | ${
          fmt(m((w) => w.foreignPct), 0)
        } | ${
          runs.map((x) => JSON.stringify(x.split)).join(" ")
        } | ${clean.length}/${every.length} |`,
      );
    }
  }
  const md = rows.join("\n");
  console.log(md);
  Deno.mkdirSync(values.out!, { recursive: true });
  Deno.writeTextFileSync(`${values.out}/parallel-latest.md`, md + "\n");
  Deno.writeTextFileSync(`${values.out}/parallel-latest.json`, JSON.stringify(all, null, 1));
  Deno.exit(0);
}

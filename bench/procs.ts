/**
 * Child processes for the bench runner: spawn (optionally pinned with `taskset`),
 * read stdout line by line, wait for a line, write to stdin, sample CPU and RSS
 * from /proc, and stop (SIGTERM, then SIGKILL), always by the child's own pid.
 * @module
 */

const CLK_TCK = 100;

/**
 * `--config` flags for a `deno run` of a bench script: the benchmarks' and tests' import map
 * (deno.dev.json) lists the packages only they use, so the program's own deno.json (and a
 * fresh clone's `deno task demo`) never fetches them.
 */
export const DEV_CONFIG: readonly string[] = [
  "--config",
  new URL("../deno.dev.json", import.meta.url).pathname,
];

/** A running child. */
export interface Proc {
  readonly name: string;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first line (already seen or future) matching `pred`. */
  waitLine(pred: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Called for every future stdout line. */
  onLine(cb: (line: string) => void): void;
  write(text: string): Promise<void>;
  /** Last stderr output (for error messages). */
  stderrTail(): string;
  /** Exit status once it has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  stop(signal?: Deno.Signal): Promise<void>;
}

const running = new Set<Proc>();

/** Stops every child still running (runner shutdown). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** Spawns `cmd`, pinned to `cpus` (taskset list, e.g. "0") when given. */
export function spawn(
  name: string,
  cmd: string[],
  opts: { env?: Record<string, string>; cpus?: string; cwd?: string } = {},
): Proc {
  const argv = opts.cpus !== undefined ? ["taskset", "-c", opts.cpus, ...cmd] : cmd;
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: opts.env,
    cwd: opts.cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const listeners: Array<(line: string) => void> = [];
  let stderr = "";
  const pump = async (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
    } catch { /* closed */ }
  };
  let partial = "";
  void pump(child.stdout, (t) => {
    partial += t;
    let nl;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (const l of listeners) l(line);
    }
  });
  void pump(child.stderr, (t) => {
    stderr = (stderr + t).slice(-8000);
  });
  const writer = child.stdin.getWriter();
  const status = child.status;
  let stopped: Promise<void> | undefined;
  const proc: Proc = {
    name,
    pid: child.pid,
    lines,
    waitLine(pred, timeoutMs) {
      const seen = lines.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${name}: no expected line within ${timeoutMs} ms; stderr: ${stderr.slice(-1500)}`,
              ),
            ),
          timeoutMs,
        );
        listeners.push((line) => {
          if (pred(line)) {
            clearTimeout(timer);
            resolve(line);
          }
        });
        status.then((s) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${s.code}); stderr: ${stderr.slice(-1500)}`));
        });
      });
    },
    onLine(cb) {
      listeners.push(cb);
    },
    async write(text) {
      await writer.write(new TextEncoder().encode(text));
    },
    stderrTail: () => stderr,
    exited: status,
    stop(signal: Deno.Signal = "SIGTERM") {
      stopped ??= (async () => {
        running.delete(proc);
        try {
          child.kill(signal);
        } catch { /* already gone */ }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const exited = await Promise.race([
          status.then(() => true),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 3000))),
        ]);
        clearTimeout(timer);
        if (!exited) {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
          await status;
        }
        try {
          await writer.close();
        } catch { /* closed */ }
      })();
      return stopped;
    },
  };
  running.add(proc);
  void status.then(() => running.delete(proc));
  return proc;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** CPU seconds (user + system) of a process, and per thread name. */
export function cpuOf(pid: number): { total: number; threads: Record<string, number> } {
  const threads: Record<string, number> = {};
  let total = NaN;
  try {
    total = ticksOf(Deno.readTextFileSync(`/proc/${pid}/stat`)) / CLK_TCK;
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const stat = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`);
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const key = /^tokio/.test(name) ? "tokio" : /^V8 /.test(name) ? "v8-helpers" : name;
        threads[key] = (threads[key] ?? 0) + ticksOf(stat) / CLK_TCK;
      } catch { /* thread gone */ }
    }
  } catch { /* process gone */ }
  return { total, threads };
}

function ticksOf(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** Resident set size in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Soft limit on open files of this process. */
export function openFileLimit(): number {
  try {
    const m = /Max open files\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/limits"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Median of the finite numbers in `xs` (NaN when none). */
export function median(xs: Array<number | null | undefined>): number {
  const v = xs.filter((x): x is number => typeof x === "number" && Number.isFinite(x))
    .sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Busy and total jiffies per CPU (cpu0, cpu1, ...) from /proc/stat. */
export function cpuTimes(): Array<{ busy: number; total: number }> {
  const out: Array<{ busy: number; total: number }> = [];
  try {
    for (const line of Deno.readTextFileSync("/proc/stat").split("\n")) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (!m) continue;
      const f = m[2].trim().split(/\s+/).map(Number);
      const idle = f[3] + (f[4] ?? 0);
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      out[Number(m[1])] = { busy: total - idle, total };
    }
  } catch { /* not Linux */ }
  return out;
}

/** Busy % per CPU between two `cpuTimes()` readings. */
export function busyPct(
  a: Array<{ busy: number; total: number }>,
  b: Array<{ busy: number; total: number }>,
): number[] {
  return b.map((x, i) => {
    const dt = x.total - (a[i]?.total ?? 0);
    return dt > 0 ? (x.busy - (a[i]?.busy ?? 0)) / dt * 100 : NaN;
  });
}

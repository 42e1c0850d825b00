/**
 * Parallel per-write ceiling: bench/ceiling_server.ts split over K fan-out
 * isolates. The main isolate stamps and encodes each ~200-B frame once (same
 * format as the ceiling) and posts it to K Workers
 * (bench/parallel_ceiling_worker.ts); each Worker runs its own
 * `Deno.serve({ reusePort: true })` on the same port (SO_REUSEPORT: the kernel
 * splits the connections) and broadcasts to the clients it accepted. K=1 is the
 * ceiling plus one postMessage hop.
 *
 * ```sh
 * deno run -A --unstable-net bench/parallel_ceiling.ts --port 3200 --isolates 2            # saturate
 * deno run -A --unstable-net bench/parallel_ceiling.ts --port 3200 --isolates 2 --rate 100 # 100 events/s
 * ```
 * Options: `--port` (0 = pick one; printed), `--host`, `--isolates K` (default 2),
 * `--rate` events/s (0 = saturate), `--size` bytes, `--stamp-field`,
 * `--window W` (saturation: frames in flight per worker, default 1),
 * `--split-ms` (print the connection split at most this often, default 1000),
 * `--help`. Needs `--unstable-net` (reusePort) even for K=1.
 *
 * Saturation is a closed loop with a credit window: a new frame is stamped and
 * posted once every worker has acknowledged (finished broadcasting) all but
 * `W - 1` of the earlier ones, so the slowest isolate sets the pace and no queue
 * builds up between isolates. Paced mode posts on a 1-ms timer like the ceiling.
 *
 * Stdout: `parallel ceiling listening on 127.0.0.1:<port> (K isolates)`, then
 * `{"event":"split","clients":[...]}` when the per-isolate subscriber counts
 * change, and on SIGTERM/SIGINT one JSON line with totals and per-worker stats
 * (`accepted`, `sent`, `skipped`, `hopMeanUs`, `broadcastMeanUs`, ...).
 * @module
 */
import { parseArgs } from "node:util";
import type { FromWorker, ToWorker, WorkerStats } from "./parallel_ceiling_worker.ts";

/** Printed by `--help`. */
export const USAGE = `usage: deno run -A --unstable-net bench/parallel_ceiling.ts [options]
  --port P          shared SO_REUSEPORT port (0 = pick one; printed)   [3200]
  --host H                                                             [127.0.0.1]
  --isolates K      fan-out Workers                                     [2]
  --rate R          events/s, 0 = saturate (closed loop)                [0]
  --size B          frame bytes                                         [200]
  --stamp-field F   µs send stamp field                                 [benchTs]
  --window W        saturate: frames in flight per worker               [1]
  --split-ms MS     print {"event":"split"} at most this often, 0 = off [1000]`;

/** Parsed command line. */
export interface ParallelCeilingOptions {
  port: number;
  host: string;
  isolates: number;
  rate: number;
  size: number;
  stampField: string;
  window: number;
  splitMs: number;
}

/** Parses `args` (see the module doc for the flags). */
export function parseOptions(args: string[]): ParallelCeilingOptions {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "3200" },
      host: { type: "string", default: "127.0.0.1" },
      isolates: { type: "string", default: "2" },
      rate: { type: "string", default: "0" },
      size: { type: "string", default: "200" },
      "stamp-field": { type: "string", default: "benchTs" },
      window: { type: "string", default: "1" },
      "split-ms": { type: "string", default: "1000" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const o = {
    port: Number(values.port),
    host: values.host!,
    isolates: Number(values.isolates),
    rate: Number(values.rate),
    size: Number(values.size),
    stampField: values["stamp-field"]!,
    window: Number(values.window),
    splitMs: Number(values["split-ms"]),
  };
  if (!(o.isolates >= 1) || !(o.window >= 1)) {
    throw new Error("--isolates and --window must be ≥ 1");
  }
  return o;
}

/** A running parallel ceiling. */
export interface ParallelCeiling {
  readonly port: number;
  /** Subscribed clients per isolate (last reported). */
  readonly split: readonly number[];
  /** Per-worker counters. */
  stats(): Promise<WorkerStats[]>;
  /** Terminates the workers (their servers go with them). */
  close(): void;
  readonly seq: number;
}

/** Starts K fan-out workers on one port and the frame producer. */
export async function startParallelCeiling(o: ParallelCeilingOptions): Promise<ParallelCeiling> {
  const encoder = new TextEncoder();
  const workers: Worker[] = [];
  const split: number[] = new Array(o.isolates).fill(0);
  const acked: number[] = new Array(o.isolates).fill(0);
  let seq = 0;
  let subscribed = 0;
  let statsWaiters: Array<(s: WorkerStats) => void>[] = [];

  const send = (w: Worker, msg: ToWorker) => w.postMessage(msg);

  /** Stamps, encodes and posts one frame to every worker. */
  const emit = () => {
    const us = Math.round((performance.timeOrigin + performance.now()) * 1000);
    const head = `{"type":"trade","seq":${++seq},"${o.stampField}":${us},"pad":"`;
    const pad = Math.max(0, o.size - head.length - 2);
    const bytes = encoder.encode(head + "x".repeat(pad) + `"}`);
    for (const w of workers) send(w, { type: "frame", seq, us, bytes });
  };

  /** Saturation: keep at most `window` un-acknowledged frames per worker. */
  const pump = () => {
    if (o.rate > 0 || subscribed === 0) return;
    while (seq - Math.min(...acked) < o.window) emit();
  };

  const onMessage = (msg: FromWorker) => {
    if (msg.type === "ack") {
      acked[msg.index] = msg.seq;
      pump();
    } else if (msg.type === "clients") {
      split[msg.index] = msg.n;
      subscribed = split.reduce((a, b) => a + b, 0);
      pump();
    } else if (msg.type === "stats") {
      const waiters = statsWaiters;
      waiters[msg.index]?.forEach((r) => r(msg));
      if (waiters[msg.index]) waiters[msg.index] = [];
    }
  };

  let port = o.port;
  for (let i = 0; i < o.isolates; i++) {
    const w = new Worker(new URL("./parallel_ceiling_worker.ts", import.meta.url), {
      type: "module",
      name: `fanout-${i}`,
    });
    workers.push(w);
    const listening = new Promise<number>((resolve, reject) => {
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`worker ${i}: ${e.message}`));
      };
      w.onmessage = (e: MessageEvent<FromWorker>) => {
        if (e.data.type === "listening") {
          w.onmessage = (ev: MessageEvent<FromWorker>) => onMessage(ev.data);
          resolve(e.data.port);
        }
      };
    });
    send(w, { type: "start", index: i, port, host: o.host });
    // Worker 0 may pick the port (0); the others join it with SO_REUSEPORT.
    port = await listening;
  }

  if (o.rate > 0) {
    const origin = performance.now();
    let emitted = 0;
    setInterval(() => {
      const due = Math.floor((performance.now() - origin) * o.rate / 1000);
      let n = due - emitted;
      if (n > o.rate / 10) n = Math.ceil(o.rate / 10);
      emitted = due;
      if (subscribed === 0) return;
      for (let i = 0; i < n; i++) emit();
    }, 1);
  }

  return {
    port,
    split,
    get seq() {
      return seq;
    },
    stats() {
      statsWaiters = statsWaiters.length ? statsWaiters : workers.map(() => []);
      return Promise.all(workers.map((w, i) =>
        new Promise<WorkerStats>((resolve) => {
          statsWaiters[i].push(resolve);
          send(w, { type: "stats" });
        })
      ));
    },
    close() {
      for (const w of workers) w.terminate();
    },
  };
}

if (import.meta.main) {
  const o = parseOptions(Deno.args);
  const pc = await startParallelCeiling(o);
  console.log(
    `parallel ceiling listening on ${o.host}:${pc.port} (${o.isolates} isolates, ${
      o.rate > 0 ? `${o.rate} events/s` : `saturate, window ${o.window}`
    })`,
  );
  if (o.splitMs > 0) {
    let last = "";
    setInterval(() => {
      const now = JSON.stringify(pc.split);
      if (now === last) return;
      last = now;
      console.log(JSON.stringify({ event: "split", clients: pc.split }));
    }, o.splitMs);
  }
  const stop = async () => {
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 1000));
    const workers = await Promise.race([pc.stats(), timeout]);
    const sum = (k: "sent" | "skipped") => workers?.reduce((a, w) => a + w[k], 0) ?? null;
    console.log(
      JSON.stringify({ sent: sum("sent"), skipped: sum("skipped"), seq: pc.seq, workers }),
    );
    pc.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

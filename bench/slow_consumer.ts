/**
 * Slow-consumer proof: a raw TCP client (Deno.connect) does the WebSocket
 * handshake, subscribes to every channel of every symbol, and then never reads.
 * Alongside it, 100 normal clients (bench/loadgen.ts, own process) receive the
 * trades at a high rate. Samples the gateway's RSS and metrics every second and
 * the normal clients' latency p99 per second, then reports whether RSS stayed
 * bounded (slope over the last half of the slow phase), whether the others'
 * latency was unaffected, and whether the slow client was cut off (after the run
 * it finally reads its socket: a `slow_consumer` error and a close frame at the
 * end of what was queued prove it). A control run with the same schedule and no
 * slow client comes first, so GC/JIT drift of RSS is not mistaken for a leak:
 * bounded = cut off within the first half of the slow phase, last-half RSS slope
 * within 6 MiB/min of the control's, and at most 64 MiB more RSS at the end.
 *
 * ```sh
 * deno run -A bench/slow_consumer.ts [--rate 1500] [--clients 100] [--baseline-s 8] [--slow-s 40]
 *   [--slow-clients 1] [--no-control] [--pin] [--json]
 * ```
 * Starts its own emulator (default market + `--rate` stamped bench trades/s) and
 * gateway (all channels). `--pin` pins the gateway to CPU 0, the rest to CPU 1.
 * @module
 */
import { DEV_CONFIG } from "./procs.ts";
import { parseArgs } from "node:util";
import { cpuOf, rssMiB, sleep, spawn, stopAll } from "./procs.ts";
import { startStack } from "./stack.ts";
import { clientFrame, FrameParser, OP, openRawWebSocket, writeAll } from "./ws_raw.ts";
import { median } from "./procs.ts";

const BENCH = new URL(".", import.meta.url).pathname;
const DENO = Deno.execPath();
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rate: { type: "string", default: "1500" },
    clients: { type: "string", default: "100" },
    "baseline-s": { type: "string", default: "8" },
    "slow-s": { type: "string", default: "40" },
    "slow-clients": { type: "string", default: "1" },
    "memory-budget": { type: "string", default: "" },
    json: { type: "boolean", default: false },
    "no-control": { type: "boolean", default: false },
    pin: { type: "boolean", default: false },
  },
});
const RATE = Number(values.rate);
const N = Number(values.clients);
const BASELINE_S = Number(values["baseline-s"]);
const SLOW_S = Number(values["slow-s"]);
const SLOW_CLIENTS = Number(values["slow-clients"]);
const SERVER_CPUS = values.pin ? "0" : undefined;
const CLIENT_CPUS = values.pin ? "1" : undefined;
const log = (m: string) => console.error(`[slow ${new Date().toISOString().slice(11, 19)}] ${m}`);

// deno-lint-ignore no-explicit-any
type Json = any;

/** How many slow clients ended with which error/close code. */
function tally(drained: { errorCode?: string; closeCode?: number }[]): string {
  const counts = new Map<string, number>();
  for (const d of drained) {
    const k = `error=${d.errorCode ?? "none"}, close=${d.closeCode ?? "none"}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join("; ");
}

/**
 * Theil–Sen slope of y over x (median of pairwise slopes): robust to the step
 * jumps RSS makes when V8 or the allocator grabs a new chunk.
 */
function slope(xs: number[], ys: number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      if (xs[j] !== xs[i]) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
    }
  }
  return median(slopes);
}

async function metric(port: number, name: string): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(text);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

interface SlowClient {
  conn: Deno.Conn;
  opened: number;
}

async function openSlow(url: string): Promise<SlowClient> {
  const { conn } = await openRawWebSocket(url);
  await writeAll(
    conn,
    clientFrame(
      OP.text,
      JSON.stringify({
        action: "subscribe",
        symbols: SYMBOLS,
        channels: ["trade", "quote", "kline", "book"],
        raw: true,
      }),
    ),
  );
  return { conn, opened: Date.now() };
}

/** Finally reads what the slow client was sent: frames, trades, the error frame, the close frame. */
async function drainSlow(c: SlowClient, quietMs: number) {
  let frames = 0, trades = 0, bytes = 0;
  let errorCode: string | undefined;
  let closeCode: number | undefined;
  let eof = false;
  const decoder = new TextDecoder();
  const parser = new FrameParser({
    data(p, s, e) {
      frames++;
      bytes += e - s;
      // Cheap classification by prefix.
      const head = decoder.decode(p.subarray(s, Math.min(e, s + 48)));
      if (head.startsWith('{"type":"trade"')) trades++;
      else if (head.startsWith('{"type":"error"')) {
        const m = /"code":"([a-z_]+)"/.exec(decoder.decode(p.subarray(s, e)));
        errorCode = m?.[1];
      }
    },
    ping() {},
    close(code) {
      closeCode = code;
    },
  });
  const buf = new Uint8Array(256 * 1024);
  while (true) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      c.conn.read(buf).catch(() => null),
      new Promise<"quiet">((r) => (timer = setTimeout(() => r("quiet"), quietMs))),
    ]);
    clearTimeout(timer);
    if (n === "quiet") break;
    if (n === null) {
      eof = true;
      break;
    }
    parser.push(buf, n);
  }
  try {
    c.conn.close();
  } catch { /* closed */ }
  return { frames, trades, bytes, errorCode, closeCode, eof };
}

async function experiment(slowClients: number): Promise<Json> {
  const { gateway: gw, port } = await startStack({
    symbols: SYMBOLS,
    emulatorArgs: ["--stamp-field", "benchTs", "--bench-trades-per-second", String(RATE)],
    env: values["memory-budget"] ? { MEMORY_BUDGET: values["memory-budget"] } : {},
    emulatorCpus: CLIENT_CPUS,
    gatewayCpus: SERVER_CPUS,
  });
  const url = `ws://127.0.0.1:${port}/ws`;
  const totalS = BASELINE_S + SLOW_S;
  const lg = spawn("loadgen", [
    DENO,
    "run",
    ...DEV_CONFIG,
    "-A",
    `${BENCH}loadgen.ts`,
    "--url",
    url,
    "--clients",
    String(N),
    "--wait-go",
    "--subscribe-on-go",
    "--ticks",
    "--warmup-ms",
    "1000",
    "--window-ms",
    // Longer than the sampling below: RSS drops when the loadgen closes its clients.
    String((totalS + 3) * 1000),
  ], { cpus: CLIENT_CPUS });
  await lg.waitLine((l) => l.includes('"event":"ready"'), 30_000);
  const ticks: Json[] = [];
  lg.onLine((l) => {
    if (l.includes('"event":"tick"')) ticks.push(JSON.parse(l));
  });
  await lg.write("go\n");
  await lg.waitLine((l) => l.includes('"event":"window_start"'), 30_000);
  const t0 = Date.now();
  const samples: Array<{
    t: number;
    rss: number;
    clients: number;
    slowDisconnects: number;
    budgetDisconnects: number;
    heldMiB: number;
    phase: string;
  }> = [];
  let phase = "baseline";
  let slowAt = 0;
  const slow: SlowClient[] = [];
  let refused = 0;
  let refusal: string | undefined;
  const cpu0 = cpuOf(gw.pid).total;
  log(
    `${
      slowClients ? "experiment" : "control"
    }: ${BASELINE_S} s with ${N} clients at ${RATE} trades/s, then ${slowClients} non-reading client(s) for ${SLOW_S} s`,
  );
  for (let s = 0; s < totalS; s++) {
    if (s === BASELINE_S) {
      for (let i = 0; i < slowClients; i++) {
        try {
          slow.push(await openSlow(url));
        } catch (err) {
          // The memory budget refuses new upgrades (503) while it is exhausted.
          refused++;
          refusal ??= err instanceof Error ? err.message : String(err);
        }
      }
      slowAt = Date.now();
      phase = "slow";
      if (slowClients) log("slow client(s) connected and subscribed to everything; never reading");
    }
    await sleep(Math.max(0, t0 + (s + 1) * 1000 - Date.now()));
    samples.push({
      t: (Date.now() - t0) / 1000,
      rss: rssMiB(gw.pid),
      clients: await metric(port, "quant_clients"),
      slowDisconnects: await metric(port, "quant_slow_client_disconnects_total"),
      budgetDisconnects: await metric(port, "quant_budget_disconnects_total"),
      heldMiB: await metric(port, "quant_client_held_bytes") / 2 ** 20,
      phase,
    });
    const last = samples[samples.length - 1];
    if (!values.json || s % 5 === 4) {
      log(
        `t=${last.t.toFixed(0)}s RSS ${
          last.rss.toFixed(1)
        } MiB, clients ${last.clients}, slow disconnects ${last.slowDisconnects} + ${last.budgetDisconnects} by the budget, held for clients ${
          last.heldMiB.toFixed(1)
        } MiB`,
      );
    }
  }
  const gwCpuPct = (cpuOf(gw.pid).total - cpu0) / totalS * 100;
  const resultLine = await lg.waitLine((l) => l.includes('"event":"result"'), 60_000);
  const lgResult = JSON.parse(resultLine);
  const conflated = await metric(port, "quant_conflated_updates_total");
  const drained = await Promise.all(slow.map((c) => drainSlow(c, 2000)));

  const base = samples.filter((s) => s.phase === "baseline");
  const slowPhase = samples.filter((s) => s.phase === "slow");
  const lastHalf = slowPhase.slice(Math.floor(slowPhase.length / 2));
  const rssSlope = slope(lastHalf.map((s) => s.t), lastHalf.map((s) => s.rss)) * 60;
  const rssBase = median(base.map((s) => s.rss));
  const rssMax = Math.max(...slowPhase.map((s) => s.rss));
  const slowTickStart = (slowAt - t0) / 1000;
  const baseTicks = ticks.filter((t) =>
    (t.t - t0) / 1000 <= slowTickStart && (t.t - t0) / 1000 > 1
  );
  const slowTicks = ticks.filter((t) => (t.t - t0) / 1000 > slowTickStart + 1);
  const baselineP99 = median(baseTicks.map((t) => t.p99));
  const withSlowP99 = median(slowTicks.map((t) => t.p99));
  const withSlowP99Max = Math.max(...slowTicks.map((t) => t.p99 ?? 0));
  const cutOff = (s: (typeof samples)[number]) => s.slowDisconnects + (s.budgetDisconnects || 0);
  const disconnectedAt = slowPhase.find((s) => cutOff(s) > 0)?.t;
  const heldMax = Math.max(...slowPhase.map((s) => s.heldMiB || 0));
  const othersConnected = lgResult.openAtEnd === N;
  const othersUnaffected = withSlowP99 <= Math.max(baselineP99 * 1.5, baselineP99 + 2) &&
    othersConnected;
  const disconnected =
    drained.every((d) => d.errorCode === "slow_consumer" || d.closeCode !== undefined) &&
    cutOff(samples[samples.length - 1]) >= slow.length;
  const summary = [
    `gateway RSS: baseline ${rssBase.toFixed(1)} MiB, max with slow client ${
      rssMax.toFixed(1)
    } MiB, ` +
    `slope over last half ${rssSlope.toFixed(2)} MiB/min`,
    `normal clients (${N}): p99 baseline ${baselineP99.toFixed(2)} ms, with slow client median ${
      withSlowP99.toFixed(2)
    } ms (worst second ${
      withSlowP99Max.toFixed(2)
    } ms), ${lgResult.openAtEnd}/${N} still connected (closes: ${
      JSON.stringify(lgResult.closeCodes ?? {})
    }) → ${othersUnaffected ? "UNAFFECTED" : "AFFECTED"}`,
    `slow client(s) (${slowClients}): gateway counted ${
      samples[samples.length - 1].slowDisconnects
    } slow-consumer disconnect(s) + ${
      samples[samples.length - 1].budgetDisconnects || 0
    } by the memory budget, held for clients at most ${heldMax.toFixed(1)} MiB` +
    (refused > 0 ? `; ${refused} of ${slowClients} upgrades refused (${refusal})` : "") +
    (disconnectedAt !== undefined
      ? ` (first seen ${(disconnectedAt - slowTickStart).toFixed(0)} s after it subscribed)`
      : "") +
    `; conflated updates ${conflated}; on finally reading, it got ${
      drained.length > 3
        ? tally(drained)
        : drained.map((d) =>
          `${d.frames} frames (${d.trades} trades, ${(d.bytes / 1048576).toFixed(1)} MiB), error=${
            d.errorCode ?? "none"
          }, close=${d.closeCode ?? "none"}, eof=${d.eof}`
        ).join("; ")
    }`,
    `gateway CPU ${gwCpuPct.toFixed(0)}% over the run; RSS per second: ${
      samples.map((s) => s.rss.toFixed(0)).join(" ")
    }`,
  ].join("\n");
  return {
    event: "slow_result",
    rate: RATE,
    clients: N,
    rssBaselineMiB: rssBase,
    rssMaxMiB: rssMax,
    rssSlopeMiBPerMin: rssSlope,
    baselineP99,
    withSlowP99,
    withSlowP99Max,
    othersUnaffected,
    othersConnected,
    disconnected,
    disconnectedAfterS: disconnectedAt !== undefined ? disconnectedAt - slowTickStart : null,
    drained,
    samples,
    ticks: ticks.map((t) => ({
      t: (t.t - t0) / 1000,
      p50: t.p50,
      p99: t.p99,
      eventsPerSec: t.eventsPerSec,
    })),
    summary,
    rssEndMiB: median(samples.slice(-5).map((s) => s.rss)),
    slowClients,
  };
}

/** Control run (no slow client) and the run with slow clients; the verdict compares them. */
async function main(): Promise<Json> {
  const control = values["no-control"] ? undefined : await experiment(0);
  if (control) await stopAll();
  const run = await experiment(SLOW_CLIENTS);
  const slack = 6; // MiB/min of slope beyond the control's (GC and JIT drift)
  const cutBeforeLastHalf = run.disconnectedAfterS !== null && run.disconnectedAfterS <= SLOW_S / 2;
  const extraEnd = control ? run.rssEndMiB - control.rssEndMiB : NaN;
  const bounded = run.disconnected && cutBeforeLastHalf &&
    (control
      ? run.rssSlopeMiBPerMin <= control.rssSlopeMiBPerMin + slack && extraEnd <= 64
      : run.rssSlopeMiBPerMin <= slack);
  const refP99 = control ? control.withSlowP99 : run.baselineP99;
  const othersUnaffected = run.withSlowP99 <= Math.max(refP99 * 1.5, refP99 + 2) &&
    run.othersConnected;
  const summary = [
    run.summary,
    control
      ? `control (same schedule, no slow client): RSS end ${
        control.rssEndMiB.toFixed(1)
      } MiB, slope over last half ${control.rssSlopeMiBPerMin.toFixed(2)} MiB/min, p99 ${
        control.withSlowP99.toFixed(2)
      } ms; RSS per second: ${control.samples.map((s: Json) => s.rss.toFixed(0)).join(" ")}`
      : "no control run",
    `VERDICT: RSS ${bounded ? "BOUNDED" : "NOT BOUNDED"} (cut off ${
      run.disconnectedAfterS ?? "never"
    } s after subscribing; last-half slope ${run.rssSlopeMiBPerMin.toFixed(2)} vs control ${
      control?.rssSlopeMiBPerMin.toFixed(2) ?? "–"
    } MiB/min; RSS at end +${
      Number.isFinite(extraEnd) ? extraEnd.toFixed(1) : "–"
    } MiB vs control); ` +
    `others ${othersUnaffected ? "UNAFFECTED" : "AFFECTED"} (p99 ${
      run.withSlowP99.toFixed(2)
    } ms vs ${refP99.toFixed(2)} ms ${control ? "in the control" : "before"}); slow client ${
      run.disconnected ? "DISCONNECTED (slow_consumer, close 1008)" : "NOT disconnected"
    }`,
  ].join("\n");
  return {
    ...run,
    bounded,
    othersUnaffected,
    rssExtraAtEndMiB: extraEnd,
    control: control
      ? {
        rssEndMiB: control.rssEndMiB,
        rssSlopeMiBPerMin: control.rssSlopeMiBPerMin,
        p99: control.withSlowP99,
        samples: control.samples,
      }
      : undefined,
    summary,
  };
}

try {
  const result = await main();
  // Stop the emulator and gateway before printing: a runner may end this process on the result.
  await stopAll();
  if (values.json) console.log(JSON.stringify(result));
  else console.log(result.summary);
  Deno.exit(0);
} catch (err) {
  console.error(err);
  await stopAll();
  Deno.exit(1);
}

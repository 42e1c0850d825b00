/**
 * History query latency over REST for one recorded day of one symbol: records a UTC
 * day of Binance trades (raw payload + normalized event from the real mapper, a seeded
 * random walk at `--rate` trades/s; the same data as bench/history_day.ts, which times
 * the same queries on HistoryReader directly), starts the gateway with `RECORD_DIR` on
 * that folder and times `/api/history/trades` (JSON page, NDJSON, CSV) and
 * `/api/history/klines` from a client: time to the first byte and to the last.
 *
 *   deno run -A bench/history_rest_day.ts [--rate 20] [--out bench/results/history-rest-<date>.md]
 *
 * Without the history endpoints (a gateway before the recording wiring) it says so and
 * exits; bench/history_day.ts gives the engine's figures then.
 * @module
 */
import { parseArgs } from "node:util";
import { recordTradeDay } from "./history_trade_day.ts";
import { stopAll } from "./procs.ts";
import { startStack } from "./stack.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rate: { type: "string", default: "20" }, out: { type: "string" } },
});
const rate = Number(values.rate);
const day = Date.UTC(2026, 11, 6);
const end = day + 86_400_000 - 1;
const noon = day + 43_200_000;
const dir = await Deno.makeTempDir({ prefix: "history-rest-day-" });

// ---------------------------------------------------------------- one day of trades
const w0 = performance.now();
const { trades: id, stats } = await recordTradeDay(dir, day, rate);
if (stats.dropped || stats.errors) throw new Error(`recording failed: ${JSON.stringify(stats)}`);
console.error(`recorded ${id} trades in ${((performance.now() - w0) / 1000).toFixed(1)} s`);

// ---------------------------------------------------------------- the gateway on it
const stack = await startStack({
  symbols: ["BTCUSDT"],
  emulatorArgs: ["--trades-per-second", "0"],
  env: { RECORD_DIR: dir, CHANNELS: "trade" },
});
const base = `http://127.0.0.1:${stack.port}`;

/** Times one GET: first byte and whole body (bytes and lines). */
async function timeGet(path: string) {
  const t0 = performance.now();
  const res = await fetch(base + path);
  const reader = res.body!.getReader();
  let first = NaN, bytes = 0, lines = 0;
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    if (Number.isNaN(first)) first = performance.now() - t0;
    bytes += value.length;
    for (const b of value) if (b === 10) lines++;
  }
  return { status: res.status, firstMs: first, totalMs: performance.now() - t0, bytes, lines };
}

const rows: string[] = [];
let note = "";
try {
  const probe = await timeGet("/api/history");
  if (probe.status === 404) {
    note = "This gateway has no `/api/history` endpoints (no recording wiring): nothing timed. " +
      "bench/history_day.ts times the same queries on HistoryReader directly.";
  } else {
    const q = (p: Record<string, string | number>) =>
      new URLSearchParams(
        Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)])),
      ).toString();
    const trades = { exchange: "binance", symbol: "BTCUSDT" };
    const cases: [string, string][] = [
      ["catalog (`/api/history`)", "/api/history"],
      [
        "trades, 1-minute window at noon, JSON page (limit 10000)",
        `/api/history/trades?${q({ ...trades, from: noon, to: noon + 59_999, limit: 10_000 })}`,
      ],
      [
        "trades, first JSON page of the day (limit 1000)",
        `/api/history/trades?${q({ ...trades, from: day, to: end })}`,
      ],
      [
        "trades, one hour, NDJSON",
        `/api/history/trades?${
          q({ ...trades, from: noon, to: noon + 3_599_999, format: "ndjson" })
        }`,
      ],
      [
        "trades, the whole day, NDJSON",
        `/api/history/trades?${q({ ...trades, from: day, to: end, format: "ndjson" })}`,
      ],
      [
        "trades, the whole day, CSV",
        `/api/history/trades?${q({ ...trades, from: day, to: end, format: "csv" })}`,
      ],
      [
        "klines 1m of the day (1440 bars)",
        `/api/history/klines?${q({ ...trades, interval: "1m", from: day, to: end })}`,
      ],
      [
        "klines 1h of the day",
        `/api/history/klines?${q({ ...trades, interval: "1h", from: day, to: end })}`,
      ],
    ];
    for (const [what, path] of cases) {
      const r = await timeGet(path);
      console.error(`${what}: ${r.status} ${r.totalMs.toFixed(0)} ms`);
      rows.push(
        `| ${what} | ${r.status} | ${r.firstMs.toFixed(1)} ms | ${r.totalMs.toFixed(1)} ms | ${
          (r.bytes / 1e6).toFixed(2)
        } MB | ${r.lines} |`,
      );
    }
  }
} finally {
  await stopAll();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

const report = [
  `## One day of one symbol over REST (bench/history_rest_day.ts --rate ${rate}, ${
    new Date().toISOString().slice(0, 10)
  })`,
  "",
  `${id} Binance BTCUSDT trades of ${new Date(day).toISOString().slice(0, 10)} (${rate}/s, raw`,
  `payloads kept), served by the gateway from RECORD_DIR to a client on the same machine. Load`,
  `average during the run: ${Deno.loadavg()[0].toFixed(1)} on 2 vCPUs (shared machine).`,
  "",
  ...(note ? [note] : [
    "| query | status | first byte | last byte | body | lines |",
    "|---|---|---|---|---|---|",
    ...rows,
  ]),
  "",
].join("\n");
console.log(report);
if (values.out) await Deno.writeTextFile(values.out, report, { append: true });

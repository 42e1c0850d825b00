/**
 * History query latency over one recorded day of one symbol: records a UTC day of
 * Binance trades (raw payload + normalized event from the real mapper, a seeded
 * random walk at `--rate` trades/s), then times the history queries the REST API
 * will run on it.
 *
 *   deno run -A bench/history_day.ts [--rate 20] [--out bench/results/history-<date>.md]
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { openHistory } from "../core/history/mod.ts";
import { recordTradeDay } from "./history_trade_day.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rate: { type: "string", default: "20" }, out: { type: "string" } },
});
const rate = Number(values.rate);
const day = Date.UTC(2026, 11, 6);
const dir = await Deno.makeTempDir({ prefix: "history-day-" });

const w0 = performance.now();
const wc0 = process.cpuUsage();
const { trades: id, stats } = await recordTradeDay(dir, day, rate);
const writeMs = performance.now() - w0;
const wc = process.cpuUsage(wc0);
if (stats.dropped || stats.errors) throw new Error(`recording failed: ${JSON.stringify(stats)}`);

const history = openHistory(dir);
const catalog = history.catalog();
const time = async (what: string, fn: () => Promise<number>) => {
  const t0 = performance.now();
  const n = await fn();
  return { what, ms: performance.now() - t0, n };
};
const count = async (it: AsyncIterable<unknown>) => {
  let n = 0;
  for await (const _ of it) n++;
  return n;
};
const firstOf = async (it: AsyncIterable<unknown>) => {
  for await (const _ of it) return 1;
  return 0;
};
const end = day + 86_400_000 - 1;
const noon = day + 43_200_000;
const rows = [
  await time(
    "first trade of a 1-minute window at noon (REST time-to-first-byte)",
    () => firstOf(history.trades("binance", "BTCUSDT", noon, noon + 59_999)),
  ),
  await time(
    "all trades of a 1-minute window at noon",
    () => count(history.trades("binance", "BTCUSDT", noon, noon + 59_999)),
  ),
  await time(
    "all trades of one hour",
    () => count(history.trades("binance", "BTCUSDT", noon, noon + 3_599_999)),
  ),
  await time(
    "all trades of the day, with raw",
    () => count(history.trades("binance", "BTCUSDT", day, end)),
  ),
  await time(
    "all trades of the day, without raw",
    () => count(history.trades("binance", "BTCUSDT", day, end, { raw: false })),
  ),
  await time(
    "1m klines of the day (1440 bars)",
    () => count(history.klines("binance", "BTCUSDT", "1m", day, end)),
  ),
  await time(
    "1h klines of the day",
    () => count(history.klines("binance", "BTCUSDT", "1h", day, end)),
  ),
  await time(
    "1s klines of one hour",
    () => count(history.klines("binance", "BTCUSDT", "1s", noon, noon + 3_599_999)),
  ),
];
history.close();
await Deno.remove(dir, { recursive: true });

const fmt = (x: number, d = 1) => x.toFixed(d);
const report = [
  `## One day of one symbol (bench/history_day.ts --rate ${rate})`,
  "",
  `${id} Binance BTCUSDT trades over ${new Date(day).toISOString().slice(0, 10)} (${rate}/s, raw`,
  `payloads kept), recorded with a flush every 10 s of data in ${fmt(writeMs / 1000)} s (${
    fmt((wc.user + wc.system) / id, 2)
  } µs CPU per trade, including generation and mapping). Day file: ${catalog.bytes} bytes =`,
  `**${fmt(catalog.bytes / id, 2)} B per trade on disk**, everything included. Load average during`,
  `the run: ${Deno.loadavg()[0].toFixed(1)} on 2 vCPUs (shared machine).`,
  "",
  "| query | items | time |",
  "|---|---|---|",
  ...rows.map((r) => `| ${r.what} | ${r.n} | ${fmt(r.ms)} ms |`),
  "",
].join("\n");
console.log(report);
if (values.out) await Deno.writeTextFile(values.out, report, { append: true });

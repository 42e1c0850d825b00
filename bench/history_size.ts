/**
 * History storage benchmark: bytes on disk per trade and per depth update versus
 * gzip'd NDJSON of the raw frames of the same data (what tardis.dev ships), write
 * throughput, replay read speed (disk → normalized events), and query latency.
 *
 *   deno run -A bench/history_size.ts [--seconds 600] [--level 3] [--out bench/results/history-<date>.md]
 */
import { gzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import process from "node:process";
import { createRecorder, openHistory } from "../core/history/mod.ts";
import { generateStream } from "../tests/history/fixture_stream.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "600" },
    level: { type: "string", default: "3" },
    out: { type: "string" },
    symbols: { type: "string", default: "BTCUSDT" },
    quotes: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const level = Number(values.level);
const start = Date.UTC(2026, 11, 7, 10);

const t0 = performance.now();
const { items, frames } = generateStream({
  start,
  seconds,
  symbols: values.symbols.split(","),
  tradesPerSecond: 40,
  mixed: false,
  quotes: values.quotes,
});
const genMs = performance.now() - t0;

const dir = await Deno.makeTempDir({ prefix: "history-bench-" });
const recorder = createRecorder({ dir, level, flushMs: 1000, worker: false });
// The hub's cost: record() only (the queue is bounded high enough to hold everything).
let w0 = performance.now();
for (const it of items) recorder.record(it);
const queuedMs = performance.now() - w0;
// Bulk write: everything in one flush (the writer's best case: large batches).
const bulk0 = performance.now();
const bc0 = process.cpuUsage();
await recorder.close();
const bulkMs = performance.now() - bulk0;
const bc = process.cpuUsage(bc0);
const bulkCpu = bc.user + bc.system;
await Deno.remove(dir, { recursive: true });
// The writer's cost, as in production: a flush for every second of data.
const writer = createRecorder({ dir, level, flushMs: 1000, worker: false });
w0 = performance.now();
const wc0 = process.cpuUsage();
let second = Math.floor(items[0].receiveTime / 1000);
for (const it of items) {
  const s = Math.floor(it.receiveTime / 1000);
  if (s !== second) {
    await writer.flush();
    second = s;
  }
  writer.record(it);
}
await writer.close();
const writeMs = performance.now() - w0;
const wc = process.cpuUsage(wc0);
const writeCpu = wc.user + wc.system;
const stats = writer.stats();

// With the writer in a Worker (the default): what the hub's thread still pays per item
// (record() plus handing each second's batch to the Worker, a structured clone).
const dir2 = await Deno.makeTempDir({ prefix: "history-bench-worker-" });
const viaWorker = createRecorder({ dir: dir2, level, flushMs: 1000 });
let hubMs = 0;
const ww0 = performance.now();
second = Math.floor(items[0].receiveTime / 1000);
for (const it of items) {
  const t = performance.now();
  const s = Math.floor(it.receiveTime / 1000);
  if (s !== second) {
    void viaWorker.flush();
    second = s;
  }
  viaWorker.record(it);
  hubMs += performance.now() - t;
}
await viaWorker.close();
const workerWallMs = performance.now() - ww0;
if (viaWorker.stats().written !== items.length) {
  throw new Error(`worker recording incomplete: ${JSON.stringify(viaWorker.stats())}`);
}
await Deno.remove(dir2, { recursive: true });
// The clone alone: posting the same items, one second per message, to an idle Worker.
const sinkWorker = new Worker("data:application/javascript,self.onmessage=()=>{}", {
  type: "module",
});
let cloneMs = Infinity;
for (let run = 0; run < 3; run++) {
  const c0 = performance.now();
  let from = 0;
  for (let i = 1; i <= items.length; i++) {
    if (
      i === items.length ||
      Math.floor(items[i].receiveTime / 1000) !== Math.floor(items[from].receiveTime / 1000)
    ) {
      sinkWorker.postMessage(items.slice(from, i));
      from = i;
    }
  }
  cloneMs = Math.min(cloneMs, performance.now() - c0);
}
sinkWorker.terminate();
if (stats.dropped || stats.errors) throw new Error(`recording failed: ${JSON.stringify(stats)}`);

const history = openHistory(dir);
const catalog = history.catalog();
const sum = (kind: string) =>
  catalog.streams.filter((s) => s.kind === kind).reduce(
    (a, s) => ({ count: a.count + s.count, bytes: a.bytes + s.bytes }),
    { count: 0, bytes: 0 },
  );
const trades = sum("trade"), books = sum("book"), quotes = sum("quote");
let levels = 0, deltas = 0;
for (const it of items) {
  if (it.item.type === "book" && !it.item.snapshot) {
    levels += it.item.bids.length + it.item.asks.length;
    deltas++;
  }
}
const bookBlockBytes = books.bytes;
const snapshotsIn = items.filter((i) => i.item.type === "book" && i.item.snapshot).length;
const deltaCount = books.count - snapshotsIn; // the opening exchange snapshots are stored too
const gz = (lines: string[]) =>
  gzipSync(new TextEncoder().encode(lines.join("\n") + "\n"), { level: 6 }).length;
const tradeLines = frames.filter((f) => f.includes('"e":"trade"'));
const depthLines = frames.filter((f) => f.includes('"e":"depthUpdate"'));
const tradeGz = gz(tradeLines), depthGz = gz(depthLines);
const tradeRaw = tradeLines.reduce((a, l) => a + l.length + 1, 0);
const depthRaw = depthLines.reduce((a, l) => a + l.length + 1, 0);

// Replay read speed: every event, disk → normalized objects, in hub order (best of 3 runs).
const readSpeed = async (raw: boolean) => {
  let n = 0;
  let ms = Infinity, cpu = Infinity, cold = 0;
  for (let run = 0; run < 5; run++) {
    n = 0;
    const r0 = performance.now();
    const c0 = process.cpuUsage();
    for await (const batch of history.eventBatches({ from: 0, to: Infinity, raw })) {
      n += batch.length;
    }
    ms = Math.min(ms, performance.now() - r0);
    if (run === 0) cold = performance.now() - r0;
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, c.user + c.system);
  }
  return { n, ms, cpu, cold };
};
const { n, ms: readMs, cpu: readCpu, cold: coldMs } = await readSpeed(true);
const { ms: readNoRawMs, cpu: readNoRawCpu } = await readSpeed(false);

// Query latency: the whole recorded range (one symbol) of trades, klines 1m, a book.
const symbol = values.symbols.split(",")[0];
const q0 = performance.now();
let tradesRead = 0;
for await (const _ of history.trades("binance", symbol, start, start + seconds * 1000)) {
  tradesRead++;
}
const tradesMs = performance.now() - q0;
const k0 = performance.now();
let bars = 0;
for await (const _ of history.klines("binance", symbol, "1m", start, start + seconds * 1000)) {
  bars++;
}
const klinesMs = performance.now() - k0;
const b0 = performance.now();
const book = await history.bookAt("binance", symbol, start + seconds * 500, 20);
const bookMs = performance.now() - b0;
history.close();
await Deno.remove(dir, { recursive: true });

const fmt = (x: number, d = 1) => x.toFixed(d);
const date = new Date().toISOString().slice(0, 10);
const perTrade = (x: number) => `${fmt(x / tradeLines.length)} B/trade`;
const lines = [
  `# History storage benchmark, ${date}`,
  "",
  `Measured with \`deno run -A bench/history_size.ts ${Deno.args.join(" ")}\` on this workplace's`,
  `2-vCPU VM (Deno ${Deno.version.deno}), one run, while other jobs shared the machine (load average`,
  `${
    Deno.loadavg()[0].toFixed(1)
  }): wall-clock speeds are pessimistic; CPU time per item is given too.`,
  `Data: ${seconds} s of the Binance emulator's ${values.symbols} market (seeded random walk, ~40`,
  `trades/s per symbol, 100 ms depth diffs${
    values.quotes ? ", bookTicker quotes" : ""
  }), built by the`,
  "emulator's own payload generators and mapped by the real Binance mapper, so every event carries its",
  "raw payload. The recording stores each normalized event **including its raw payload**; the",
  "comparison is gzip-6 of NDJSON lines `<ISO receive time> <raw frame>` (tardis.dev's raw format) of",
  "the same frames.",
  "",
  `| what | recorded (columns + zstd-${level}) | gzip-6 NDJSON of raw frames | raw NDJSON |`,
  "|---|---|---|---|",
  `| trades (${trades.count}) | **${fmt(trades.bytes / trades.count)} B/trade** | ${
    perTrade(tradeGz)
  } | ${perTrade(tradeRaw)} |`,
  `| depth updates (${deltas}, ${fmt(levels / deltas)} levels avg) | **${
    fmt(bookBlockBytes / deltaCount)
  } B/update, ${fmt(bookBlockBytes / levels, 2)} B/level** | ${
    fmt(depthGz / depthLines.length)
  } B/update, ${fmt(depthGz / levels, 2)} B/level | ${
    fmt(depthRaw / depthLines.length)
  } B/update |`,
  `| ⇒ per 16-level depth update | **${fmt(16 * bookBlockBytes / levels)} B** | ${
    fmt(16 * depthGz / levels)
  } B | |`,
  ...(quotes.count
    ? [`| quotes (${quotes.count}) | ${fmt(quotes.bytes / quotes.count)} B/quote | | |`]
    : []),
  "",
  `Whole folder on disk (SQLite pages, indexes, periodic book snapshots, free pages left by merging`,
  `1-second blocks into 1-minute blocks): ${catalog.bytes} bytes for ${items.length} items (${
    fmt(catalog.bytes / items.length)
  } B/item).`,
  "",
  "| speed | wall | CPU |",
  "|---|---|---|",
  `| record() of ${items.length} items (queue only, the hub's cost) | ${fmt(queuedMs)} ms (${
    fmt(items.length / queuedMs / 1000, 2)
  } M items/s) | |`,
  `| writer, bulk: encode + zstd + SQLite, all in one flush | ${fmt(bulkMs)} ms (${
    fmt(items.length / bulkMs, 0)
  } k items/s) | ${fmt(bulkCpu / items.length, 2)} µs/item |`,
  `| hub thread with the Worker writer (default): record() + posting each second's batch | ${
    fmt(hubMs)
  } ms = ${fmt(hubMs * 1000 / items.length, 2)} µs/item (all written in ${
    fmt(workerWallMs)
  } ms wall) | |`,
  `| of which the structured clone alone (postMessage of each second to an idle Worker) | ${
    fmt(cloneMs)
  } ms = ${fmt(cloneMs * 1000 / items.length, 2)} µs/item | |`,
  `| writer: encode + zstd + SQLite commit, flushed every simulated second | ${fmt(writeMs)} ms (${
    fmt(items.length / writeMs, 0)
  } k items/s) | ${fmt(writeCpu / items.length, 2)} µs/item |`,
  `| replay read, disk → normalized events in hub order, with raw | ${fmt(readMs)} ms = **${
    fmt(n / readMs / 1000, 2)
  } M events/s** | ${fmt(readCpu / n, 2)} µs/event = **${fmt(n / readCpu, 2)} M events/s** |`,
  `| replay read, the same without decoding raw payloads | ${fmt(readNoRawMs)} ms = **${
    fmt(n / readNoRawMs / 1000, 2)
  } M events/s** | ${fmt(readNoRawCpu / n, 2)} µs/event = **${
    fmt(n / readNoRawCpu, 2)
  } M events/s** |`,
  `| trades of one symbol, whole recording (${tradesRead} trades, with raw) | ${
    fmt(tradesMs)
  } ms | |`,
  `| 1m klines from trades, whole recording (${bars} bars) | ${fmt(klinesMs)} ms | |`,
  `| bookAt mid-recording (depth 20, synced=${book?.synced}) | ${fmt(bookMs)} ms | |`,
  "",
  `Read speeds: best of 5 passes over the same files (the first pass, with raw, JIT still cold: ${
    fmt(n / coldMs / 1000, 2)
  } M events/s). CPU = process user+system time, which includes V8's parallel GC threads.`,
  `Events read: ${n}. Data generation took ${fmt(genMs / 1000)} s (not part of any figure).`,
  "",
];
const report = lines.join("\n");
console.log(report);
if (values.out) await Deno.writeTextFile(values.out, report, { append: true });

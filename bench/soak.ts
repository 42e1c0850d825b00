/**
 * Bounded soak: the gateway (real Binance plugin in its Worker) against the
 * Binance emulator, with faults injected at random, for N minutes (default 10).
 * At the end it prints books checked, mismatches (must be 0), trades delivered,
 * trades missing (must be 0; ids reported in `gap` frames are counted apart).
 *
 *   deno run -A --unstable-worker-options bench/soak.ts [--minutes 10] [--seed 1]
 *
 * Loopback only; it stops by itself.
 */
import { parseArgs } from "node:util";
import { startBinanceEmulator } from "../plugins/binance/emulator/mod.ts";
import { binance } from "../plugins/binance/mod.ts";
import { pluginConfig } from "../core/ingest/plugin_config.ts";
import { coreConfigSchema } from "../core/server/config.ts";
import { startGateway } from "../core/server/gateway.ts";
import type { Level } from "../core/events.ts";
import { setupLogging } from "../core/server/log.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { minutes: { type: "string", default: "10" }, seed: { type: "string", default: "1" } },
});
const minutes = Math.min(60, Math.max(0.1, Number(values.minutes)));
const seed = Number(values.seed);
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"];

let rng = seed >>> 0 || 1;
const random = () => {
  rng ^= rng << 13;
  rng ^= rng >>> 17;
  rng ^= rng << 5;
  return (rng >>> 0) / 2 ** 32;
};
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];

const logLevel = (Deno.env.get("SOAK_LOG") ?? "error") as "error" | "warning" | "info" | "debug";
await setupLogging(logLevel);
const emu = await startBinanceEmulator({ symbols: SYMBOLS, seed, tradesPerSecond: 20 });
const gateway = await startGateway({
  config: coreConfigSchema.parse({
    port: 0,
    host: "127.0.0.1",
    logLevel,
    maxQueuedTrades: 1_000_000,
  }),
  feeds: [{
    plugin: binance,
    workerUrl: new URL("../plugins/binance/worker.ts", import.meta.url),
    config: pluginConfig(binance, { BINANCE_WS_URL: emu.wsUrl, BINANCE_REST_URL: emu.restUrl }, {
      backoffBaseMs: 100,
      backoffCapMs: 2000,
      staleMs: { trade: 5000, quote: 5000, book: 5000, kline: 70_000 },
    }),
    symbols: SYMBOLS,
    channels: ["trade", "book"],
  }],
});

interface ClientBook {
  bids: Map<number, number>;
  asks: Map<number, number>;
  seq: number;
}
const books = new Map<string, ClientBook>(
  SYMBOLS.map((s) => [s, { bids: new Map(), asks: new Map(), seq: -1 }]),
);
const tradeIds = new Map<string, number[]>(SYMBOLS.map((s) => [s, []]));
const gapRanges = new Map<string, [number, number][]>(SYMBOLS.map((s) => [s, []]));
let seqErrors = 0;
let frames = 0;

const ws = new WebSocket(gateway.url.replace("http", "ws") + "/ws");
await new Promise((r) => ws.onopen = r);
ws.onmessage = (e) => {
  frames++;
  const f = JSON.parse(e.data);
  if (f.type === "trade") tradeIds.get(f.symbol)!.push(f.tradeId);
  else if (f.type === "gap") gapRanges.get(f.symbol)!.push([f.fromId, f.toId]);
  else if (f.type === "book") {
    const b = books.get(f.symbol)!;
    if (f.snapshot) {
      b.bids.clear();
      b.asks.clear();
    } else if (f.seq !== b.seq + 1) seqErrors++;
    b.seq = f.seq;
    for (const [p, q] of f.bids as Level[]) q === 0 ? b.bids.delete(p) : b.bids.set(p, q);
    for (const [p, q] of f.asks as Level[]) q === 0 ? b.asks.delete(p) : b.asks.set(p, q);
  }
};
ws.send(
  JSON.stringify({
    action: "subscribe",
    symbols: SYMBOLS,
    channels: ["trade", "book"],
    depth: 1000,
    raw: false,
  }),
);

const faults: [string, () => void][] = [
  ["abrupt disconnect", () => emu.faults.dropConnections({ abrupt: true })],
  ["clean disconnect", () => emu.faults.dropConnections()],
  ["refused reconnects 1.5 s", () => {
    emu.faults.refuseConnections(1500);
    emu.faults.dropConnections({ abrupt: true });
  }],
  ["swallowed depth event", () => emu.faults.skipDepthEvent(pick(SYMBOLS))],
  ["reordered depth events", () => emu.faults.reorderDepthEvents(pick(SYMBOLS))],
  ["duplicated depth event", () => emu.faults.duplicateDepthEvent(pick(SYMBOLS))],
  ["malformed frames", () => emu.faults.sendMalformed(6)],
  ["stale snapshot + gap", () => {
    const s = pick(SYMBOLS);
    emu.faults.staleSnapshot(s, 1);
    emu.faults.skipDepthEvent(s);
  }],
  ["429 Retry-After 1 s + gap", () => {
    emu.faults.rateLimit({ status: 429, retryAfterSec: 1, count: 2 });
    emu.faults.skipDepthEvent(pick(SYMBOLS));
  }],
  ["serverShutdown", () => emu.faults.serverShutdown(500)],
  ["silence 7 s (stale)", () => emu.faults.silence(7000)],
  ["skipped live trade", () => emu.faults.skipTrade(pick(SYMBOLS))],
];
const injected = new Map<string, number>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let booksChecked = 0;
let notSyncedInTime = 0;
let mismatches = 0;
const mismatchNotes: string[] = [];

/** Pauses the market, waits for the gateway to settle, compares every level. */
async function checkBooks() {
  // A resync needs live depth events (Binance's procedure buffers one before the snapshot),
  // so wait with the market running until every book is synced, then freeze and compare.
  for (let i = 0; i < 200; i++) {
    const health = await (await fetch(gateway.url + "/health")).json();
    const synced = health.books.filter((b: { synced: boolean }) => b.synced).length;
    if (health.feeds[0].state === "connected" && synced === SYMBOLS.length) break;
    await sleep(100);
    if (i === 199) notSyncedInTime++;
  }
  // Freeze for at most 3 s (well under the 5 s stale limit), compare every level of every book.
  emu.pause();
  emu.tick(0);
  const wanted = new Map(SYMBOLS.map((symbol) => {
    const expected = emu.book(symbol);
    return [symbol, {
      lastUpdateId: expected.lastUpdateId,
      json: JSON.stringify([
        expected.bids.map(([p, q]) => [Number(p), Number(q)]),
        expected.asks.map(([p, q]) => [Number(p), Number(q)]),
      ]),
    }];
  }));
  const current = (symbol: string) => {
    const b = books.get(symbol)!;
    return JSON.stringify([
      [...b.bids].sort((x, y) => y[0] - x[0]),
      [...b.asks].sort((x, y) => x[0] - y[0]),
    ]);
  };
  const unequal = () => SYMBOLS.filter((s) => current(s) !== wanted.get(s)!.json);
  for (let i = 0; i < 30 && unequal().length > 0; i++) await sleep(100);
  for (const symbol of SYMBOLS) {
    booksChecked++;
    const want = wanted.get(symbol)!;
    const got = current(symbol);
    if (got === want.json) continue;
    mismatches++;
    const [gb, ga] = JSON.parse(got) as Level[][];
    const [wb, wa] = JSON.parse(want.json) as Level[][];
    const firstDiff = (x: Level[], y: Level[]) => {
      for (let i = 0; i < Math.max(x.length, y.length); i++) {
        if (JSON.stringify(x[i]) !== JSON.stringify(y[i])) return `#${i} got ${x[i]} want ${y[i]}`;
      }
      return "same";
    };
    const rest = await (await fetch(
      `${gateway.url}/api/book?exchange=binance&symbol=${symbol}&depth=1000`,
    )).json();
    const restEqual = JSON.stringify([rest.bids, rest.asks]) === want.json;
    mismatchNotes.push(
      `${symbol} at ${
        new Date().toISOString()
      } after "${lastFault}": gateway updateId ${rest.updateId} ` +
        `(synced ${rest.synced}, REST book ${
          restEqual ? "equal" : "DIFFERENT"
        }), emulator ${want.lastUpdateId}; bids ${gb.length}/${wb.length} ` +
        `(${firstDiff(gb, wb)}), asks ${ga.length}/${wa.length} (${firstDiff(ga, wa)})`,
    );
  }
  emu.resume();
}

let lastFault = "";
const started = Date.now();
const deadline = started + minutes * 60_000;
let round = 0;
while (Date.now() < deadline) {
  const [name, inject] = pick(faults);
  lastFault = name;
  inject();
  injected.set(name, (injected.get(name) ?? 0) + 1);
  await sleep(3000 + random() * 3000);
  if (++round % 2 === 0) {
    await sleep(2000); // let a resync / reconnect finish before judging
    await checkBooks();
  }
}
emu.faults.reset();
await sleep(3000);
await checkBooks();

// Trades: every id from the first seen to the emulator's last must have arrived, unless reported in a gap.
let delivered = 0;
let missing = 0;
let duplicates = 0;
let reportedInGaps = 0;
for (const symbol of SYMBOLS) {
  const ids = tradeIds.get(symbol)!;
  delivered += ids.length;
  const seen = new Set<number>();
  for (const id of ids) seen.has(id) ? duplicates++ : seen.add(id);
  const last = emu.lastTradeId(symbol);
  const first = ids[0] ?? last + 1;
  const inGap = (id: number) => gapRanges.get(symbol)!.some(([a, b]) => id >= a && id <= b);
  for (let id = first; id <= last; id++) {
    if (seen.has(id)) continue;
    if (inGap(id)) reportedInGaps++;
    else missing++;
  }
}
const health = await (await fetch(gateway.url + "/health")).json();
ws.close();
await gateway.close();
await emu.close();

const report = {
  minutes,
  seed,
  faultsInjected: Object.fromEntries(injected),
  booksChecked,
  notSyncedWithin20s: notSyncedInTime,
  mismatches,
  mismatchNotes,
  bookSeqErrors: seqErrors,
  tradesDelivered: delivered,
  tradesMissing: missing,
  tradesDuplicated: duplicates,
  tradesReportedInGapFrames: reportedInGaps,
  clientFrames: frames,
  feedReconnects: health.feeds[0].reconnects,
  bookResyncs: health.books.reduce((n: number, b: { resyncs: number }) => n + b.resyncs, 0),
  malformedDropped: health.feeds[0].malformed,
};
console.log(JSON.stringify(report, null, 2));
console.log(
  `\nbooks checked ${booksChecked}, mismatches ${mismatches}, trades delivered ${delivered}, trades missing ${missing}` +
    ` (duplicates ${duplicates}, reported as gaps ${reportedInGaps})`,
);
Deno.exit(mismatches === 0 && missing === 0 && duplicates === 0 && seqErrors === 0 ? 0 : 1);

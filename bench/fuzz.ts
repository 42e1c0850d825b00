/**
 * Bounded fuzz run (not part of the test suite): hostile clients throw random,
 * mutated, oversized, deeply nested and binary frames and floods at a gateway
 * over real WebSockets while well-behaved clients stay subscribed. Reports
 * crashes (must be 0), memory growth, error/close counts, and whether every
 * well-behaved client kept receiving in every second.
 *
 *   deno run -A --unstable-worker-options bench/fuzz.ts --minutes 1 --hostile 8 --good 4
 *
 * Without `--url` it starts an in-process gateway with the scripted test feed
 * (so memory can be measured); with `--url ws://host:port/ws` it targets a
 * running gateway (memory then comes from nowhere: reported as n/a).
 * @module
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import { startGateway } from "../core/server/gateway.ts";
import { coreConfigSchema } from "../core/server/config.ts";
import { pluginConfig } from "../core/ingest/plugin_config.ts";
import { scripted } from "../tests/fixtures/scripted_plugin.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "1" },
    hostile: { type: "string", default: "8" },
    good: { type: "string", default: "4" },
    url: { type: "string" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const seed = Number(values.seed);

let crashes = 0;
globalThis.addEventListener("error", (e) => {
  crashes++;
  console.error("uncaught error:", e.message);
  e.preventDefault();
});
globalThis.addEventListener("unhandledrejection", (e) => {
  crashes++;
  console.error("unhandled rejection:", e.reason);
  e.preventDefault();
});

const gateway = values.url ? undefined : await startGateway({
  config: coreConfigSchema.parse({
    port: 0,
    host: "127.0.0.1",
    symbols: "BTCUSDT,ETHUSDT",
    shutdownGraceMs: 1000,
    logLevel: "error",
  }),
  feeds: [{
    plugin: scripted,
    workerUrl: new URL("../tests/fixtures/scripted_worker.ts", import.meta.url),
    config: pluginConfig(scripted, {}, { tickMs: 20 }),
    symbols: ["BTCUSDT", "ETHUSDT"],
    channels: ["trade", "quote"],
  }],
});
const wsUrl = values.url ?? `ws://127.0.0.1:${gateway!.port}/ws`;
const httpUrl = wsUrl.replace(/^ws/, "http").replace(/\/ws.*$/, "");

const valid = [
  { action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade", "quote"], id: 1 },
  { action: "unsubscribe", symbols: ["ETHUSDT"], id: "x" },
  { action: "subscribe", symbols: ["BTC/USDT"], channels: ["consolidated"] },
  { action: "list", id: 2 },
  { action: "ping" },
];

/** Frame generators: each returns text or bytes to send. */
const generators: ((rnd: () => number) => string | Uint8Array)[] = [
  () => JSON.stringify(fc.sample(fc.jsonValue({ maxDepth: 5 }), 1)[0]),
  (rnd) => {
    const text = JSON.stringify(valid[Math.floor(rnd() * valid.length)]);
    const chars = [...text];
    for (let i = 0; i < 1 + rnd() * 4; i++) {
      const at = Math.floor(rnd() * chars.length);
      const op = Math.floor(rnd() * 3);
      if (op === 0) chars[at] = String.fromCharCode(Math.floor(rnd() * 0x2fff));
      else if (op === 1) chars.splice(at, 1);
      else chars.splice(at, 0, chars[Math.floor(rnd() * chars.length)]);
    }
    return chars.join("");
  },
  (rnd) => crypto.getRandomValues(new Uint8Array(1 + Math.floor(rnd() * 2048))),
  (rnd) => "x".repeat(Math.floor(rnd() * 300_000)),
  (rnd) => {
    const depth = Math.floor(rnd() * 30_000);
    return `{"action":"subscribe","symbols":${"[".repeat(depth)}${"]".repeat(depth)}}`;
  },
  () =>
    JSON.stringify({
      action: "subscribe",
      symbols: Array.from({ length: 3000 }, (_, i) => `S${i}USDT`),
    }),
  () => JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT"], evil: { __proto__: 1 } }),
  () => JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT"], depth: 1e308 }),
];

const stats = {
  hostileSent: 0,
  errorFrames: 0,
  closes: new Map<number, number>(),
  reconnects: 0,
};

const mulberry = (a: number) => () => {
  a |= 0;
  a = (a + 0x6d2b79f5) | 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const deadline = Date.now() + durationMs;

async function hostile(n: number): Promise<void> {
  const rnd = mulberry(seed + n);
  while (Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.binaryType = "arraybuffer";
      let timer: ReturnType<typeof setInterval> | undefined;
      ws.onmessage = (e) => {
        if (typeof e.data === "string" && e.data.includes('"type":"error"')) stats.errorFrames++;
      };
      ws.onopen = () => {
        const flood = rnd() < 0.2;
        timer = setInterval(() => {
          if (Date.now() >= deadline) return ws.close();
          const bursts = flood ? 50 : 1;
          for (let i = 0; i < bursts && ws.readyState === WebSocket.OPEN; i++) {
            const g = generators[Math.floor(rnd() * generators.length)];
            ws.send(g(rnd) as string);
            stats.hostileSent++;
          }
        }, 10);
      };
      ws.onclose = (e) => {
        clearInterval(timer);
        stats.closes.set(e.code, (stats.closes.get(e.code) ?? 0) + 1);
        stats.reconnects++;
        resolve();
      };
      ws.onerror = () => {};
    });
  }
}

/** A well-behaved client: counts trades per whole second of the run. */
async function good(): Promise<{ silentSeconds: number; trades: number; dropped: boolean }> {
  const ws = new WebSocket(wsUrl);
  const seconds = new Map<number, number>();
  let trades = 0;
  let dropped = false;
  const start = Date.now();
  ws.onmessage = (e) => {
    if (typeof e.data === "string" && e.data.includes('"type":"trade"')) {
      trades++;
      const s = Math.floor((Date.now() - start) / 1000);
      seconds.set(s, (seconds.get(s) ?? 0) + 1);
    }
  };
  await new Promise<void>((r) => ws.onopen = () => r());
  ws.send(JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT", "ETHUSDT"] }));
  const closed = new Promise<void>((r) =>
    ws.onclose = () => {
      dropped = Date.now() < deadline;
      r();
    }
  );
  await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
  ws.close();
  await closed;
  const total = Math.floor((deadline - start) / 1000);
  let silentSeconds = 0;
  for (let s = 1; s < total - 1; s++) if (!seconds.get(s)) silentSeconds++;
  return { silentSeconds, trades, dropped };
}

const rss0 = Deno.memoryUsage().rss;
const heap0 = Deno.memoryUsage().heapUsed;
const goodRuns = Array.from({ length: Number(values.good) }, () => good());
await new Promise((r) => setTimeout(r, 200));
await Promise.all(Array.from({ length: Number(values.hostile) }, (_, i) => hostile(i)));
const goods = await Promise.all(goodRuns);
const health = await fetch(httpUrl + "/health").then((r) => r.status).catch(() => 0);
const rss1 = Deno.memoryUsage().rss;
const heap1 = Deno.memoryUsage().heapUsed;
await gateway?.close();

const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
const report = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  minutes: Number(values.minutes),
  seed,
  hostileClients: Number(values.hostile),
  goodClients: Number(values.good),
  hostileFramesSent: stats.hostileSent,
  errorFramesReceived: stats.errorFrames,
  hostileConnections: stats.reconnects,
  closeCodes: Object.fromEntries(stats.closes),
  crashes,
  healthAfter: health,
  memory: gateway
    ? {
      rssStartMB: mb(rss0),
      rssEndMB: mb(rss1),
      heapStartMB: mb(heap0),
      heapEndMB: mb(heap1),
    }
    : "n/a (external gateway)",
  goodClientsKeptReceiving: goods.every((g) => g.silentSeconds === 0 && !g.dropped),
  good: goods,
};
console.log(JSON.stringify(report, null, 2));
Deno.exit(crashes === 0 && health === 200 && report.goodClientsKeptReceiving ? 0 : 1);

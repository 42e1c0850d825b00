/**
 * Never-reading clients on the Binance-compatible proxy against the memory budget:
 * `--clients` raw TCP clients upgrade to `/binance/stream` (trades and 100 ms diff
 * depth of two symbols) and then never read; the gateway's RSS, held bytes and budget
 * disconnects are sampled every second for `--seconds`. `--endpoint ws` does the same
 * on `/ws` (trade and book of the same symbols) for comparison.
 *
 * ```sh
 * deno run -A bench/proxy_slow_consumers.ts [--clients 200] [--seconds 30] [--rate 400]
 *   [--memory-budget 67108864] [--endpoint binance|ws] [--json]
 * ```
 * Starts its own emulator (`--rate` trades/s of its market model) and gateway.
 * @module
 */
import { parseArgs } from "node:util";
import { rssMiB, sleep, stopAll } from "./procs.ts";
import { startStack } from "./stack.ts";
import { clientFrame, OP, openRawWebSocket, writeAll } from "./ws_raw.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "200" },
    seconds: { type: "string", default: "30" },
    rate: { type: "string", default: "400" },
    "memory-budget": { type: "string", default: String(64 * 1024 * 1024) },
    endpoint: { type: "string", default: "binance" },
    json: { type: "boolean", default: false },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const ENDPOINT = values.endpoint === "ws" ? "ws" : "binance";
const log = (m: string) =>
  console.error(`[proxy-slow ${new Date().toISOString().slice(11, 19)}] ${m}`);

/** One sample of the gateway. */
interface Sample {
  t: number;
  rssMiB: number;
  heldMiB: number;
  disconnects: number;
  clients: number;
}

const stack = await startStack({
  symbols: ["BTCUSDT", "ETHUSDT"],
  emulatorArgs: ["--trades-per-second", values.rate],
  env: {
    MEMORY_BUDGET: values["memory-budget"],
    MAX_CLIENT_MESSAGES_PER_SECOND: "1000",
    IP_MAX_CONNECTIONS: String(CLIENTS + 10),
  },
});
const base = `ws://127.0.0.1:${stack.port}`;
const conns: Deno.Conn[] = [];
const samples: Sample[] = [];
try {
  const sample = async (t: number): Promise<Sample> => {
    const health = await (await fetch(`http://127.0.0.1:${stack.port}/health`)).json();
    return {
      t,
      rssMiB: Math.round(rssMiB(stack.gateway.pid)),
      heldMiB: Math.round((health.delivery?.held ?? 0) / 1024 / 1024),
      disconnects: health.delivery?.disconnects ?? 0,
      clients: health.clients ?? 0,
    };
  };
  samples.push(await sample(0));
  log(
    `baseline RSS ${
      samples[0].rssMiB
    } MiB; opening ${CLIENTS} never-reading clients on ${ENDPOINT}`,
  );
  for (let i = 0; i < CLIENTS; i++) {
    const url = ENDPOINT === "binance"
      ? `${base}/binance/stream?streams=btcusdt@trade/ethusdt@trade/btcusdt@depth@100ms/ethusdt@depth@100ms`
      : `${base}/ws`;
    const raw = await openRawWebSocket(url).catch((err) => {
      log(`client ${i}: ${err instanceof Error ? err.message : err}`);
      return undefined;
    });
    if (!raw) continue;
    conns.push(raw.conn);
    if (ENDPOINT === "ws") {
      await writeAll(
        raw.conn,
        clientFrame(
          OP.text,
          JSON.stringify({
            action: "subscribe",
            symbols: ["BTCUSDT", "ETHUSDT"],
            channels: ["trade", "book"],
          }),
        ),
      );
    }
  }
  log(`${conns.length} connected; sampling for ${SECONDS} s`);
  const start = performance.now();
  for (let s = 1; s <= SECONDS; s++) {
    await sleep(start + s * 1000 - performance.now());
    const x = await sample(s);
    samples.push(x);
    log(
      `t=${s}s RSS ${x.rssMiB} MiB, held ${x.heldMiB} MiB, budget disconnects ${x.disconnects}, clients ${x.clients}`,
    );
  }
} finally {
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* closed */ }
  }
  await stopAll();
}
const summary = {
  endpoint: ENDPOINT,
  clients: CLIENTS,
  seconds: SECONDS,
  memoryBudgetMiB: Number(values["memory-budget"]) / 1024 / 1024,
  baselineRssMiB: samples[0]?.rssMiB,
  maxRssMiB: Math.max(...samples.map((s) => s.rssMiB)),
  endRssMiB: samples.at(-1)?.rssMiB,
  budgetDisconnects: samples.at(-1)?.disconnects,
  clientsAtEnd: samples.at(-1)?.clients,
};
console.log(values.json ? JSON.stringify(summary) : summary);

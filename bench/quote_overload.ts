/**
 * Quote overload probe: many clients subscribed to best bid/ask of 4 symbols while the
 * emulator ticks every millisecond, so the hub is asked for far more deliveries than one
 * core can write. Prints per second: frames sent (`quant_messages_out_total`), the quotes the plugin Worker's
 * outbox conflated (`/health` `conflatedInWorker`), the in-gateway latency (mean of
 * `quant_fanout_latency_seconds` over that second) and the gateway's RSS.
 *
 * ```sh
 * deno run -A bench/quote_overload.ts [--clients 2000] [--seconds 15] [--tick-ms 1]
 * ```
 * @module
 */
import { DEV_CONFIG } from "./procs.ts";
import { parseArgs } from "node:util";
import { rssMiB, sleep, spawn, stopAll } from "./procs.ts";
import { startStack } from "./stack.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "2000" },
    seconds: { type: "string", default: "15" },
    "tick-ms": { type: "string", default: "1" },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);

const { gateway, port } = await startStack({
  symbols: SYMBOLS,
  emulatorArgs: ["--tick-ms", values["tick-ms"]!, "--trades-per-second", "0"],
  env: { CHANNELS: "quote" },
  emulatorCpus: "1",
  gatewayCpus: "0",
  logLevel: "error",
});
const base = `http://127.0.0.1:${port}`;
const lg = spawn("loadgen", [
  DENO,
  "run",
  ...DEV_CONFIG,
  "-A",
  `${ROOT}bench/loadgen.ts`,
  ...["--url", `ws://127.0.0.1:${port}/ws`, "--clients", String(clients), "--ticks"],
  ...[
    "--subscribe",
    JSON.stringify({ action: "subscribe", symbols: SYMBOLS, channels: ["quote"] }),
  ],
  ...["--warmup-ms", "500", "--window-ms", String((seconds + 10) * 1000)],
  ...["--first-frame-timeout-ms", "20000"],
], { cpus: "1" });
// deno-lint-ignore no-explicit-any
let tick: any = {};
lg.onLine((l) => {
  if (l.includes('"event":"tick"')) tick = JSON.parse(l);
});
await lg.waitLine((l) => l.includes('"event":"window_start"'), 120_000);

const latency = async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = Number(/^quant_fanout_latency_seconds_sum (\S+)$/m.exec(text)?.[1] ?? NaN);
  const count = Number(/^quant_fanout_latency_seconds_count (\S+)$/m.exec(text)?.[1] ?? NaN);
  const out = Number(/^quant_messages_out_total (\S+)$/m.exec(text)?.[1] ?? NaN);
  return { sum, count, out };
};
let last = await latency();
let maxRss = 0;
let conflated = 0;
for (let s = 1; s <= seconds; s++) {
  await sleep(1000);
  const health = await (await fetch(`${base}/health`)).json();
  const now = await latency();
  const meanMs = (now.sum - last.sum) / Math.max(1, now.count - last.count) * 1000;
  const sent = now.out - last.out;
  last = now;
  conflated = health.feeds[0].conflatedInWorker ?? 0;
  const rss = rssMiB(gateway.pid);
  maxRss = Math.max(maxRss, rss);
  console.log(
    `t=${s}s: ${sent} frames/s sent to ${
      tick.open ?? "?"
    } clients; conflated in the Worker so far ${conflated}; in-gateway latency mean ${
      meanMs.toFixed(1)
    } ms; RSS ${rss.toFixed(0)} MiB`,
  );
}
console.log(
  `SUMMARY: ${clients} clients, ${conflated} quotes conflated in the Worker, RSS at most ${
    maxRss.toFixed(0)
  } MiB`,
);
await stopAll();
Deno.exit(0);

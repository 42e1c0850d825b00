/**
 * Burst probe for batched delivery: 100 `?batch=1` clients (bench/loadgen.ts, own process)
 * while the Binance emulator's bench trade rate steps through an overload burst and back.
 * Prints, every second, the events/s the clients receive, how many are still open, the
 * gateway's RSS and its `/health` `delivery` section, then a verdict: every client still
 * connected and receiving after the burst, bytes held for clients within the budget.
 *
 * ```sh
 * deno run -A bench/batch_burst.ts [--clients 100] [--steps 12000:3,19600:3,16000:3,12000:6]
 * ```
 * Each step is `<emulator bench trades/s>:<seconds>`. The gateway runs on CPU 0, the
 * emulator and the load generator on CPU 1 (taskset), as in `deno task bench`.
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
    clients: { type: "string", default: "100" },
    steps: { type: "string", default: "12000:3,19600:3,16000:3,12000:6" },
  },
});
const clients = Number(values.clients);
const steps = values.steps!.split(",").map((s) => s.split(":").map(Number) as [number, number]);

const { emulatorPort: emuPort, gateway: gw, port } = await startStack({
  symbols: SYMBOLS,
  emulatorArgs: [
    ...["--trades-per-second", "0", "--stamp-field", "benchTs"],
    ...["--bench-trades-per-second", "0"],
  ],
  env: { CHANNELS: "trade" },
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
  ...["--url", `ws://127.0.0.1:${port}/ws?batch=1`, "--clients", String(clients)],
  ...[
    "--ticks",
    "--warmup-ms",
    "500",
    "--window-ms",
    String(steps.reduce((a, [, s]) => a + s, 10) * 1000),
  ],
], { cpus: "1" });
// deno-lint-ignore no-explicit-any
let tick: any = {};
lg.onLine((l) => {
  if (l.includes('"event":"tick"')) tick = JSON.parse(l);
});
await lg.waitLine((l) => l.includes('"event":"window_start"'), 60_000);

const setRate = async (perSecond: number) => {
  const r = await fetch(`http://127.0.0.1:${emuPort}/_bench/rate?tradesPerSecond=${perSecond}`, {
    method: "POST",
  });
  await r.body?.cancel();
};
let maxHeld = 0;
let budget = 0;
for (const [rate, seconds] of steps) {
  await setRate(rate);
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const delivery = (await (await fetch(`${base}/health`)).json()).delivery;
    maxHeld = Math.max(maxHeld, delivery.held);
    budget = delivery.budget;
    console.log(
      `rate ${rate}/s: clients received ${Math.round(tick.eventsPerSec ?? 0)} events/s, open ${
        tick.open ?? "?"
      }/${clients}; gateway RSS ${rssMiB(gw.pid).toFixed(0)} MiB; held ${
        (delivery.held / 2 ** 20).toFixed(1)
      } MiB, pressure ${delivery.pressure}, backlogged ${delivery.backlogged}`,
    );
  }
}
const ok = tick.open === clients && tick.eventsPerSec > 0 && maxHeld <= budget;
console.log(
  `VERDICT: ${ok ? "OK" : "NOT OK"}: ${tick.open}/${clients} clients open and receiving ${
    Math.round(tick.eventsPerSec ?? 0)
  } events/s after the burst; bytes held for clients at most ${
    (maxHeld / 2 ** 20).toFixed(1)
  } MiB of a ${(budget / 2 ** 20).toFixed(0)} MiB budget`,
);
await stopAll();
Deno.exit(ok ? 0 : 1);

/**
 * VPIN benchmarks: the cost of one `onTrade` (bucket filling, exact and BVC classification,
 * bar closes with the normal CDF, rolling windows) and of one `value()`.
 * Run with `deno bench --config deno.dev.json -A bench/analytics_vpin.bench.ts`.
 * @module
 */
import type { Trade } from "../core/analytics/types.ts";
import { createVpin } from "../core/analytics/vpin.ts";
import { normalCdf } from "../core/analytics/normal_cdf.ts";
import { createRng } from "../testing.ts";

/** Distinct pre-generated trades, replayed in a cycle with time moving on. */
const TRADE_COUNT = 8192;
/** Mean trades per bucket and per 1-minute bar (a busy symbol). */
const TRADES_PER_BUCKET = 40;
const TRADES_PER_BAR = 200;

/** Deterministic PRNG (the SDK's mulberry32) so every run replays the same data. */
const makeRandom = (seed: number): () => number => createRng(seed).next;

const random = makeRandom(14);
const trades: Trade[] = [];
let price = 30_000;
let meanQuantity = 0;
for (let i = 0; i < TRADE_COUNT; i++) {
  price += Math.round((random() - 0.5) * 10) / 100;
  // Heavy-ish tail: most trades small, some 10–50× larger (those split across buckets).
  const quantity = random() < 0.02 ? 0.5 + random() * 2 : 0.001 + random() * 0.05;
  meanQuantity += quantity / TRADE_COUNT;
  trades.push({
    price,
    quantity,
    side: random() < 0.5 ? "buy" : "sell",
    eventTime: Math.floor((i * 60_000) / TRADES_PER_BAR),
  });
}
const SPAN_MS = (TRADE_COUNT * 60_000) / TRADES_PER_BAR;

function feeder() {
  const vpin = createVpin({ bucketVolume: meanQuantity * TRADES_PER_BUCKET });
  let i = 0;
  let offset = 0;
  // Warm: fill the windows so every bench iteration runs the steady-state path.
  for (let k = 0; k < TRADE_COUNT; k++) vpin.onTrade(trades[k]);
  offset = SPAN_MS;
  return {
    vpin,
    next(): Trade {
      const t = trades[i];
      if (++i === TRADE_COUNT) {
        i = 0;
        offset += SPAN_MS;
      }
      return {
        price: t.price,
        quantity: t.quantity,
        side: t.side,
        eventTime: t.eventTime + offset,
      };
    },
  };
}

const a = feeder();
Deno.bench("vpin onTrade (bucket every ~40 trades, 1-min bar every 200)", { group: "vpin" }, () => {
  a.vpin.onTrade(a.next());
});

const b = feeder();
Deno.bench("vpin onTrade + value() per trade", { group: "vpin" }, () => {
  b.vpin.onTrade(b.next());
  b.vpin.value();
});

let x = -3;
Deno.bench("normalCdf", { group: "cdf" }, () => {
  x = x > 3 ? -3 : x + 0.001;
  normalCdf(x);
});

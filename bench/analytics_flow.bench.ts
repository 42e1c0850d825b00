/**
 * Cost per event of the trade-flow and realized-volatility accumulators: one `onTrade` (default
 * windows 1 s, 10 s, 60 s, 300 s and the UTC day) and one `onPrice` (Δ = 1 s, windows 60 s, 300 s,
 * 3600 s), over a pre-generated stream of 100 trades per second (10 ms apart), so the windows are
 * full and every trade also evicts; plus a `value()` read for scale.
 * Run with `deno bench --config deno.dev.json -A bench/analytics_flow.bench.ts`.
 * @module
 */
import { createFlow } from "../core/analytics/flow.ts";
import { createRealizedVol } from "../core/analytics/volatility.ts";
import type { Trade } from "../core/analytics/types.ts";
import { createRng } from "../testing.ts";

const COUNT = 1 << 16;
const STEP_MS = 10;
const START = Date.UTC(2026, 11, 7, 23, 50); // crosses a UTC midnight on the way

/** Deterministic PRNG (the SDK's mulberry32) so every run replays the same data. */
const makeRandom = (seed: number): () => number => createRng(seed).next;

const random = makeRandom(14);
const prices = new Float64Array(COUNT);
const trades: Trade[] = [];
let price = 30_000;
for (let i = 0; i < COUNT; i++) {
  price *= 1 + (random() - 0.5) * 2e-4;
  prices[i] = price;
  trades.push({
    price,
    quantity: 0.001 + random() * 2,
    side: random() < 0.5 ? "buy" : "sell",
    eventTime: START + i * STEP_MS,
  });
}

/** Keeps the stream's time increasing across benchmark iterations. */
function timeAt(n: number): number {
  return START + n * STEP_MS;
}

const flow = createFlow();
let nTrade = 0;
// Warm up: fill every window.
for (; nTrade < 40_000; nTrade++) {
  const t = trades[nTrade % COUNT];
  flow.onTrade({ ...t, eventTime: timeAt(nTrade) });
}

Deno.bench("flow: onTrade (4 rolling windows + day, windows full)", { group: "per event" }, () => {
  const t = trades[nTrade % COUNT];
  flow.onTrade({ price: t.price, quantity: t.quantity, side: t.side, eventTime: timeAt(nTrade) });
  nTrade++;
});

const vol = createRealizedVol();
let nPrice = 0;
for (; nPrice < 400_000; nPrice++) vol.onPrice(prices[nPrice % COUNT], timeAt(nPrice));

Deno.bench("volatility: onPrice (Δ 1 s, 3 windows)", { group: "per event" }, () => {
  vol.onPrice(prices[nPrice % COUNT], timeAt(nPrice));
  nPrice++;
});

Deno.bench("flow: value() (reads all windows)", { group: "per read" }, () => {
  flow.value(timeAt(nTrade));
});

Deno.bench("volatility: value()", { group: "per read" }, () => {
  vol.value(timeAt(nPrice));
});

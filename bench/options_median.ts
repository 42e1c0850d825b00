/**
 * Medians of the options benchmarks (deno bench reports mean and percentiles, not the median):
 * each workload is timed in ROUNDS rounds after a warm-up, and the median, best and p75 rounds
 * are printed as rates. Same workloads as bench/options.bench.ts.
 * Run with `deno run bench/options_median.ts [rounds]`.
 * @module
 */
import { black76 } from "../core/options/black76.ts";
import { impliedVol } from "../core/options/implied_vol.ts";
import { fitSvi } from "../core/options/svi.ts";
import { buildSurface } from "../core/options/surface.ts";
import { BATCH, chain, ivInputs, NOW, oneExpiry, priceInputs } from "./options_workload.ts";

const ROUNDS = Number(Deno.args[0] ?? 201);
let sink = 0;

/** Times `fn` ROUNDS times (after ROUNDS/4 warm-up calls); returns sorted durations in ms. */
function time(fn: () => void): number[] {
  for (let i = 0; i < Math.ceil(ROUNDS / 4); i++) fn();
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

/** Prints median / best / p75 of a sorted list of durations for `per` operations. */
function report(name: string, ms: number[], per: number, unit: string): void {
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  const med = at(0.5);
  if (per > 1) {
    const rate = (t: number) => Math.round((per / t) * 1000).toLocaleString("en-US");
    console.log(
      `${name}: median ${rate(med)} ${unit}/s (best ${rate(ms[0])}, p75 ${rate(at(0.75))})`,
    );
  } else {
    console.log(
      `${name}: median ${med.toFixed(2)} ms (best ${ms[0].toFixed(2)}, p75 ${at(0.75).toFixed(2)})`,
    );
  }
}

console.log(`${new Date().toISOString()} — ${ROUNDS} rounds, Deno ${Deno.version.deno}`);
report(
  "impliedVol",
  time(() => {
    for (let i = 0; i < BATCH; i++) sink += impliedVol(ivInputs[i]).vol ?? 0;
  }),
  BATCH,
  "solves",
);
report(
  "black76 price + greeks",
  time(() => {
    for (let i = 0; i < BATCH; i++) sink += black76(priceInputs[i]).delta;
  }),
  BATCH,
  "options",
);
report(
  "SVI fit, 1 expiry × 40 strikes",
  time(() => {
    sink += fitSvi(oneExpiry).rmse;
  }),
  1,
  "",
);
report(
  "SVI chain refit, 8 × 40 (buildSurface)",
  time(() => {
    sink += buildSurface(chain, NOW).slices.length;
  }),
  1,
  "",
);
if (sink === 42) console.log(sink);

/**
 * Options pricing benchmarks: implied-volatility solves per second on a mixed batch, Black-76
 * price + greeks per second, and the SVI refit of a full chain (8 expiries × 40 strikes).
 * Each bench iteration runs a whole batch of 4 096 (solves / prices); divide 4 096 by the
 * reported time per iteration for the per-second rate.
 * Run with `deno bench --config deno.dev.json bench/options.bench.ts`; medians with
 * `deno run bench/options_median.ts` (deno bench reports no median).
 * @module
 */
import { black76 } from "../core/options/black76.ts";
import { impliedVol } from "../core/options/implied_vol.ts";
import { fitSvi } from "../core/options/svi.ts";
import { buildSurface } from "../core/options/surface.ts";
import { BATCH, chain, ivInputs, NOW, oneExpiry, priceInputs } from "./options_workload.ts";

let sink = 0;

Deno.bench(`impliedVol: batch of ${BATCH} mixed strikes/expiries`, { group: "iv" }, () => {
  for (let i = 0; i < BATCH; i++) sink += impliedVol(ivInputs[i]).vol ?? 0;
});

Deno.bench(`black76 price + greeks: batch of ${BATCH}`, { group: "black76" }, () => {
  for (let i = 0; i < BATCH; i++) sink += black76(priceInputs[i]).delta;
});

Deno.bench("SVI: one expiry × 40 strikes", { group: "svi" }, () => {
  sink += fitSvi(oneExpiry).rmse;
});

Deno.bench(
  "SVI: full chain refit, 8 expiries × 40 strikes (buildSurface)",
  { group: "svi" },
  () => {
    sink += buildSurface(chain, NOW).slices.length;
  },
);

globalThis.addEventListener("unload", () => {
  if (sink === 42) console.log(sink);
});

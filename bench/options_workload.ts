/**
 * The deterministic workloads of the options benchmarks (bench/options.bench.ts and
 * bench/options_median.ts): a Deribit-like batch of options and an SVI chain.
 * @module
 */
import { black76, type Black76Input, type OptionType, YEAR_MS } from "../core/options/black76.ts";
import type { ImpliedVolInput } from "../core/options/implied_vol.ts";
import { type SviParams, sviTotalVariance } from "../core/options/svi.ts";
import type { SmileInput } from "../core/options/surface.ts";
import { createRng } from "../core/testing/prng.ts";

/** Options per batch. */
export const BATCH = 4096;
const rng = createRng(2026);

/** A Deribit-like mix: strikes within ±50% log-moneyness, 1 day to 1 year, vols 25–150%. */
export const ivInputs: ImpliedVolInput[] = [];
/** The same options with their vols, for Black-76. */
export const priceInputs: Black76Input[] = [];
for (let i = 0; i < BATCH; i++) {
  const forward = 100_000;
  const strike = forward * Math.exp((rng.next() - 0.5) * 1.0);
  const timeYears = (1 + rng.next() * 364) / 365;
  const vol = 0.25 + rng.next() * 1.25;
  const type: OptionType = rng.next() < 0.5 ? "call" : "put";
  const input = { forward, strike, timeYears, vol, rate: 0, type };
  priceInputs.push(input);
  ivInputs.push({ price: black76(input).price, forward, strike, timeYears, rate: 0, type });
}

/** Valuation time of the chain: 2026-12-07 08:00 UTC. */
export const NOW = Date.UTC(2026, 11, 7, 8);
const DAYS = [1, 2, 7, 14, 30, 60, 90, 180];
/** A chain: 8 expiries × 40 strikes from SVI with 1% vol noise. */
export const chain: SmileInput[] = DAYS.map((days) => {
  const T = (days * 86_400_000) / YEAR_MS;
  const p: SviParams = { a: 0.2 * T, b: 0.5 * T, rho: -0.2, m: 0.01, sigma: 0.2 };
  return {
    expiry: NOW + days * 86_400_000,
    forward: 100_000,
    points: Array.from({ length: 40 }, (_, i) => {
      const k = -0.5 + i * (1 / 39);
      const iv = Math.sqrt(sviTotalVariance(p, k) / T) * (1 + 0.01 * rng.normal());
      return { strike: 100_000 * Math.exp(k), iv };
    }),
  };
});

/** The 30-day expiry's points as (k, w). */
export const oneExpiry = (() => {
  const sm = chain[4];
  const T = (30 * 86_400_000) / YEAR_MS;
  return sm.points.map((q) => ({ k: Math.log(q.strike / sm.forward), w: q.iv * q.iv * T }));
})();

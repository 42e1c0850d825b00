import assert from "node:assert/strict";
import fc from "fast-check";
import { black76, type OptionType } from "../../core/options/black76.ts";
import { impliedVol, type ImpliedVolInput } from "../../core/options/implied_vol.ts";
import { relClose } from "./helpers.ts";

/** The volatility, failing the test when the solver returned a reason. */
function volOf(input: ImpliedVolInput): { vol: number; iterations: number } {
  const r = impliedVol(input);
  assert.ok(r.vol !== null, `no vol for ${JSON.stringify(input)}: ${JSON.stringify(r)}`);
  return r as { vol: number; iterations: number };
}

Deno.test("Haug's Black-76 example backwards: the price of F = K = 19, T = 0.75, r = 0.10 gives σ = 0.28", () => {
  const base = { forward: 19, strike: 19, timeYears: 0.75, rate: 0.1, type: "call" as const };
  const exact = black76({ ...base, vol: 0.28 }).price; // 1.7010507252362672
  relClose(volOf({ ...base, price: exact }).vol, 0.28, 1e-14, "σ from the exact price");
  // The book's rounded price 1.7011 is σ ≈ 0.28 to 4 digits.
  assert.ok(Math.abs(volOf({ ...base, price: 1.7011 }).vol - 0.28) < 1e-4);
});

const VOLS = [0.01, 0.03, 0.1, 0.2, 0.5, 0.8, 1, 1.5, 2, 3, 5];
const TIMES = [1 / 8760, 1 / 365, 7 / 365, 30 / 365, 0.25, 1, 2, 5]; // 1 hour .. 5 years
const MONEYNESS = [
  0.2,
  0.3,
  0.5,
  0.7,
  0.8,
  0.9,
  0.95,
  0.99,
  1,
  1.01,
  1.05,
  1.1,
  1.25,
  1.5,
  2,
  3,
  5,
];

// Tolerance: |price(IV(price)) − price| ≤ 1e-12·price. Where the time value underflows (the
// out-of-the-money part is below ~1e-308·√(FK)) the price is the intrinsic value, the solver
// returns σ = 0 and the round trip is exact; below 1e-290 (subnormal range reached) the
// comparison is absolute, 1e-300.
Deno.test("round trip price → IV → price to 1e-12 relative over 2 992 options (σ 0.01–5, T 1 h–5 y, K/F 0.2–5, calls and puts), ≤ 3 evaluations each", () => {
  let maxIterations = 0;
  for (const vol of VOLS) {
    for (const T of TIMES) {
      for (const m of MONEYNESS) {
        for (const type of ["call", "put"] as OptionType[]) {
          const F = 100_000, K = F * m, rate = 0.03;
          const price = black76({ forward: F, strike: K, timeYears: T, vol, rate, type }).price;
          const r = volOf({ price, forward: F, strike: K, timeYears: T, rate, type });
          maxIterations = Math.max(maxIterations, r.iterations);
          const back =
            black76({ forward: F, strike: K, timeYears: T, vol: r.vol, rate, type }).price;
          const what = `σ=${vol} T=${T} K/F=${m} ${type}: ${price} → ${r.vol} → ${back}`;
          if (price > 1e-290) relClose(back, price, 1e-12, what);
          else assert.ok(Math.abs(back - price) <= 1e-300, what);
        }
      }
    }
  }
  assert.ok(maxIterations <= 3, `max iterations ${maxIterations}`);
});

Deno.test("the volatility itself comes back to 1e-12 relative where the price is well conditioned (vega·σ ≥ 1e-3·price, time value ≥ 1e-9·F)", () => {
  for (const vol of VOLS) {
    for (const T of TIMES) {
      for (const m of MONEYNESS) {
        for (const type of ["call", "put"] as OptionType[]) {
          const F = 100_000, K = F * m;
          const q = black76({ forward: F, strike: K, timeYears: T, vol, rate: 0, type });
          const timeValue = q.price - Math.max(type === "call" ? F - K : K - F, 0);
          if (q.vega * vol < 1e-3 * q.price || timeValue < 1e-9 * F) continue;
          const r = volOf({ price: q.price, forward: F, strike: K, timeYears: T, rate: 0, type });
          relClose(r.vol, vol, 1e-12, `σ=${vol} T=${T} K/F=${m} ${type}`);
        }
      }
    }
  }
});

Deno.test("property: random options round-trip to 1e-12 and never take more than 6 evaluations", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1, max: 1e6, noNaN: true }),
      fc.double({ min: Math.log(0.2), max: Math.log(5), noNaN: true }),
      fc.double({ min: 1 / 8760, max: 5, noNaN: true }),
      fc.double({ min: 0.01, max: 5, noNaN: true }),
      fc.double({ min: -0.02, max: 0.1, noNaN: true }),
      fc.constantFrom<OptionType>("call", "put"),
      (F, lnM, T, vol, rate, type) => {
        const K = F * Math.exp(lnM);
        const price = black76({ forward: F, strike: K, timeYears: T, vol, rate, type }).price;
        const r = volOf({ price, forward: F, strike: K, timeYears: T, rate, type });
        assert.ok(r.iterations <= 6, `iterations ${r.iterations}`);
        const back = black76({ forward: F, strike: K, timeYears: T, vol: r.vol, rate, type }).price;
        if (price > 1e-290) relClose(back, price, 1e-12, "round trip");
      },
    ),
    { numRuns: 5000, seed: 1717 },
  );
});

Deno.test("σ up to 20 and prices a hair below the supremum are solved (the complement objective)", () => {
  for (const vol of [8, 12, 20]) {
    for (const type of ["call", "put"] as OptionType[]) {
      const base = { forward: 100, strike: 130, timeYears: 0.25, rate: 0, type }; // s = σ/2
      const price = black76({ ...base, vol }).price;
      relClose(volOf({ ...base, price }).vol, vol, 1e-9, `σ=${vol} ${type}`);
    }
  }
});

Deno.test("outside the arbitrage bounds: below intrinsic, at or above F (call) / K (put); exactly intrinsic is σ = 0", () => {
  const D = Math.exp(-0.05);
  const base = { forward: 100, timeYears: 1, rate: 0.05 };
  assert.deepEqual(
    impliedVol({ ...base, strike: 80, type: "call", price: D * 19.99 }),
    { vol: null, reason: "below_intrinsic" },
  );
  assert.deepEqual(
    impliedVol({ ...base, strike: 120, type: "put", price: D * 19 }),
    { vol: null, reason: "below_intrinsic" },
  );
  assert.deepEqual(
    impliedVol({ ...base, strike: 80, type: "call", price: D * 100 }),
    { vol: null, reason: "above_max" },
  );
  assert.deepEqual(
    impliedVol({ ...base, strike: 80, type: "call", price: D * 150 }),
    { vol: null, reason: "above_max" },
  );
  assert.deepEqual(
    impliedVol({ ...base, strike: 120, type: "put", price: D * 120 }),
    { vol: null, reason: "above_max" },
  );
  assert.deepEqual(impliedVol({ ...base, strike: 80, type: "call", price: D * 20 }), {
    vol: 0,
    iterations: 0,
  });
  assert.deepEqual(impliedVol({ ...base, strike: 120, type: "call", price: 0 }), {
    vol: 0,
    iterations: 0,
  });
});

Deno.test("bad inputs: non-finite numbers, F or K ≤ 0, T ≤ 0, negative price, unknown type", () => {
  const ok: ImpliedVolInput = {
    price: 5,
    forward: 100,
    strike: 100,
    timeYears: 1,
    rate: 0,
    type: "call",
  };
  const bad: Partial<ImpliedVolInput>[] = [
    { price: NaN },
    { price: -1 },
    { price: Infinity },
    { forward: 0 },
    { strike: -100 },
    { timeYears: 0 },
    { timeYears: -1 },
    { rate: NaN },
    { type: "future" as OptionType },
  ];
  for (const b of bad) {
    assert.deepEqual(
      impliedVol({ ...ok, ...b }),
      { vol: null, reason: "bad_input" },
      JSON.stringify(b),
    );
  }
});

Deno.test("property: any price strictly between the bounds (not only Black prices) has a vol, found in ≤ 6 evaluations, that reprices it", () => {
  fc.assert(
    fc.property(
      fc.double({ min: Math.log(0.05), max: Math.log(20), noNaN: true }),
      fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true }),
      fc.double({ min: 1 / 8760, max: 10, noNaN: true }),
      fc.constantFrom<OptionType>("call", "put"),
      (lnM, u, T, type) => {
        const F = 2_000, K = F * Math.exp(lnM);
        const intrinsic = Math.max(type === "call" ? F - K : K - F, 0);
        const sup = type === "call" ? F : K;
        const price = intrinsic + u * (sup - intrinsic);
        const r = volOf({ price, forward: F, strike: K, timeYears: T, rate: 0, type });
        assert.ok(r.iterations <= 6, `iterations ${r.iterations}`);
        const back =
          black76({ forward: F, strike: K, timeYears: T, vol: r.vol, rate: 0, type }).price;
        relClose(back, price, 1e-12, "reprice");
      },
    ),
    { numRuns: 5000, seed: 99 },
  );
});

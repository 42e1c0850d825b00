import assert from "node:assert/strict";
import fc from "fast-check";
import { black76, type Black76Input, type OptionType } from "../../core/options/black76.ts";
import { absClose, relClose } from "./helpers.ts";

// ── Published examples ────────────────────────────────────────────────────────────────────
// E. G. Haug, "The Complete Guide to Option Pricing Formulas", 2nd ed. (McGraw-Hill, 2007).
// The book prints 4 decimals; page numbers could not be checked against a copy here, the
// sections are named. The values below agree with the book to its 4 decimals and with mpmath.

Deno.test("Haug ch. 1, 'Options on Futures' (Black-76): F = K = 19, T = 0.75, r = 0.10, σ = 0.28 → call = put = 1.7011", () => {
  const input = { forward: 19, strike: 19, timeYears: 0.75, vol: 0.28, rate: 0.1 };
  const call = black76({ ...input, type: "call" });
  const put = black76({ ...input, type: "put" });
  absClose(call.price, 1.7011, 5e-5, "book call");
  absClose(put.price, 1.7011, 5e-5, "book put");
  // mpmath 60 digits: D·F·(2N(s/2) − 1), s = 0.28·√0.75
  relClose(call.price, 1.7010507252362672, 1e-14, "call (mpmath)");
  relClose(put.price, 1.7010507252362672, 1e-14, "put (mpmath)");
});

Deno.test("Haug ch. 2, 'Delta' example (futures option, b = 0): F = 105, K = 100, T = 0.5, r = 0.10, σ = 0.36 → Δc = 0.5946, Δp = −0.3566", () => {
  const input = { forward: 105, strike: 100, timeYears: 0.5, vol: 0.36, rate: 0.1 };
  absClose(black76({ ...input, type: "call" }).delta, 0.5946, 5e-5, "call delta");
  absClose(black76({ ...input, type: "put" }).delta, -0.3566, 5e-5, "put delta");
});

// Haug's other greek examples are in the generalized Black-Scholes-Merton model (spot S, carry
// b): it is Black-76 with F = S·e^{bT}, and the spot greeks follow by the chain rule:
// Γ_S = Γ_F·e^{2bT}; θ_S = θ_F − b·F·Δ_F (F moves as time passes with S fixed);
// ρ_S = ρ_F + T·F·Δ_F when b = r (F moves with r).
Deno.test("Haug ch. 2, 'Gamma' example: S = 55, K = 60, T = 0.75, r = b = 0.10, σ = 0.30 → Γ = 0.0278", () => {
  const T = 0.75, b = 0.1;
  const q = black76({
    forward: 55 * Math.exp(b * T),
    strike: 60,
    timeYears: T,
    vol: 0.3,
    rate: 0.1,
    type: "call",
  });
  absClose(q.gamma * Math.exp(2 * b * T), 0.0278, 5e-5, "spot gamma");
});

Deno.test("Haug ch. 2, 'Theta' example: S = 430, K = 405, T = 0.0833, r = 0.07, b = 0.02, σ = 0.20 → θ_put = −31.1924", () => {
  const T = 0.0833, b = 0.02;
  const F = 430 * Math.exp(b * T);
  const q = black76({ forward: F, strike: 405, timeYears: T, vol: 0.2, rate: 0.07, type: "put" });
  absClose(q.theta - b * F * q.delta, -31.1924, 5e-5, "spot theta of the put");
});

Deno.test("Haug ch. 2, 'Rho' example: S = 72, K = 75, T = 1, r = b = 0.09, σ = 0.19 → ρ_call = 38.7325", () => {
  const T = 1;
  const F = 72 * Math.exp(0.09 * T);
  const q = black76({ forward: F, strike: 75, timeYears: T, vol: 0.19, rate: 0.09, type: "call" });
  absClose(q.rho + T * F * q.delta, 38.7325, 5e-5, "spot rho of the call");
});

// ── High-precision references ─────────────────────────────────────────────────────────────
// mpmath 1.3.0, mp.dps = 60, the textbook formulas (d1 = (ln(F/K) + s²/2)/s, call =
// D[F·N(d1) − K·N(d2)], Δ = D·N(d1) / −D·N(−d1), Γ = D·φ(d1)/(F·s), vega = D·F·φ(d1)·√T,
// θ = −D·F·φ(d1)·σ/(2√T) + r·V, ρ = −T·V), inputs taken as the doubles written here.
// Order: price, delta, gamma, vega, theta, rho.
const REFERENCE: { input: Black76Input; expected: number[] }[] = [
  {
    input: { forward: 19, strike: 19, timeYears: 0.75, vol: 0.28, rate: 0.1, type: "call" },
    expected: [
      1.7010507252362672,
      0.5086362359336519,
      0.07974503467912113,
      6.045471079024174,
      -0.9583828622275524,
      -1.2757880439272005,
    ],
  },
  {
    input: { forward: 19, strike: 19, timeYears: 0.75, vol: 0.28, rate: 0.1, type: "put" },
    expected: [
      1.7010507252362672,
      -0.419107250394901,
      0.07974503467912113,
      6.045471079024174,
      -0.9583828622275524,
      -1.2757880439272005,
    ],
  },
  {
    input: { forward: 105, strike: 100, timeYears: 0.5, vol: 0.36, rate: 0.1, type: "call" },
    expected: [
      12.432844508202189,
      0.5946286597299956,
      0.01349363711052063,
      26.77812284582819,
      -8.396839773677929,
      -6.2164222541010945,
    ],
  },
  {
    input: { forward: 105, strike: 100, timeYears: 0.5, vol: 0.36, rate: 0.1, type: "put" },
    expected: [
      7.676697385698619,
      -0.3566007647707184,
      0.01349363711052063,
      26.77812284582819,
      -8.872454485928285,
      -3.8383486928493094,
    ],
  },
  {
    input: {
      forward: 100000,
      strike: 150000,
      timeYears: 30 / 365,
      vol: 0.6,
      rate: 0,
      type: "call",
    },
    expected: [
      64.96296296317067,
      0.011569036287331271,
      1.7590387950769015e-06,
      867.4711866132665,
      -3166.2698311384224,
      -5.339421613411287,
    ],
  },
  {
    input: { forward: 100000, strike: 60000, timeYears: 7 / 365, vol: 0.9, rate: 0, type: "put" },
    expected: [
      0.04429686615610699,
      -1.5853742460670725e-05,
      5.570296202176589e-09,
      0.9614483855811647,
      -22.559699618815188,
      -0.0008495289399801341,
    ],
  },
  {
    input: {
      forward: 100000,
      strike: 100500,
      timeYears: 1 / 8760,
      vol: 0.5,
      rate: 0.05,
      type: "call",
    },
    expected: [
      50.55160822786843,
      0.17593986666658265,
      0.00048416891117922847,
      276.35211825298427,
      -605208.6113936242,
      -0.005770731532861693,
    ],
  },
  {
    input: { forward: 3000, strike: 1000, timeYears: 2, vol: 1.2, rate: 0.03, type: "call" },
    expected: [
      2239.226219105984,
      0.8783452170738125,
      2.410606372174354e-05,
      520.6909763896605,
      -89.0305063437186,
      -4478.452438211968,
    ],
  },
  {
    input: { forward: 3000, strike: 1000, timeYears: 2, vol: 1.2, rate: 0.03, type: "put" },
    expected: [
      355.6971519374866,
      -0.06341931651043616,
      2.410606372174354e-05,
      520.6909763896605,
      -145.53637835877353,
      -711.3943038749732,
    ],
  },
  {
    input: { forward: 100000, strike: 200000, timeYears: 0.01, vol: 0.3, rate: 0, type: "call" },
    expected: [
      3.780086947115158e-116,
      2.924021690236003e-118,
      2.2547183908348277e-120,
      6.764155172504484e-113,
      -1.0146232758756724e-111,
      -3.780086947115158e-118,
    ],
  },
];

Deno.test("price and greeks match 60-digit mpmath values to 1e-12 relative (ATM, ITM, OTM, 1 hour, price 3.8e-116)", () => {
  const names = ["price", "delta", "gamma", "vega", "theta", "rho"] as const;
  for (const { input, expected } of REFERENCE) {
    const q = black76(input);
    names.forEach((name, i) => {
      relClose(q[name], expected[i], 1e-12, `${name} ${JSON.stringify(input)}`);
    });
    relClose(q.thetaPerDay, expected[4] / 365, 1e-12, "theta per day");
  }
});

// ── Identities and properties ─────────────────────────────────────────────────────────────
const TYPES: OptionType[] = ["call", "put"];

Deno.test("put-call parity C − P = D(F − K) to 1e-12·D·max(F, K) over a grid of moneyness, expiry, vol and rate", () => {
  for (const m of [0.2, 0.5, 0.9, 0.99, 1, 1.01, 1.1, 2, 5]) {
    for (const T of [1 / 8760, 1 / 365, 0.25, 1, 5]) {
      for (const vol of [0.01, 0.2, 0.8, 2, 5]) {
        for (const rate of [-0.01, 0, 0.05]) {
          const F = 100_000, K = F * m;
          const base = { forward: F, strike: K, timeYears: T, vol, rate };
          const c = black76({ ...base, type: "call" });
          const p = black76({ ...base, type: "put" });
          const D = Math.exp(-rate * T);
          absClose(c.price - p.price, D * (F - K), 1e-12 * D * Math.max(F, K), "parity");
          absClose(c.delta - p.delta, D, 1e-12, "delta parity");
          assert.equal(c.gamma, p.gamma);
          assert.equal(c.vega, p.vega);
        }
      }
    }
  }
});

Deno.test("greeks equal central finite differences of the price (relative 1e-6)", () => {
  for (const type of TYPES) {
    for (const m of [0.8, 1, 1.25]) {
      for (const T of [30 / 365, 0.5, 2]) {
        for (const vol of [0.3, 0.9]) {
          const i: Black76Input = {
            forward: 50_000,
            strike: 50_000 * m,
            timeYears: T,
            vol,
            rate: 0.04,
            type,
          };
          const q = black76(i);
          const price = (d: Partial<Black76Input>) => black76({ ...i, ...d }).price;
          const hF = 1e-5 * i.forward, hV = 1e-5, hT = 1e-6, hR = 1e-6;
          const fdDelta =
            (price({ forward: i.forward + hF }) - price({ forward: i.forward - hF })) / (2 * hF);
          const fdGamma = (black76({ ...i, forward: i.forward + hF }).delta -
            black76({ ...i, forward: i.forward - hF }).delta) / (2 * hF);
          const fdVega = (price({ vol: vol + hV }) - price({ vol: vol - hV })) / (2 * hV);
          const fdTheta = -(price({ timeYears: T + hT }) - price({ timeYears: T - hT })) / (2 * hT);
          const fdRho = (price({ rate: i.rate + hR }) - price({ rate: i.rate - hR })) / (2 * hR);
          const what = JSON.stringify(i);
          absClose(q.delta, fdDelta, 1e-6 * Math.max(1, Math.abs(q.delta)), `delta ${what}`);
          relClose(q.gamma, fdGamma, 1e-6, `gamma ${what}`);
          relClose(q.vega, fdVega, 1e-6, `vega ${what}`);
          relClose(q.theta, fdTheta, 1e-6, `theta ${what}`);
          relClose(q.rho, fdRho, 1e-6, `rho ${what}`);
        }
      }
    }
  }
});

Deno.test("property: price within its no-arbitrage bounds, greeks finite, call delta in [0, D]", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1, max: 1e6, noNaN: true }),
      fc.double({ min: Math.log(0.01), max: Math.log(100), noNaN: true }),
      fc.double({ min: 0, max: 10, noNaN: true }),
      fc.double({ min: 0, max: 10, noNaN: true }),
      fc.double({ min: -0.05, max: 0.2, noNaN: true }),
      fc.constantFrom<OptionType>("call", "put"),
      (F, lnM, T, vol, rate, type) => {
        const K = F * Math.exp(lnM);
        const q = black76({ forward: F, strike: K, timeYears: T, vol, rate, type });
        const D = Math.exp(-rate * T);
        const intrinsic = D * Math.max(type === "call" ? F - K : K - F, 0);
        const sup = D * (type === "call" ? F : K);
        assert.ok(
          q.price >= intrinsic * (1 - 1e-15) && q.price <= sup * (1 + 1e-15),
          `bounds ${q.price}`,
        );
        for (const v of Object.values(q)) assert.ok(!Number.isNaN(v), "NaN");
        if (type === "call") assert.ok(q.delta >= 0 && q.delta <= D * (1 + 1e-15));
      },
    ),
    { numRuns: 2000, seed: 17 },
  );
});

Deno.test("edge cases have the limits, never NaN: T = 0, σ = 0, σ huge, strikes 1e-6 and 1e6 × F", () => {
  const F = 100;
  // T = 0: intrinsic, delta a step, gamma/vega 0 off the money.
  let q = black76({ forward: F, strike: 90, timeYears: 0, vol: 0.5, rate: 0.05, type: "call" });
  assert.deepEqual([q.price, q.delta, q.gamma, q.vega, q.theta, q.rho], [10, 1, 0, 0, 0.5, -0]);
  q = black76({ forward: F, strike: 110, timeYears: 0, vol: 0.5, rate: 0, type: "call" });
  assert.deepEqual([q.price, q.delta, q.gamma, q.vega], [0, 0, 0, 0]);
  // σ = 0 with T > 0: discounted intrinsic.
  q = black76({ forward: F, strike: 120, timeYears: 1, vol: 0, rate: 0.05, type: "put" });
  relClose(q.price, 20 * Math.exp(-0.05), 1e-15, "σ = 0 put");
  assert.equal(q.delta, -Math.exp(-0.05));
  // At the money with σ√T = 0: half-step delta, infinite gamma (the limit), vega D·F·√T/√(2π).
  q = black76({ forward: F, strike: F, timeYears: 1, vol: 0, rate: 0, type: "call" });
  assert.deepEqual([q.price, q.delta, q.gamma], [0, 0.5, Infinity]);
  relClose(q.vega, F / Math.sqrt(2 * Math.PI), 1e-15, "ATM σ = 0 vega");
  q = black76({ forward: F, strike: F, timeYears: 0, vol: 0.5, rate: 0, type: "put" });
  assert.deepEqual([q.price, q.delta, q.theta], [0, -0.5, -Infinity]);
  // Huge σ: call → D·F, put → D·K.
  q = black76({ forward: F, strike: 150, timeYears: 5, vol: 1e6, rate: 0, type: "call" });
  relClose(q.price, F, 1e-15, "huge σ call");
  assert.deepEqual([q.delta, q.gamma, q.vega], [1, 0, 0]);
  q = black76({ forward: F, strike: 150, timeYears: 5, vol: 1e6, rate: 0, type: "put" });
  relClose(q.price, 150, 1e-15, "huge σ put");
  // Deep in and out of the money.
  for (const K of [F * 1e-6, F * 1e6]) {
    for (const type of TYPES) {
      q = black76({ forward: F, strike: K, timeYears: 1, vol: 0.8, rate: 0.01, type });
      for (const v of Object.values(q)) assert.ok(Number.isFinite(v), `${K} ${type}`);
    }
  }
});

Deno.test("priceInUnderlying is the USD price over the forward (inverse option premium in coin)", () => {
  const q = black76({
    forward: 100_000,
    strike: 110_000,
    timeYears: 30 / 365,
    vol: 0.55,
    rate: 0,
    type: "call",
  });
  assert.equal(q.priceInUnderlying, q.price / 100_000);
});

Deno.test("invalid inputs throw RangeError", () => {
  const ok: Black76Input = { forward: 1, strike: 1, timeYears: 1, vol: 0.2, rate: 0, type: "call" };
  const bad: Partial<Black76Input>[] = [
    { forward: 0 },
    { strike: -1 },
    { timeYears: -1 },
    { vol: -0.1 },
    { vol: Infinity },
    { rate: NaN },
    { type: "straddle" as OptionType },
  ];
  for (const b of bad) assert.throws(() => black76({ ...ok, ...b }), RangeError, JSON.stringify(b));
});

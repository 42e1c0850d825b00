import assert from "node:assert/strict";
import { black76, YEAR_MS } from "../../core/options/black76.ts";
import { type SviParams, sviTotalVariance } from "../../core/options/svi.ts";
import { buildSurface, type SmileInput } from "../../core/options/surface.ts";
import { absClose, relClose } from "./helpers.ts";

/** 2026-12-07 08:00 UTC. */
const NOW = Date.UTC(2026, 11, 7, 8);
const DAY = 86_400_000;
const STRIKE_RATIOS = Array.from({ length: 25 }, (_, i) => Math.exp(-0.6 + i * 0.05));

/** Quotes of one expiry generated from SVI parameters of the total variance. */
function smileFrom(days: number, forward: number, p: SviParams): SmileInput {
  const T = (days * DAY) / YEAR_MS;
  return {
    expiry: NOW + days * DAY,
    forward,
    points: STRIKE_RATIOS.map((r) => ({
      strike: forward * r,
      iv: Math.sqrt(sviTotalVariance(p, Math.log(r)) / T),
    })),
  };
}

/** Total variance growing linearly in T from a per-year shape: calendar-consistent. */
const perYear: SviParams = { a: 0.1, b: 0.4, rho: -0.3, m: 0.02, sigma: 0.3 };
const scaled = (days: number): SviParams => {
  const T = (days * DAY) / YEAR_MS;
  return { ...perYear, a: perYear.a * T, b: perYear.b * T };
};
const CONSISTENT = [7, 30, 90, 180].map((d, i) =>
  smileFrom(d, 100_000 * (1 + 0.005 * i), scaled(d))
);

Deno.test("a calendar-consistent set of smiles has no calendar arbitrage and reproduces its quotes", () => {
  const s = buildSurface(CONSISTENT, NOW);
  assert.deepEqual(s.calendarArbitrage(), []);
  assert.equal(s.slices.length, 4);
  for (const sm of CONSISTENT) {
    for (const q of sm.points) relClose(s.iv(q.strike, sm.expiry), q.iv, 1e-9, `iv ${q.strike}`);
    relClose(s.forward(sm.expiry), sm.forward, 1e-15, "forward");
  }
  for (const sl of s.slices) assert.equal(sl.fit.butterflyArbitrage, false);
});

Deno.test("between expiries: total variance is linear in T at constant ln(K/F), ln F linear in T", () => {
  const s = buildSurface(CONSISTENT, NOW);
  const [a, b] = [s.slices[1], s.slices[2]]; // 30 and 90 days
  const expiry = NOW + 50 * DAY;
  const T = (50 * DAY) / YEAR_MS;
  const u = (T - a.timeYears) / (b.timeYears - a.timeYears);
  const F = Math.exp((1 - u) * Math.log(a.forward) + u * Math.log(b.forward));
  relClose(s.forward(expiry), F, 1e-14, "forward");
  for (const k of [-0.4, 0, 0.3]) {
    const w = (1 - u) * sviTotalVariance(a.fit.params, k) + u * sviTotalVariance(b.fit.params, k);
    relClose(s.iv(F * Math.exp(k), expiry), Math.sqrt(w / T), 1e-12, `iv at k=${k}`);
  }
});

Deno.test("extrapolation holds the first smile's vols before it and the last smile's after it", () => {
  const s = buildSurface(CONSISTENT, NOW);
  const first = CONSISTENT[0], last = CONSISTENT[3];
  for (const r of [0.8, 1, 1.2]) {
    relClose(
      s.iv(first.forward * r, NOW + 2 * DAY),
      s.iv(first.forward * r, first.expiry),
      1e-12,
      "before",
    );
    relClose(
      s.iv(last.forward * r, NOW + 400 * DAY),
      s.iv(last.forward * r, last.expiry),
      1e-12,
      "after",
    );
  }
});

Deno.test("price and quote are Black-76 at the surface vol, forward and rate", () => {
  const s = buildSurface(CONSISTENT, NOW, { rate: 0.02 });
  const expiry = NOW + 60 * DAY;
  const T = (60 * DAY) / YEAR_MS;
  const K = 95_000;
  const expected = black76({
    forward: s.forward(expiry),
    strike: K,
    timeYears: T,
    vol: s.iv(K, expiry),
    rate: 0.02,
    type: "put",
  });
  assert.equal(s.price(K, expiry, "put"), expected.price);
  assert.deepEqual(s.quote(K, expiry, "put"), expected);
  assert.throws(() => s.iv(K, NOW), RangeError);
});

Deno.test("a deliberately inconsistent set (the 90-day smile below the 30-day one) is flagged at the right expiries", () => {
  const bad = CONSISTENT.map((sm, i) => i === 2 ? smileFrom(90, sm.forward, scaled(20)) : sm);
  const violations = buildSurface(bad, NOW).calendarArbitrage();
  assert.ok(violations.length > 0);
  for (const v of violations) {
    assert.equal(v.expiry1, CONSISTENT[1].expiry); // 30 days
    assert.equal(v.expiry2, CONSISTENT[2].expiry); // 90 days
    assert.ok(v.shortfall > 0);
  }
  // The shortfall at the money is w₃₀(0) − w₉₀(0) of the generating parameters.
  const atm = violations.find((v) => Math.abs(v.k) < 1e-12);
  assert.ok(atm);
  absClose(
    atm.shortfall,
    sviTotalVariance(scaled(30), 0) - sviTotalVariance(scaled(20), 0),
    1e-9,
    "shortfall",
  );
});

Deno.test("expiries in the past or with fewer than 5 quotes are skipped; none left is an error", () => {
  const past = { ...CONSISTENT[0], expiry: NOW - DAY };
  const thin = { ...CONSISTENT[1], points: CONSISTENT[1].points.slice(0, 3) };
  assert.equal(buildSurface([past, thin, CONSISTENT[2]], NOW).slices.length, 1);
  assert.throws(() => buildSurface([past, thin], NOW), RangeError);
});

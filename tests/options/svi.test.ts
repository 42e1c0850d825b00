import assert from "node:assert/strict";
import { createRng } from "../../core/testing/prng.ts";
import {
  checkButterfly,
  fitSvi,
  type SviParams,
  type SviPoint,
  sviTotalVariance,
} from "../../core/options/svi.ts";
import { absClose } from "./helpers.ts";

const KS = Array.from({ length: 41 }, (_, i) => -0.6 + i * 0.03);
const pointsOf = (p: SviParams, ks = KS): SviPoint[] =>
  ks.map((k) => ({ k, w: sviTotalVariance(p, k) }));

function assertParams(actual: SviParams, expected: SviParams, tol: number): void {
  for (const key of ["a", "b", "rho", "m", "sigma"] as const) {
    absClose(actual[key], expected[key], tol, key);
  }
}

Deno.test("fitSvi recovers the parameters that generated the points (to 1e-9), also with a < 0", () => {
  const cases: SviParams[] = [
    { a: 0.02, b: 0.1, rho: -0.4, m: 0.05, sigma: 0.15 },
    { a: -0.01, b: 0.2, rho: 0.3, m: -0.1, sigma: 0.3 },
    { a: 0.004, b: 0.05, rho: -0.7, m: 0.02, sigma: 0.05 }, // short expiry, steep put skew
  ];
  for (const truth of cases) {
    const fit = fitSvi(pointsOf(truth));
    assertParams(fit.params, truth, 1e-9);
    assert.ok(fit.rmse < 1e-12, `rmse ${fit.rmse}`);
    assert.equal(fit.butterflyArbitrage, false);
  }
});

Deno.test("a noisy smile (1% multiplicative noise on the vols, seeded) fits to the noise level and butterfly-free", () => {
  const truth: SviParams = { a: 0.02, b: 0.1, rho: -0.4, m: 0.05, sigma: 0.15 };
  const T = 0.25;
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = createRng(seed);
    const noisy = pointsOf(truth).map(({ k, w }) => {
      const iv = Math.sqrt(w / T) * (1 + 0.01 * rng.normal());
      return { k, w: iv * iv * T };
    });
    const fit = fitSvi(noisy);
    assert.equal(
      fit.butterflyArbitrage,
      false,
      `seed ${seed}: min g ${fit.minG} at ${fit.kAtMinG}`,
    );
    assert.ok(fit.minG > 0);
    // noise in w is about 2%·w ≤ 2.3e-3; the fit's residual is at or below it
    assert.ok(fit.rmse < 2e-3, `seed ${seed}: rmse ${fit.rmse}`);
    for (const k of [-0.5, 0, 0.5]) {
      absClose(sviTotalVariance(fit.params, k), sviTotalVariance(truth, k), 2e-3, `w(${k})`);
    }
  }
});

Deno.test("constraints hold on any fit: b ≥ 0, |ρ| < 1, σ > 0, min w = a + bσ√(1−ρ²) ≥ 0, wing slopes b(1+|ρ|) ≤ 2", () => {
  const rng = createRng(42);
  for (let n = 0; n < 20; n++) {
    // Arbitrary (even non-SVI) smiles: random walk total variances
    let w = 0.05 + 0.1 * rng.next();
    const pts = KS.map((k) => {
      w = Math.max(0, w + 0.01 * rng.normal());
      return { k, w };
    });
    const { params: p } = fitSvi(pts);
    assert.ok(p.b >= 0 && Math.abs(p.rho) < 1 && p.sigma > 0, JSON.stringify(p));
    assert.ok(p.a + p.b * p.sigma * Math.sqrt(1 - p.rho * p.rho) >= -1e-12, JSON.stringify(p));
    assert.ok(p.b * (1 + Math.abs(p.rho)) <= 2 + 1e-9, JSON.stringify(p));
  }
});

Deno.test("weights: a zero-weight outlier is ignored, a heavily weighted point is matched", () => {
  const truth: SviParams = { a: 0.02, b: 0.1, rho: -0.4, m: 0.05, sigma: 0.15 };
  const pts = pointsOf(truth);
  const outlier = { k: 0.1, w: 0.2, weight: 0 };
  assertParams(fitSvi([...pts, outlier]).params, truth, 1e-9);
  const pulled = fitSvi([...pts, { k: 0.1, w: 0.05, weight: 1e6 }]);
  absClose(sviTotalVariance(pulled.params, 0.1), 0.05, 1e-4, "weighted point");
});

Deno.test("butterfly check flags Gatheral & Jacquier's arbitrageable SVI slice (a, b, ρ, m, σ) = (−0.041, 0.1331, 0.306, 0.3586, 0.4153)", () => {
  // "Arbitrage-free SVI volatility surfaces" (Quantitative Finance 14(1), 2014), section 2,
  // the example due to Axel Vogt: g(k) < 0 for k near 0.9.
  const check = checkButterfly({ a: -0.041, b: 0.1331, rho: 0.306, m: 0.3586, sigma: 0.4153 });
  assert.equal(check.arbitrage, true);
  assert.ok(check.minG < 0 && check.kAtMin > 0.5 && check.kAtMin < 1.3, JSON.stringify(check));
  assert.equal(
    checkButterfly({ a: 0.02, b: 0.1, rho: -0.4, m: 0.05, sigma: 0.15 }).arbitrage,
    false,
  );
});

Deno.test("fewer than 5 valid points is an error", () => {
  assert.throws(
    () => fitSvi(pointsOf({ a: 0.02, b: 0.1, rho: 0, m: 0, sigma: 0.1 }, [0, 0.1, 0.2, 0.3])),
    RangeError,
  );
  assert.throws(() => fitSvi([...Array(6)].map(() => ({ k: NaN, w: 0.1 }))), RangeError);
});

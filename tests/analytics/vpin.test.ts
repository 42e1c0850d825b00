import assert from "node:assert/strict";
import fc from "fast-check";
import { erfc, normalCdf } from "../../core/analytics/normal_cdf.ts";
import type { Trade } from "../../core/analytics/types.ts";
import {
  bucketVolumeFromDaily,
  cdfRank,
  createVpin,
  type VpinValue,
} from "../../core/analytics/vpin.ts";

/** |actual − expected| ≤ tol (relative for large values). */
function near(actual: number | null, expected: number, tol = 1e-12, what = ""): void {
  assert.ok(actual !== null, `${what}: null, expected ${expected}`);
  const scale = Math.max(1, Math.abs(expected));
  assert.ok(
    Math.abs(actual - expected) <= tol * scale,
    `${what}: ${actual} is not ${expected} (±${tol})`,
  );
}

/** Relative closeness for tail probabilities. */
function nearRel(actual: number, expected: number, rel: number, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected),
    `${what}: ${actual} is not ${expected} (rel ${rel})`,
  );
}

const s = 1000; // ms per second
const trade = (sec: number, price: number, quantity: number, side: "buy" | "sell"): Trade => ({
  eventTime: sec * s,
  price,
  quantity,
  side,
});

Deno.test("normalCdf: known values (reference: 0.5·erfc(−x/√2), C libm / tables)", () => {
  assert.equal(normalCdf(0), 0.5);
  near(normalCdf(1), 0.841344746068543, 1e-15, "Z(1)");
  near(normalCdf(1), 0.841344746, 1e-9, "Z(1) to the brief's 9 digits");
  near(normalCdf(-1), 0.15865525393145707, 1e-15, "Z(-1)");
  near(normalCdf(-1.96), 0.024997895148220435, 1e-15, "Z(-1.96)");
  near(normalCdf(-1.96), 0.024997895, 1e-9, "Z(-1.96) to the brief's 9 digits");
  near(normalCdf(1.96), 0.9750021048517795, 1e-15, "Z(1.96)");
  near(normalCdf(2), 0.9772498680518208, 1e-15, "Z(2)");
  near(normalCdf(0.5), 0.6914624612740131, 1e-15, "Z(0.5)");
  near(normalCdf(0.3), 0.6179114221889526, 1e-15, "Z(0.3), the |y| ≤ 0.46875 branch");
  // The BVC test below uses these two.
  near(normalCdf(-1 / Math.SQRT2), 0.23975006109347677, 1e-15, "Z(-1/√2) = erfc(0.5)/2");
  near(normalCdf(3 / Math.sqrt(7)), 0.8715803710210717, 1e-15, "Z(3/√7)");
  // Tails, relative: the y > 4 branch and no 1 − erf cancellation.
  nearRel(normalCdf(-4 * Math.SQRT2), 7.70862895014001e-9, 1e-13, "Z(-4√2)");
  nearRel(normalCdf(-5), 2.866515718791939e-7, 1e-13, "Z(-5)");
  nearRel(normalCdf(-8), 6.22096057427178e-16, 1e-13, "Z(-8)");
  nearRel(normalCdf(-30), 4.906713927148187e-198, 1e-12, "Z(-30)");
  assert.equal(normalCdf(-40), 0);
  assert.equal(normalCdf(40), 1);
  assert.equal(normalCdf(-Infinity), 0);
  assert.equal(normalCdf(Infinity), 1);
  assert.ok(Number.isNaN(normalCdf(NaN)));
  near(erfc(0.5), 0.4795001221869535, 1e-15, "erfc(0.5)");
  near(erfc(3), 2.209049699858544e-5, 1e-15, "erfc(3)");
  nearRel(erfc(5), 1.5374597944280349e-12, 1e-13, "erfc(5)");
  near(erfc(-0.2), 1.2227025892104786, 1e-15, "erfc(-0.2)");
});

Deno.test("normalCdf: symmetric Z(−x) = 1 − Z(x) and monotone", () => {
  fc.assert(
    fc.property(fc.double({ min: -10, max: 10, noNaN: true }), (x) => {
      assert.ok(Math.abs(normalCdf(-x) - (1 - normalCdf(x))) <= 2e-16);
      assert.ok(normalCdf(x) <= normalCdf(x + 1e-3));
    }),
  );
});

/*
 * Hand-computed dataset: V = 10, n = 3, bars of 60 s, σ over the last 3 bar price changes.
 *
 *  trade  t(s) bar price qty side   → bucket parts
 *  T1       0   0   100   2  buy    b0: 2b
 *  T2      30   0   100   2  sell   b0: 2s                      (b0 holds 4)
 *  T3      60   1   101   3  buy    b0: 3b                      (b0 holds 7)
 *  T4      90   1   102   4  buy    b0: 3b (fills b0) | b1: 1b  ← split 3 + 1
 *  T5     120   2   101   5  sell   b1: 5s                      (b1 holds 6)
 *  T6     150   2   100   6  sell   b1: 4s (fills b1) | b2: 2s  ← split 4 + 2
 *  T7     200   3   103  13  buy    b2: 8b (fills b2) | b3: 5b  ← split 8 + 5
 *  T8     250   4   103   5  sell   b3: 5s (fills b3)
 *  T9     300   5   104   1  buy    b4 (open): 1b
 *
 * Exact (taker side):
 *  b0: B = 2+3+3 = 8, S = 2  → |S−B| = 6
 *  b1: B = 1, S = 5+4 = 9    → |S−B| = 8
 *  b2: B = 8, S = 2          → |S−B| = 6
 *  b3: B = 5, S = 5          → |S−B| = 0
 *  VPIN(n=3) after b2 = (6+8+6)/30 = 2/3; after b3 = (8+6+0)/30 = 14/30.
 *
 * BVC bars (close = last price of the bar; ΔP = close − previous close; σ = sample std, ddof 1,
 * of the last 3 ΔP including this bar's):
 *  bar0 close 100, no previous close           → half/half, Z = 0.5   (bar volume 4: b0 4)
 *  bar1 close 102, ΔP = +2, σ({2}) undefined   → half/half, Z = 0.5   (7: b0 6, b1 1)
 *  bar2 close 100, ΔP = −2, σ({2,−2}) = √8 = 2.8284271247461903
 *       ΔP/σ = −2/√8 = −1/√2, Z2 = Z(−0.70710678) = 0.23975006109347677  (11: b1 9, b2 2)
 *  bar3 close 103, ΔP = +3, σ({2,−2,3}): mean 1, Σdev² = 1+9+4 = 14, var 7, σ = √7
 *       ΔP/σ = 3/√7 = 1.1338934190276817, Z3 = 0.8715803710210717         (13: b2 8, b3 5)
 *  bar4 close 103, ΔP = 0, σ({−2,3,0}): mean 1/3, Σdev² = 49/9+64/9+1/9 = 114/9, var 57/9,
 *       σ = 2.516611478423583, ΔP/σ = 0, Z4 = 0.5 (σ > 0: not half/half) (5: b3 5)
 *  (bar5 holds T9 and is still open.)
 * Per bucket V^B = Σ V_i·Z_i, V^S = 10 − V^B, |V^S − V^B| = |10 − 2·V^B|:
 *  b0: 4·0.5 + 6·0.5 = 5                                  → 0
 *  b1: 1·0.5 + 9·Z2 = 0.5 + 2.15775054984129 = 2.6577505498412908 → 4.6844989003174184
 *  b2: 2·Z2 + 8·Z3 = 0.4795001221869535 + 6.972642968168574 = 7.452143090355527
 *                                                         → 4.904286180711054
 *  b3: 5·Z3 + 5·0.5 = 4.357901855105358 + 2.5 = 6.857901855105358 → 3.715803710210716
 * A bucket is BVC-final once the bar that filled it closed (b0 at T5, b1 at T7, b2 at T8, b3 at T9):
 *  after T7: (0 + 4.6844989003174184)/20 = 0.23422494501587093 (partial, 2 buckets)
 *  after T8: (0 + 4.6844989003174184 + 4.904286180711054)/30 = 0.31962616936761573
 *  after T9: (4.6844989003174184 + 4.904286180711054 + 3.715803710210716)/30 = 0.44348629304130627
 */
const DATASET: Trade[] = [
  trade(0, 100, 2, "buy"),
  trade(30, 100, 2, "sell"),
  trade(60, 101, 3, "buy"),
  trade(90, 102, 4, "buy"),
  trade(120, 101, 5, "sell"),
  trade(150, 100, 6, "sell"),
  trade(200, 103, 13, "buy"),
  trade(250, 103, 5, "sell"),
  trade(300, 104, 1, "buy"),
];
const OPTIONS = { bucketVolume: 10, buckets: 3, barMs: 60_000, sigmaBars: 3 };
const Z2 = 0.23975006109347677;
const Z3 = 0.8715803710210717;

Deno.test("vpin: hand-computed dataset, exact and BVC step by step", () => {
  const vpin = createVpin(OPTIONS);
  const feed = (i: number): VpinValue => {
    vpin.onTrade(DATASET[i]);
    return vpin.value();
  };

  // T1..T3: b0 holds 7, nothing filled.
  feed(0);
  feed(1);
  let v = feed(2);
  assert.equal(v.bucketsFilled, 0);
  assert.equal(v.openVolume, 7);
  assert.equal(v.exact.value, null);
  assert.equal(v.exact.vpin, null);
  assert.equal(v.exact.partial, true);
  assert.equal(v.bvc.sigma, null);
  assert.equal(v.reset, false);

  // T4 fills b0: exact 6/10 = 0.6 over 1 bucket (partial); BVC waits for bar 1 to close.
  v = feed(3);
  assert.equal(v.bucketsFilled, 1);
  assert.equal(v.exact.buckets, 1);
  assert.equal(v.exact.value, 0.6);
  assert.equal(v.exact.vpin, null);
  assert.equal(v.exact.partial, true);
  assert.equal(v.exact.imbalance, 6);
  assert.equal(v.exact.volume, 10);
  assert.deepEqual(
    [v.exact.firstBucket, v.exact.lastBucket, v.exact.fromTime, v.exact.toTime, v.exact.windowMs],
    [0, 0, 0, 90_000, 90_000],
  );
  assert.equal(v.openVolume, 1);
  assert.equal(v.bvc.buckets, 0);
  assert.equal(v.bvc.value, null);
  assert.equal(v.bvc.pendingBuckets, 1);

  // T5 opens bar 2: bar 1 closes with ΔP = +2 and only one ΔP → half/half; b0 BVC-final: 0/10.
  v = feed(4);
  assert.equal(v.bvc.buckets, 1);
  assert.equal(v.bvc.value, 0);
  assert.equal(v.bvc.pendingBuckets, 0);
  assert.equal(v.bvc.sigma, null);
  assert.equal(v.bvc.sigmaSamples, 1);
  assert.equal(v.openVolume, 6);

  // T6 fills b1 (exact |9 − 1| = 8): (6 + 8)/20 = 0.7.
  v = feed(5);
  assert.equal(v.exact.value, 0.7);
  assert.equal(v.exact.partial, true);
  assert.equal(v.bvc.pendingBuckets, 1);

  // T7 closes bar 2 (σ = √8, Z2) → b1 BVC-final; T7 fills b2 → exact window full.
  v = feed(6);
  near(v.bvc.sigma, Math.sqrt(8), 1e-15, "σ after bar 2");
  near(v.bvc.value, 0.23422494501587093, 1e-14, "BVC after T7");
  assert.equal(v.bvc.vpin, null);
  assert.equal(v.bvc.buckets, 2);
  near(v.exact.vpin, 2 / 3, 1e-15, "exact VPIN after b2");
  assert.equal(v.exact.partial, false);
  assert.equal(v.exact.buckets, 3);
  assert.equal(v.openVolume, 5);

  // T8 closes bar 3 (σ = √7, Z3) → b2 BVC-final, BVC window full; T8 fills b3.
  v = feed(7);
  near(v.bvc.sigma, Math.sqrt(7), 1e-15, "σ after bar 3");
  near(v.bvc.vpin, 0.31962616936761573, 1e-14, "BVC VPIN after T8");
  assert.equal(v.bvc.partial, false);
  near(v.exact.vpin, 14 / 30, 1e-15, "exact VPIN after b3");
  assert.deepEqual([v.exact.firstBucket, v.exact.lastBucket], [1, 3]);
  assert.deepEqual([v.exact.fromTime, v.exact.toTime, v.exact.windowMs], [
    90_000,
    250_000,
    160_000,
  ]);
  assert.equal(v.bucketsFilled, 4);
  assert.equal(v.openVolume, 0);

  // T9 closes bar 4 (ΔP = 0 → Z = 0.5, σ({−2,3,0}) = √(57/9)) → b3 BVC-final.
  v = feed(8);
  near(v.bvc.sigma, Math.sqrt(57 / 9), 1e-15, "σ after bar 4");
  assert.equal(v.bvc.sigmaSamples, 3);
  near(v.bvc.vpin, 0.44348629304130627, 1e-14, "BVC VPIN after T9");
  assert.deepEqual([v.bvc.firstBucket, v.bvc.lastBucket, v.bvc.fromTime, v.bvc.toTime], [
    1,
    3,
    90_000,
    250_000,
  ]);
  near(v.exact.vpin, 14 / 30, 1e-15, "exact unchanged");
  assert.equal(v.tradedVolume, 41);
  assert.equal(v.bucketedVolume, 40);
  assert.equal(v.openVolume, 1);

  // The completed buckets, both classifications final.
  const done = vpin.completed();
  assert.deepEqual(done.map((b) => [b.index, b.startTime, b.endTime, b.volume, b.buy, b.sell]), [
    [1, 90_000, 150_000, 10, 1, 9],
    [2, 150_000, 200_000, 10, 8, 2],
    [3, 200_000, 250_000, 10, 5, 5],
  ]);
  near(done[0].bvcBuy, 0.5 + 9 * Z2, 1e-14, "b1 V^B");
  near(done[1].bvcBuy, 2 * Z2 + 8 * Z3, 1e-14, "b2 V^B");
  near(done[2].bvcBuy, 5 * Z3 + 2.5, 1e-14, "b3 V^B");
  near(done[1].bvcSell, 10 - (2 * Z2 + 8 * Z3), 1e-14, "b2 V^S");
  // b1 has 1 unit from bar 1 (half/half), b2 and b3 none.
  assert.deepEqual(done.map((b) => b.halfHalfVolume), [1, 0, 0]);
});

Deno.test("vpin: b0 is BVC half/half throughout (first bar, then a single ΔP)", () => {
  const vpin = createVpin(OPTIONS);
  for (const t of DATASET.slice(0, 5)) vpin.onTrade(t);
  const [b0] = vpin.completed();
  assert.deepEqual(b0, {
    index: 0,
    startTime: 0,
    endTime: 90_000,
    volume: 10,
    buy: 8,
    sell: 2,
    bvcBuy: 5,
    bvcSell: 5,
    halfHalfVolume: 10,
  });
});

Deno.test("vpin: σ_ΔP = 0 (all ΔP equal) classifies half/half", () => {
  // Prices rise by exactly 1 per bar: ΔP = 1, 1, 1 → σ = 0 → Z = 0.5, not Z(∞) = 1.
  const vpin = createVpin({ bucketVolume: 4, buckets: 1, barMs: 1_000, sigmaBars: 5 });
  for (let i = 0; i < 5; i++) {
    vpin.onTrade({ eventTime: i * 1_000, price: 100 + i, quantity: 4, side: "buy" });
  }
  const v = vpin.value();
  assert.equal(v.bvc.sigma, 0);
  assert.equal(v.bvc.vpin, 0); // |2 − 2| / 4
  assert.equal(v.exact.vpin, 1);
  assert.deepEqual(vpin.completed().map((b) => b.halfHalfVolume), [4]);
});

Deno.test("vpin: a trade spanning many buckets (shortcut) equals the same volume in pieces", () => {
  // 100 bought at once with V = 10, n = 3: buckets 0..9 fill, window holds 7..9, VPIN 1.
  const whole = createVpin({ bucketVolume: 10, buckets: 3 });
  whole.onTrade({ eventTime: 0, price: 100, quantity: 100, side: "buy" });
  const pieces = createVpin({ bucketVolume: 10, buckets: 3 });
  for (let i = 0; i < 10; i++) {
    pieces.onTrade({ eventTime: 0, price: 100, quantity: 10, side: "buy" });
  }
  const a = whole.value();
  assert.equal(a.bucketsFilled, 10);
  assert.equal(a.exact.vpin, 1);
  assert.deepEqual([a.exact.firstBucket, a.exact.lastBucket], [7, 9]);
  assert.equal(a.bucketedVolume, 100);
  assert.equal(a.bvc.pendingBuckets, 10);
  assert.deepEqual(a, pieces.value());
  // Closing the bar classifies all ten (first bar: half/half), the window keeps 7..9.
  whole.onTrade({ eventTime: 60_000, price: 100, quantity: 1, side: "sell" });
  assert.deepEqual(whole.completed().map((b) => b.index), [7, 8, 9]);
  assert.equal(whole.value().bvc.vpin, 0);
});

Deno.test("vpin: reset forgets everything and flags the next value once", () => {
  const vpin = createVpin(OPTIONS);
  for (const t of DATASET) vpin.onTrade(t);
  const before = vpin.value();
  vpin.reset();
  const v = vpin.value();
  assert.equal(v.reset, true);
  assert.equal(v.bucketsFilled, 0);
  assert.equal(v.tradedVolume, 0);
  assert.equal(v.openVolume, 0);
  assert.equal(v.exact.value, null);
  assert.equal(v.bvc.value, null);
  assert.equal(v.bvc.sigma, null);
  assert.equal(v.bvc.sigmaSamples, 0);
  assert.deepEqual(vpin.completed(), []);
  assert.equal(vpin.value().reset, false);
  // Same trades again → the same value as the first time.
  for (const t of DATASET) vpin.onTrade(t);
  assert.deepEqual(vpin.value(), before);
});

Deno.test("vpin: ignores bad trades; a late trade counts in the current bar", () => {
  const vpin = createVpin(OPTIONS);
  vpin.onTrade({ eventTime: 0, price: 100, quantity: 0, side: "buy" });
  vpin.onTrade({ eventTime: 0, price: 100, quantity: -1, side: "buy" });
  vpin.onTrade({ eventTime: 0, price: NaN, quantity: 1, side: "buy" });
  vpin.onTrade({ eventTime: NaN, price: 100, quantity: 1, side: "buy" });
  vpin.onTrade({ eventTime: 0, price: 100, quantity: Infinity, side: "buy" });
  assert.equal(vpin.value().tradedVolume, 0);
  // Bar 1 then a trade stamped in bar 0: stays in bar 1 (bars never reopen).
  const late = createVpin({ bucketVolume: 2, buckets: 1, barMs: 60_000, sigmaBars: 2 });
  late.onTrade({ eventTime: 60_000, price: 100, quantity: 1, side: "buy" });
  late.onTrade({ eventTime: 30_000, price: 101, quantity: 1, side: "sell" });
  assert.equal(late.value().bvc.pendingBuckets, 1);
  late.onTrade({ eventTime: 120_000, price: 101, quantity: 1, side: "sell" });
  assert.equal(late.value().bvc.pendingBuckets, 0);
});

Deno.test("vpin: options are validated", () => {
  assert.throws(() => createVpin({ bucketVolume: 0 }), RangeError);
  assert.throws(() => createVpin({ bucketVolume: NaN }), RangeError);
  assert.throws(() => createVpin({ bucketVolume: 1, buckets: 0 }), RangeError);
  assert.throws(() => createVpin({ bucketVolume: 1, buckets: 1.5 }), RangeError);
  assert.throws(() => createVpin({ bucketVolume: 1, barMs: 0 }), RangeError);
  assert.throws(() => createVpin({ bucketVolume: 1, sigmaBars: 1 }), RangeError);
  const v = createVpin({ bucketVolume: 1 }).value();
  assert.deepEqual([v.n, v.barMs, v.sigmaBars], [50, 60_000, 50]);
});

Deno.test("bucketVolumeFromDaily: V = daily / 50 by default; null for bad input", () => {
  assert.equal(bucketVolumeFromDaily(25_000), 500);
  assert.equal(bucketVolumeFromDaily(1_000, 20), 50);
  assert.equal(bucketVolumeFromDaily(0), null);
  assert.equal(bucketVolumeFromDaily(-5), null);
  assert.equal(bucketVolumeFromDaily(Infinity), null);
  assert.equal(bucketVolumeFromDaily(100, 0), null);
});

Deno.test("cdfRank: fraction of history ≤ value", () => {
  assert.equal(cdfRank(0.3, [0.1, 0.2, 0.3, 0.4]), 0.75);
  assert.equal(cdfRank(0.05, [0.1, 0.2]), 0);
  assert.equal(cdfRank(0.9, [0.1, 0.2]), 1);
  assert.equal(cdfRank(0.2, [0.2, 0.2, 0.2, 0.5]), 0.75);
  assert.equal(cdfRank(0.3, [NaN, 0.1, Infinity, 0.5]), 0.5);
  assert.equal(cdfRank(0.3, []), null);
  assert.equal(cdfRank(NaN, [0.1]), null);
});

// ---- Properties ----

const tradeArb = fc.record({
  dt: fc.integer({ min: 0, max: 90_000 }),
  price: fc.double({ min: 1, max: 1e5, noNaN: true }),
  quantity: fc.double({ min: 1e-6, max: 100, noNaN: true }),
  side: fc.constantFrom<"buy" | "sell">("buy", "sell"),
});
const optionsArb = fc.record({
  bucketVolume: fc.double({ min: 0.01, max: 50, noNaN: true }),
  buckets: fc.integer({ min: 1, max: 8 }),
  barMs: fc.integer({ min: 1_000, max: 60_000 }),
  sigmaBars: fc.integer({ min: 2, max: 8 }),
});

function toTrades(raw: { dt: number; price: number; quantity: number; side: "buy" | "sell" }[]) {
  let time = 1_700_000_000_000;
  return raw.map((r) => ({
    eventTime: time += r.dt,
    price: r.price,
    quantity: r.quantity,
    side: r.side,
  }));
}

/** Deep equality, numbers within 1e-12 relative. */
function assertClose(a: unknown, b: unknown, path = "$"): void {
  if (typeof a === "number" && typeof b === "number") {
    assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${path}: ${a} vs ${b}`);
  } else if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const keys = Object.keys(a as object);
    assert.deepEqual(keys.sort(), Object.keys(b as object).sort(), path);
    for (const k of keys) {
      assertClose(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
      );
    }
  } else {
    assert.equal(a, b, path);
  }
}

function inUnit(x: number | null): boolean {
  return x === null || (x >= 0 && x <= 1);
}

Deno.test("property: VPIN in [0,1] for any trades; bucketed = traded − open", () => {
  fc.assert(
    fc.property(optionsArb, fc.array(tradeArb, { maxLength: 120 }), (options, raw) => {
      const vpin = createVpin(options);
      for (const t of toTrades(raw)) {
        vpin.onTrade(t);
        const v = vpin.value();
        assert.ok(inUnit(v.exact.vpin) && inUnit(v.exact.value), `exact ${v.exact.value}`);
        assert.ok(inUnit(v.bvc.vpin) && inUnit(v.bvc.value), `bvc ${v.bvc.value}`);
        assert.ok(v.exact.buckets <= options.buckets && v.bvc.buckets <= v.exact.buckets);
        assert.ok(
          Math.abs(v.bucketedVolume - (v.tradedVolume - v.openVolume)) <= 1e-9 * v.tradedVolume,
          `${v.bucketedVolume} vs ${v.tradedVolume} − ${v.openVolume}`,
        );
        assert.ok(v.openVolume >= 0 && v.openVolume < options.bucketVolume * (1 + 1e-9));
      }
      for (const b of vpin.completed()) {
        assert.ok(Math.abs(b.volume - options.bucketVolume) <= 1e-9 * options.bucketVolume);
        assert.ok(Math.abs(b.buy + b.sell - b.volume) <= 1e-9 * b.volume);
        assert.ok(b.bvcBuy >= -1e-9 && b.bvcSell >= -1e-9);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("property: all-buy trades give exact VPIN 1", () => {
  fc.assert(
    fc.property(
      optionsArb,
      fc.array(fc.double({ min: 1e-3, max: 30, noNaN: true }), { minLength: 1, maxLength: 60 }),
      (options, quantities) => {
        const vpin = createVpin(options);
        let time = 0;
        let total = 0;
        const need = options.bucketVolume * (options.buckets + 1);
        for (let i = 0; total < need; i++) {
          const quantity = quantities[i % quantities.length];
          total += quantity;
          vpin.onTrade({ eventTime: time += 700, price: 100 + (i % 7), quantity, side: "buy" });
        }
        near(vpin.value().exact.vpin, 1, 1e-12, "all-buy exact VPIN");
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("property: alternating equal buy/sell within buckets gives exact VPIN 0", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 6 }),
      (q, pairsPerBucket, n) => {
        const vpin = createVpin({ bucketVolume: 2 * q * pairsPerBucket, buckets: n });
        let time = 0;
        for (let i = 0; i < (n + 1) * pairsPerBucket; i++) {
          vpin.onTrade({ eventTime: time += 1_000, price: 100, quantity: q, side: "buy" });
          vpin.onTrade({ eventTime: time += 1_000, price: 101, quantity: q, side: "sell" });
        }
        assert.equal(vpin.value().exact.vpin, 0);
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("property: a trade split into pieces at the same time gives the same value", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          pieces: fc.integer({ min: 1, max: 40 }),
          size: fc.integer({ min: 1, max: 9 }),
          side: fc.constantFrom<"buy" | "sell">("buy", "sell"),
          dt: fc.integer({ min: 0, max: 90_000 }),
          price: fc.integer({ min: 90, max: 110 }),
        }),
        { maxLength: 40 },
      ),
      fc.integer({ min: 1, max: 5 }),
      (raw, n) => {
        const whole = createVpin({ bucketVolume: 8, buckets: n, sigmaBars: 3 });
        const split = createVpin({ bucketVolume: 8, buckets: n, sigmaBars: 3 });
        let time = 0;
        for (const r of raw) {
          time += r.dt;
          whole.onTrade({
            eventTime: time,
            price: r.price,
            quantity: r.pieces * r.size,
            side: r.side,
          });
          for (let i = 0; i < r.pieces; i++) {
            split.onTrade({ eventTime: time, price: r.price, quantity: r.size, side: r.side });
          }
        }
        // Equal up to the rounding of the windows' running sums (summation order differs).
        assertClose(whole.value(), split.value());
        assertClose(whole.completed(), split.completed());
      },
    ),
    { numRuns: 100 },
  );
});

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Bar,
  createRealizedVol,
  garmanKlass,
  parkinson,
  YEAR_MS,
} from "../../core/analytics/volatility.ts";

/** 2026-12-07 12:00:00.000 UTC (on the 1 s grid). */
const T0 = Date.UTC(2026, 11, 7, 12);

function close(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null, `${what}: null`);
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} != ${expected}`,
  );
}

// Prices (Δ = 1 s, windows 3 s and 5 s):
//   t=0 100; t=1500 110; t=2000 99; t=4200 105
// Grid samples (last price at or before each grid time):
//   g=0 100 | 1000 100 | 2000 99 (the 110 at 1500 is replaced before it is sampled) | 3000 99 |
//   4000 99 | 5000 105 | 6000 105
// Returns rᵢ = ln(Pᵢ/Pᵢ₋₁) at g = 1000..6000:
//   0 | ln(99/100) = −0.01005033585350145 | 0 | 0 | ln(105/99) = 0.058840500022933395 | 0
//   squares: ln(0.99)² = 1.0100925076817673e-4, ln(105/99)² = 3.4622044429488247e-3
function feed(rv: ReturnType<typeof createRealizedVol>): void {
  rv.onPrice(100, T0);
  rv.onPrice(110, T0 + 1_500);
  rv.onPrice(99, T0 + 2_000);
  rv.onPrice(105, T0 + 4_200);
}

const A2 = Math.log(99 / 100) ** 2; // 1.0100925076817673e-4
const B2 = Math.log(105 / 99) ** 2; // 3.4622044429488247e-3

Deno.test("realized vol: hand-computed RV and σ_ann on a 1 s grid", () => {
  const rv = createRealizedVol({ sampleMs: 1_000, windowsMs: [3_000, 5_000] });
  feed(rv);
  const v = rv.value(T0 + 6_000);
  assert.equal(v.sampleMs, 1_000);
  assert.equal(v.lastSample, T0 + 6_000);
  assert.equal(v.reset, false);
  // 3 s window (3000, 6000]: returns at 4000, 5000, 6000 = 0, ln(105/99), 0
  const w3 = v.windows[0];
  assert.equal(w3.returns, 3);
  assert.equal(w3.samples, 4);
  assert.equal(w3.spanMs, 3_000);
  assert.equal(w3.complete, true);
  // RV = ln(105/99)² = 3.4622044429488247e-3
  close(w3.rv, B2, "rv 3 s");
  close(w3.rv, 0.0034622044429488247, "rv 3 s (number)");
  // σ_ann = sqrt(RV · Y / T) = sqrt(3.4622e-3 · 31 536 000 000 / 3000) = 190.77393193064415
  close(w3.sigmaAnn, Math.sqrt(B2 * YEAR_MS / 3_000), "σ 3 s");
  close(w3.sigmaAnn, 190.77393193064415, "σ 3 s (number)");
  // 5 s window (1000, 6000]: returns at 2000..6000: RV = ln(0.99)² + ln(105/99)² = 3.5632136937170013e-3
  const w5 = v.windows[1];
  assert.equal(w5.returns, 5);
  close(w5.rv, A2 + B2, "rv 5 s");
  close(w5.rv, 0.0035632136937170013, "rv 5 s (number)");
  // σ_ann = sqrt(3.5632e-3 · 31 536 000 000 / 5000) = 149.9129794547886
  close(w5.sigmaAnn, 149.9129794547886, "σ 5 s");
  // Between grid points: (3500, 6500] holds the same grid times 4000..6000.
  const later = rv.value(T0 + 6_500);
  assert.deepEqual(
    later.windows,
    v.windows.map((w) => ({ ...w, from: w.from + 500, to: w.to + 500 })),
  );
});

Deno.test("realized vol: a window not yet full uses T = n·Δ", () => {
  const rv = createRealizedVol({ sampleMs: 1_000, windowsMs: [5_000] });
  rv.onPrice(100, T0);
  rv.onPrice(110, T0 + 1_500);
  rv.onPrice(99, T0 + 2_000);
  // At 2000: samples at 0, 1000, 2000 → returns 0, ln(0.99): RV = 1.0100925076817673e-4, n = 2
  const w = rv.value(T0 + 2_000).windows[0];
  assert.equal(w.returns, 2);
  assert.equal(w.samples, 3);
  assert.equal(w.spanMs, 2_000);
  assert.equal(w.complete, false);
  close(w.rv, A2, "rv");
  // σ_ann = sqrt(1.0101e-4 · 31 536 000 000 / 2000) = 39.908819402640944
  close(w.sigmaAnn, 39.908819402640944, "σ");
});

Deno.test("realized vol: before the first return; the first price off the grid", () => {
  const rv = createRealizedVol({ windowsMs: [60_000] });
  let w = rv.value(T0).windows[0];
  assert.equal(w.rv, null);
  assert.equal(w.sigmaAnn, null);
  assert.equal(w.samples, 0);
  rv.onPrice(100, T0 + 300); // first grid time at or after it: T0 + 1000
  w = rv.value(T0 + 999).windows[0];
  assert.equal(w.samples, 0);
  assert.equal(rv.value(T0 + 999).lastSample, null);
  w = rv.value(T0 + 1_000).windows[0];
  assert.equal(w.samples, 1);
  assert.equal(w.returns, 0);
  assert.equal(w.rv, null);
  w = rv.value(T0 + 2_000).windows[0];
  assert.equal(w.returns, 1);
  assert.equal(w.rv, 0);
  assert.equal(w.sigmaAnn, 0);
});

Deno.test("realized vol: a gap longer than the window; value() calls change nothing", () => {
  const gapped = createRealizedVol({ sampleMs: 1_000, windowsMs: [3_000, 5_000] });
  const polled = createRealizedVol({ sampleMs: 1_000, windowsMs: [3_000, 5_000] });
  feed(gapped);
  feed(polled);
  const after = T0 + 10 * 3_600_000; // ten hours later, on the grid
  for (let t = T0; t < after; t += 61_000) polled.value(t);
  gapped.onPrice(110, after);
  polled.onPrice(110, after);
  const v = gapped.value(after);
  // Samples 105 ... 105 then 110 at `after`: one return ln(110/105) = 0.04652001563489291,
  // RV = 2.1641118546706804e-3 in both windows.
  close(v.windows[0].rv, 0.0021641118546706804, "rv 3 s");
  close(v.windows[1].rv, 0.0021641118546706804, "rv 5 s");
  assert.equal(v.windows[1].returns, 5);
  assert.deepEqual(polled.value(after), v);
});

Deno.test("realized vol: reset forgets the series and flags the next value", () => {
  const rv = createRealizedVol({ windowsMs: [5_000] });
  feed(rv);
  rv.value(T0 + 6_000);
  rv.reset();
  const v = rv.value(T0 + 6_000);
  assert.equal(v.reset, true);
  assert.equal(v.lastSample, null);
  assert.equal(v.windows[0].rv, null);
  assert.equal(v.windows[0].samples, 0);
  assert.equal(rv.value(T0 + 6_000).reset, false);
  // No return across the reset: 200 after it starts a new series.
  rv.onPrice(200, T0 + 7_000);
  const w = rv.value(T0 + 9_000).windows[0];
  assert.equal(w.returns, 2);
  assert.equal(w.rv, 0);
});

Deno.test("realized vol: invalid options and prices", () => {
  assert.throws(() => createRealizedVol({ sampleMs: 0 }), RangeError);
  assert.throws(() => createRealizedVol({ sampleMs: 1_000, windowsMs: [1_500] }), RangeError);
  const rv = createRealizedVol({ windowsMs: [5_000] });
  rv.onPrice(0, T0);
  rv.onPrice(-1, T0);
  rv.onPrice(Number.NaN, T0);
  assert.equal(rv.value(T0 + 5_000).windows[0].samples, 0);
});

// Three 1-minute candles (O, H, L, C):
//   #1 100 102  99 101:  ln H/L = ln(102/99) = 0.02985296314968113  (² 8.911994088162194e-4)
//                        ln C/O = ln(101/100) = 0.009950330853168092 (² 9.900908408750885e-5)
//   #2 101 101  98  99:  ln H/L = ln(101/98) = 0.030153038170687457 (² 9.092057109229348e-4)
//                        ln C/O = ln(99/101) = −0.020000666706669543 (² 4.000266687112795e-4)
//   #3  99 103  99 103:  ln H/L = ln C/O = ln(103/99) = 0.03960913809504588 (² 1.568883820632415e-3)
const BARS: Bar[] = [
  { open: 100, high: 102, low: 99, close: 101 },
  { open: 101, high: 101, low: 98, close: 99 },
  { open: 99, high: 103, low: 99, close: 103 },
];

Deno.test("Parkinson: hand-computed on three candles", () => {
  const e = parkinson(BARS, 60_000);
  assert.equal(e.bars, 3);
  assert.equal(e.barMs, 60_000);
  // mean((ln H/L)²) = (8.911994e-4 + 9.092057e-4 + 1.5688838e-3) / 3 = 1.1230963e-3
  // σ² = mean / (4 ln 2) = 1.1230963e-3 / 2.7725887 = 4.050713704663411e-4
  close(e.variance, 0.0004050713704663411, "σ²");
  close(e.sigma, Math.sqrt(0.0004050713704663411), "σ");
  // σ_ann = sqrt(σ² · Y / 60 000) = sqrt(4.0507e-4 · 525 600) = 14.591282065572884
  close(e.sigmaAnn, 14.591282065572884, "σ_ann");
});

Deno.test("Garman–Klass: hand-computed on three candles", () => {
  const e = garmanKlass(BARS, 60_000);
  assert.equal(e.bars, 3);
  // per bar 0.5·(ln H/L)² − (2 ln 2 − 1)·(ln C/O)², 2 ln 2 − 1 = 0.3862943611198906:
  //   #1 0.5·8.911994e-4 − 0.3862944·9.900908e-5 = 4.0735305352545994e-4
  //   #2 0.5·9.092057e-4 − 0.3862944·4.000267e-4 = 3.000748090407256e-4
  //   #3 (0.5 − 0.3862944)·1.5688838e-3           = 1.7839093715367568e-4
  // σ² = mean = 2.9527293323995375e-4
  close(e.variance, 0.00029527293323995375, "σ²");
  // σ_ann = sqrt(2.9527e-4 · 525 600) = 12.457746734900324
  close(e.sigmaAnn, 12.457746734900324, "σ_ann");
});

Deno.test("range estimators: no bar, invalid bars skipped, invalid bar length", () => {
  assert.deepEqual(parkinson([], 60_000), {
    bars: 0,
    barMs: 60_000,
    variance: null,
    sigma: null,
    sigmaAnn: null,
  });
  const bad: Bar[] = [
    { open: 100, high: 99, low: 101, close: 100 }, // H < L
    { open: 0, high: 1, low: 0, close: 1 }, // non-positive
    { open: 120, high: 110, low: 100, close: 105 }, // O above H
  ];
  assert.equal(garmanKlass(bad, 60_000).bars, 0);
  assert.equal(parkinson([...bad, ...BARS], 60_000).variance, parkinson(BARS, 60_000).variance);
  assert.throws(() => parkinson(BARS, 0), RangeError);
});

// ------------------------------------------------------------ properties --

const pathArb = fc.array(
  fc.record({
    gap: fc.integer({ min: 0, max: 5_000 }),
    price: fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
  }),
  { minLength: 1, maxLength: 150 },
);

Deno.test("realized vol property: RV ≥ 0, and 0 for a constant price", () => {
  fc.assert(
    fc.property(pathArb, fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (path, constant) => {
      const rv = createRealizedVol({ windowsMs: [10_000, 60_000] });
      const flat = createRealizedVol({ windowsMs: [10_000, 60_000] });
      let t = T0;
      for (const { gap, price } of path) {
        t += gap;
        rv.onPrice(price, t);
        flat.onPrice(constant, t);
        for (const w of rv.value(t).windows) {
          if (w.rv !== null) assert.ok(w.rv >= 0 && w.sigmaAnn! >= 0);
        }
      }
      for (const w of flat.value(t + 1_000).windows) {
        assert.equal(w.rv, w.returns > 0 ? 0 : null);
      }
    }),
    { numRuns: 100 },
  );
});

Deno.test("realized vol property: figures do not depend on when value() is called", () => {
  fc.assert(
    fc.property(pathArb, (path) => {
      const eager = createRealizedVol({ windowsMs: [10_000, 60_000] });
      const lazy = createRealizedVol({ windowsMs: [10_000, 60_000] });
      let t = T0;
      for (const { gap, price } of path) {
        t += gap;
        eager.onPrice(price, t);
        lazy.onPrice(price, t);
        eager.value(t);
      }
      assert.deepEqual(eager.value(t + 70_000), lazy.value(t + 70_000));
    }),
    { numRuns: 100 },
  );
});

const barArb = fc.record({
  low: fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
  up: fc.double({ min: 0, max: 1, noNaN: true }),
  o: fc.double({ min: 0, max: 1, noNaN: true }),
  c: fc.double({ min: 0, max: 1, noNaN: true }),
}).map(({ low, up, o, c }): Bar => {
  const high = low * (1 + up);
  return { open: low + (high - low) * o, high, low, close: low + (high - low) * c };
});

Deno.test("range estimators property: ≥ 0; Parkinson 0 when H = L", () => {
  fc.assert(
    fc.property(fc.array(barArb, { minLength: 1, maxLength: 30 }), (bars) => {
      const p = parkinson(bars, 60_000);
      const g = garmanKlass(bars, 60_000);
      assert.equal(p.bars, bars.length);
      assert.ok(p.variance! >= 0 && g.variance! >= 0);
      const flat = bars.map((b) => ({ open: b.low, high: b.low, low: b.low, close: b.low }));
      assert.equal(parkinson(flat, 60_000).variance, 0);
      assert.equal(garmanKlass(flat, 60_000).variance, 0);
    }),
    { numRuns: 200 },
  );
});

Deno.test("realized vol property: matches sampling the path on the grid by definition", () => {
  fc.assert(
    fc.property(pathArb, fc.integer({ min: 0, max: 20_000 }), (path, after) => {
      const windows = [10_000, 60_000];
      const rv = createRealizedVol({ sampleMs: 1_000, windowsMs: windows });
      const points: [number, number][] = [];
      let t = T0 + 123;
      for (const { gap, price } of path) {
        t += gap;
        rv.onPrice(price, t);
        points.push([t, price]);
      }
      const now = t + after;
      const v = rv.value(now);
      // Reference: price at each grid time g (last point at or before g), from the first on.
      const grid: [number, number][] = [];
      for (let g = Math.ceil(points[0][0] / 1_000) * 1_000; g <= now; g += 1_000) {
        grid.push([g, points.filter(([pt]) => pt <= g).at(-1)![1]]);
      }
      windows.forEach((ms, k) => {
        let sum = 0;
        let n = 0;
        for (let i = 1; i < grid.length; i++) {
          if (grid[i][0] <= now - ms) continue;
          sum += Math.log(grid[i][1] / grid[i - 1][1]) ** 2;
          n++;
        }
        const w = v.windows[k];
        assert.equal(w.returns, n);
        if (n === 0) assert.equal(w.rv, null);
        else assert.ok(Math.abs(w.rv! - sum) <= 1e-9 * Math.max(1e-6, sum), `${w.rv} ${sum}`);
      });
    }),
    { numRuns: 60 },
  );
});

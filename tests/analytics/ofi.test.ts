import assert from "node:assert/strict";
import fc from "fast-check";
import { createOfi, type OfiValue } from "../../core/analytics/ofi.ts";
import type { BookTop } from "../../core/analytics/types.ts";
import type { Level } from "../../core/events.ts";

const close = (actual: number | null, expected: number, eps = 1e-12) => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= eps, `${actual} ≠ ${expected}`);
};

/**
 * Five successive L1 books after a first one, with e_n by hand (Cont, Kukanov & Stoikov 2014):
 * e_n = 1{Pb_n ≥ Pb_{n−1}}·qb_n − 1{Pb_n ≤ Pb_{n−1}}·qb_{n−1}
 *     − 1{Pa_n ≤ Pa_{n−1}}·qa_n + 1{Pa_n ≥ Pa_{n−1}}·qa_{n−1}
 */
const L1_BOOKS: BookTop[] = [
  // B0 t=0: previous state only, no e.
  { bids: [[100, 2]], asks: [[101, 3]], time: 0 },
  // B1 t=200: sizes change at the same prices. bid: +5 − 2 = 3; ask: −3 + 3 = 0 → e1 = 3.
  //   depth d1 = (5 + 3)/2 = 4
  { bids: [[100, 5]], asks: [[101, 3]], time: 200 },
  // B2 t=400: bid moves up (only +qb_n): +1; ask same price: −4 + 3 = −1 → e2 = 0. d2 = 2.5
  { bids: [[100.5, 1]], asks: [[101, 4]], time: 400 },
  // B3 t=900: bid moves down (only −qb_{n−1}): −1; ask moves down (only −qa_n): −2 → e3 = −3.
  //   d3 = (6 + 2)/2 = 4
  { bids: [[100, 6]], asks: [[100.8, 2]], time: 900 },
  // B4 t=1500: bid same: 6 − 6 = 0; ask moves up (only +qa_{n−1}): +2 → e4 = 2. d4 = 6.5
  { bids: [[100, 6]], asks: [[101.2, 7]], time: 1500 },
  // B5 t=2300: bid down: −6; ask same: −5 + 7 = 2 → e5 = −4. d5 = 4.5
  { bids: [[99.5, 4]], asks: [[101.2, 5]], time: 2300 },
];

Deno.test("ofi: five L1 books by hand, 1 s and 10 s windows, eviction by event time", () => {
  const ofi = createOfi({ windowsMs: [1_000, 10_000], levels: 1 });
  ofi.onBook(L1_BOOKS[0]);
  const first = ofi.value(0);
  assert.equal(first.reset, false);
  assert.equal(first.lastTime, 0);
  assert.deepEqual(first.windows.map((w) => [w.ofi, w.updates, w.normalized]), [
    [0, 0, null],
    [0, 0, null],
  ]);
  for (const top of L1_BOOKS.slice(1, 4)) ofi.onBook(top);

  // now = 1400: 1 s window is (400, 1400] → e3 only (e2 at t=400 is out: the window is open
  // on the left) = −3, depth 4, normalized −3/4.
  let v = ofi.value(1_400);
  assert.deepEqual(v.windows[0], {
    ms: 1_000,
    ofi: -3,
    normalized: -0.75,
    depth: 4,
    updates: 1,
    levels: [-3],
    multiLevel: -3,
  });

  ofi.onBook(L1_BOOKS[4]);
  // now = 1500: 1 s window (500, 1500] → e3 + e4 = −3 + 2 = −1; depth (4 + 6.5)/2 = 5.25.
  v = ofi.value(1_500);
  assert.equal(v.windows[0].ofi, -1);
  assert.equal(v.windows[0].updates, 2);
  assert.equal(v.windows[0].depth, 5.25);
  close(v.windows[0].normalized, -1 / 5.25);
  // 10 s window: e1..e4 = 3 + 0 − 3 + 2 = 2; depth (4 + 2.5 + 4 + 6.5)/4 = 4.25.
  assert.equal(v.windows[1].ofi, 2);
  assert.equal(v.windows[1].updates, 4);
  assert.equal(v.windows[1].depth, 4.25);
  close(v.windows[1].normalized, 2 / 4.25);

  ofi.onBook(L1_BOOKS[5]);
  // now = 2300: 1 s (1300, 2300] → e4 + e5 = 2 − 4 = −2; depth (6.5 + 4.5)/2 = 5.5.
  v = ofi.value(2_300);
  assert.equal(v.lastTime, 2_300);
  assert.deepEqual([v.windows[0].ofi, v.windows[0].updates, v.windows[0].depth], [-2, 2, 5.5]);
  close(v.windows[0].normalized, -2 / 5.5);
  // 10 s: e1..e5 = 3 + 0 − 3 + 2 − 4 = −2; depth (4 + 2.5 + 4 + 6.5 + 4.5)/5 = 21.5/5 = 4.3.
  assert.deepEqual([v.windows[1].ofi, v.windows[1].updates], [-2, 5]);
  close(v.windows[1].depth, 4.3);
  close(v.windows[1].normalized, -2 / 4.3);

  // now = 3400, no new update: 1 s (2400, 3400] is empty → 0, normalized null (no division).
  v = ofi.value(3_400);
  assert.deepEqual(v.windows[0], {
    ms: 1_000,
    ofi: 0,
    normalized: null,
    depth: null,
    updates: 0,
    levels: [0],
    multiLevel: 0,
  });
  assert.equal(v.windows[1].ofi, -2);
  // now = 12 300: the 10 s window (2300, 12 300] no longer holds e5 (t = 2300).
  v = ofi.value(12_300);
  assert.deepEqual([v.windows[1].ofi, v.windows[1].updates, v.windows[1].normalized], [
    0,
    0,
    null,
  ]);
});

Deno.test("ofi: default options are 1 s, 10 s, 60 s and 5 levels", () => {
  const v = createOfi().value(0);
  assert.deepEqual(v.windows.map((w) => w.ms), [1_000, 10_000, 60_000]);
  assert.equal(v.levels, 5);
  assert.deepEqual(v.windows[0].levels, [0, 0, 0, 0, 0]);
  assert.equal(v.lastTime, null);
});

Deno.test("ofi: multi-level (Xu, Gould & Howison 2018) over 2 levels by hand", () => {
  const ofi = createOfi({ windowsMs: [10_000], levels: 2 });
  // B0: previous state.
  ofi.onBook({ bids: [[100, 2], [99, 4]], asks: [[101, 3], [102, 5]], time: 0 });
  // B1: L1 bid same 2 − 2 = 0, ask same −1 + 3 = 2 → 2.
  //     L2 bid same 7 − 4 = 3, ask same −5 + 5 = 0 → 3.
  ofi.onBook({ bids: [[100, 2], [99, 7]], asks: [[101, 1], [102, 5]], time: 100 });
  // B2: L1 bid up 100 → 100.5: +1; ask same −1 + 1 = 0 → 1.
  //     L2 bid up 99 → 100: +2; ask same 0 → 2.
  ofi.onBook({ bids: [[100.5, 1], [100, 2]], asks: [[101, 1], [102, 5]], time: 200 });
  // B3: L1 bid same 1 − 1 = 0, ask same 0 → 0.
  //     L2 bid level gone (price −∞ < 100): −2; ask same −5 + 5 = 0 → −2. (L3 ask ignored: N = 2.)
  ofi.onBook({ bids: [[100.5, 1]], asks: [[101, 1], [102, 5], [103, 9]], time: 300 });
  const w = ofi.value(300).windows[0];
  // L1: 2 + 1 + 0 = 3; L2: 3 + 2 − 2 = 3; total 6.
  assert.deepEqual(w.levels, [3, 3]);
  assert.equal(w.ofi, 3);
  assert.equal(w.multiLevel, 6);
  assert.equal(w.updates, 3);
  // Depth is level 1: (2+1)/2 = 1.5, (1+1)/2 = 1, (1+1)/2 = 1 → mean 3.5/3.
  close(w.depth, 3.5 / 3);
});

Deno.test("ofi: a side that empties or appears counts as price ±∞ with size 0", () => {
  const ofi = createOfi({ windowsMs: [1_000], levels: 1 });
  ofi.onBook({ bids: [[100, 2]], asks: [[101, 3]], time: 0 });
  // Asks vanish: Pa_n = +∞ > 101 → +qa_{n−1} = +3; bid same 2 − 2 = 0 → e1 = 3.
  ofi.onBook({ bids: [[100, 2]], asks: [], time: 10 });
  // Asks reappear at 101 x 4: Pa_n < +∞ → −4; bids vanish: −2 → e2 = −6.
  ofi.onBook({ bids: [], asks: [[101, 4]], time: 20 });
  // Bids reappear 99 x 5: +5; ask same −4 + 4 = 0 → e3 = 5.
  ofi.onBook({ bids: [[99, 5]], asks: [[101, 4]], time: 30 });
  const w = ofi.value(30).windows[0];
  assert.equal(w.ofi, 3 - 6 + 5);
  // depths: (2 + 0)/2 = 1, (0 + 4)/2 = 2, (5 + 4)/2 = 4.5 → mean 7.5/3 = 2.5.
  assert.equal(w.depth, 2.5);
  assert.equal(w.normalized, 2 / 2.5);
});

Deno.test("ofi: reset clears the windows, flags the next value, and re-seeds the previous book", () => {
  const ofi = createOfi({ windowsMs: [1_000], levels: 1 });
  ofi.onBook({ bids: [[100, 2]], asks: [[101, 3]], time: 0 });
  ofi.onBook({ bids: [[100, 5]], asks: [[101, 3]], time: 100 }); // e = 3
  assert.equal(ofi.value(100).windows[0].ofi, 3);
  ofi.reset();
  // After a resync the next book only sets the previous state: no e although sizes differ.
  ofi.onBook({ bids: [[100, 9]], asks: [[101, 1]], time: 150 });
  const v = ofi.value(150);
  assert.equal(v.reset, true);
  assert.equal(v.lastTime, 150);
  assert.deepEqual([v.windows[0].ofi, v.windows[0].updates], [0, 0]);
  // Times may restart lower after a reset; the next update counts: bid 9 → 8: −1.
  ofi.onBook({ bids: [[100, 8]], asks: [[101, 1]], time: 120 });
  const next = ofi.value(120);
  assert.equal(next.reset, false);
  assert.deepEqual([next.windows[0].ofi, next.windows[0].updates], [-1, 1]);
});

Deno.test("ofi: options are validated", () => {
  assert.throws(() => createOfi({ levels: 0 }), RangeError);
  assert.throws(() => createOfi({ levels: 1.5 }), RangeError);
  assert.throws(() => createOfi({ windowsMs: [] }), RangeError);
  assert.throws(() => createOfi({ windowsMs: [0] }), RangeError);
  assert.throws(() => createOfi({ windowsMs: [Infinity] }), RangeError);
});

// ---- property tests -----------------------------------------------------------------------

/** A book with integer prices: bids below `center`, asks above, up to 6 levels a side. */
const side = fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 50 })), {
  maxLength: 6,
});
const book = fc.record({ bids: side, asks: side }).map(({ bids, asks }) => {
  const build = (steps: [number, number][], sign: number): Level[] => {
    let price = 1_000;
    return steps.map(([step, qty]) => {
      price += sign * step;
      return [price, qty] as Level;
    });
  };
  return { bids: build(bids, -1), asks: build(asks, 1) };
});
const books = fc.array(fc.tuple(book, fc.integer({ min: 0, max: 700 })), {
  minLength: 1,
  maxLength: 60,
}).map((list) => {
  let time = 0;
  return list.map(([b, dt]) => {
    time += dt;
    return { ...b, time } as BookTop;
  });
});

/** e_n per level computed naively from the definition, for comparison. */
function naiveE(prev: BookTop, cur: BookTop, m: number): number {
  const pb = prev.bids[m]?.[0] ?? -Infinity, qbPrev = prev.bids[m]?.[1] ?? 0;
  const cb = cur.bids[m]?.[0] ?? -Infinity, qb = cur.bids[m]?.[1] ?? 0;
  const pa = prev.asks[m]?.[0] ?? Infinity, qaPrev = prev.asks[m]?.[1] ?? 0;
  const ca = cur.asks[m]?.[0] ?? Infinity, qa = cur.asks[m]?.[1] ?? 0;
  return (cb >= pb ? qb : 0) - (cb <= pb ? qbPrev : 0) - (ca <= pa ? qa : 0) +
    (ca >= pa ? qaPrev : 0);
}

Deno.test("ofi property: an unchanged book gives OFI 0 on every window and level", () => {
  fc.assert(
    fc.property(book, fc.integer({ min: 1, max: 30 }), (b, count) => {
      const ofi = createOfi({ windowsMs: [500, 5_000], levels: 5 });
      for (let i = 0; i <= count; i++) ofi.onBook({ ...b, time: i * 100 });
      for (const w of ofi.value(count * 100).windows) {
        assert.equal(w.ofi, 0);
        assert.ok(w.levels.every((x) => x === 0));
        assert.equal(w.multiLevel, 0);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("ofi property: mirroring the book (bids ↔ asks around a center) negates OFI", () => {
  const mirror = (top: BookTop): BookTop => ({
    bids: top.asks.map(([p, q]) => [2_000 - p, q] as Level),
    asks: top.bids.map(([p, q]) => [2_000 - p, q] as Level),
    time: top.time,
  });
  fc.assert(
    fc.property(books, (list) => {
      const a = createOfi({ windowsMs: [1_000, 10_000], levels: 3 });
      const b = createOfi({ windowsMs: [1_000, 10_000], levels: 3 });
      for (const top of list) {
        a.onBook(top);
        b.onBook(mirror(top));
      }
      const now = list[list.length - 1].time;
      const va = a.value(now).windows, vb = b.value(now).windows;
      for (let i = 0; i < va.length; i++) {
        assert.equal(vb[i].ofi, -va[i].ofi + 0); // + 0: −0 → 0
        assert.deepEqual(vb[i].levels, va[i].levels.map((x) => -x + 0));
        assert.equal(vb[i].updates, va[i].updates);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("ofi property: windows equal a naive recomputation from the definition", () => {
  fc.assert(
    fc.property(books, fc.integer({ min: 0, max: 2_000 }), (list, ahead) => {
      const windowsMs = [300, 1_000, 4_000];
      const ofi = createOfi({ windowsMs, levels: 3 });
      for (const top of list) ofi.onBook(top);
      const now = list[list.length - 1].time + ahead;
      const v = ofi.value(now);
      windowsMs.forEach((ms, k) => {
        const levels = [0, 0, 0];
        let updates = 0;
        let depth = 0;
        for (let n = 1; n < list.length; n++) {
          if (list[n].time <= now - ms) continue;
          updates++;
          depth += ((list[n].bids[0]?.[1] ?? 0) + (list[n].asks[0]?.[1] ?? 0)) / 2;
          for (let m = 0; m < 3; m++) levels[m] += naiveE(list[n - 1], list[n], m);
        }
        const w = v.windows[k];
        assert.equal(w.updates, updates);
        assert.deepEqual(w.levels, levels); // integers: exact
        assert.equal(w.depth, updates > 0 ? depth / updates : null);
      });
    }),
    { numRuns: 300 },
  );
});

Deno.test("ofi property: results do not depend on when or how often value() is called", () => {
  const fractional = fc.array(
    fc.tuple(
      fc.double({ min: 99, max: 101, noNaN: true }),
      fc.double({ min: 0.001, max: 3, noNaN: true }),
      fc.double({ min: 0.001, max: 3, noNaN: true }),
      fc.integer({ min: 0, max: 400 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 900 }),
    ),
    { minLength: 2, maxLength: 80 },
  );
  fc.assert(
    fc.property(fractional, (steps) => {
      const quiet = createOfi({ windowsMs: [250, 1_000], levels: 2 });
      const busy = createOfi({ windowsMs: [250, 1_000], levels: 2 });
      let time = 0;
      let last: OfiValue | undefined;
      for (const [mid, qb, qa, dt, ask, peek] of steps) {
        time += dt;
        const top: BookTop = {
          bids: [[mid - 0.5, qb], [mid - 1, qa]],
          asks: [[mid + 0.5, qa], [mid + 1, qb]],
          time,
        };
        quiet.onBook(top);
        busy.onBook(top);
        if (ask) last = busy.value(time + peek); // look ahead, sometimes past the next event
        if (ask) busy.value(time);
      }
      const end = time + 200;
      assert.deepEqual(busy.value(end), quiet.value(end));
      assert.ok(last === undefined || last.windows.length === 2);
    }),
    { numRuns: 300 },
  );
});

Deno.test("ofi: the ring buffer grows past its initial capacity without losing events", () => {
  const ofi = createOfi({ windowsMs: [1_000, 100_000], levels: 1 });
  ofi.onBook({ bids: [[100, 1]], asks: [[101, 1]], time: 0 });
  // 5000 updates 1 ms apart, each bid size +1 at the same price → e_n = +1.
  for (let i = 1; i <= 5_000; i++) ofi.onBook({ bids: [[100, 1 + i]], asks: [[101, 1]], time: i });
  const v = ofi.value(5_000);
  // 1 s window (4000, 5000]: 1000 updates; 100 s window: all 5000.
  assert.deepEqual(v.windows.map((w) => [w.ofi, w.updates]), [[1_000, 1_000], [5_000, 5_000]]);
});

Deno.test("ofi: an update whose time goes backwards is placed at the last time seen", () => {
  const ofi = createOfi({ windowsMs: [1_000], levels: 1 });
  ofi.onBook({ bids: [[100, 1]], asks: [[101, 1]], time: 1_000 });
  ofi.onBook({ bids: [[100, 2]], asks: [[101, 1]], time: 2_000 }); // e1 = 2 − 1 = 1 at t = 2000
  ofi.onBook({ bids: [[100, 4]], asks: [[101, 1]], time: 500 }); // e2 = 4 − 2 = 2, placed at 2000
  const v = ofi.value(2_000);
  assert.equal(v.lastTime, 2_000);
  assert.deepEqual([v.windows[0].ofi, v.windows[0].updates], [3, 2]);
  // Both leave the window together: (2000, 3000] is empty.
  assert.equal(ofi.value(3_000).windows[0].updates, 0);
});

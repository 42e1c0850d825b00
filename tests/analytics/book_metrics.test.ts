import assert from "node:assert/strict";
import fc from "fast-check";
import { bookMetrics } from "../../core/analytics/book_metrics.ts";
import type { BookTop } from "../../core/analytics/types.ts";
import type { Level } from "../../core/events.ts";

const close = (actual: number | null, expected: number, eps = 1e-9) => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= eps, `${actual} ≠ ${expected}`);
};

/** Six levels a side. */
const BOOK: BookTop = {
  bids: [[100, 3], [99.9, 2], [99.5, 5], [99, 1], [98, 4], [97, 1]],
  asks: [[100.2, 1], [100.3, 4], [100.6, 2], [101, 3], [102, 6], [103, 1]],
  time: 1_700_000_000_000,
};

Deno.test("bookMetrics: a six-level book by hand", () => {
  const m = bookMetrics(BOOK);
  assert.equal(m.time, BOOK.time);
  assert.deepEqual([m.bidLevels, m.askLevels], [6, 6]);
  // M = (100 + 100.2)/2 = 100.1; S = 100.2 − 100 = 0.2; S/M·10⁴ = 19.98001998…
  close(m.mid, 100.1);
  close(m.spread, 0.2);
  close(m.spreadBps, 0.2 / 100.1 * 10_000);
  close(m.spreadBps, 19.980019980019980);
  // I = 3/(3 + 1) = 0.75; P_w = 0.75·100.2 + 0.25·100 = 75.15 + 25 = 100.15.
  assert.equal(m.imbalance.unsignedL1, 0.75);
  close(m.weightedMid, 100.15);
  // ρ_1 = (3 − 1)/(3 + 1) = 0.5.
  assert.equal(m.imbalance.l1, 0.5);
  // ρ_5: bids 3+2+5+1+4 = 15, asks 1+4+2+3+6 = 16 → (15 − 16)/31 = −1/31.
  close(m.imbalance.l5, -1 / 31);
  // ρ_10 over the 6 levels present: bids 16, asks 17 → −1/33.
  close(m.imbalance.l10, -1 / 33);
  // ±10 bps: half = 100.1·10/10⁴ = 0.1001 → bids ≥ 99.9999: 100 (3); asks ≤ 100.2001: 100.2 (1).
  // ±50 bps: half = 0.5005 → bids ≥ 99.5995: 100, 99.9 (3 + 2 = 5);
  //          asks ≤ 100.6005: 100.2, 100.3, 100.6 (1 + 4 + 2 = 7).
  assert.deepEqual(m.depth, [{ bps: 10, bid: 3, ask: 1 }, { bps: 50, bid: 5, ask: 7 }]);
});

Deno.test("bookMetrics: custom depth bands, 0 bps is empty, 100 bps reaches further", () => {
  const m = bookMetrics(BOOK, { depthBps: [0, 100] });
  // 0 bps: only levels at the mid (none). 100 bps: half = 1.001 → bids ≥ 99.099: 100, 99.9, 99.5
  // (3 + 2 + 5 = 10); asks ≤ 101.101: 100.2, 100.3, 100.6, 101 (1 + 4 + 2 + 3 = 10).
  assert.deepEqual(m.depth, [{ bps: 0, bid: 0, ask: 0 }, { bps: 100, bid: 10, ask: 10 }]);
});

Deno.test("bookMetrics: ask-heavy book, weighted mid leans to the bid", () => {
  // I = 1/(1 + 4) = 0.2; P_w = 0.2·11 + 0.8·10 = 10.2; ρ_1 = (1 − 4)/5 = −0.6.
  const m = bookMetrics({ bids: [[10, 1]], asks: [[11, 4]], time: 0 });
  assert.equal(m.mid, 10.5);
  assert.equal(m.spread, 1);
  close(m.spreadBps, 1 / 10.5 * 10_000);
  close(m.weightedMid, 10.2);
  close(m.imbalance.l1, -0.6);
  assert.equal(m.imbalance.l5, m.imbalance.l1); // a one-level book: ρ_5 = ρ_10 = ρ_1
  assert.equal(m.imbalance.l10, m.imbalance.l1);
  close(m.imbalance.unsignedL1, 0.2);
});

Deno.test("bookMetrics: an empty side gives null figures, never NaN", () => {
  for (
    const top of [
      { bids: [], asks: [[101, 1]], time: 5 },
      { bids: [[100, 1]], asks: [], time: 5 },
      { bids: [], asks: [], time: 5 },
    ] as BookTop[]
  ) {
    const m = bookMetrics(top);
    assert.deepEqual(m, {
      time: 5,
      bidLevels: top.bids.length,
      askLevels: top.asks.length,
      mid: null,
      spread: null,
      spreadBps: null,
      weightedMid: null,
      imbalance: { l1: null, l5: null, l10: null, unsignedL1: null },
      depth: [{ bps: 10, bid: null, ask: null }, { bps: 50, bid: null, ask: null }],
    });
  }
});

Deno.test("bookMetrics: zero sizes at the top give null imbalance and weighted mid", () => {
  const m = bookMetrics({ bids: [[100, 0]], asks: [[101, 0]], time: 0 });
  assert.equal(m.mid, 100.5);
  assert.equal(m.weightedMid, null);
  assert.deepEqual(m.imbalance, { l1: null, l5: null, l10: null, unsignedL1: null });
  // Zero size at L1 but size deeper: ρ_5 covers it. bids 0 + 2, asks 0 + 6 → (2 − 6)/8 = −0.5.
  const deeper = bookMetrics({ bids: [[100, 0], [99, 2]], asks: [[101, 0], [102, 6]], time: 0 });
  assert.equal(deeper.imbalance.l1, null);
  assert.equal(deeper.imbalance.l5, -0.5);
});

// ---- property tests -----------------------------------------------------------------------

const qty = fc.double({ min: 0, max: 1_000, noNaN: true });
const book = fc.record({
  center: fc.double({ min: 0.01, max: 100_000, noNaN: true }),
  spreadTicks: fc.integer({ min: 1, max: 50 }),
  tick: fc.constantFrom(1e-8, 0.01, 0.5, 10),
  bids: fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), qty), { minLength: 1, maxLength: 12 }),
  asks: fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), qty), { minLength: 1, maxLength: 12 }),
}).map(({ center, spreadTicks, tick, bids, asks }) => {
  const bestBid = center;
  const bestAsk = center + spreadTicks * tick;
  let p = bestBid + tick;
  const b: Level[] = bids.map(([gap, q]) => [(p -= gap * tick, p), q] as Level);
  b[0] = [bestBid, b[0][1]];
  p = bestAsk - tick;
  const a: Level[] = asks.map(([gap, q]) => [(p += gap * tick, p), q] as Level);
  a[0] = [bestAsk, a[0][1]];
  return { bids: b, asks: a, time: 0 } as BookTop;
});

Deno.test("bookMetrics property: I ∈ [0,1], ρ ∈ [−1,1], Pb ≤ weighted mid ≤ Pa, depth bounded", () => {
  fc.assert(
    fc.property(book, (top) => {
      const m = bookMetrics(top, { depthBps: [1, 10, 100] });
      const pb = top.bids[0][0], pa = top.asks[0][0];
      assert.ok(m.mid !== null && m.mid >= pb && m.mid <= pa);
      assert.ok(m.spread !== null && m.spread >= 0);
      const { l1, l5, l10, unsignedL1 } = m.imbalance;
      for (const r of [l1, l5, l10]) assert.ok(r === null || (r >= -1 && r <= 1), `${r}`);
      assert.ok(unsignedL1 === null || (unsignedL1 >= 0 && unsignedL1 <= 1));
      if (m.weightedMid !== null) assert.ok(m.weightedMid >= pb && m.weightedMid <= pa);
      assert.equal(unsignedL1 === null, m.weightedMid === null);
      const totalBid = top.bids.reduce((s, [, q]) => s + q, 0);
      const totalAsk = top.asks.reduce((s, [, q]) => s + q, 0);
      let prev = { bid: 0, ask: 0 };
      for (const band of m.depth) {
        assert.ok(band.bid !== null && band.ask !== null);
        assert.ok(band.bid >= prev.bid && band.bid <= totalBid + 1e-9); // wider band ⊇ narrower
        assert.ok(band.ask >= prev.ask && band.ask <= totalAsk + 1e-9);
        prev = { bid: band.bid, ask: band.ask };
      }
      for (const n of [m.mid, m.spread, m.spreadBps, m.weightedMid, l1, l5, l10, unsignedL1]) {
        assert.ok(n === null || Number.isFinite(n));
      }
    }),
    { numRuns: 1_000 },
  );
});

Deno.test("bookMetrics property: mirroring the book negates ρ and maps I to 1 − I", () => {
  fc.assert(
    fc.property(book, (top) => {
      const mirror: BookTop = {
        bids: top.asks.map(([p, q]) => [-p, q] as Level),
        asks: top.bids.map(([p, q]) => [-p, q] as Level),
        time: 0,
      };
      const m = bookMetrics(top), w = bookMetrics(mirror);
      for (const k of ["l1", "l5", "l10"] as const) {
        const a = m.imbalance[k], b = w.imbalance[k];
        assert.ok(a === null ? b === null : b !== null && Math.abs(a + b) <= 1e-12);
      }
      const i = m.imbalance.unsignedL1, j = w.imbalance.unsignedL1;
      assert.ok(i === null ? j === null : j !== null && Math.abs(i + j - 1) <= 1e-12);
    }),
    { numRuns: 500 },
  );
});

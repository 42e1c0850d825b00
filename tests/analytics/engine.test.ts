/**
 * The analytics engine of one symbol: each figure is exactly its module's figure for the
 * same events, reading values along the way changes nothing (so a live series, a replay
 * and a recomputation from history agree), and a book resync starts the book figures over.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createSymbolAnalytics, METRICS } from "../../core/analytics/engine.ts";
import { createOfi } from "../../core/analytics/ofi.ts";
import { bookMetrics } from "../../core/analytics/book_metrics.ts";
import { createVpin } from "../../core/analytics/vpin.ts";
import { createFlow } from "../../core/analytics/flow.ts";
import { createRealizedVol } from "../../core/analytics/volatility.ts";
import type { BookTop, Trade } from "../../core/analytics/types.ts";

type Event = { kind: "trade"; trade: Trade } | { kind: "book"; top: BookTop };

/** A small market: books around 100 and trades, time moving on by 0..400 ms. */
const events = fc.array(
  fc.tuple(
    fc.boolean(),
    fc.integer({ min: 0, max: 400 }),
    fc.integer({ min: -3, max: 3 }),
    fc.integer({ min: 1, max: 50 }),
    fc.integer({ min: 1, max: 50 }),
  ),
  { minLength: 1, maxLength: 120 },
).map((steps) => {
  let time = 1_796_601_600_000; // 2026-12-07T00:00:00Z
  return steps.map(([isTrade, dt, move, a, b]): Event => {
    time += dt;
    const mid = 100 + move * 0.5;
    return isTrade
      ? {
        kind: "trade",
        trade: { price: mid, quantity: a / 10, side: b % 2 ? "buy" : "sell", eventTime: time },
      }
      : {
        kind: "book",
        top: {
          bids: [[mid - 0.5, a / 10], [mid - 1, b / 10]],
          asks: [[mid + 0.5, b / 10], [mid + 1, a / 10]],
          time,
        },
      };
  });
});

const lastTime = (xs: Event[]) => {
  const e = xs[xs.length - 1];
  return e.kind === "trade" ? e.trade.eventTime : e.top.time;
};

Deno.test("engine: each figure is its module's figure for the same events", () => {
  fc.assert(
    fc.property(events, (xs) => {
      const engine = createSymbolAnalytics({ vpin: { bucketVolume: 2, buckets: 3 } });
      const ofi = createOfi();
      const vpin = createVpin({ bucketVolume: 2, buckets: 3 });
      const flow = createFlow();
      const vol = createRealizedVol();
      let top: BookTop | undefined;
      for (const e of xs) {
        if (e.kind === "trade") {
          engine.onTrade(e.trade);
          vpin.onTrade(e.trade);
          flow.onTrade(e.trade);
        } else {
          engine.onBook(e.top);
          ofi.onBook(e.top);
          vol.onPrice((e.top.bids[0][0] + e.top.asks[0][0]) / 2, e.top.time);
          top = e.top;
        }
      }
      const now = lastTime(xs);
      const value = engine.value(now);
      assert.deepEqual(value.ofi, ofi.value(now));
      // The module's value, plus no rank (no calibration) and the bucket volume's source.
      assert.deepEqual(value.vpin, {
        ...vpin.value(),
        rank: null,
        bvcRank: null,
        bucketVolumeSource: "configured",
        history: null,
      });
      assert.deepEqual(value.flow, flow.value(now));
      assert.deepEqual(value.volatility, vol.value(now));
      const metrics = top ? bookMetrics(top) : null;
      assert.deepEqual(value.book, metrics);
      assert.deepEqual(
        value.microprice,
        metrics ? { mid: metrics.mid, weightedMid: metrics.weightedMid, time: metrics.time } : null,
      );
    }),
    { numRuns: 200 },
  );
});

Deno.test("engine: reading values along the way changes nothing (live = replay = history)", () => {
  fc.assert(
    fc.property(events, (xs) => {
      const live = createSymbolAnalytics({ vpin: { bucketVolume: 2, buckets: 3 } });
      const later = createSymbolAnalytics({ vpin: { bucketVolume: 2, buckets: 3 } });
      for (const e of xs) {
        for (const engine of [live, later]) {
          if (e.kind === "trade") engine.onTrade(e.trade);
          else engine.onBook(e.top);
        }
        // The live side reads every figure after every event, as a throttled channel would.
        live.value(e.kind === "trade" ? e.trade.eventTime : e.top.time);
      }
      const now = lastTime(xs);
      assert.deepEqual(live.value(now), later.value(now));
    }),
    { numRuns: 200 },
  );
});

Deno.test("engine: a book resync starts OFI over (flagged) and clears the book figures until the next book", () => {
  const engine = createSymbolAnalytics();
  engine.onBook({ bids: [[100, 1]], asks: [[101, 1]], time: 1_000 });
  engine.onBook({ bids: [[100, 3]], asks: [[101, 1]], time: 1_100 });
  // e = +3 − 1 (bid size 1 → 3 at the same price) = 2
  assert.equal(engine.value(1_100, ["ofi"]).ofi?.windows[0].ofi, 2);
  engine.onResync();
  const after = engine.value(1_100, ["ofi", "book", "microprice"]);
  assert.equal(after.ofi?.reset, true, "the first value after a resync says reset");
  assert.equal(after.ofi?.windows[0].ofi, 0, "OFI starts over");
  assert.equal(after.book, null);
  assert.equal(after.microprice, null);
  engine.onBook({ bids: [[100, 2]], asks: [[101, 1]], time: 1_200 });
  // I = 2/3: weighted mid = 2/3·101 + 1/3·100
  assert.ok(
    Math.abs(engine.value(1_200, ["microprice"]).microprice!.weightedMid! - 302 / 3) < 1e-9,
  );
  assert.equal(engine.value(1_200, ["ofi"]).ofi?.reset, false, "flagged once");
});

Deno.test("engine: only the metrics asked for are computed; VPIN needs a bucket volume", () => {
  const engine = createSymbolAnalytics();
  engine.onTrade({ price: 100, quantity: 1, side: "buy", eventTime: 5_000 });
  assert.deepEqual(Object.keys(engine.value(5_000, ["flow"])), ["time", "flow"]);
  assert.equal(engine.value(5_000, ["vpin"]).vpin, null, "no bucket volume: no VPIN");
  assert.deepEqual(
    Object.keys(engine.value(5_000)).sort(),
    ["time", ...METRICS].sort(),
    "every metric by default",
  );
});

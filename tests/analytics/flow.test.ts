import assert from "node:assert/strict";
import fc from "fast-check";
import { createFlow, DAY_MS, type FlowStats } from "../../core/analytics/flow.ts";
import type { Trade } from "../../core/analytics/types.ts";

/** 2026-12-07 12:00:00.000 UTC: the base of the rolling-window dataset. */
const T0 = Date.UTC(2026, 11, 7, 12);
/** 2026-12-08 00:00:00.000 UTC: the day boundary of the session dataset. */
const MIDNIGHT = Date.UTC(2026, 11, 8);

function trade(
  dt: number,
  price: number,
  quantity: number,
  side: "buy" | "sell",
  base = T0,
): Trade {
  return { price, quantity, side, eventTime: base + dt };
}

function close(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null, `${what}: null`);
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} != ${expected}`,
  );
}

// Dataset: windows 1 s and 10 s.
//   #1 t=0     p=100 q=2 buy
//   #2 t=2000  p=101 q=1 sell
//   #3 t=5000  p=99  q=3 buy
//   #4 t=9000  p=102 q=4 sell
const DATASET: Trade[] = [
  trade(0, 100, 2, "buy"),
  trade(2_000, 101, 1, "sell"),
  trade(5_000, 99, 3, "buy"),
  trade(9_000, 102, 4, "sell"),
];

Deno.test("flow: hand-computed 10 s window with all four trades (at t=9000)", () => {
  const flow = createFlow({ windowsMs: [1_000, 10_000] });
  for (const t of DATASET) flow.onTrade(t);
  const v = flow.value(T0 + 9_000);
  const w = v.windows[1];
  // Window (−1000, 9000]: all four trades; nothing before it, so TWAP starts at #1.
  assert.equal(w.windowMs, 10_000);
  assert.equal(w.from, T0 - 1_000);
  assert.equal(w.to, T0 + 9_000);
  assert.equal(w.complete, false); // first trade (t=0) is after the window start
  assert.equal(w.trades, 4);
  // volume = 2 + 1 + 3 + 4 = 10; buy = 2 + 3 = 5; sell = 1 + 4 = 5; share 0.5
  assert.equal(w.volume, 10);
  assert.equal(w.buyVolume, 5);
  assert.equal(w.sellVolume, 5);
  assert.equal(w.buyShare, 0.5);
  // VWAP = (100·2 + 101·1 + 99·3 + 102·4) / 10 = (200 + 101 + 297 + 408) / 10 = 100.6
  close(w.vwap, 100.6, "vwap");
  // TWAP from t=0 to 9000: 100·2000 + 101·3000 + 99·4000 + 102·0 = 899 000; / 9000 = 99.888…
  close(w.twap, 899 / 9, "twap");
  // rates: 4 trades / 10 s = 0.4 /s; 10 / 10 s = 1 /s
  assert.equal(w.tradeRate, 0.4);
  assert.equal(w.volumeRate, 1);
  // 1 s window (8000, 9000]: #4 only; #3 (t=5000) set the price before: 99 for 1000 ms, then 102 for 0.
  const s = v.windows[0];
  assert.equal(s.trades, 1);
  assert.equal(s.vwap, 102);
  close(s.twap, 99, "1 s twap");
  assert.equal(s.complete, true);
});

Deno.test("flow: carried price, eviction at exactly now − W, empty window", () => {
  const flow = createFlow({ windowsMs: [1_000, 10_000] });
  for (const t of DATASET) flow.onTrade(t);
  // now = 9500; 1 s window (8500, 9500]: #4 (t=9000); carried 99 stands 8500..9000 (500 ms),
  // 102 stands 9000..9500 (500 ms): TWAP = (99·500 + 102·500) / 1000 = 100.5
  let s = flow.value(T0 + 9_500).windows[0];
  assert.equal(s.trades, 1);
  close(s.twap, 100.5, "twap at 9500");
  // now = 10000; 10 s window (0, 10000]: #1 at exactly t=0 is evicted, its price carried.
  const v = flow.value(T0 + 10_000);
  const w = v.windows[1];
  assert.equal(w.trades, 3);
  // volume = 1 + 3 + 4 = 8; buy = 3; sell = 1 + 4 = 5; buy share = 3/8 = 0.375
  assert.equal(w.volume, 8);
  assert.equal(w.buyVolume, 3);
  assert.equal(w.sellVolume, 5);
  assert.equal(w.buyShare, 0.375);
  // VWAP = (101·1 + 99·3 + 102·4) / 8 = 806 / 8 = 100.75
  close(w.vwap, 100.75, "vwap");
  // TWAP = (100·2000 + 101·3000 + 99·4000 + 102·1000) / 10 000 = 1 001 000 / 10 000 = 100.1
  close(w.twap, 100.1, "twap");
  // rates: 3 / 10 s = 0.3 /s; 8 / 10 s = 0.8 /s
  close(w.tradeRate, 0.3, "trade rate");
  close(w.volumeRate, 0.8, "volume rate");
  // 1 s window (9000, 10000]: #4 at exactly 9000 evicted: no trade, 102 stood throughout.
  s = v.windows[0];
  assert.equal(s.trades, 0);
  assert.equal(s.volume, 0);
  assert.equal(s.vwap, null);
  assert.equal(s.buyShare, null);
  assert.equal(s.twap, 102);
  assert.equal(s.tradeRate, 0);
  // Much later: every window is empty, the last price still stands.
  const late = flow.value(T0 + 500_000).windows[1];
  assert.equal(late.trades, 0);
  assert.equal(late.twap, 102);
});

Deno.test("flow: the day VWAP starts over at 00:00:00.000 UTC", () => {
  const flow = createFlow({ windowsMs: [10_000] });
  // 23:59:58.000 p=100 q=1 buy; 23:59:59.500 p=110 q=1 sell
  flow.onTrade(trade(-2_000, 100, 1, "buy", MIDNIGHT));
  flow.onTrade(trade(-500, 110, 1, "sell", MIDNIGHT));
  let v = flow.value(MIDNIGHT - 1);
  // Day of 2026-12-07: 2 trades, VWAP = (100 + 110) / 2 = 105
  assert.equal(v.day.dayStart, MIDNIGHT - DAY_MS);
  assert.equal(v.day.trades, 2);
  assert.equal(v.day.vwap, 105);
  // At 00:00:00.000, before any trade of the new day: an empty day of length 0.
  v = flow.value(MIDNIGHT);
  assert.equal(v.day.dayStart, MIDNIGHT);
  assert.equal(v.day.windowMs, 0);
  assert.equal(v.day.trades, 0);
  assert.equal(v.day.volume, 0);
  assert.equal(v.day.vwap, null);
  assert.equal(v.day.twap, null);
  assert.equal(v.day.tradeRate, null);
  assert.equal(v.day.complete, true); // trades followed since 23:59:58, before the day began
  // 00:00:00.000 p=200 q=2 buy belongs to the new day.
  flow.onTrade(trade(0, 200, 2, "buy", MIDNIGHT));
  v = flow.value(MIDNIGHT);
  assert.equal(v.day.trades, 1);
  assert.equal(v.day.vwap, 200);
  assert.equal(v.day.twap, 200); // zero-length window: the price standing at `now`
  assert.equal(v.day.volumeRate, null);
  // 00:00:01.000 p=210 q=2 sell
  flow.onTrade(trade(1_000, 210, 2, "sell", MIDNIGHT));
  v = flow.value(MIDNIGHT + 2_000);
  const d = v.day;
  // Day: VWAP = (200·2 + 210·2) / 4 = 205, nothing of the 100 and 110 of yesterday.
  assert.equal(d.from, MIDNIGHT);
  assert.equal(d.windowMs, 2_000);
  assert.equal(d.trades, 2);
  assert.equal(d.volume, 4);
  assert.equal(d.buyShare, 0.5);
  assert.equal(d.vwap, 205);
  // TWAP from the day's first trade: (200·1000 + 210·1000) / 2000 = 205
  assert.equal(d.twap, 205);
  // rates over the 2 s since midnight: 2 trades / 2 s = 1 /s; 4 / 2 s = 2 /s
  assert.equal(d.tradeRate, 1);
  assert.equal(d.volumeRate, 2);
  // The rolling 10 s window (23:59:52, 00:00:02] crosses midnight and keeps all four trades:
  // VWAP = (100 + 110 + 400 + 420) / 6 = 1030 / 6
  const w = v.windows[0];
  assert.equal(w.trades, 4);
  close(w.vwap, 1030 / 6, "rolling vwap");
  // TWAP from 23:59:58: (100·1500 + 110·500 + 200·1000 + 210·1000) / 4000 = 615 000 / 4000 = 153.75
  close(w.twap, 153.75, "rolling twap");
  // A day with no trade at all: empty again.
  const next = flow.value(MIDNIGHT + DAY_MS + 5_000).day;
  assert.equal(next.dayStart, MIDNIGHT + DAY_MS);
  assert.equal(next.trades, 0);
  assert.equal(next.vwap, null);
  assert.equal(next.twap, null);
  assert.equal(next.tradeRate, 0);
});

Deno.test("flow: default windows; reset forgets and flags the next value", () => {
  const flow = createFlow();
  for (const t of DATASET) flow.onTrade(t);
  const before = flow.value(T0 + 9_000);
  assert.deepEqual(before.windows.map((w) => w.windowMs), [1_000, 10_000, 60_000, 300_000]);
  assert.equal(before.reset, false);
  assert.equal(before.windows[3].trades, 4);
  flow.reset();
  const after = flow.value(T0 + 9_000);
  assert.equal(after.reset, true);
  for (const w of [...after.windows, after.day]) {
    assert.equal(w.trades, 0);
    assert.equal(w.vwap, null);
    assert.equal(w.twap, null); // no price carried across a reset
  }
  assert.equal(flow.value(T0 + 9_000).reset, false);
  flow.onTrade(trade(9_100, 50, 1, "sell"));
  const w = flow.value(T0 + 9_200).windows[3];
  assert.equal(w.trades, 1);
  assert.equal(w.vwap, 50);
  assert.equal(w.twap, 50);
  assert.equal(w.buyShare, 0);
});

Deno.test("flow: invalid options and trades", () => {
  assert.throws(() => createFlow({ windowsMs: [0] }), RangeError);
  assert.throws(() => createFlow({ windowsMs: [1.5] }), RangeError);
  const flow = createFlow({ windowsMs: [1_000] });
  flow.onTrade(trade(0, Number.NaN, 1, "buy"));
  flow.onTrade(trade(0, -1, 1, "buy"));
  flow.onTrade(trade(0, 100, -1, "buy"));
  assert.equal(flow.value(T0).windows[0].trades, 0);
  // A zero-quantity trade counts as a trade but has no VWAP.
  flow.onTrade(trade(0, 100, 0, "buy"));
  const w = flow.value(T0).windows[0];
  assert.equal(w.trades, 1);
  assert.equal(w.vwap, null);
  assert.equal(w.buyShare, null);
  assert.equal(w.twap, 100);
});

// ------------------------------------------------------------ properties --

/** Random trades: strictly random gaps (0..3 s), so windows fill, evict and cross midnight. */
const tradesArb = fc.array(
  fc.record({
    gap: fc.integer({ min: 0, max: 3_000 }),
    price: fc.double({ min: 1, max: 1e5, noNaN: true }),
    quantity: fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
    buy: fc.boolean(),
  }),
  { minLength: 1, maxLength: 200 },
);

function toTrades(rows: { gap: number; price: number; quantity: number; buy: boolean }[]): Trade[] {
  let t = MIDNIGHT - 120_000; // two minutes before a midnight
  return rows.map((r) => {
    t += r.gap;
    return { price: r.price, quantity: r.quantity, side: r.buy ? "buy" : "sell", eventTime: t };
  });
}

const WINDOWS = [1_000, 10_000, 60_000];

/** Every figure of one window by definition, from the raw trades (O(n), the reference). */
function naive(trades: Trade[], from: number, to: number, inclusiveFrom: boolean) {
  const inside = trades.filter((t) =>
    (inclusiveFrom ? t.eventTime >= from : t.eventTime > from) && t.eventTime <= to
  );
  const before = trades.filter((t) => !inside.includes(t) && t.eventTime <= from).at(-1);
  let pq = 0;
  let q = 0;
  let buy = 0;
  for (const t of inside) {
    pq += t.price * t.quantity;
    q += t.quantity;
    if (t.side === "buy") buy += t.quantity;
  }
  // TWAP: walk the price path over [start, to].
  let num = 0;
  let start = inside.length > 0 ? inside[0].eventTime : to;
  let price = before?.price;
  if (before !== undefined) start = from;
  let cursor = start;
  for (const t of inside) {
    if (price !== undefined) num += price * (t.eventTime - cursor);
    cursor = t.eventTime;
    price = t.price;
  }
  if (price !== undefined) num += price * (to - cursor);
  const twap = price === undefined ? null : to > start ? num / (to - start) : price;
  return { trades: inside.length, vwap: q > 0 ? pq / q : null, twap, volume: q, buy };
}

function near(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}

Deno.test("flow property: every window and the day match the definitions", () => {
  fc.assert(
    fc.property(tradesArb, fc.integer({ min: 0, max: 5_000 }), (rows, after) => {
      const trades = toTrades(rows);
      const flow = createFlow({ windowsMs: WINDOWS });
      for (const t of trades) flow.onTrade(t);
      const now = trades.at(-1)!.eventTime + after;
      const v = flow.value(now);
      WINDOWS.forEach((ms, i) => {
        const want = naive(trades, now - ms, now, false);
        const got = v.windows[i];
        assert.equal(got.trades, want.trades);
        assert.ok(near(got.volume, want.volume), `volume ${got.volume} ${want.volume}`);
        assert.ok(near(got.buyVolume, want.buy), `buy ${got.buyVolume} ${want.buy}`);
        assert.ok(near(got.vwap, want.vwap), `vwap ${got.vwap} ${want.vwap}`);
        assert.ok(near(got.twap, want.twap), `twap ${got.twap} ${want.twap}`);
      });
      const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
      const want = naive(trades.filter((t) => t.eventTime >= dayStart), dayStart, now, true);
      assert.equal(v.day.trades, want.trades);
      assert.ok(near(v.day.vwap, want.vwap), `day vwap ${v.day.vwap} ${want.vwap}`);
      assert.ok(near(v.day.twap, want.twap), `day twap ${v.day.twap} ${want.twap}`);
    }),
    { numRuns: 150 },
  );
});

function allStats(v: { windows: readonly FlowStats[]; day: FlowStats }): FlowStats[] {
  return [...v.windows, v.day];
}

Deno.test("flow property: VWAP and TWAP of equal prices are that price, exactly", () => {
  fc.assert(
    fc.property(tradesArb, fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (rows, price) => {
      const flow = createFlow({ windowsMs: WINDOWS });
      const trades = toTrades(rows);
      for (const t of trades) flow.onTrade({ ...t, price });
      for (const s of allStats(flow.value(trades.at(-1)!.eventTime))) {
        if (s.trades > 0) assert.equal(s.vwap, price);
        if (s.twap !== null) assert.equal(s.twap, price);
      }
    }),
    { numRuns: 100 },
  );
});

Deno.test("flow property: VWAP within [min, max]; buy + sell = volume; share in [0, 1]", () => {
  fc.assert(
    fc.property(tradesArb, (rows) => {
      const trades = toTrades(rows);
      const flow = createFlow({ windowsMs: WINDOWS });
      for (const t of trades) flow.onTrade(t);
      const now = trades.at(-1)!.eventTime;
      const v = flow.value(now);
      for (const s of allStats(v)) {
        assert.equal(s.buyVolume + s.sellVolume, s.volume);
        if (s.buyShare !== null) assert.ok(s.buyShare >= 0 && s.buyShare <= 1);
        if (s.vwap === null) continue;
        const prices = trades.filter((t) => t.eventTime > s.from - (s === v.day ? 1 : 0))
          .map((t) => t.price);
        const lo = Math.min(...prices);
        const hi = Math.max(...prices);
        assert.ok(s.vwap >= lo * (1 - 1e-12) && s.vwap <= hi * (1 + 1e-12), `${s.vwap}`);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("flow property: figures do not depend on when value() is called", () => {
  fc.assert(
    fc.property(
      tradesArb,
      fc.array(fc.integer({ min: -1, max: 2_000 }), { maxLength: 200 }),
      (rows, asks) => {
        const trades = toTrades(rows);
        const eager = createFlow({ windowsMs: WINDOWS });
        const lazy = createFlow({ windowsMs: WINDOWS });
        trades.forEach((t, i) => {
          eager.onTrade(t);
          lazy.onTrade(t);
          // Extra reads (up to 2 s after the trade) must change nothing.
          if ((asks[i] ?? -1) >= 0) eager.value(t.eventTime + asks[i]);
        });
        const now = trades.at(-1)!.eventTime + 3_000;
        assert.deepEqual(eager.value(now), lazy.value(now));
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("flow: the ring grows past its initial size and stays exact", () => {
  const flow = createFlow({ windowsMs: [300_000] });
  // 5000 trades 10 ms apart at 100 + (i mod 7), q = 1 + (i mod 3), alternating sides
  let pq = 0;
  let q = 0;
  for (let i = 0; i < 5_000; i++) {
    const t = trade(i * 10, 100 + (i % 7), 1 + (i % 3), i % 2 === 0 ? "buy" : "sell");
    flow.onTrade(t);
    pq += t.price * t.quantity;
    q += t.quantity;
  }
  const w = flow.value(T0 + 49_990).windows[0];
  assert.equal(w.trades, 5_000);
  assert.equal(w.volume, q);
  close(w.vwap, pq / q, "vwap");
});

Deno.test("flow: 20 000 trades through small windows (evictions, rebuilds) match the definitions", () => {
  const flow = createFlow({ windowsMs: [1_000, 10_000] });
  const trades: Trade[] = [];
  // Deterministic pseudo-random path: gaps 0..99 ms, prices around 100, sizes 0.001..10.
  let seed = 7;
  const rnd = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
  let t = MIDNIGHT - 600_000;
  let p = 100;
  for (let i = 0; i < 20_000; i++) {
    t += Math.floor(rnd() * 100);
    p *= 1 + (rnd() - 0.5) * 1e-3;
    const tr: Trade = {
      price: p,
      quantity: 0.001 + rnd() * 10,
      side: rnd() < 0.5 ? "buy" : "sell",
      eventTime: t,
    };
    trades.push(tr);
    flow.onTrade(tr);
    if (i % 4_999 === 0 || i === 19_999) {
      const v = flow.value(t + 37);
      [1_000, 10_000].forEach((ms, k) => {
        const recent = trades.filter((x) => x.eventTime > t + 37 - ms - 2_000);
        const want = naive(recent, t + 37 - ms, t + 37, false);
        assert.equal(v.windows[k].trades, want.trades);
        assert.ok(near(v.windows[k].volume, want.volume));
        assert.ok(near(v.windows[k].buyVolume, want.buy));
        assert.ok(near(v.windows[k].vwap, want.vwap));
        assert.ok(near(v.windows[k].twap, want.twap));
      });
    }
  }
});

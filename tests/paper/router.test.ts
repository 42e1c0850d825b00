import assert from "node:assert/strict";
import { planRoute, type RoutePlan, type RouteVenue } from "../../core/paper/router.ts";
import type { Level } from "../../core/events.ts";
import type { VenueRules } from "../../core/paper/types.ts";

const close = (actual: number | undefined, expected: number, eps = 1e-9) =>
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= eps,
    `${actual} ≠ ${expected}`,
  );

const NOW = 1_700_000_010_000;

const venue = (
  exchange: string,
  symbol: string,
  taker: number,
  book: { bids?: Level[]; asks?: Level[] },
  rules: Partial<VenueRules> = {},
  extra: Partial<RouteVenue> = {},
): RouteVenue => ({
  exchange,
  symbol,
  book: { bids: book.bids ?? [], asks: book.asks ?? [] },
  fees: { maker: 0, taker },
  rules: { exchange, symbol, base: "BTC", quote: "USD", tickSize: 0.01, stepSize: 0.001, ...rules },
  bookTime: NOW - 100,
  ...extra,
});

const plan = (
  side: "buy" | "sell",
  quantity: number,
  venues: RouteVenue[],
  limitPrice?: number,
): RoutePlan => {
  const result = planRoute({ side, quantity, venues, limitPrice, now: NOW, maxBookAgeMs: 1_000 });
  if (!result.ok) throw new Error(result.error.message);
  return result.plan;
};

const legs = (p: RoutePlan) => p.legs.map((l) => [l.exchange, l.quantity]);

/**
 * Three venues whose best levels are cheap but thin:
 * binance taker 0.1 %: asks 100 × 1 (all-in 100.1), 102 × 1 (102.102)
 * coinbase taker 0.2 %: asks 100.1 × 0.5 (100.3002), 103 × 2 (103.206)
 * kraken taker 0.4 %: asks 100 × 0.5 (100.4), 104 × 2 (104.416)
 * Best bids 99.9, 99.8, 99.95.
 */
const THREE = [
  venue("binance", "BTCUSDT", 0.001, { bids: [[99.9, 1]], asks: [[100, 1], [102, 1]] }),
  venue("coinbase", "BTC-USD", 0.002, { bids: [[99.8, 1]], asks: [[100.1, 0.5], [103, 2]] }),
  venue("kraken", "XBT/USD", 0.004, { bids: [[99.95, 1]], asks: [[100, 0.5], [104, 2]] }),
];

Deno.test("router: buying 2 split across three venues beats each venue alone, by 1.75", () => {
  const p = plan("buy", 2, THREE);
  // Cheapest all-in first: binance 1 @ 100.1, coinbase 0.5 @ 100.3002, kraken 0.5 @ 100.4.
  assert.deepEqual(legs(p), [["binance", 1], ["coinbase", 0.5], ["kraken", 0.5]]);
  const [b, c, k] = p.legs;
  // binance: 100 × 1 = 100, fee 0.1, all-in 100.1.
  assert.deepEqual(b.levels, [[100, 1]]);
  assert.equal(b.limitPrice, 100);
  close(b.expectedAveragePrice, 100);
  close(b.fee, 0.1);
  close(b.allInCost, 100.1);
  // coinbase: 100.1 × 0.5 = 50.05, fee 0.1001, all-in 50.1501.
  assert.equal(c.limitPrice, 100.1);
  close(c.notional, 50.05);
  close(c.fee, 0.1001);
  close(c.allInCost, 50.1501);
  // kraken: 100 × 0.5 = 50, fee 0.2, all-in 50.2.
  close(k.fee, 0.2);
  close(k.allInCost, 50.2);
  // Totals: notional 200.05 → average 100.025; fees 0.4001; all-in 200.4501 → 100.22505.
  close(p.totals.quantity, 2);
  close(p.totals.notional, 200.05);
  close(p.totals.averagePrice, 100.025);
  close(p.totals.fees, 0.4001);
  close(p.totals.allInCost, 200.4501);
  close(p.totals.allInAveragePrice, 100.22505);
  assert.equal(p.unfilledQuantity, 0);
  // Consolidated mid: (best bid 99.95 + best ask 100) / 2 = 99.975;
  // slippage (100.025 − 99.975) / 99.975 × 10⁴ = 5.00125… bps.
  close(p.consolidatedMid, 99.975);
  close(p.slippageBps, 0.05 / 99.975 * 1e4);

  // Each venue alone for 2:
  // binance 100 × 1 + 102 × 1 = 202, fee 0.202 → 202.202
  // coinbase 100.1 × 0.5 + 103 × 1.5 = 204.55, fee 0.4091 → 204.9591
  // kraken 100 × 0.5 + 104 × 1.5 = 206, fee 0.824 → 206.824
  const alone = THREE.map((v) => plan("buy", 2, [v]).totals.allInCost);
  close(alone[0], 202.202);
  close(alone[1], 204.9591);
  close(alone[2], 206.824);
  for (const cost of alone) assert.ok(cost > p.totals.allInCost);

  // The report: best single venue binance at 202.202; saving 202.202 − 200.4501 = 1.7519
  // (1.75 to the cent), 1.7519 / 202.202 × 10⁴ = 86.64 bps.
  assert.equal(p.bestSingleVenue?.exchange, "binance");
  assert.equal(p.bestSingleVenue?.fillsAll, true);
  close(p.bestSingleVenue?.allInCost, 202.202);
  close(p.bestSingleVenue?.averagePrice, 101);
  close(p.saving?.amount, 1.7519);
  assert.equal(p.saving?.amount.toFixed(2), "1.75");
  close(p.saving?.bps, 1.7519 / 202.202 * 1e4);
  assert.equal(p.saving?.bps.toFixed(2), "86.64");
  assert.equal(p.saving?.basis, "total");
  assert.deepEqual(p.skipped, []);
  assert.deepEqual(p.dropped, []);
});

Deno.test("router: a cheaper raw price with a high taker fee loses", () => {
  // x: 100 × (1 + 0.5 %) = 100.5 all-in; y: 100.2 × (1 + 0.1 %) = 100.3002 all-in.
  const x = venue("x", "X", 0.005, { asks: [[100, 1]] });
  const y = venue("y", "Y", 0.001, { asks: [[100.2, 1]] });
  const p = plan("buy", 1, [x, y]);
  assert.deepEqual(legs(p), [["y", 1]]);
  close(p.totals.allInCost, 100.3002);
  assert.equal(p.bestSingleVenue?.exchange, "y");
  close(p.saving?.amount, 0);
  // Without fees the raw price would have won.
  const free = plan("buy", 1, [{ ...x, fees: { maker: 0, taker: 0 } }, y]);
  assert.deepEqual(legs(free), [["x", 1]]);
});

Deno.test("router: children rounded to the step; one under its min notional is dropped and re-allocated", () => {
  // All taker 0.1 %. a: step 0.1, asks 100 × 1.25 (100.1 all-in).
  // b: step 0.01, min notional 10, asks 100.5 × 5 (100.6005). c: step 0.001, asks 101 × 5 (101.101).
  const a = venue("a", "A", 0.001, { asks: [[100, 1.25]] }, { stepSize: 0.1 });
  const b = venue("b", "B", 0.001, { asks: [[100.5, 5]] }, { stepSize: 0.01, minNotional: 10 });
  const c = venue("c", "C", 0.001, { asks: [[101, 5]] }, { minNotional: 1 });
  const p = plan("buy", 1.25, [a, b, c]);
  // Pass 1: a 1.25 → rounded down to 1.2. Pass 2: a 1.2, b 0.05: 0.05 × 100.5 = 5.025 < 10,
  // b dropped. Pass 3–4: a 1.2, c 0.05 (5.05 ≥ 1): stable.
  assert.deepEqual(legs(p), [["a", 1.2], ["c", 0.05]]);
  assert.deepEqual(p.dropped, [{
    exchange: "b",
    symbol: "B",
    quantity: 0.05,
    reason: "min_notional",
  }]);
  // a: 120 + 0.12 = 120.12; c: 5.05 + 0.00505 = 5.05505; total 125.17505.
  close(p.totals.allInCost, 125.17505);
  assert.equal(p.unfilledQuantity, 0);
  // Alone: a fills only 1.2 (step); b 1.25 × 100.5 = 125.625 + 0.125625 = 125.750625;
  // c 126.25 + 0.12625 = 126.37625. Best single b; saving 125.750625 − 125.17505 = 0.575575.
  assert.equal(p.bestSingleVenue?.exchange, "b");
  close(p.bestSingleVenue?.allInCost, 125.750625);
  close(p.saving?.amount, 0.575575);
});

Deno.test("router: a child under the venue's minimum quantity leaves nothing: no_route", () => {
  const only = venue("a", "A", 0.001, { asks: [[100, 5]] }, { minQuantity: 0.5 });
  const result = planRoute({
    side: "buy",
    quantity: 0.3,
    venues: [only],
    now: NOW,
    maxBookAgeMs: 1_000,
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.error.code, "no_route");
  assert.match(result.error.message, /a min_quantity/);
});

Deno.test("router: a stale book is skipped and reported, even when cheapest", () => {
  const stale = venue("stale", "S", 0, { asks: [[90, 10]] }, {}, { bookTime: NOW - 5_000 });
  const p = plan("buy", 1, [stale, THREE[0]]);
  assert.deepEqual(legs(p), [["binance", 1]]);
  assert.deepEqual(p.skipped, [{ exchange: "stale", symbol: "S", reason: "stale", ageMs: 5_000 }]);
  // The stale book is not in the consolidated mid either: (99.9 + 100) / 2.
  close(p.consolidatedMid, 99.95);

  const none = planRoute({
    side: "buy",
    quantity: 1,
    venues: [stale],
    now: NOW,
    maxBookAgeMs: 1_000,
  });
  assert.equal(none.ok, false);
  if (!none.ok) assert.match(none.error.message, /stale stale/);
});

Deno.test("router: the limit price bounds the raw level price, fees excluded", () => {
  // Limit 100.05: binance 100 × 1 and kraken 100 × 0.5 qualify; coinbase's 100.1 does not.
  const p = plan("buy", 2, THREE, 100.05);
  assert.deepEqual(legs(p), [["binance", 1], ["kraken", 0.5]]);
  close(p.unfilledQuantity, 0.5);
  // All-in 100.1 + 50.2 = 150.3 for 1.5 → 100.2 a unit.
  close(p.totals.allInCost, 150.3);
  // No venue fills 2 alone within the limit: best per unit is binance (1 at 100.1 a unit);
  // the split fills more but at 0.1 a unit worse: saving (100.1 − 100.2) × 1.5 = −0.15.
  assert.equal(p.bestSingleVenue?.exchange, "binance");
  assert.equal(p.bestSingleVenue?.fillsAll, false);
  close(p.bestSingleVenue?.quantity, 1);
  assert.equal(p.saving?.basis, "per_unit");
  close(p.saving?.amount, -0.15);

  const none = planRoute({
    side: "buy",
    quantity: 1,
    venues: THREE,
    limitPrice: 99,
    now: NOW,
    maxBookAgeMs: 1_000,
  });
  assert.equal(none.ok ? "ok" : none.error.code, "no_route");
});

Deno.test("router: a sell takes the highest all-in bids", () => {
  // a taker 0.1 %: bid 100 × 1 → 99.9. b taker 0.4 %: bids 100.05 × 0.5 → 99.6498, 99 × 5 → 98.604.
  const a = venue("a", "A", 0.001, { bids: [[100, 1]], asks: [[100.1, 1]] });
  const b = venue("b", "B", 0.004, { bids: [[100.05, 0.5], [99, 5]], asks: [[100.3, 1]] });
  const p = plan("sell", 1.5, [a, b]);
  assert.deepEqual(legs(p), [["a", 1], ["b", 0.5]]);
  // a: 100 − 0.1 = 99.9; b: 50.025 − 0.2001 = 49.8249; proceeds 149.7249.
  close(p.totals.allInCost, 149.7249);
  assert.equal(p.legs[1].limitPrice, 100.05);
  // Alone: a fills only 1; b 50.025 + 99 = 149.025 − 0.5961 = 148.4289. Saving 1.296.
  assert.equal(p.bestSingleVenue?.exchange, "b");
  close(p.bestSingleVenue?.allInCost, 148.4289);
  close(p.saving?.amount, 1.296);
  // Mid (100.05 + 100.1) / 2 = 100.075; average (100 + 50.025) / 1.5 = 100.01666…;
  // slippage (100.075 − 100.01666…) / 100.075 × 10⁴ ≈ 5.83 bps.
  close(p.slippageBps, (100.075 - 150.025 / 1.5) / 100.075 * 1e4);
  assert.equal(p.slippageBps?.toFixed(2), "5.83");
  // A sell limit of 100.01 leaves only b's 100.05 level.
  assert.deepEqual(legs(plan("sell", 1.5, [a, b], 100.01)), [["b", 0.5]]);
});

Deno.test("router: quote rates convert each venue's quote into the common one", () => {
  // x quotes in USDT worth 0.998 USD: 100.2 × 1.001 × 0.998 = 100.0995996 USD all-in;
  // y in USD: 100 × 1.001 = 100.1. x wins despite the higher raw price.
  const x = venue("x", "XUSDT", 0.001, { asks: [[100.2, 1]] }, {}, { quoteRate: 0.998 });
  const y = venue("y", "X-USD", 0.001, { asks: [[100, 1]] });
  const p = plan("buy", 1, [x, y]);
  assert.deepEqual(legs(p), [["x", 1]]);
  close(p.legs[0].allInCost, 100.0995996);
  close(p.legs[0].expectedAveragePrice, 100.2); // venue quote
  close(p.totals.averagePrice, 99.9996); // common quote
});

Deno.test("router: malformed input is an invalid_order naming the field", () => {
  const bad = planRoute({
    side: "buy",
    quantity: -1,
    venues: THREE,
    now: NOW,
    maxBookAgeMs: 1_000,
  });
  assert.deepEqual(bad.ok ? undefined : bad.error.code, "invalid_order");
  if (!bad.ok) assert.match(bad.error.message, /^quantity:/);
  const rate = planRoute({
    side: "buy",
    quantity: 1,
    venues: [{ ...THREE[0], quoteRate: 0 }],
    now: NOW,
    maxBookAgeMs: 1_000,
  });
  if (!rate.ok) assert.match(rate.error.message, /^venues\.0\.quoteRate:/);
  else assert.fail("quoteRate 0 accepted");
});

Deno.test("router: the same inputs give the same plan", () => {
  assert.deepEqual(plan("buy", 2, THREE), plan("buy", 2, THREE));
});

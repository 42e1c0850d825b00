/**
 * Analytics of a unified symbol across venues: the trade flow added up window by window
 * (VWAP = Σ p·q / Σ q over every venue's trades) and the microprice of the consolidated top
 * of book; and `GET /api/analytics?symbol=BTC/USDT` on the three emulators.
 */
import assert from "node:assert/strict";
import { createFlow } from "../../core/analytics/flow.ts";
import { consolidatedMicroprice, unifiedFlow } from "../../core/analytics/unified.ts";
import { getJson, waitFor } from "../helpers.ts";
import { startThreeExchanges } from "../server/three_exchanges.ts";

Deno.test("unified flow: volumes, buy/sell and VWAP add up across venues window by window", () => {
  const a = createFlow({ windowsMs: [1_000, 10_000] });
  const b = createFlow({ windowsMs: [1_000, 10_000] });
  // Venue a: buy 1 @ 100 at t=500, sell 2 @ 101 at t=9_500.
  a.onTrade({ price: 100, quantity: 1, side: "buy", eventTime: 500 });
  a.onTrade({ price: 101, quantity: 2, side: "sell", eventTime: 9_500 });
  // Venue b: buy 3 @ 102 at t=9_800.
  b.onTrade({ price: 102, quantity: 3, side: "buy", eventTime: 9_800 });
  const flow = unifiedFlow([
    { exchange: "a", flow: a.value(10_000) },
    { exchange: "b", flow: b.value(10_000) },
  ]);
  // Last 1 s, (9_000, 10_000]: a's sell 2 @ 101 and b's buy 3 @ 102.
  const second = flow.windows[0];
  assert.equal(second.windowMs, 1_000);
  assert.equal(second.trades, 2);
  assert.equal(second.volume, 5);
  assert.equal(second.buyVolume, 3);
  assert.equal(second.sellVolume, 2);
  assert.equal(second.buyShare, 0.6);
  assert.ok(Math.abs(second.vwap! - (2 * 101 + 3 * 102) / 5) < 1e-12); // 101.6
  assert.deepEqual(second.venues, { a: 2, b: 3 });
  // Last 10 s, (0, 10_000]: every trade: (100 + 202 + 306) / 6 = 101.333…
  const ten = flow.windows[1];
  assert.equal(ten.volume, 6);
  assert.ok(Math.abs(ten.vwap! - 608 / 6) < 1e-12);
  assert.ok(Math.abs(ten.tradeRate! - 0.3) < 1e-12); // 3 trades / 10 s
  // The UTC day: every trade too.
  assert.equal(flow.day.volume, 6);
});

Deno.test("unified flow: VWAP of equal prices across venues is that price", () => {
  const venues = ["a", "b", "c"].map((exchange, i) => {
    const flow = createFlow({ windowsMs: [60_000] });
    for (let k = 0; k < 5; k++) {
      flow.onTrade({
        price: 250,
        quantity: 0.1 * (i + k + 1),
        side: k % 2 ? "buy" : "sell",
        eventTime: 1_000 * k,
      });
    }
    return { exchange, flow: flow.value(5_000) };
  });
  assert.equal(unifiedFlow(venues).windows[0].vwap, 250);
});

Deno.test("consolidated microprice: best bid and ask across venues, weighted by their sizes", () => {
  const m = consolidatedMicroprice([
    { exchange: "a", bid: [100, 1], ask: [102, 1] },
    { exchange: "b", bid: [99, 5], ask: [101, 3] },
  ]);
  assert.deepEqual(m.bid, { price: 100, quantity: 1, exchange: "a" });
  assert.deepEqual(m.ask, { price: 101, quantity: 3, exchange: "b" });
  assert.equal(m.mid, 100.5);
  // I = 1 / (1 + 3) = 0.25: 0.25·101 + 0.75·100 = 100.25
  assert.equal(m.weightedMid, 100.25);
  // Venues that cross each other give no mid.
  const crossed = consolidatedMicroprice([
    { exchange: "a", bid: [103, 1], ask: [104, 1] },
    { exchange: "b", bid: [101, 1], ask: [102, 1] },
  ]);
  assert.equal(crossed.crossed, true);
  assert.equal(crossed.weightedMid, null);
});

interface Window {
  windowMs: number;
  volume: number;
  vwap: number;
}
interface Side {
  price: number;
  exchange: string;
}
interface UnifiedBody {
  venues: { exchange: string; flow: { windows: Window[] } }[];
  consolidated: {
    flow: { windows: Window[] };
    microprice: { bid: Side | null; ask: Side | null; crossed: boolean };
  };
}

Deno.test("GET /api/analytics with a unified symbol: each venue's figures and their sum", async () => {
  const stack = await startThreeExchanges({ seed: 41, channels: ["trade", "book"] });
  try {
    let body: UnifiedBody | undefined;
    await waitFor(
      async () => {
        const res = await getJson(
          stack.gateway,
          "/api/analytics?symbol=BTC/USDT&metrics=flow,microprice",
        );
        body = res.body as unknown as UnifiedBody;
        return res.status === 200 && body.venues.length === 3 &&
          body.venues.every((v) => v.flow.windows[2].volume > 0);
      },
      20_000,
      "trades of BTC/USDT on all three venues in the last minute",
    );
    const { venues, consolidated } = body!;
    assert.deepEqual(venues.map((v) => v.exchange), ["binance", "coinbase", "kraken"]);
    const minute = consolidated.flow.windows[2];
    assert.equal(minute.windowMs, 60_000);
    const parts = venues.map((v) => v.flow.windows[2]);
    const volume = parts.reduce((s, w) => s + w.volume, 0);
    const notional = parts.reduce((s, w) => s + w.vwap * w.volume, 0);
    assert.ok(Math.abs(minute.volume - volume) < 1e-9);
    assert.ok(Math.abs(minute.vwap - notional / volume) < 1e-9);
    const { bid, ask, crossed } = consolidated.microprice;
    assert.ok(bid && ask, "both sides of the consolidated book");
    assert.ok(["binance", "coinbase", "kraken"].includes(bid.exchange));
    assert.ok(bid.price < ask.price || crossed);
    const bad = await getJson(stack.gateway, "/api/analytics?symbol=BTCUSDT");
    assert.equal(bad.status, 400);
    assert.match((bad.body.error as { message: string }).message, /unified/);
  } finally {
    await stack.close();
  }
});

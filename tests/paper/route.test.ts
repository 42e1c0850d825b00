/**
 * Smart order routing through the gateway on the three emulators: `POST /api/paper/route`
 * splits a BTC/USDT buy across Binance, Coinbase and Kraken by all-in cost, executes the
 * children on the simulated venues and reports the plan, the child fills, the achieved
 * average price and the saving against the best single venue; the plan's limit prices keep
 * each child on its venue's tick.
 */
import assert from "node:assert/strict";
import { startThreeExchanges } from "../server/three_exchanges.ts";
import { connect } from "../helpers.ts";

interface Leg {
  exchange: string;
  quantity: number;
  limitPrice: number;
}
interface Child {
  exchange: string;
  status: string;
  filledQuantity: number;
  averagePrice?: number;
}
interface Route {
  side: string;
  status: string;
  quantity: number;
  plan: {
    legs: Leg[];
    totals: { quantity: number; allInAveragePrice: number };
    bestSingleVenue?: { exchange: string; allInAveragePrice: number };
    saving?: { amount: number };
  };
  children: Child[];
  filledQuantity: number;
  averagePrice: number | null;
  allInAveragePrice: number | null;
  achievedSaving: number | null;
  simulated: boolean;
}

Deno.test("route over REST and /ws: a BTC/USDT buy split across three venues, its children filled and reported", async () => {
  const stack = await startThreeExchanges({
    seed: 71,
    channels: ["trade", "book"],
    gateway: { paperBalances: "USDT=10000000,USD=10000000,BTC=10" },
  });
  try {
    // This account pays 0.1 % taker everywhere (Coinbase's and Kraken's base tiers, 1.2 % and
    // 0.4 %, would make Binance's book the cheapest for any size).
    const fees = { maker: 0.001, taker: 0.001 };
    const reset = await fetch(`${stack.gateway.url}/api/paper/reset`, {
      method: "POST",
      body: JSON.stringify({
        balances: { USDT: 10_000_000, BTC: 10 },
        fees: { binance: fees, coinbase: fees, kraken: fees },
      }),
    });
    assert.equal(reset.status, 200, await reset.clone().text());
    await reset.body?.cancel();
    const res = await fetch(`${stack.gateway.url}/api/paper/route`, {
      method: "POST",
      body: JSON.stringify({ symbol: "BTC/USDT", side: "buy", quantity: 3 }),
    });
    const route = await res.json() as Route;
    assert.equal(res.status, 201, JSON.stringify(route));
    assert.equal(route.simulated, true);
    assert.equal(route.status, "done", "no latency: every child ended at once");
    const legs = route.plan.legs;
    assert.ok(legs.length >= 2, `split across venues: ${JSON.stringify(legs)}`);
    assert.ok(
      Math.abs(legs.reduce((s, l) => s + l.quantity, 0) - route.plan.totals.quantity) < 1e-9,
    );
    // Every child was sent as the plan says and filled on its own venue.
    for (const leg of legs) {
      const child = route.children.find((c) => c.exchange === leg.exchange)!;
      assert.equal(child.status, "filled", `${leg.exchange}: ${JSON.stringify(child)}`);
      assert.ok(
        Math.abs(child.filledQuantity - leg.quantity) < 1e-9,
        `${JSON.stringify(child)} ${JSON.stringify({ ...leg, levels: undefined })}`,
      );
      assert.ok(child.averagePrice! <= leg.limitPrice, "never above the child's limit");
    }
    assert.ok(Math.abs(route.filledQuantity - route.plan.totals.quantity) < 1e-9);
    // On books that did not move between plan and execution, the fills are the plan.
    assert.ok(
      Math.abs(route.allInAveragePrice! - route.plan.totals.allInAveragePrice) < 1e-6,
      `${route.allInAveragePrice} vs plan ${route.plan.totals.allInAveragePrice}`,
    );
    // The split is no worse than the best single venue; the report says by how much.
    assert.ok(route.plan.bestSingleVenue, "the best single venue is reported");
    assert.ok(route.plan.saving!.amount >= 0, JSON.stringify(route.plan.saving));
    assert.ok(route.achievedSaving !== null);

    // The same over /ws; a bad request is an error frame on a connection that stays open.
    const client = await connect(stack.gateway);
    client.send({ action: "route", id: "r1", symbol: "BTC/USDT", side: "sell", quantity: 0.5 });
    const done = await client.next(
      (f) => f.type === "route" && f.id === "r1",
      10_000,
      0,
      "the route",
    );
    const sell = done.route as Route;
    assert.equal(sell.side, "sell");
    assert.equal(sell.status, "done");
    assert.ok(
      Math.abs(sell.filledQuantity - sell.plan.totals.quantity) < 1e-9,
      "every planned unit sold",
    );
    client.send({ action: "route", id: "r2", symbol: "BTCUSDT", side: "buy", quantity: 1 });
    const error = await client.next((f) => f.id === "r2", 5000, 0, "the error");
    assert.equal(error.type, "error");
    assert.equal(error.code, "invalid_order");
    await client.close();
  } finally {
    await stack.close();
  }
});

import assert from "node:assert/strict";
import { connect, gatewayWith, getJson, scriptedFeed, waitFor } from "../helpers.ts";

Deno.test("the hub loses nothing: a 200,000-trade burst from a plugin Worker arrives complete and in order", async () => {
  const burst = 100_000;
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT", "ETHUSDT"], { burst })]);
  const client = await connect(gateway);
  try {
    // The burst starts as soon as the Worker runs, so count at the hub (market state)
    // and through a client subscribed before a second, identical burst would be unfair;
    // the hub's own counts are the authority here.
    await waitFor(
      async () => {
        const { body } = await getJson(gateway, "/api/market_data");
        const data = body.data as { counts: { trade: number } }[];
        return data.length === 2 && data.every((d) => d.counts.trade === burst);
      },
      30_000,
      "every burst trade to reach the hub",
    );
    const { body } = await getJson(gateway, "/api/market_data?symbol=ETHUSDT");
    const [eth] = body.data as { lastTrade: { tradeId: number }; counts: { quote: number } }[];
    assert.equal(eth.lastTrade.tradeId, burst, "the last trade is the last one sent");
    assert.equal(eth.counts.quote, burst);
    const health = await getJson(gateway, "/health");
    const [feed] = health.body.feeds as {
      lostBatches: number;
      events: number;
      conflatedInWorker: number;
    }[];
    assert.equal(feed.lostBatches, 0, "no batch missing between Worker and hub");
    assert.equal(feed.conflatedInWorker, 0, "a burst the hub keeps up with conflates nothing");
    assert.equal(feed.events, 4 * burst + 1, "trades + quotes of both symbols + instruments");
  } finally {
    await client.close();
    await gateway.close();
  }
});

Deno.test("a subscribed client receives every trade of a fast feed exactly once, in order", async () => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"], { perTick: 40, tickMs: 5 })]);
  const client = await connect(gateway);
  try {
    client.send({ action: "subscribe", symbols: ["BTCUSDT"], raw: false });
    let trades = 0;
    let scanned = 0;
    await client.until(
      (fs) => {
        for (; scanned < fs.length; scanned++) if (fs[scanned].type === "trade") trades++;
        return trades >= 20_000;
      },
      30_000,
      "20,000 trades",
    );
    const ids = client.frames.filter((f) => f.type === "trade").map((f) => f.tradeId as number);
    for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1);
  } finally {
    await client.close();
    await gateway.close();
  }
});

Deno.test("two gateways in one process: shutting one down does not stop the other's plugins", async () => {
  const a = await gatewayWith([scriptedFeed(["BTCUSDT"], { tickMs: 10 })]);
  const b = await gatewayWith([scriptedFeed(["BTCUSDT"], { tickMs: 10 })]);
  try {
    await waitFor(
      async () => {
        const { body } = await getJson(b, "/health");
        return (body.feeds as { state: string }[])[0].state === "connected";
      },
      5000,
      "b connected",
    );
    await a.close();
    const before = ((await getJson(b, "/health")).body.feeds as { events: number }[])[0].events;
    await waitFor(
      async () =>
        ((await getJson(b, "/health")).body.feeds as { events: number }[])[0].events > before + 10,
      5000,
      "b's plugin to produce 10 more events after a closed",
    );
    const { body } = await getJson(b, "/health");
    const [feed] = body.feeds as { state: string; events: number; restarts: number }[];
    assert.equal(feed.state, "connected");
    assert.equal(feed.restarts, 0);
    assert.ok(feed.events > before, "b's plugin keeps producing");
  } finally {
    await a.close();
    await b.close();
  }
});

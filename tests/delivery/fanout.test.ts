import assert from "node:assert/strict";
import { connect, gatewayWith, getJson, scriptedFeed, type TestClient } from "../helpers.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"];

Deno.test("200 concurrent clients each receive exactly their own subscriptions", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS, { perTick: 1, tickMs: 10 })]);
  const clients: TestClient[] = [];
  try {
    const wanted: string[][] = [];
    for (let i = 0; i < 200; i++) {
      // client i wants one, two or three symbols, with or without raw
      const mine = SYMBOLS.filter((_, k) => (i >> k) % 2 === 1 || k === i % 4).slice(
        0,
        1 + (i % 3),
      );
      wanted.push(mine);
      clients.push(await connect(gateway));
    }
    clients.forEach((c, i) =>
      c.send({ action: "subscribe", symbols: wanted[i], raw: i % 2 === 0, id: i })
    );
    await Promise.all(clients.map((c) => c.next((f) => f.type === "subscribed", 10_000, 0)));
    // every client needs at least 10 trades of each of its symbols
    await Promise.all(
      clients.map((c, i) =>
        c.until(
          (fs) =>
            wanted[i].every((s) =>
              fs.filter((f) => f.type === "trade" && f.symbol === s).length >= 10
            ),
          20_000,
        )
      ),
    );
    clients.forEach((c, i) => {
      const trades = c.frames.filter((f) => f.type === "trade");
      const got = new Set(trades.map((f) => f.symbol as string));
      assert.deepEqual([...got].sort(), [...wanted[i]].sort(), `client ${i} got only its symbols`);
      for (const symbol of wanted[i]) {
        const ids = trades.filter((f) => f.symbol === symbol).map((f) => f.tradeId as number);
        for (let k = 1; k < ids.length; k++) {
          assert.equal(ids[k], ids[k - 1] + 1, `client ${i} ${symbol}: consecutive trade ids`);
        }
      }
      assert.equal(
        trades.every((f) => ("raw" in f) === (i % 2 === 0)),
        true,
        `client ${i} raw form`,
      );
    });
    assert.equal(gateway.clientCount(), 200);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await gateway.close();
  }
});

Deno.test("batched clients (?batch=1) receive JSON arrays holding the same events", async () => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"], { perTick: 20, tickMs: 10 })]);
  const plain = await connect(gateway);
  const batched = await connect(gateway, "/ws?batch=1");
  try {
    plain.send({ action: "subscribe", symbols: ["BTCUSDT"] });
    batched.send({ action: "subscribe", symbols: ["BTCUSDT"] });
    await batched.until((fs) => fs.some((f) => Array.isArray(f) && f.length > 1), 10_000);
    const events = (batched.frames as unknown as Record<string, unknown>[][]).flat();
    assert.ok(events.some((e) => e.type === "subscribed"));
    const ids = events.filter((e) => e.type === "trade").map((e) => e.tradeId as number);
    for (let k = 1; k < ids.length; k++) assert.equal(ids[k], ids[k - 1] + 1);
    assert.ok(
      plain.frames.every((f) => !Array.isArray(f)),
      "the default stays one event per frame",
    );
  } finally {
    await plain.close();
    await batched.close();
    await gateway.close();
  }
});

Deno.test("a subscription made before a feed reports its instruments moves to the exchange's native symbol", async () => {
  // The feed streams BTC-USDT and ETH-USDT but only says so after 300 ms.
  const gateway = await gatewayWith([
    scriptedFeed(["BTCUSDT", "ETHUSDT"], { dashed: true, instrumentsDelayMs: 300, tickMs: 10 }),
  ]);
  const client = await connect(gateway);
  try {
    client.send({ action: "subscribe", symbols: ["BTCUSDT"], id: "early" });
    await client.next((f) => f.type === "subscribed" && f.id === "early");
    const trade = await client.next((f) => f.type === "trade", 5000);
    assert.equal(trade.symbol, "BTC-USDT");
    assert.equal(trade.unified, "BTC/USDT");
    client.send({ action: "list", id: "l" });
    const list = await client.next((f) => f.type === "subscriptions" && f.id === "l");
    assert.deepEqual(
      (list.subscriptions as { symbol: string }[]).map((s) => s.symbol),
      ["BTC-USDT"],
    );
  } finally {
    await client.close();
    await gateway.close();
  }
});

Deno.test("a unified name subscribed before a feed reports its instruments gets that exchange once they arrive", async () => {
  // Configured as a unified name and as a joined one; the feed streams BTC-USDT and ETH-USDT
  // but reports its instrument list only after 1.5 s.
  const gateway = await gatewayWith([
    scriptedFeed(["BTC/USDT", "ETHUSDT"], { dashed: true, instrumentsDelayMs: 1500, tickMs: 10 }),
  ]);
  const client = await connect(gateway);
  try {
    client.send({
      action: "subscribe",
      symbols: ["BTC/USDT", "ETH/USDT"],
      channels: ["trade", "consolidated"],
      id: "early",
    });
    const ack = await client.next((f) => f.id === "early");
    const { body } = await getJson(gateway, "/api/symbols");
    const listing = (body.exchanges as { exchange: string; instruments: unknown[] }[])
      .find((l) => l.exchange === "scripted");
    assert.equal(
      listing?.instruments.length,
      0,
      "the subscription must be made before the instruments arrive",
    );
    assert.equal(ack.type, "subscribed", `expected an ack, got ${JSON.stringify(ack)}`);
    assert.deepEqual(ack.exchanges, ["scripted"]);
    const btc = await client.next((f) => f.type === "trade" && f.symbol === "BTC-USDT", 10_000);
    assert.equal(btc.unified, "BTC/USDT");
    const eth = await client.next((f) => f.type === "trade" && f.symbol === "ETH-USDT", 10_000);
    assert.equal(eth.unified, "ETH/USDT");
    for (const symbol of ["BTC/USDT", "ETH/USDT"]) {
      const quote = await client.next((f) => f.type === "consolidated" && f.symbol === symbol);
      assert.deepEqual((quote.venues as { exchange: string }[]).map((v) => v.exchange), [
        "scripted",
      ]);
    }
    client.send({ action: "list", id: "l" });
    const list = await client.next((f) => f.type === "subscriptions" && f.id === "l");
    assert.deepEqual(
      (list.subscriptions as { channel: string; symbol: string }[])
        .map((s) => `${s.channel} ${s.symbol}`).sort(),
      ["consolidated BTC/USDT", "consolidated ETH/USDT", "trade BTC-USDT", "trade ETH-USDT"],
    );
  } finally {
    await client.close();
    await gateway.close();
  }
});

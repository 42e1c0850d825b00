/**
 * The typed client (client.ts) against a real gateway with the scripted feed: typed frames
 * by type, batched delivery, request/reply by id, and recovery after the connection is cut
 * (through a proxy the test controls): the client reconnects by itself, subscribes again with
 * `since` and the epoch, and every trade arrives exactly once, in order.
 */
import assert from "node:assert/strict";
import { connect, type QuantClient, type TradeFrame } from "../../client.ts";
import { gatewayWith, scriptedFeed, waitFor } from "../helpers.ts";
import { startProxy } from "./_proxy.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

const wsUrl = (httpUrl: string, path = "/ws") => httpUrl.replace("http", "ws") + path;

/** Checks that each symbol's trade ids run on by 1 from the first one seen: no hole, no repeat. */
function assertConsecutive(trades: TradeFrame[]): void {
  const last = new Map<string, number>();
  for (const t of trades) {
    const before = last.get(t.symbol);
    if (before !== undefined) {
      assert.equal(t.tradeId, before + 1, `${t.symbol}: trade ${t.tradeId} follows ${before}`);
    }
    last.set(t.symbol, t.tradeId as number);
  }
}

for (const path of ["/ws", "/ws?batch=1"]) {
  Deno.test(`client on ${path}: subscribe resolves with the subscribed frame; trades arrive typed`, async () => {
    const gateway = await gatewayWith([scriptedFeed(SYMBOLS)]);
    const client = connect({ url: wsUrl(gateway.url, path) });
    try {
      const trades: TradeFrame[] = [];
      client.on("trade", (t) => trades.push(t));
      const subscribed = await client.subscribe({ symbols: SYMBOLS, raw: false });
      assert.equal(subscribed.type, "subscribed");
      assert.deepEqual(subscribed.channels, ["trade"]);
      assert.equal(typeof subscribed.epoch, "string");
      assert.equal(client.state, "open");
      await waitFor(() => trades.length >= 20, 5000, "20 trades");
      for (const t of trades) {
        assert.equal(t.exchange, "scripted");
        assert.equal(typeof t.price, "number");
        assert.equal(typeof t.pos, "number");
        assert.equal(t.raw, undefined, "raw: false");
      }
      assertConsecutive(trades);
      const pong = await client.request({ action: "ping" });
      assert.equal(pong.type, "pong");
      const err = await client.request({ action: "subscribe", symbols: ["NOPE"] }).then(
        () => undefined,
        (e) => e,
      );
      assert.equal(err.name, "ClientError");
      assert.equal(err.code, "unknown_symbol");
      await client.unsubscribe({ symbols: SYMBOLS });
      const count = trades.length;
      const listed = await client.request({ action: "list" });
      assert.equal(listed.type === "subscriptions" && listed.subscriptions.length, 0);
      assert.equal(trades.length, count, "no trade after the unsubscribed reply");
    } finally {
      client.close();
      await gateway.close();
    }
  });
}

Deno.test("client: after the connection is cut, it reconnects and recovers every missed trade exactly once", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)]);
  const proxy = startProxy(wsUrl(gateway.url, ""));
  const client: QuantClient = connect({
    url: proxy.url + "/ws?batch=1",
    reconnect: { baseMs: 300, capMs: 600 },
  });
  try {
    const trades: TradeFrame[] = [];
    const recovered: number[] = [];
    const states: string[] = [];
    client.on("trade", (t) => trades.push(t));
    client.on("recovered", (r) => recovered.push(r.streams.reduce((n, s) => n + s.frames, 0)));
    client.onState((s) => states.push(s));
    await client.subscribe({ symbols: SYMBOLS, raw: false });
    for (let round = 1; round <= 2; round++) {
      await waitFor(() => trades.length >= 20 * round, 5000, `${20 * round} trades`);
      proxy.cut();
      await waitFor(() => client.state === "reconnecting", 2000, "the client noticed the cut");
      await waitFor(() => recovered.length === round, 5000, `recovery ${round}`);
    }
    const total = trades.length;
    await waitFor(() => trades.length >= total + 20, 5000, "live trades after the recovery");
    assertConsecutive(trades);
    assert.ok(recovered.every((n) => n > 0), `each recovery replayed missed trades: ${recovered}`);
    assert.deepEqual(states, ["open", "reconnecting", "open", "reconnecting", "open"]);
    for (const symbol of SYMBOLS) {
      const ids = trades.filter((t) => t.symbol === symbol).map((t) => t.tradeId);
      assert.equal(new Set(ids).size, ids.length, `${symbol}: no duplicates`);
    }
  } finally {
    client.close();
    await proxy.close();
    await gateway.close();
  }
});

Deno.test("client: a request queued before the socket opens is sent on open; close() rejects what is pending", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)]);
  const client = connect({ url: wsUrl(gateway.url) });
  try {
    assert.equal(client.state, "connecting");
    const pong = await client.request({ action: "ping", id: "early" });
    assert.deepEqual([pong.type, (pong as { id?: unknown }).id], ["pong", "early"]);
    const never = client.subscribe({ symbols: ["BTCUSDT"] });
    client.close();
    const err = await never.then(() => undefined, (e) => e);
    // Either answered before close() or rejected by it; never left hanging.
    assert.ok(err === undefined || err.code === "closed", String(err));
    assert.equal(client.state, "closed");
  } finally {
    client.close();
    await gateway.close();
  }
});

Deno.test("client token: sent as the bearer subprotocol; without it the refused client gives up after maxAttempts", async () => {
  const key = "client-test-key-0001";
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)], { apiKeys: key });
  const good = connect({ url: wsUrl(gateway.url), token: key });
  const bad = connect({ url: wsUrl(gateway.url), reconnect: { baseMs: 10, maxAttempts: 2 } });
  const states: string[] = [];
  bad.onState((s) => states.push(s));
  try {
    const subscribed = await good.subscribe({ symbols: ["BTCUSDT"] });
    assert.equal(subscribed.type, "subscribed");
    const err = await bad.subscribe({ symbols: ["BTCUSDT"] }).then(() => undefined, (e) => e);
    assert.equal(err?.code, "closed", "the pending subscribe is rejected once it gives up");
    assert.deepEqual(states, ["reconnecting", "closed"], "two retries, then closed");
  } finally {
    good.close();
    bad.close();
    await gateway.close();
  }
});

Deno.test("client: a gateway restarted on the same port (a new epoch) gets epoch_changed gaps and the client goes on live", async () => {
  let gateway = await gatewayWith([scriptedFeed(SYMBOLS)]);
  const port = gateway.port;
  const client = connect({ url: wsUrl(gateway.url), reconnect: { baseMs: 50, capMs: 200 } });
  try {
    const trades: TradeFrame[] = [];
    const gaps: string[] = [];
    client.on("trade", (t) => trades.push(t));
    client.on("gap", (g) => gaps.push(`${g.symbol}:${g.reason}`));
    const first = await client.subscribe({ symbols: SYMBOLS, raw: false });
    await waitFor(() => trades.length >= 100, 5000, "100 trades");
    await gateway.close();
    const before = trades.length;
    gateway = await gatewayWith([scriptedFeed(SYMBOLS)], { port });
    await waitFor(() => trades.length >= before + 20, 10_000, "20 trades from the new gateway");
    assert.deepEqual(gaps.sort(), SYMBOLS.map((s) => `${s}:epoch_changed`).sort());
    // Positions start over in the new epoch: without forgetting the old ones, every new frame
    // would look like a duplicate and be dropped.
    assertConsecutive(trades.slice(before));
    assert.ok(
      trades[before].pos! < trades[before - 1].pos!,
      `the first trade of the new epoch is taken though its pos (${trades[before].pos}) is below ` +
        `the last one of the old epoch (${trades[before - 1].pos})`,
    );
    assert.ok(first.epoch !== undefined);
  } finally {
    client.close();
    await gateway.close();
  }
});

import assert from "node:assert/strict";
import { connect, gatewayWith, getJson, scriptedFeed } from "../helpers.ts";

Deno.test("client protocol", async (t) => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT", "ETHUSDT"])], {
    maxSubscriptions: 6,
    maxFrameBytes: 1024,
    maxClientMessagesPerSecond: 20,
  });
  const client = await connect(gateway);
  try {
    await t.step("subscribe is acknowledged, then trades arrive in the seed's format", async () => {
      client.send({ action: "subscribe", symbols: ["BTCUSDT"], id: 1 });
      const ack = await client.next((f) => f.type === "subscribed");
      assert.equal(ack.id, 1);
      assert.deepEqual(ack.channels, ["trade"]);
      assert.deepEqual(ack.exchanges, ["scripted"]);
      const trade = await client.next((f) => f.type === "trade");
      assert.equal(trade.symbol, "BTCUSDT");
      assert.equal(trade.exchange, "scripted");
      assert.equal(typeof trade.price, "number");
      assert.equal(typeof trade.quantity, "number");
      assert.ok(!Number.isNaN(Date.parse(trade.timestamp as string)));
      assert.deepEqual(trade.raw, { id: trade.tradeId });
      assert.equal(trade.price, 100 + (trade.tradeId as number) / 100);
      assert.ok(trade.side === "buy" || trade.side === "sell");
      assert.equal(typeof trade.eventTime, "number");
      assert.equal(typeof trade.receiveTime, "number");
    });

    await t.step("a status frame tells the client the feed is an emulator", async () => {
      const status = await client.next(
        (f) => f.type === "status" && f.state === "connected",
        5000,
        0,
      );
      assert.equal(status.exchange, "scripted");
      assert.equal(status.emulator, true);
    });

    await t.step("only subscribed symbols arrive", async () => {
      const from = client.frames.length;
      await client.until((fs) => fs.slice(from).filter((f) => f.type === "trade").length >= 5);
      const symbols = new Set(
        client.frames.slice(from).filter((f) => f.type === "trade").map((f) => f.symbol),
      );
      assert.deepEqual([...symbols], ["BTCUSDT"]);
    });

    await t.step("raw:false omits the raw field; quote channel gives best bid/ask", async () => {
      client.send({
        action: "subscribe",
        symbols: ["ETHUSDT"],
        channels: ["quote"],
        raw: false,
        id: "q",
      });
      await client.next((f) => f.type === "subscribed" && f.id === "q");
      const quote = await client.next((f) => f.type === "quote" && f.symbol === "ETHUSDT");
      assert.equal("raw" in quote, false);
      assert.ok((quote.bidPrice as number) < (quote.askPrice as number));
      assert.equal(quote.bidQuantity, 2);
      assert.equal(quote.askQuantity, 3);
    });

    await t.step("list reports the current subscriptions", async () => {
      client.send({ action: "list", id: 7 });
      const list = await client.next((f) => f.type === "subscriptions");
      assert.equal(list.id, 7);
      const subs = list.subscriptions as { symbol: string; channel: string; raw: boolean }[];
      assert.deepEqual(
        subs.map((s) => `${s.symbol}/${s.channel}/${s.raw}`).sort(),
        ["BTCUSDT/trade/true", "ETHUSDT/quote/false"],
      );
    });

    await t.step("unsubscribe stops the stream", async () => {
      client.send({ action: "unsubscribe", symbols: ["BTCUSDT"], id: 2 });
      const ack = await client.next((f) => f.type === "unsubscribed");
      assert.equal(ack.removed, 1);
      const mark = client.frames.length;
      await client.until((fs) => fs.slice(mark).filter((f) => f.type === "quote").length >= 3);
      assert.equal(
        client.frames.slice(mark).filter((f) => f.type === "trade" && f.symbol === "BTCUSDT")
          .length,
        0,
      );
    });

    await t.step("ping is answered with pong", async () => {
      client.send({ action: "ping", id: 9 });
      const pong = await client.next((f) => f.type === "pong");
      assert.equal(pong.id, 9);
    });

    const expectError = async (frame: unknown, code: string, id?: unknown) => {
      const from = client.frames.length;
      client.send(frame);
      const err = await client.next((f) => f.type === "error", 5000, from);
      assert.equal(err.code, code, JSON.stringify(err));
      assert.equal(typeof err.message, "string");
      if (id !== undefined) assert.equal(err.id, id);
    };

    await t.step("every error has a stable code and keeps the connection open", async (t) => {
      await t.step("bad_json", () => expectError("{nope", "bad_json"));
      await t.step("invalid_request: not an object", () => expectError("[1,2]", "invalid_request"));
      await t.step(
        "invalid_request: missing action",
        () => expectError({ symbols: [] }, "invalid_request"),
      );
      await t.step(
        "unknown_action",
        () => expectError({ action: "dance", id: 3 }, "unknown_action", 3),
      );
      await t.step(
        "invalid_request: missing symbols",
        () => expectError({ action: "subscribe", id: 4 }, "invalid_request", 4),
      );
      await t.step(
        "invalid_request: unknown field",
        () =>
          expectError(
            { action: "subscribe", symbols: ["BTCUSDT"], colour: "red" },
            "invalid_request",
          ),
      );
      await t.step(
        "unknown_symbol",
        () =>
          expectError({ action: "subscribe", symbols: ["DOGEUSDT"], id: 5 }, "unknown_symbol", 5),
      );
      await t.step(
        "unknown_channel",
        () =>
          expectError(
            { action: "subscribe", symbols: ["BTCUSDT"], channels: ["news"] },
            "unknown_channel",
          ),
      );
      await t.step(
        "unknown_exchange",
        () =>
          expectError(
            { action: "subscribe", symbols: ["BTCUSDT"], exchanges: ["mtgox"] },
            "unknown_exchange",
          ),
      );
      await t.step(
        "frame_too_large",
        () => expectError({ action: "ping", id: "x".repeat(2000) }, "frame_too_large"),
      );
      await t.step("binary_not_supported", async () => {
        const from = client.frames.length;
        client.socket.send(new Uint8Array([1, 2, 3]));
        const err = await client.next((f) => f.type === "error", 5000, from);
        assert.equal(err.code, "binary_not_supported");
      });
      await t.step("too_many_subscriptions", () =>
        expectError(
          {
            action: "subscribe",
            symbols: ["BTCUSDT", "ETHUSDT"],
            channels: ["trade", "quote", "kline", "book"],
          },
          "too_many_subscriptions",
        ));
      assert.equal(client.socket.readyState, WebSocket.OPEN);
      client.send({ action: "ping", id: "still-alive" });
      await client.next((f) => f.type === "pong" && f.id === "still-alive");
    });

    await t.step("a flood gets rate_limited errors, and a heavy flood a disconnect", async () => {
      const flooder = await connect(gateway);
      for (let i = 0; i < 30; i++) flooder.send({ action: "ping" });
      await flooder.next((f) => f.type === "error" && f.code === "rate_limited");
      const closed = new Promise<number>((r) =>
        flooder.socket.addEventListener("close", (e) => r(e.code))
      );
      // 4 × the limit within one second closes the connection with 1008 (policy violation).
      for (let i = 30; i < 81; i++) flooder.send({ action: "ping" });
      assert.equal(await closed, 1008);
      await flooder.close();
      // other clients are unaffected
      client.send({ action: "ping", id: "after-flood" });
      await client.next((f) => f.type === "pong" && f.id === "after-flood");
    });

    await t.step("errors are counted in /metrics", async () => {
      const text = await (await fetch(gateway.url + "/metrics")).text();
      assert.match(text, /quant_client_errors_total\{code="bad_json"\} 1/);
      const health = await getJson(gateway, "/health");
      assert.equal(health.status, 200);
    });
  } finally {
    await client.close();
    await gateway.close();
  }
});

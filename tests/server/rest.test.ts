import assert from "node:assert/strict";
import { gatewayWith, getJson, scriptedFeed, waitFor } from "../helpers.ts";

Deno.test("REST endpoints", async (t) => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT", "ETHUSDT"], { tickMs: 20 })]);
  try {
    await waitFor(async () =>
      (await getJson(gateway, "/api/market_data")).body.data !== undefined &&
      ((await getJson(gateway, "/api/market_data")).body.data as unknown[]).length === 2
    );

    await t.step("GET / describes the service", async () => {
      const { status, body } = await getJson(gateway, "/");
      assert.equal(status, 200);
      assert.equal(body.name, "quant-saas");
      assert.match(String(body.version), /^\d+\.\d+\.\d+/);
      assert.deepEqual(body.exchanges, [{ exchange: "scripted", source: "emulator" }]);
      assert.equal((body.endpoints as Record<string, string>).websocket, "/ws");
    });

    await t.step(
      "GET /health reports each feed, clients and uptime, and says emulator",
      async () => {
        const { status, body } = await getJson(gateway, "/health");
        assert.equal(status, 200);
        assert.equal(body.status, "ok");
        assert.equal(body.clients, 0);
        assert.equal(typeof body.uptimeSeconds, "number");
        const [feed] = body.feeds as Record<string, unknown>[];
        assert.equal(feed.exchange, "scripted");
        assert.equal(feed.state, "connected");
        assert.equal(feed.source, "emulator");
        assert.equal(feed.reconnects, 0);
        assert.ok((feed.lastMessageAgeMs as number) < 2000);
      },
    );

    await t.step("GET /ready is 200 while every feed is live", async () => {
      assert.equal((await getJson(gateway, "/ready")).status, 200);
    });

    await t.step(
      "GET /api/market_data has latest trade, quote and counts, filterable",
      async () => {
        const all = await getJson(gateway, "/api/market_data");
        assert.equal((all.body.data as unknown[]).length, 2);
        const { status, body } = await getJson(
          gateway,
          "/api/market_data?symbol=ETHUSDT&exchange=scripted",
        );
        assert.equal(status, 200);
        const [eth] = body.data as Record<string, Record<string, number>>[];
        assert.equal(eth.symbol as unknown, "ETHUSDT");
        assert.equal(eth.lastTrade.price, 100 + eth.lastTrade.tradeId / 100);
        assert.ok(eth.quote.bidPrice < eth.quote.askPrice);
        assert.ok(eth.counts.trade >= 1);
        assert.equal(eth.unified as unknown, "ETH/USDT");
        const unified = await getJson(gateway, "/api/market_data?symbol=ETH/USDT");
        assert.equal((unified.body.data as unknown[]).length, 1);
      },
    );

    await t.step("bad query parameters get a JSON 400 or 404", async () => {
      const bad = await getJson(gateway, "/api/market_data?symbol=%3Cscript%3E");
      assert.equal(bad.status, 400);
      assert.equal((bad.body.error as Record<string, string>).code, "bad_query");
      const extra = await getJson(gateway, "/api/market_data?colour=red");
      assert.equal(extra.status, 400);
      const unknown = await getJson(gateway, "/api/market_data?symbol=DOGEUSDT");
      assert.equal(unknown.status, 404);
      assert.equal((unknown.body.error as Record<string, string>).code, "unknown_symbol");
      const noEx = await getJson(gateway, "/api/market_data?exchange=mtgox");
      assert.equal(noEx.status, 404);
      const depth = await getJson(gateway, "/api/book?exchange=scripted&symbol=BTCUSDT&depth=5000");
      assert.equal(depth.status, 400);
    });

    await t.step("unknown routes and methods get JSON errors, never a stack trace", async () => {
      const missing = await getJson(gateway, "/nope");
      assert.equal(missing.status, 404);
      assert.equal((missing.body.error as Record<string, string>).code, "not_found");
      const post = await fetch(gateway.url + "/health", { method: "POST", body: "x" });
      assert.equal(post.status, 405);
      assert.equal((await post.json()).error.code, "method_not_allowed");
      const ws = await fetch(gateway.url + "/ws");
      assert.equal(ws.status, 426);
      await ws.body?.cancel();
    });

    await t.step(
      "GET /api/symbols lists each exchange's instruments and streamed symbols",
      async () => {
        const { body } = await getJson(gateway, "/api/symbols");
        const [listing] = body.exchanges as {
          exchange: string;
          streamed: string[];
          instruments: { unified: string }[];
        }[];
        assert.equal(listing.exchange, "scripted");
        assert.deepEqual(listing.streamed, ["BTCUSDT", "ETHUSDT"]);
        assert.deepEqual(listing.instruments.map((i) => i.unified), ["BTC/USDT", "ETH/USDT"]);
      },
    );

    await t.step(
      "GET /metrics is Prometheus text with messages, clients, reconnects and lag",
      async () => {
        const res = await fetch(gateway.url + "/metrics");
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
        const text = await res.text();
        assert.match(text, /quant_messages_in_total\{exchange="scripted",type="trade"\} \d+/);
        assert.match(text, /quant_messages_out_total \d+/);
        assert.match(text, /quant_clients 0/);
        assert.match(text, /# TYPE quant_feed_reconnects_total counter/);
        assert.match(text, /quant_feed_lag_ms\{exchange="scripted"\} -?\d+/);
      },
    );

    await t.step(
      "GET /metrics times the gateway's own share of latency: plugin emit to every send issued",
      async () => {
        const text = await (await fetch(gateway.url + "/metrics")).text();
        const count = Number(/^quant_fanout_latency_seconds_count (\S+)$/m.exec(text)?.[1]);
        const sum = Number(/^quant_fanout_latency_seconds_sum (\S+)$/m.exec(text)?.[1]);
        assert.ok(count > 0, "every batch of market events is timed");
        assert.ok(sum / count > 0 && sum / count < 0.5, `mean ${sum / count} s`);
        const under1s = Number(
          /^quant_fanout_latency_seconds_bucket\{le="1"\} (\S+)$/m.exec(text)?.[1],
        );
        assert.equal(under1s, count, "an idle gateway hands every batch on within a second");
        assert.match(text, /quant_fanout_latency_seconds_bucket\{le="0\.001"\} \d+/);
      },
    );
  } finally {
    await gateway.close();
  }
});

Deno.test("GET /ready is 503 while a feed is not live", async () => {
  const gateway = await gatewayWith([
    scriptedFeed(["BTCUSDT"], { tickMs: 20, crashAfterTicks: 1 }),
  ]);
  try {
    await waitFor(async () => (await getJson(gateway, "/ready")).status === 503, 5000, "503");
    const { body } = await getJson(gateway, "/ready");
    assert.equal(body.ready, false);
  } finally {
    await gateway.close();
  }
});

/**
 * The `analytics` channel and `GET /api/analytics` on a live gateway (scripted feed: trades
 * and quotes, no book): frames carry only the metrics asked for, their VWAP agrees with the
 * trades the same client received, at most one frame per 100 ms of event time per symbol, a
 * bad metric is an error frame on a connection that stays open.
 */
import assert from "node:assert/strict";
import { connect, gatewayWith, getJson, scriptedFeed } from "../helpers.ts";
import { planSchema } from "../../core/access/keys.ts";

type Frame = Record<string, unknown>;

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

interface Window {
  windowMs: number;
  from: number;
  to: number;
  trades: number;
  volume: number;
  vwap: number | null;
}

Deno.test("analytics channel: only the metrics asked for, VWAP as computed from the trade frames, ≤ 1 frame per 100 ms", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS, { tickMs: 10 })]);
  const client = await connect(gateway);
  try {
    client.send({
      action: "subscribe",
      id: 1,
      symbols: SYMBOLS,
      channels: ["trade", "analytics"],
      metrics: ["flow"],
    });
    const ack = await client.next((f) => f.type === "subscribed" || f.type === "error", 5000, 0);
    assert.equal(ack.type, "subscribed", JSON.stringify(ack));
    assert.deepEqual(ack.channels, ["trade", "analytics"]);
    const start = client.frames.length;
    // Enough frames that some cover a whole second of trades this client received.
    await client.until(
      (fs) => fs.slice(start).filter((f) => f.type === "analytics").length >= 30,
      15_000,
      "30 analytics frames",
    );
    const frames = client.frames.slice(start);
    const analytics = frames.filter((f) => f.type === "analytics");
    for (const f of analytics) {
      assert.deepEqual(
        Object.keys(f),
        ["type", "exchange", "symbol", "unified", "time", "flow"],
        `only flow was asked for: ${JSON.stringify(f).slice(0, 200)}`,
      );
    }
    // Throttled by event time: per symbol, consecutive frames are ≥ 100 ms apart.
    for (const symbol of SYMBOLS) {
      const times = analytics.filter((f) => f.symbol === symbol).map((f) => f.time as number);
      assert.ok(times.length > 0, `${symbol} has analytics frames`);
      for (let i = 1; i < times.length; i++) {
        assert.ok(times[i] - times[i - 1] >= 100, `${symbol}: ${times[i - 1]} → ${times[i]}`);
      }
    }
    // VWAP of the 1 s window = Σ p·q / Σ q of the trade frames this client received before
    // the analytics frame, with eventTime in (time − 1000, time].
    const firstTrade = new Map<string, number>();
    let checked = 0;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      if (f.type === "trade" && !firstTrade.has(f.symbol as string)) {
        firstTrade.set(f.symbol as string, f.eventTime as number);
      }
      if (f.type !== "analytics") continue;
      const time = f.time as number;
      const first = firstTrade.get(f.symbol as string);
      // Only windows wholly inside what this client saw (its first trade before the window).
      if (first === undefined || first > time - 1000) continue;
      const window = (f.flow as { windows: Window[] }).windows[0];
      assert.equal(window.windowMs, 1000);
      const trades = frames.slice(0, i).filter((t) =>
        t.type === "trade" && t.symbol === f.symbol &&
        (t.eventTime as number) > time - 1000 && (t.eventTime as number) <= time
      );
      let pq = 0;
      let q = 0;
      for (const t of trades) {
        pq += (t.price as number) * (t.quantity as number);
        q += t.quantity as number;
      }
      assert.equal(window.trades, trades.length, `trades in the window of ${f.symbol} @${time}`);
      assert.equal(window.volume, q);
      assert.ok(window.vwap !== null && Math.abs(window.vwap - pq / q) < 1e-9, `vwap @${time}`);
      checked++;
    }
    assert.ok(checked >= 2, `VWAP checked on ${checked} frames`);
  } finally {
    await client.close();
    await gateway.close();
  }
});

Deno.test("analytics channel: a bad metric is an invalid_request error and the connection lives; no analytics frame without the channel", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS, { tickMs: 10 })]);
  const client = await connect(gateway);
  const plain = await connect(gateway);
  try {
    client.send({
      action: "subscribe",
      id: "bad",
      symbols: ["BTCUSDT"],
      channels: ["analytics"],
      metrics: ["ofi", "nonsense"],
    });
    const error = await client.next((f) => f.type === "error", 5000, 0);
    assert.equal(error.code, "invalid_request");
    assert.equal(error.id, "bad");
    assert.match(error.message as string, /unknown metric\(s\): nonsense/);
    assert.match(error.message as string, /known: ofi, vpin, microprice, book, flow, volatility/);
    // Still open: a ping is answered, a good subscribe works and gets every metric by default.
    client.send({ action: "ping", id: "p" });
    await client.next((f) => f.type === "pong", 5000);
    client.send({
      action: "subscribe",
      symbols: ["ETHUSDT"],
      channels: ["analytics"],
      metrics: ["vpin", "ofi", "vpin"],
    });
    await client.next((f) => f.type === "subscribed", 5000);
    client.send({ action: "list", id: "l" });
    const listed = await client.next((f) => f.type === "subscriptions", 5000);
    assert.deepEqual(listed.subscriptions, [
      {
        exchange: "scripted",
        symbol: "ETHUSDT",
        channel: "analytics",
        raw: false,
        metrics: ["ofi", "vpin"],
      },
    ]);
    plain.send({ action: "subscribe", symbols: SYMBOLS, channels: ["trade", "quote"] });
    await plain.next((f) => f.type === "subscribed", 5000, 0);
    client.send({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["analytics"] });
    await client.next((f) => f.type === "subscribed", 5000);
    const frame = await client.next((f) => f.type === "analytics", 5000);
    assert.deepEqual(Object.keys(frame), [
      "type",
      "exchange",
      "symbol",
      "unified",
      "time",
      "ofi",
      "vpin",
      "microprice",
      "book",
      "flow",
      "volatility",
    ]);
    assert.equal(frame.vpin, null, "no ANALYTICS_VPIN_BUCKET_VOLUME: VPIN is null");
    assert.equal(frame.microprice, null, "no book from this feed");
    await client.until((fs) => fs.filter((f) => f.type === "analytics").length >= 3, 5000);
    assert.ok(plain.frames.some((f) => f.type === "trade"));
    assert.equal(plain.frames.filter((f) => f.type === "analytics").length, 0);
    // metrics without the analytics channel are refused.
    plain.send({ action: "subscribe", id: 3, symbols: ["BTCUSDT"], metrics: ["ofi"] });
    const refused = await plain.next((f) => f.id === 3, 5000);
    assert.equal(refused.type, "error");
    assert.equal(refused.code, "invalid_request");
  } finally {
    await client.close();
    await plain.close();
    await gateway.close();
  }
});

Deno.test("GET /api/analytics: the latest values; 404 for an unknown exchange or symbol, 400 for a bad metric", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS, { tickMs: 10 })], {
    analyticsVpinBucketVolume: 5,
  });
  try {
    let res = await getJson(gateway, "/api/analytics?exchange=scripted&symbol=BTCUSDT");
    for (let i = 0; res.status !== 200 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await getJson(gateway, "/api/analytics?exchange=scripted&symbol=BTCUSDT");
    }
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as Frame;
    assert.equal(body.exchange, "scripted");
    assert.equal(body.symbol, "BTCUSDT");
    assert.equal(typeof body.time, "number");
    for (const m of ["ofi", "vpin", "microprice", "book", "flow", "volatility"]) {
      assert.ok(m in body, `${m} in the answer`);
    }
    const some = await getJson(
      gateway,
      "/api/analytics?exchange=scripted&symbol=BTCUSDT&metrics=vpin,flow",
    );
    assert.equal(some.status, 200);
    assert.deepEqual(Object.keys(some.body as Frame), [
      "exchange",
      "symbol",
      "unified",
      "time",
      "vpin",
      "flow",
    ]);
    const vpin = (some.body as { vpin: { partial?: unknown } | null }).vpin;
    assert.ok(vpin !== null, "a bucket volume is set: VPIN is computed");
    const unknownExchange = await getJson(gateway, "/api/analytics?exchange=nope&symbol=BTCUSDT");
    assert.equal(unknownExchange.status, 404);
    assert.equal(
      (unknownExchange.body as { error: { code: string } }).error.code,
      "unknown_exchange",
    );
    const unknownSymbol = await getJson(gateway, "/api/analytics?exchange=scripted&symbol=XRPUSDT");
    assert.equal(unknownSymbol.status, 404);
    const badMetric = await getJson(
      gateway,
      "/api/analytics?exchange=scripted&symbol=BTCUSDT&metrics=ofi,bogus",
    );
    assert.equal(badMetric.status, 400);
    assert.match((badMetric.body as { error: { message: string } }).error.message, /bogus/);
    const index = await getJson(gateway, "/");
    assert.equal((index.body as { endpoints: Frame }).endpoints.analytics, "/api/analytics");
  } finally {
    await gateway.close();
  }
});

Deno.test("a plan may grant the analytics channel", () => {
  assert.deepEqual(planSchema.parse({ channels: ["trade", "analytics"] }).channels, [
    "trade",
    "analytics",
  ]);
});

Deno.test("ANALYTICS_ENABLED=false: nothing is computed; the channel and /api/analytics say the analytics are off", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS, { tickMs: 10 })], {
    analyticsEnabled: "false",
  });
  const client = await connect(gateway);
  try {
    client.send({
      action: "subscribe",
      id: 7,
      symbols: ["BTCUSDT"],
      channels: ["trade", "analytics"],
    });
    const error = await client.next((f) => f.type === "error", 5000, 0, "the error frame");
    assert.equal(error.code, "unknown_channel");
    assert.match(error.message as string, /ANALYTICS_ENABLED=false/);
    // Trades still flow on the same connection.
    client.send({ action: "subscribe", id: 8, symbols: ["BTCUSDT"], channels: ["trade"] });
    await client.next((f) => f.type === "trade", 5000, 0, "a trade");
    const { status, body } = await getJson(
      gateway,
      "/api/analytics?exchange=scripted&symbol=BTCUSDT",
    );
    assert.equal(status, 404);
    assert.equal((body.error as { code: string }).code, "analytics_off");
  } finally {
    await client.close();
    await gateway.close();
  }
});

/**
 * Every metric /metrics exposes moves when what it counts happens (each is read before and
 * after). quant_plugin_restarts_total: tests/ingest/plugin_crash; quant_hub_lost_batches_total:
 * tests/ingest/lost_batches; reconnects, book resyncs, trade gaps, malformed frames and
 * quant_feed_up: tests/server/gateway_binance; the budget metrics: tests/delivery/memory_budget;
 * client errors: tests/delivery/client_protocol; fan-out latency: tests/server/rest.
 */
import assert from "node:assert/strict";
import {
  connect,
  gatewayWith,
  metricsText,
  metricValue,
  scriptedFeed,
  waitFor,
} from "../helpers.ts";
import { maskedFrame, rawUpgrade, write } from "../raw_ws.ts";

Deno.test("traffic metrics move: messages in and out, client frames, clients, feed freshness, memory", async () => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"], { tickMs: 20 })]);
  const value = async (name: string, labels = "") =>
    metricValue(await metricsText(gateway), name, labels) ?? 0;
  try {
    await waitFor(
      async () => await value("quant_messages_in_total", 'exchange="scripted",type="trade"') > 0,
      10_000,
      "quant_messages_in_total for scripted trades above 0",
    );
    const before = await metricsText(gateway);
    assert.equal(metricValue(before, "quant_clients"), 0);
    const client = await connect(gateway);
    try {
      client.send({ action: "subscribe", symbols: ["BTCUSDT"], id: 1 });
      await client.next((f) => f.type === "subscribed", 5000, 0, "the subscribe ack");
      await client.until(
        (fs) => fs.filter((f) => f.type === "trade").length >= 5,
        5000,
        "5 trades",
      );
      const during = await metricsText(gateway);
      assert.equal(metricValue(during, "quant_clients"), 1, "quant_clients counts the client");
      assert.ok(
        metricValue(during, "quant_client_frames_total")! >=
          (metricValue(before, "quant_client_frames_total") ?? 0) + 1,
        "quant_client_frames_total counts the subscribe frame",
      );
      assert.ok(
        metricValue(during, "quant_messages_out_total")! >=
          (metricValue(before, "quant_messages_out_total") ?? 0) + 5,
        "quant_messages_out_total counts the trades sent",
      );
      const inBefore = metricValue(
        during,
        "quant_messages_in_total",
        'exchange="scripted",type="trade"',
      )!;
      await waitFor(
        async () =>
          await value("quant_messages_in_total", 'exchange="scripted",type="trade"') > inBefore,
        5000,
        "quant_messages_in_total to grow",
      );
      const age = metricValue(during, "quant_feed_last_message_age_ms", 'exchange="scripted"')!;
      assert.ok(age >= 0 && age < 5000, `quant_feed_last_message_age_ms ${age}`);
      assert.ok(
        metricValue(during, "quant_feed_lag_ms", 'exchange="scripted"') !== undefined,
        "quant_feed_lag_ms is reported",
      );
      assert.ok(metricValue(during, "quant_process_memory_bytes", 'kind="rss"')! > 0);
    } finally {
      await client.close();
    }
    await waitFor(
      async () => await value("quant_clients") === 0,
      5000,
      "quant_clients back to 0 after the client closed",
    );
  } finally {
    await gateway.close();
  }
});

Deno.test({
  name: "a client that stops reading moves the slow-consumer metrics: conflated, then disconnected",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const gateway = await gatewayWith(
      [scriptedFeed(["BTCUSDT"], { perTick: 40, tickMs: 5 })],
      { highWaterMark: 1024, maxQueuedTrades: 2000, memoryBudget: 0 },
    );
    const value = async (name: string) => metricValue(await metricsText(gateway), name) ?? 0;
    const port = new URL(gateway.url).port;
    let stuck: Deno.Conn | undefined;
    try {
      assert.equal(await value("quant_slow_client_disconnects_total"), 0);
      assert.equal(await value("quant_conflated_updates_total"), 0);
      const up = await rawUpgrade(Number(port), "/ws");
      assert.equal(up.status, 101);
      stuck = up.conn!;
      const subscribe = JSON.stringify({
        action: "subscribe",
        symbols: ["BTCUSDT"],
        channels: ["trade", "quote"],
      });
      await write(stuck, maskedFrame(0x1, new TextEncoder().encode(subscribe))); // never read again
      await waitFor(
        async () => await value("quant_slow_client_disconnects_total") >= 1,
        30_000,
        "quant_slow_client_disconnects_total to count the client that stopped reading",
      );
      assert.ok(
        await value("quant_conflated_updates_total") > 0,
        "its quotes were conflated before it was cut off",
      );
    } finally {
      stuck?.close();
      await gateway.close();
    }
  },
});

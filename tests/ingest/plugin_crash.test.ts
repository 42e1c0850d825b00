import assert from "node:assert/strict";
import {
  connect,
  gatewayWith,
  getJson,
  metricsText,
  metricValue,
  scriptedFeed,
  waitFor,
} from "../helpers.ts";

Deno.test("a plugin whose Worker crashes is restarted and reported; the server keeps serving", async (t) => {
  const gateway = await gatewayWith([
    scriptedFeed(["BTCUSDT"], { tickMs: 20, crashAfterTicks: 10 }),
  ]);
  const client = await connect(gateway);
  try {
    const restarts = async () =>
      metricValue(await metricsText(gateway), "quant_plugin_restarts_total", 'exchange="scripted"');
    assert.equal(await restarts(), 0, "no restart counted before the first crash");
    client.send({ action: "subscribe", symbols: ["BTCUSDT"] });
    let failedAt = -1;
    await t.step("the crash is reported to subscribers as a failed feed", async () => {
      failedAt = await client.indexOf(
        (f) => f.type === "status" && f.state === "failed",
        5000,
        0,
        "failed status frame from scripted",
      );
      assert.match(String(client.frames[failedAt].reason), /scripted crash/);
    });
    await t.step("/health and /metrics count the restart and the feed comes back", async () => {
      await waitFor(
        async () => {
          const { body } = await getJson(gateway, "/health");
          const [feed] = body.feeds as { state: string; restarts: number }[];
          return feed.restarts >= 1 && feed.state === "connected";
        },
        5000,
        "/health: scripted restarted (restarts >= 1) and connected",
      );
      const metrics = await metricsText(gateway);
      assert.match(metrics, /quant_feed_up\{exchange="scripted",emulator="true"\} 1/);
      assert.ok((await restarts())! >= 1, "quant_plugin_restarts_total counts the restart");
    });
    await t.step("the client hears the restarted plugin connect, then its trades", async () => {
      // Only frames after the failure count: the `connected` frame from before the crash must not.
      const connectedAt = await client.indexOf(
        (f) => f.type === "status" && f.state === "connected",
        5000,
        failedAt + 1,
        "connected status frame from the restarted scripted plugin",
      );
      await client.next(
        (f) => f.type === "trade",
        5000,
        connectedAt + 1,
        "a trade from the restarted plugin",
      );
    });
    await t.step("REST still answers", async () => {
      const { status } = await getJson(gateway, "/");
      assert.equal(status, 200);
    });
  } finally {
    await client.close();
    await gateway.close();
  }
});

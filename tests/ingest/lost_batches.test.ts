import assert from "node:assert/strict";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import { gappy } from "../fixtures/gappy_plugin.ts";
import { gatewayWith, getJson, metricsText, metricValue, waitFor } from "../helpers.ts";

Deno.test("batches lost between a plugin Worker and the hub show in /health and /metrics", async () => {
  const gateway = await gatewayWith([{
    plugin: gappy,
    workerUrl: new URL("../fixtures/gappy_worker.ts", import.meta.url),
    config: pluginConfig(gappy, {}, {}),
    symbols: ["BTCUSDT"],
    channels: ["trade"],
  }]);
  try {
    const lost = async () =>
      metricValue(await metricsText(gateway), "quant_hub_lost_batches_total", 'exchange="gappy"');
    await waitFor(
      async () => {
        const { body } = await getJson(gateway, "/health");
        const [feed] = body.feeds as { lostBatches: number }[];
        return feed.lostBatches === 2;
      },
      5000,
      "/health: gappy feed reports 2 lost batches (seq 1, then 4)",
    );
    assert.equal(await lost(), 2, "quant_hub_lost_batches_total counts both missing batches");
    assert.equal(await lost(), 2, "a second scrape does not count them again");
  } finally {
    await gateway.close();
  }
});

import assert from "node:assert/strict";
import { connect, gatewayWith, getJson, scriptedFeed, waitFor } from "../helpers.ts";

Deno.test("a plugin whose Worker crashes is restarted and reported; the server keeps serving", async (t) => {
  const gateway = await gatewayWith([
    scriptedFeed(["BTCUSDT"], { tickMs: 20, crashAfterTicks: 10 }),
  ]);
  const client = await connect(gateway);
  try {
    client.send({ action: "subscribe", symbols: ["BTCUSDT"] });
    await t.step("the crash is reported to subscribers as a failed feed", async () => {
      const failed = await client.next((f) => f.type === "status" && f.state === "failed", 5000, 0);
      assert.match(String(failed.reason), /scripted crash/);
    });
    await t.step("/health counts the restart and the feed comes back", async () => {
      await waitFor(
        async () => {
          const { body } = await getJson(gateway, "/health");
          const [feed] = body.feeds as { state: string; restarts: number }[];
          return feed.restarts >= 1 && feed.state === "connected";
        },
        5000,
        "restart",
      );
      const metrics = await (await fetch(gateway.url + "/metrics")).text();
      assert.match(metrics, /quant_feed_up\{exchange="scripted",emulator="true"\} 1/);
    });
    await t.step("the client keeps receiving trades from the restarted plugin", async () => {
      const after = client.frames.length;
      await client.next((f) => f.type === "status" && f.state === "connected", 5000, after - 50);
      await client.next((f) => f.type === "trade", 5000, client.frames.length);
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

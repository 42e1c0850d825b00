/**
 * Paper trading on a replay: the venue uses the replayed books and the replay's clock; orders
 * carrying `at` (a replay time) are sent when the replay reaches it, so the same replay with the
 * same orders fills identically, fill for fill, every time.
 */
import assert from "node:assert/strict";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import { connect, getJson, waitFor } from "../helpers.ts";
import { binanceFeed, flat, isState, recordingGateway } from "../replay/helpers.ts";

type Frame = Record<string, unknown>;

Deno.test("paper on /replay: the same replay with the same orders produces identical fills twice", async () => {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], seed: 29, tickMs: 20 });
  const rec = await recordingGateway([binanceFeed(emu, ["BTCUSDT"])]);
  try {
    await waitFor(
      async () =>
        (await getJson(rec.gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1")).body
          .synced === true,
      20_000,
      "the BTCUSDT book synced",
    );
    const from = Date.now();
    await waitFor(() => Date.now() - from > 2_500, 10_000, "2.5 s of recording");
    const to = Date.now() - 200;
    await rec.source.flush();
    // A resting bid at a price the market traded at in the window: filled by the trades.
    const trades = (await getJson(
      rec.gateway,
      `/api/history/trades?exchange=binance&symbol=BTCUSDT&from=${from + 1000}&to=${to}`,
    )).body.trades as Frame[];
    assert.ok(trades.length > 5, `trades recorded: ${trades.length}`);
    const low = Math.min(...trades.map((t) => t.price as number));
    const orders = [
      { at: from + 500, side: "buy", type: "market", quantity: 0.01 },
      {
        at: from + 900,
        side: "buy",
        type: "limit",
        price: low,
        quantity: 0.02,
        clientOrderId: "bid",
      },
      { at: from + 1500, side: "sell", type: "market", quantity: 0.005 },
      {
        at: from + 1800,
        side: "sell",
        type: "limit",
        price: low,
        quantity: 0.003,
        timeInForce: "IOC",
      },
    ];
    const run = async () => {
      const replay = await connect(rec.gateway, `/replay?from=${from}&to=${to}&speed=max`);
      replay.send({
        action: "subscribe",
        symbols: ["BTCUSDT"],
        channels: ["trade", "book"],
        depth: 5,
      });
      for (const [i, order] of orders.entries()) {
        replay.send({ action: "order", id: i, exchange: "binance", symbol: "BTCUSDT", ...order });
      }
      await replay.until((fs) => flat(fs).some(isState("replay_end")), 20_000, "replay_end");
      const frames = flat(replay.frames);
      await replay.close();
      const acks = frames.filter((f) => f.type === "ack" && f.action === "order");
      assert.equal(
        acks.length,
        4,
        `every order scheduled: ${JSON.stringify(frames.filter((f) => f.type === "error"))}`,
      );
      return {
        fills: frames.filter((f) => f.type === "fill").map((f) => f.fill),
        orders: frames.filter((f) => f.type === "order").map((f) => f.order),
      };
    };
    const first = await run();
    const second = await run();
    assert.ok(first.fills.length >= 3, `fills in the replay: ${first.fills.length}`);
    assert.deepEqual(second.fills, first.fills, "identical fills");
    assert.deepEqual(second.orders, first.orders, "identical order reports");
    for (const fill of first.fills as Frame[]) {
      assert.equal(fill.simulated, true);
      assert.ok(
        (fill.time as number) >= from && (fill.time as number) <= to,
        "on the replay's clock",
      );
    }
  } finally {
    await rec.close();
    await emu.close();
  }
});

/** Hub taps: every item numbered once, in hub order, handed to every tap. */
import assert from "node:assert/strict";
import { createHubTaps, type HubItem } from "../../core/ingest/taps.ts";
import type { FeedItem } from "../../core/feed/messages.ts";
import { gatewayWith, scriptedFeed, waitFor } from "../helpers.ts";

const trade = (id: number): FeedItem => ({
  type: "trade",
  exchange: "x",
  symbol: "BTCUSDT",
  price: 1,
  quantity: 1,
  timestamp: "2026-12-07T10:00:00.000Z",
  tradeId: id,
  side: "buy",
  eventTime: 1,
  receiveTime: 1000 + id,
});

Deno.test("items are numbered from the start number, consecutively across exchanges", () => {
  const taps = createHubTaps(41);
  const seen: HubItem[] = [];
  const remove = taps.add((e) => seen.push(e));
  assert.equal(taps.publish("x", trade(1)), 42);
  assert.equal(taps.publish("y", { type: "status", state: "connected" }), 43);
  assert.deepEqual(seen.map((e) => [e.seq, e.exchange, e.receiveTime > 0]), [
    [42, "x", true],
    [43, "y", true],
  ]);
  assert.equal(seen[0].receiveTime, 1001, "a data item keeps its own receive time");
  remove();
  assert.equal(taps.publish("x", trade(2)), 44, "numbers go on with no tap");
  assert.equal(seen.length, 2, "a removed tap sees nothing more");
  assert.equal(taps.lastSeq(), 44);
});

Deno.test("a tap that throws is reported and does not keep the item from the others", () => {
  const errors: unknown[] = [];
  const taps = createHubTaps(0, (err) => errors.push(err));
  const seen: number[] = [];
  taps.add(() => {
    throw new Error("broken tap");
  });
  taps.add((e) => seen.push(e.seq));
  taps.publish("x", trade(1));
  assert.deepEqual(seen, [1]);
  assert.equal(errors.length, 1);
});

Deno.test("a crashed plugin's failed and restarted states reach the taps (and so the recording) as status items", async () => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"], { crashAfterTicks: 5 })]);
  try {
    const states: string[] = [];
    gateway.taps.add((e) => {
      if (e.item.type === "status") states.push(e.item.state);
    });
    await waitFor(
      () => states.includes("failed") && states.indexOf("connecting", states.indexOf("failed")) > 0,
      10_000,
      `failed, then connecting again, among the tapped states ${JSON.stringify(states)}`,
    );
  } finally {
    await gateway.close();
  }
});

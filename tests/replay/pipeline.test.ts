/**
 * The private pipeline of one replay, without sockets: recorded status frames are
 * marked `replay: true` (until the splice), a feed's state before the window is
 * taken silently and sent once, a recording gap is told and unsyncs the books.
 */
import assert from "node:assert/strict";
import { createPipeline } from "../../core/replay/pipeline.ts";
import { createCatalog } from "../../core/market/catalog.ts";
import { createClient, type Delivery } from "../../core/delivery/policy.ts";
import { createMetrics } from "../../core/server/metrics.ts";

function setup() {
  const sent: Record<string, unknown>[] = [];
  const delivery: Delivery = {
    send: (_client, text) => void sent.push(JSON.parse(typeof text === "string" ? text : text())),
    drain() {},
    setHighWaterMark() {},
    highWaterMark: () => 1 << 20,
    backlogged: () => 0,
    close() {},
    stats: { delivered: 0, conflated: 0, slowDisconnects: 0 },
  };
  const pipeline = createPipeline({
    catalog: createCatalog({ ex: ["BTCUSDT"] }),
    delivery,
    limits: { maxFrameBytes: 4096, maxSubscriptions: 100, maxClientMessagesPerSecond: 100 },
    metrics: createMetrics(),
    disconnect() {},
    countError() {},
  });
  const client = createClient(1, {} as WebSocket, "test");
  return { sent, pipeline, client };
}

const book = (snapshot: boolean, bids: [number, number][], t: number) => ({
  type: "book" as const,
  exchange: "ex",
  symbol: "BTCUSDT",
  snapshot,
  bids,
  asks: [[101, 1]] as [number, number][],
  timestamp: new Date(t).toISOString(),
  eventTime: t,
  receiveTime: t,
});

Deno.test("replayed status frames say replay: true until the splice", () => {
  const { sent, pipeline, client } = setup();
  pipeline.sessions.onMessage(
    client,
    JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade", "book"] }),
  );
  assert.equal(sent[0].type, "subscribed");
  assert.deepEqual(pipeline.selection(client), {
    exchanges: ["ex"],
    symbols: ["BTCUSDT"],
    channels: ["trade", "book"],
    books: [{ exchange: "ex", symbol: "BTCUSDT" }],
    raw: true,
  });
  sent.length = 0;

  // Before the window: taken silently, then sent once.
  pipeline.prime({
    seq: 1,
    exchange: "ex",
    receiveTime: 1000,
    item: { type: "status", state: "connected", emulator: true, reason: "up" },
  });
  assert.equal(sent.length, 0);
  pipeline.sendFeedStatus(client, ["ex"]);
  assert.deepEqual(sent.pop(), {
    type: "status",
    exchange: "ex",
    state: "connected",
    emulator: true,
    reason: "up",
    reconnects: 0,
    timestamp: new Date(1000).toISOString(),
    replay: true,
  });

  pipeline.feed({ seq: 2, exchange: "ex", receiveTime: 2000, item: book(true, [[100, 1]], 2000) });
  const status = sent.find((f) => f.type === "status")!;
  assert.equal(status.channel, "book");
  assert.equal(status.state, "synced");
  assert.equal(status.replay, true);
  assert.ok(sent.some((f) => f.type === "book" && f.snapshot === true && f.seq === 0));
  sent.length = 0;

  pipeline.feed({
    seq: 3,
    exchange: "ex",
    receiveTime: 3000,
    item: { type: "status", state: "reconnecting", reason: "lost" },
  });
  assert.deepEqual(
    [sent[0].state, sent[0].reconnects, sent[0].replay, sent[0].timestamp],
    ["reconnecting", 1, true, new Date(3000).toISOString()],
  );
  sent.length = 0;

  pipeline.feed({
    seq: 9,
    exchange: "",
    receiveTime: 4000,
    item: {
      type: "recording_gap",
      fromSeq: 4,
      toSeq: 8,
      dropped: 5,
      fromTime: 3500,
      toTime: 3900,
      reason: "queue full",
    },
  });
  assert.deepEqual(sent.map((f) => [f.state, f.replay]), [
    ["recording_gap", true],
    ["resyncing", true],
  ]);
  sent.length = 0;
  // The book is unsynced: a delta changes nothing until the next snapshot.
  pipeline.feed({ seq: 10, exchange: "ex", receiveTime: 4100, item: book(false, [[99, 1]], 4100) });
  assert.equal(sent.length, 0);

  pipeline.goLive();
  pipeline.feed({
    seq: 11,
    exchange: "ex",
    receiveTime: 5000,
    item: { type: "status", state: "connected", reason: "back" },
  });
  assert.equal(sent[0].state, "connected");
  assert.equal("replay" in sent[0], false, "live status frames are not marked");
});

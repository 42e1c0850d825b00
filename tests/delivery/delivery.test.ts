/**
 * The slow-consumer policy, with a socket whose buffered amount the test sets.
 */
import assert from "node:assert/strict";
import { waitFor } from "../helpers.ts";
import {
  type Client,
  createClient,
  createDelivery,
  MAX_BATCH_EVENTS,
} from "../../core/delivery/policy.ts";

function fakeSocket() {
  const sent: string[] = [];
  const socket = {
    readyState: WebSocket.OPEN,
    bufferedAmount: 0,
    send(text: string) {
      sent.push(text);
    },
  };
  return { socket, sent };
}

Deno.test("slow-consumer policy", async (t) => {
  await t.step("below the high-water mark every frame is written at once", () => {
    const { socket, sent } = fakeSocket();
    const delivery = createDelivery({ highWaterMark: 1000, maxQueuedTrades: 3 }, () => {});
    const client = createClient(1, socket as unknown as WebSocket, "test");
    delivery.send(client, "a");
    delivery.send(client, "b", "quote|x");
    assert.deepEqual(sent, ["a", "b"]);
    assert.equal(delivery.stats.delivered, 2);
    delivery.close();
  });

  await t.step("above it, quotes conflate to the latest, trades queue in order, then drain", () => {
    const { socket, sent } = fakeSocket();
    const delivery = createDelivery({ highWaterMark: 1000, maxQueuedTrades: 3 }, () => {});
    const client = createClient(1, socket as unknown as WebSocket, "test");
    socket.bufferedAmount = 5000;
    delivery.send(client, "t1");
    delivery.send(client, "q1", "quote|x");
    delivery.send(client, "t2");
    delivery.send(client, "q2", "quote|x");
    delivery.send(client, "q3", "quote|x");
    assert.deepEqual(sent, []);
    assert.equal(delivery.stats.conflated, 2);
    assert.equal(delivery.backlogged(), 1);
    socket.bufferedAmount = 0;
    delivery.drain();
    assert.deepEqual(
      sent,
      ["t1", "q3", "t2"],
      "latest quote at its first place; trades all, in order",
    );
    assert.equal(delivery.backlogged(), 0);
    delivery.close();
  });

  await t.step("past the trade bound the client is disconnected and its backlog released", () => {
    const { socket } = fakeSocket();
    const dropped: [Client, number, string][] = [];
    const delivery = createDelivery(
      { highWaterMark: 1000, maxQueuedTrades: 3 },
      (c, code, reason) => dropped.push([c, code, reason]),
    );
    const client = createClient(1, socket as unknown as WebSocket, "test");
    socket.bufferedAmount = 5000;
    for (let i = 0; i < 4; i++) delivery.send(client, `t${i}`);
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0][1], 1008);
    assert.equal(dropped[0][2], "slow_consumer");
    assert.equal(client.backlog, null);
    assert.equal(delivery.stats.slowDisconnects, 1);
    delivery.close();
  });

  await t.step(
    "a batched client's queued arrays count one each against the bound, however many events they hold",
    async () => {
      const { socket, sent } = fakeSocket();
      const dropped: string[] = [];
      const delivery = createDelivery(
        { highWaterMark: 1000, maxQueuedTrades: 2 },
        (_c, _code, reason) => dropped.push(reason),
      );
      const client = createClient(1, socket as unknown as WebSocket, "test", true);
      /** Waits until the 1 ms batch window has flushed the client's collected events. */
      const flushed = (what: string) =>
        waitFor(() => client.batch!.length === 0 || dropped.length > 0, 2000, what);
      for (let i = 0; i < 3; i++) delivery.send(client, `{"n":${i}}`);
      await flushed("the first window to flush");
      assert.deepEqual(sent, ['[{"n":0},{"n":1},{"n":2}]'], "one array per 1 ms window");
      socket.bufferedAmount = 5000;
      for (let w = 0; w < 2; w++) {
        for (let i = 0; i < 4; i++) delivery.send(client, `{"n":${i}}`);
        await flushed(`window ${w + 1} of the slow client to flush into its backlog`);
      }
      assert.deepEqual(dropped, [], "2 arrays of 4 events queued: at the bound of 2");
      delivery.send(client, `{"n":9}`);
      await flushed("the third window to flush");
      assert.deepEqual(dropped, ["slow_consumer"], "a third array would exceed 2");
      delivery.close();
    },
  );

  await t.step(
    "a busy event loop cannot grow a batch past MAX_BATCH_EVENTS: a full batch is sent at once",
    () => {
      const { socket, sent } = fakeSocket();
      const delivery = createDelivery({ highWaterMark: 1 << 20, maxQueuedTrades: 10 }, () => {});
      const client = createClient(1, socket as unknown as WebSocket, "test", true);
      for (let i = 0; i < MAX_BATCH_EVENTS + 1; i++) delivery.send(client, `${i}`);
      // No timer has run yet: the first MAX_BATCH_EVENTS went out as one array already.
      assert.equal(sent.length, 1);
      assert.equal(JSON.parse(sent[0]).length, MAX_BATCH_EVENTS);
      delivery.close();
    },
  );
});

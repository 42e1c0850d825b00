/**
 * A plugin Worker's outbox: batches for the hub, held back while the hub is behind, with
 * quotes and candle updates conflated meanwhile and nothing else lost or reordered.
 */
import assert from "node:assert/strict";
import { createOutbox, type OutboxBatch } from "../../core/feed/outbox.ts";
import type { FeedItem } from "../../core/feed/messages.ts";

const trade = (id: number): FeedItem => ({
  type: "trade",
  exchange: "x",
  symbol: "BTCUSDT",
  price: 100,
  quantity: 1,
  timestamp: "2026-01-01T00:00:00.000Z",
  tradeId: id,
  side: "buy",
  eventTime: 0,
  receiveTime: 0,
  raw: {},
});

const quote = (symbol: string, bid: number): FeedItem => ({
  type: "quote",
  exchange: "x",
  symbol,
  bidPrice: bid,
  bidQuantity: 1,
  askPrice: bid + 1,
  askQuantity: 1,
  timestamp: "2026-01-01T00:00:00.000Z",
  eventTime: 0,
  receiveTime: 0,
});

/** An outbox whose end-of-task flush the test runs by hand. */
function harness(maxUnacked: number, maxBatch = 100, maxLagMs = 20) {
  const posted: OutboxBatch[] = [];
  let pendingFlush: (() => void) | undefined;
  const clock = { now: 1000 };
  const outbox = createOutbox((b) => posted.push(b), {
    maxUnacked,
    maxBatch,
    maxLagMs,
    schedule: (fn) => pendingFlush = fn,
    now: () => clock.now,
  });
  const endOfTask = () => {
    const fn = pendingFlush;
    pendingFlush = undefined;
    fn?.();
  };
  const label = (i: FeedItem) =>
    i.type === "trade"
      ? `t${i.tradeId}`
      : i.type === "quote"
      ? `${i.symbol}:${i.bidPrice}`
      : i.type;
  const items = () => posted.flatMap((b) => b.items.map(label));
  return { posted, outbox, endOfTask, items, clock };
}

Deno.test("feed outbox", async (t) => {
  await t.step("items emitted in one task go out as one numbered batch", () => {
    const h = harness(4);
    h.outbox.add(trade(1));
    h.outbox.add(quote("BTCUSDT", 1));
    assert.equal(h.posted.length, 0, "nothing before the end of the task");
    h.endOfTask();
    assert.deepEqual(h.posted.map((b) => b.seq), [1]);
    assert.deepEqual(h.items(), ["t1", "BTCUSDT:1"]);
    assert.equal(h.posted[0].at, 1000);
  });

  await t.step("a burst larger than a batch is split, in order", () => {
    const h = harness(100, 3);
    for (let i = 1; i <= 7; i++) h.outbox.add(trade(i));
    h.endOfTask();
    assert.deepEqual(h.posted.map((b) => b.items.length), [3, 3, 1]);
    assert.deepEqual(h.items(), ["t1", "t2", "t3", "t4", "t5", "t6", "t7"]);
  });

  await t.step(
    "while the hub is behind, quotes conflate to the latest per symbol; trades all stay, in order",
    () => {
      const h = harness(2);
      for (let task = 1; task <= 2; task++) {
        h.outbox.add(trade(task));
        h.endOfTask();
      }
      assert.equal(h.posted.length, 2, "two batches unacknowledged: the limit");
      // The hub is behind: nothing more is posted, quotes are conflated.
      h.outbox.add(quote("BTCUSDT", 10));
      h.outbox.add(trade(3));
      h.endOfTask();
      assert.equal(h.outbox.holding(), true);
      h.outbox.add(quote("ETHUSDT", 20));
      h.outbox.add(quote("BTCUSDT", 11));
      h.outbox.add(trade(4));
      h.outbox.add(quote("BTCUSDT", 12));
      h.endOfTask();
      assert.equal(h.posted.length, 2);
      // The hub catches up: what was held goes out, the latest quote of each symbol in its place.
      h.outbox.ack(2);
      assert.equal(h.outbox.holding(), false);
      assert.deepEqual(h.items().slice(2), ["t3", "ETHUSDT:20", "t4", "BTCUSDT:12"]);
      assert.equal(h.outbox.conflated(), 2);
      assert.equal(h.posted.at(-1)!.conflated, 2, "each batch reports the count (for /health)");
      assert.deepEqual(h.posted.map((b) => b.seq), [1, 2, 3], "still numbered consecutively");
    },
  );

  await t.step(
    "held items released a batch at a time still conflate with the right entries",
    () => {
      const h = harness(1, 2);
      h.outbox.add(trade(1));
      h.endOfTask();
      h.outbox.add(quote("BTCUSDT", 1));
      h.outbox.add(trade(2));
      h.outbox.add(quote("BTCUSDT", 2));
      h.endOfTask(); // the hub is behind: held, BTCUSDT:1 already replaced by BTCUSDT:2
      h.outbox.add(trade(3));
      h.outbox.add(quote("ETHUSDT", 1));
      h.outbox.ack(1); // one more batch may go: [t2]
      h.outbox.add(quote("BTCUSDT", 3));
      h.outbox.ack(2); // [t3]
      h.outbox.ack(3); // the rest
      assert.deepEqual(h.items(), ["t1", "t2", "t3", "ETHUSDT:1", "BTCUSDT:3"]);
      assert.equal(h.outbox.conflated(), 2);
    },
  );

  await t.step(
    "a batch unacknowledged for longer than the lag limit also means the hub is behind",
    () => {
      const h = harness(256, 100, 20);
      h.outbox.add(trade(1));
      h.endOfTask();
      h.clock.now += 5;
      h.outbox.add(quote("BTCUSDT", 1));
      h.endOfTask();
      assert.equal(h.posted.length, 2, "5 ms without an ack: still posting");
      h.clock.now += 30;
      h.outbox.add(quote("BTCUSDT", 2));
      h.outbox.add(quote("BTCUSDT", 3));
      h.endOfTask();
      assert.equal(h.outbox.holding(), true, "batch 1 unacknowledged for 35 ms");
      h.outbox.ack(1);
      assert.equal(h.outbox.holding(), true, "batch 2 is 30 ms old too");
      h.outbox.ack(2);
      assert.equal(h.outbox.holding(), false);
      assert.deepEqual(h.items(), ["t1", "BTCUSDT:1", "BTCUSDT:3"]);
    },
  );

  await t.step("with the hub keeping up nothing is ever conflated", () => {
    const h = harness(2);
    for (let i = 1; i <= 50; i++) {
      h.outbox.add(quote("BTCUSDT", i));
      h.endOfTask();
      h.outbox.ack(i);
    }
    assert.equal(h.items().length, 50);
    assert.equal(h.outbox.conflated(), 0);
  });

  await t.step("when the plugin stops, everything held is posted", () => {
    const h = harness(1);
    h.outbox.add(trade(1));
    h.endOfTask();
    h.outbox.add(trade(2));
    h.outbox.add(trade(3));
    h.endOfTask();
    assert.deepEqual(h.items(), ["t1"]);
    h.outbox.flushAll();
    assert.deepEqual(h.items(), ["t1", "t2", "t3"]);
  });
});

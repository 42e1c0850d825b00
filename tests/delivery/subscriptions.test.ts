import assert from "node:assert/strict";
import { createSubscriptions, streamId } from "../../core/delivery/subscriptions.ts";
import { type Client, createClient } from "../../core/delivery/policy.ts";

/** A subscription store whose book audience records calls. */
function storeWithBooks() {
  const calls: string[] = [];
  const subscriptions = createSubscriptions({
    subscribe: (client, exchange, symbol, depth, raw) =>
      calls.push(`+${client.id} ${exchange} ${symbol} ${depth} ${raw}`),
    unsubscribe: (client, exchange, symbol, depth) =>
      calls.push(`-${client.id} ${exchange} ${symbol} ${depth}`),
  });
  return { subscriptions, calls };
}

const fakeClient = (id: number): Client => createClient(id, {} as WebSocket, `c${id}`);

Deno.test("subscriptions: trade streams keep their audience by wire form; book streams go to the book views", () => {
  const { subscriptions, calls } = storeWithBooks();
  const a = fakeClient(1);
  const b = fakeClient(2);
  const trade = { channel: "trade", exchange: "x", symbol: "BTCUSDT" } as const;
  const book = { channel: "book", exchange: "x", symbol: "BTCUSDT" } as const;
  subscriptions.add(a, { stream: trade, raw: true });
  subscriptions.add(b, { stream: trade, raw: false });
  subscriptions.add(a, { stream: book, raw: false, depth: 10 });
  const audience = subscriptions.audience(streamId("trade", "x", "BTCUSDT"))!;
  assert.deepEqual([...audience.raw], [a]);
  assert.deepEqual([...audience.plain], [b]);
  assert.deepEqual(calls, ["+1 x BTCUSDT 10 false"]);
  assert.equal(subscriptions.count(a), 2);

  // Re-subscribing changes the wire form or depth in place.
  subscriptions.add(a, { stream: trade, raw: false });
  subscriptions.add(a, { stream: book, raw: false, depth: 20 });
  assert.deepEqual([...audience.plain].sort((p, q) => p.id - q.id), [a, b]);
  assert.equal(audience.raw.size, 0);
  assert.deepEqual(calls.slice(1), ["-1 x BTCUSDT 10", "+1 x BTCUSDT 20 false"]);
  assert.equal(subscriptions.count(a), 2);

  // Moving keeps the options under the new symbol.
  subscriptions.move(a, subscriptions.of(a)[1], "BTC-USDT");
  assert.deepEqual(calls.slice(3), ["-1 x BTCUSDT 20", "+1 x BTC-USDT 20 false"]);
  assert.deepEqual(
    subscriptions.of(a).map((s) => `${s.stream.channel} ${s.stream.symbol} ${s.depth}`),
    ["trade BTCUSDT undefined", "book BTC-USDT 20"],
  );
  assert.deepEqual([...subscriptions.onExchange("x").keys()].map((c) => c.id), [1, 2]);

  assert.equal(subscriptions.remove(b, trade), true);
  assert.equal(subscriptions.remove(b, trade), false);
  subscriptions.clear(a);
  assert.equal(subscriptions.audience(streamId("trade", "x", "BTCUSDT")), undefined);
  assert.deepEqual(calls.slice(5), ["-1 x BTC-USDT 20"]);
  assert.equal(subscriptions.onExchange("x").size, 0);
});

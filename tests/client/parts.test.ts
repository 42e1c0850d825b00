/**
 * The typed client's parts on their own: local books (snapshot, deltas, the `seq` check),
 * the remembered subscriptions, the reconnect backoff, and the parse of plain and batched
 * messages.
 */
import assert from "node:assert/strict";
import { createLocalBooks } from "../../core/client/_local_book.ts";
import { createSubscriptions } from "../../core/client/_subscriptions.ts";
import { backoffDelay } from "../../core/client/_backoff.ts";
import { type BookFrame, parseMessage } from "../../core/client/_frames.ts";

const frame = (fields: Partial<BookFrame>): BookFrame => ({
  type: "book",
  exchange: "binance",
  symbol: "BTCUSDT",
  unified: "BTC/USDT",
  snapshot: false,
  depth: 3,
  seq: 0,
  bids: [],
  asks: [],
  timestamp: "2026-12-07T00:00:00.000Z",
  eventTime: 1,
  receiveTime: 1,
  ...fields,
});

Deno.test("local book: a snapshot, then deltas with absolute quantities (0 removes), sorted best first", () => {
  const books = createLocalBooks();
  books.apply(frame({ snapshot: true, seq: 4, bids: [[99, 1], [100, 2]], asks: [[101, 1]] }));
  assert.equal(
    books.apply(frame({ seq: 5, bids: [[100, 0], [98, 3]], asks: [[102, 4]] })).result,
    "applied",
  );
  const book = books.get("binance", "BTC/USDT")!.book;
  assert.deepEqual(book.bids, [[99, 1], [98, 3]]);
  assert.deepEqual(book.asks, [[101, 1], [102, 4]]);
  assert.equal(book.seq, 5);
  assert.equal(book.synced, true);
});

Deno.test("local book: a skipped seq is a break; deltas are dropped until the next snapshot", () => {
  const books = createLocalBooks();
  books.apply(frame({ snapshot: true, seq: 0, bids: [[100, 1]], asks: [[101, 1]] }));
  books.apply(frame({ seq: 1, bids: [[100, 2]] }));
  const { result, view } = books.apply(frame({ seq: 3, bids: [[100, 9]] }));
  assert.equal(result, "break");
  assert.equal(view.book.synced, false);
  assert.deepEqual(view.book.bids, [[100, 2]], "the skipped delta's successor is not applied");
  assert.equal(books.apply(frame({ seq: 4, bids: [[100, 7]] })).result, "skipped");
  books.apply(frame({ snapshot: true, seq: 0, bids: [[100, 5]], asks: [[101, 1]] }));
  assert.equal(view.book.synced, true);
  assert.deepEqual(view.book.bids, [[100, 5]]);
  assert.equal(books.apply(frame({ seq: 1, asks: [[101, 0]] })).result, "applied");
  assert.deepEqual(view.book.asks, []);
});

Deno.test("remembered subscriptions: an unsubscribe forgets only its symbols × channels", () => {
  const subs = createSubscriptions();
  subs.add({ symbols: ["BTCUSDT", "ETHUSDT"], channels: ["trade", "quote"] });
  subs.add({
    symbols: ["BTCUSDT"],
    channels: ["book"],
    depth: 10,
    exchanges: ["kraken", "binance"],
  });
  subs.remove({ symbols: ["ETHUSDT"], channels: ["quote"] });
  subs.remove({ symbols: ["BTCUSDT"], channels: ["book"], exchanges: ["kraken"] });
  assert.deepEqual(subs.requests(), [
    { symbols: ["BTCUSDT"], channels: ["trade", "quote"] },
    { symbols: ["ETHUSDT"], channels: ["trade"] },
    { symbols: ["BTCUSDT"], channels: ["book"], exchanges: ["binance"], depth: 10 },
  ]);
  subs.remove({ symbols: ["BTCUSDT", "ETHUSDT"], channels: ["trade", "quote", "book"] });
  assert.deepEqual(subs.requests(), []);
});

Deno.test("backoff: doubles from the base up to the cap, jittered within the upper half of each step", () => {
  const opts = { baseMs: 100, capMs: 1000 };
  assert.deepEqual([0, 1, 2, 3, 4, 20].map((n) => backoffDelay(n, opts, () => 1)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  assert.equal(backoffDelay(2, opts, () => 0), 200);
  assert.equal(backoffDelay(0, {}, () => 1), 250, "default base 250 ms");
  assert.equal(backoffDelay(99, {}, () => 1), 10_000, "default cap 10 s");
});

Deno.test("parseMessage: one frame, a batch (array), and garbage", () => {
  assert.equal(parseMessage('{"type":"pong","time":1}').length, 1);
  assert.deepEqual(
    parseMessage('[{"type":"pong","time":1},{"type":"pong","time":2}]').map((f) => f.type),
    ["pong", "pong"],
  );
  assert.deepEqual(parseMessage("not json"), []);
  assert.deepEqual(parseMessage('[1,{"no":"type"}]'), []);
  assert.deepEqual(parseMessage(new Uint8Array([1])), []);
});

Deno.test("local book: 2,000 random deltas give the same levels as a plain price → quantity map", () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const books = createLocalBooks();
  const model = { bids: new Map<number, number>(), asks: new Map<number, number>() };
  books.apply(frame({ snapshot: true, seq: 0 }));
  for (let seq = 1; seq <= 2000; seq++) {
    const change = (side: "bids" | "asks") => {
      const price = side === "bids"
        ? 90 + Math.floor(random() * 10)
        : 101 + Math.floor(random() * 10);
      const quantity = random() < 0.3 ? 0 : Math.ceil(random() * 5);
      if (quantity === 0) model[side].delete(price);
      else model[side].set(price, quantity);
      return [[price, quantity]] as [number, number][];
    };
    assert.equal(
      books.apply(frame({ seq, bids: change("bids"), asks: change("asks") })).result,
      "applied",
    );
  }
  const book = books.get("binance", "BTCUSDT")!.book;
  assert.deepEqual(book.bids, [...model.bids].sort((a, b) => b[0] - a[0]));
  assert.deepEqual(book.asks, [...model.asks].sort((a, b) => a[0] - b[0]));
});

/**
 * The analytics in the hub (book-based figures: the scripted feed sends no book): the hub
 * feeds every applied book update's top levels and every trade to one engine per symbol,
 * a resync starts OFI over, frames are throttled by event time and serialized once per
 * distinct metrics set.
 */
import assert from "node:assert/strict";
import { createHub } from "../../core/ingest/hub.ts";
import { createBooks } from "../../core/books/books.ts";
import { createSubscriptions, streamId } from "../../core/delivery/subscriptions.ts";
import { createMarketState } from "../../core/market/state.ts";
import { createCatalog } from "../../core/market/catalog.ts";
import { createMetrics } from "../../core/server/metrics.ts";
import { createConsolidator } from "../../core/books/consolidated.ts";
import type { Client, Delivery } from "../../core/delivery/policy.ts";
import type { FeedItem } from "../../core/feed/messages.ts";
import type { Level } from "../../core/events.ts";

interface Sent {
  client: Client;
  text: string;
  key?: string;
}

function setup() {
  const sent: Sent[] = [];
  const delivery = {
    send(client: Client, text: string | (() => string), key?: string) {
      sent.push({ client, text: typeof text === "string" ? text : text(), key });
    },
  } as unknown as Delivery;
  const books = createBooks(delivery, () => {});
  const subscriptions = createSubscriptions(books);
  const market = createMarketState();
  const catalog = createCatalog({ x: ["BTCUSDT"] });
  const hub = createHub({
    subscriptions,
    books,
    market,
    catalog,
    delivery,
    metrics: createMetrics(),
    consolidator: createConsolidator(catalog, books, market),
    log: { info() {}, warning() {} },
    now: () => 0,
    analytics: { intervalMs: 100, vpinBucketVolume: 2 },
  });
  let seq = 0;
  const item = (i: FeedItem) => hub.onItem("x", i, ++seq);
  const book = (time: number, bids: Level[], asks: Level[], snapshot = false) =>
    item({
      type: "book",
      exchange: "x",
      symbol: "BTCUSDT",
      snapshot,
      bids,
      asks,
      eventTime: time,
      receiveTime: time,
      timestamp: new Date(time).toISOString(),
    });
  const trade = (time: number, price: number, quantity: number, side: "buy" | "sell") =>
    item({
      type: "trade",
      exchange: "x",
      symbol: "BTCUSDT",
      price,
      quantity,
      side,
      tradeId: seq,
      eventTime: time,
      receiveTime: time,
      timestamp: new Date(time).toISOString(),
    });
  return { hub, sent, subscriptions, book, trade, item };
}

const T = 1_765_000_000_000;
const client = (id: number) => ({ id }) as unknown as Client;
const stream = { channel: "analytics" as const, exchange: "x", symbol: "BTCUSDT" };
const analyticsFrames = (sent: Sent[]) =>
  sent.filter((s) => s.text.startsWith('{"type":"analytics"'));

Deno.test("hub analytics: book updates and trades reach the symbol's engine; a resync resets OFI", () => {
  const { hub, book, trade, item } = setup();
  assert.equal(hub.analytics("x", "BTCUSDT"), undefined, "created lazily");
  book(T, [[100, 2], [99, 1]], [[101, 1], [102, 5]], true);
  // Bid size 2 → 3 at the same price: e = +3 − 2 = +1 (Cont et al. 2014).
  book(T + 10, [[100, 3]], [], false);
  trade(T + 20, 101, 1, "buy");
  trade(T + 30, 100, 1, "sell");
  assert.equal(hub.analyticsTime("x", "BTCUSDT"), T + 30);
  const v = hub.analytics("x", "BTCUSDT")!.value(T + 30);
  // Microprice: I = 3/(3+1) = 0.75; 0.75·101 + 0.25·100 = 100.75.
  assert.equal(v.microprice?.weightedMid, 100.75);
  assert.equal(v.microprice?.mid, 100.5);
  assert.equal(v.ofi?.windows[0].ofi, 1);
  // Flow: VWAP (101·1 + 100·1)/2 = 100.5.
  assert.equal(v.flow?.windows[0].vwap, 100.5);
  // VPIN with bucket volume 2: one bucket, |1 − 1|/2 = 0 (null until 50 buckets, partial 0).
  assert.ok(v.vpin !== null && v.vpin !== undefined);
  item({ type: "book_status", symbol: "BTCUSDT", state: "resyncing", reason: "gap" });
  assert.equal(hub.analytics("x", "BTCUSDT")!.value(T + 30, ["microprice"]).microprice, null);
  book(T + 40, [[100, 1]], [[101, 1]], true);
  const after = hub.analytics("x", "BTCUSDT")!.value(T + 40, ["ofi"]);
  assert.equal(after.ofi?.reset, true, "the first OFI value after a resync says reset");
});

Deno.test("hub analytics: at most one frame per 100 ms of event time, once per metrics set, conflatable", () => {
  const { subscriptions, sent, book, trade } = setup();
  const a = client(1);
  const b = client(2);
  const c = client(3);
  subscriptions.add(a, { stream, raw: false, metrics: ["microprice"] });
  subscriptions.add(b, { stream, raw: false, metrics: ["microprice"] });
  subscriptions.add(c, { stream, raw: false, metrics: ["flow", "ofi"] });
  book(T, [[100, 1]], [[101, 1]], true); // emits (first event)
  book(T + 50, [[100, 2]], [[101, 1]]); // within 100 ms: no frame
  trade(T + 99, 101, 1, "buy"); // within 100 ms: no frame
  book(T + 100, [[100, 3]], [[101, 1]]); // emits
  trade(T + 150, 101, 1, "buy"); // no frame
  trade(T + 250, 101, 1, "buy"); // emits
  const frames = analyticsFrames(sent);
  assert.deepEqual(
    [...new Set(frames.map((f) => JSON.parse(f.text).time))],
    [T, T + 100, T + 250],
  );
  assert.equal(frames.length, 9, "three clients × three emissions");
  for (const f of frames) assert.equal(f.key, streamId("analytics", "x", "BTCUSDT"));
  // a and b share the very same text (one serialization per metrics set).
  const atT100 = frames.filter((f) => JSON.parse(f.text).time === T + 100);
  const ofA = atT100.find((f) => f.client === a)!;
  const ofB = atT100.find((f) => f.client === b)!;
  const ofC = atT100.find((f) => f.client === c)!;
  assert.equal(ofA.text, ofB.text);
  assert.deepEqual(Object.keys(JSON.parse(ofA.text)), [
    "type",
    "exchange",
    "symbol",
    "time",
    "microprice",
  ]);
  // I = 3/4: 0.75·101 + 0.25·100 = 100.75.
  assert.equal(JSON.parse(ofA.text).microprice.weightedMid, 100.75);
  assert.deepEqual(Object.keys(JSON.parse(ofC.text)).slice(4), ["ofi", "flow"]);
});

Deno.test("hub analytics: no frame without an analytics subscriber; the current frame on demand", () => {
  const { hub, sent, book } = setup();
  assert.equal(hub.analyticsFrame("x", "BTCUSDT", ["microprice"]), undefined);
  book(T, [[100, 1]], [[101, 1]], true);
  assert.equal(analyticsFrames(sent).length, 0);
  const now = JSON.parse(hub.analyticsFrame("x", "BTCUSDT", ["microprice"])!);
  assert.equal(now.type, "analytics");
  assert.equal(now.time, T);
  assert.equal(now.microprice.mid, 100.5);
});

/**
 * The analytics' cost on the ingest path, end to end in the hub: `hub.onItem` for a book
 * update (the book applied, its top 10 levels taken, OFI, mid-price volatility and the
 * throttled emission check) and for a trade (flow, VPIN), with the analytics computed
 * (default) and with `enabled: false`, in one run. The difference per event is what the
 * analytics add (issue #14 target: ≤ 0.5 µs). No client is subscribed: this is the cost
 * every event pays, whether or not anyone reads the figures. Each iteration handles 1,000 events
 * (timer overhead and GC pauses spread over them): per event = time per iteration / 1,000.
 * Run with `deno bench --config deno.dev.json -A bench/analytics_hub.bench.ts`.
 * @module
 */
import type { Level } from "../core/events.ts";
import type { FeedItem } from "../core/feed/messages.ts";
import { silentDelivery } from "../core/delivery/policy.ts";
import { createHub } from "../core/ingest/hub.ts";
import { createBooks } from "../core/books/books.ts";
import { createSubscriptions } from "../core/delivery/subscriptions.ts";
import { createMarketState } from "../core/market/state.ts";
import { createCatalog } from "../core/market/catalog.ts";
import { createMetrics } from "../core/server/metrics.ts";
import { createConsolidator } from "../core/books/consolidated.ts";
import { createRng } from "../testing.ts";

/** Levels per side of the book (a Binance-like 1000-level book). */
const LEVELS = 1000;
/** Pre-generated updates, replayed in a cycle. */
const CYCLE = 4096;
const TICK = 0.01;
const BID = 60_000;

const silent = silentDelivery();

const round = (x: number) => Math.round(x * 100) / 100;

/** A hub with one 1000-level book of x:BTCUSDT; `enabled` switches the analytics. */
function hubWith(enabled: boolean) {
  const books = createBooks(silent, () => {});
  const subscriptions = createSubscriptions(books);
  const market = createMarketState();
  const catalog = createCatalog({ x: ["BTCUSDT"] });
  const hub = createHub({
    subscriptions,
    books,
    market,
    catalog,
    delivery: silent,
    metrics: createMetrics(),
    consolidator: createConsolidator(catalog, books, market),
    log: { info() {}, warning() {} },
    now: () => 0,
    analytics: { enabled, vpinBucketVolume: 5 },
  });
  const rng = createRng(21);
  const side = (sign: number, from: number): Level[] =>
    Array.from({ length: LEVELS }, (_, k) => [round(from + sign * k * TICK), 0.1 + rng.next()]);
  let seq = 0;
  let time = 1_765_000_000_000;
  hub.onItem("x", {
    type: "book",
    exchange: "x",
    symbol: "BTCUSDT",
    snapshot: true,
    bids: side(-1, BID),
    asks: side(1, BID + TICK),
    eventTime: time,
    receiveTime: time,
    timestamp: new Date(time).toISOString(),
  }, ++seq);
  // Deltas as Binance's depth stream sends them: a few levels near the touch change
  // (quantities only, so the book keeps its shape), the best level in one of two.
  const deltas: Level[][][] = Array.from({ length: CYCLE }, () => {
    const changes = (sign: number, from: number): Level[] =>
      Array.from({ length: 3 }, (_, i) => {
        const k = i === 0 && rng.next() < 0.5 ? 0 : Math.floor(rng.next() * 20);
        return [round(from + sign * k * TICK), round(0.1 + rng.next() * 3)];
      });
    return [changes(-1, BID), changes(1, BID + TICK)];
  });
  const prices = Array.from({ length: CYCLE }, () => round(BID + (rng.next() < 0.5 ? 0 : TICK)));
  let i = 0;
  return {
    book() {
      const [bids, asks] = deltas[i++ & (CYCLE - 1)];
      time += 1;
      const item: FeedItem = {
        type: "book",
        exchange: "x",
        symbol: "BTCUSDT",
        snapshot: false,
        bids,
        asks,
        eventTime: time,
        receiveTime: time,
        timestamp: "",
      };
      hub.onItem("x", item, ++seq);
    },
    trade() {
      const price = prices[i++ & (CYCLE - 1)];
      time += 1;
      hub.onItem("x", {
        type: "trade",
        exchange: "x",
        symbol: "BTCUSDT",
        price,
        quantity: 0.01 + (i & 7) * 0.01,
        side: price > BID ? "buy" : "sell",
        tradeId: seq,
        eventTime: time,
        receiveTime: time,
        timestamp: "",
      }, ++seq);
    },
  };
}

const off = hubWith(false);
const on = hubWith(true);

/** Events per bench iteration: per-event figures are the time per iteration / 1,000. */
const BATCH = 1_000;
const batch = (f: () => void) => () => {
  for (let i = 0; i < BATCH; i++) f();
};

Deno.bench({
  name: "1,000 book updates, analytics off",
  group: "hub book update (1000-level book, 6 level changes)",
  baseline: true,
  fn: batch(off.book),
});
Deno.bench({
  name: "1,000 book updates, analytics on",
  group: "hub book update (1000-level book, 6 level changes)",
  fn: batch(on.book),
});
Deno.bench({
  name: "1,000 trades, analytics off",
  group: "hub trade",
  baseline: true,
  fn: batch(off.trade),
});
Deno.bench({
  name: "1,000 trades, analytics on",
  group: "hub trade",
  fn: batch(on.trade),
});

/**
 * `deno bench -A bench/coinbase_mapper.bench.ts`
 *
 * Cost of turning one Coinbase Advanced Trade frame (text, as received) into
 * normalized events: our validating mapper, bare `JSON.parse`, and ccxt pro's
 * Coinbase handlers (`handleOrderBook`, `handleTrade`, which call `parseTrade`)
 * on the same frames, driven without network. Each iteration maps a batch of
 * {@link BATCH} distinct frames, so time/iter ÷ BATCH is the cost of one frame.
 * @module
 */
import ccxt from "ccxt";
import { mapCoinbaseFrame } from "../plugins/coinbase/mapper.ts";

/** Frames per bench iteration. */
const BATCH = 256;
const PRODUCTS: ReadonlySet<string> = new Set(["BTC-USD", "ETH-USD"]);
const T0 = 1_767_225_600_000;

/** Deterministic PRNG (mulberry32) so every run maps the same frames. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = prng(11);
const px = (mid: number) => (mid + (rnd() - 0.5) * 20).toFixed(2).replace(/\.?0+$/, "");
const qty = () => (rnd() * 2).toFixed(8).replace(/\.?0+$/, "");
const nanos = (ms: number) => new Date(ms).toISOString().replace("Z", "123456Z");

/** What `wss://advanced-trade-ws.coinbase.com` sends: an l2_data update with 8 levels per side. */
const level2 = Array.from({ length: BATCH }, (_, i) =>
  JSON.stringify({
    channel: "l2_data",
    client_id: "",
    timestamp: nanos(T0 + i * 50),
    sequence_num: 1000 + i,
    events: [{
      type: "update",
      product_id: "BTC-USD",
      updates: Array.from({ length: 16 }, (_, j) => ({
        side: j < 8 ? "bid" : "offer",
        event_time: nanos(T0 + i * 50 - 1),
        price_level: j < 8 ? px(86_990) : px(87_010),
        new_quantity: rnd() < 0.2 ? "0" : qty(),
      })),
    }],
  }));

/** A market_trades update batch (Coinbase batches 250 ms), 1–4 trades, newest first. */
const trades = Array.from({ length: BATCH }, (_, i) => {
  const n = 1 + Math.floor(rnd() * 4);
  return JSON.stringify({
    channel: "market_trades",
    client_id: "",
    timestamp: nanos(T0 + i * 250),
    sequence_num: 5000 + i,
    events: [{
      type: "update",
      trades: Array.from({ length: n }, (_, j) => ({
        trade_id: String(700_000_000 + i * 4 + (n - j)),
        product_id: "BTC-USD",
        price: px(87_000),
        size: qty(),
        side: rnd() < 0.5 ? "BUY" : "SELL",
        time: nanos(T0 + i * 250 - j),
      })),
    }],
  });
});

const frames = { level2, market_trades: trades };
let sink = 0;

for (const [kind, batch] of Object.entries(frames)) {
  Deno.bench({
    name: `${kind}: mapCoinbaseFrame (validated)`,
    group: kind,
    baseline: true,
    fn() {
      const now = Date.now();
      for (let i = 0; i < BATCH; i++) {
        if (mapCoinbaseFrame(batch[i], now, PRODUCTS).kind !== "malformed") sink++;
      }
    },
  });
  Deno.bench({
    name: `${kind}: JSON.parse only`,
    group: kind,
    fn() {
      for (let i = 0; i < BATCH; i++) if (JSON.parse(batch[i]).events) sink++;
    },
  });
}

// --- ccxt pro coinbase: the same frames through its WebSocket handlers, no network.
// deno-lint-ignore no-explicit-any
const ccxtCoinbase = new (ccxt as any).pro.coinbase();
ccxtCoinbase.setMarkets([{
  id: "BTC-USD",
  symbol: "BTC/USD",
  base: "BTC",
  quote: "USD",
  baseId: "BTC",
  quoteId: "USD",
  spot: true,
  type: "spot",
  active: true,
  precision: { price: 0.01, amount: 0.00000001 },
  limits: {},
  info: {},
}]);
const ccxtClient = {
  url: "wss://advanced-trade-ws.coinbase.com",
  subscriptions: {},
  futures: {},
  resolve() {},
  reject() {},
};
// handleOrderBook applies updates only to a book created by a snapshot.
ccxtCoinbase.handleOrderBook(ccxtClient, {
  channel: "l2_data",
  timestamp: nanos(T0),
  sequence_num: 0,
  events: [{
    type: "snapshot",
    product_id: "BTC-USD",
    updates: [
      { side: "bid", event_time: "1970-01-01T00:00:00Z", price_level: "86990", new_quantity: "1" },
      {
        side: "offer",
        event_time: "1970-01-01T00:00:00Z",
        price_level: "87010",
        new_quantity: "1",
      },
    ],
  }],
});
Deno.bench({
  name: "level2: ccxt pro coinbase.handleOrderBook",
  group: "level2",
  fn() {
    for (let i = 0; i < BATCH; i++) ccxtCoinbase.handleOrderBook(ccxtClient, JSON.parse(level2[i]));
    sink++;
  },
});
Deno.bench({
  name: "market_trades: ccxt pro coinbase.handleTrade (parseTrade)",
  group: "market_trades",
  fn() {
    for (let i = 0; i < BATCH; i++) ccxtCoinbase.handleTrade(ccxtClient, JSON.parse(trades[i]));
    sink++;
  },
});

// Sanity: ccxt really parsed something (a broken setup would bench a no-op).
const book = ccxtCoinbase.orderbooks["BTC/USD"];
ccxtCoinbase.handleOrderBook(ccxtClient, JSON.parse(level2[0]));
ccxtCoinbase.handleTrade(ccxtClient, JSON.parse(trades[0]));
if (!book || book.bids.length < 2 || ccxtCoinbase.trades["BTC/USD"].length < 1) {
  throw new Error("ccxt coinbase handlers did not process the frames");
}

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});

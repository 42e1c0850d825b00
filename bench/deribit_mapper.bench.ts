/**
 * `deno bench -A bench/deribit_mapper.bench.ts`
 *
 * Cost of turning Deribit JSON-RPC notifications (text, as received) into normalized
 * events: book changes through the mapper and the `change_id` continuity check, trades,
 * and option tickers (quote + option fields + greeks). Each iteration handles a batch of
 * {@link BATCH} distinct frames, so time/iter ÷ BATCH is the cost of one frame.
 * @module
 */
import type { FeedLogger } from "../core/feed/plugin.ts";
import { createBookSync } from "../plugins/deribit/book_sync.ts";
import { mapDeribitFrame } from "../plugins/deribit/mapper.ts";
import { createRng } from "../core/testing/prng.ts";

/** Frames per bench iteration. */
const BATCH = 256;
const T0 = 1_796_600_000_000;
const QUIET: FeedLogger = { debug() {}, info() {}, warn() {}, error() {} };
const OPTION = "BTC-27DEC26-100000-C";
const rng = createRng(17);
const note = (channel: string, data: unknown) =>
  JSON.stringify({ jsonrpc: "2.0", method: "subscription", params: { channel, data } });

const books: string[] = [];
for (let i = 0; i < BATCH; i++) {
  const level =
    () => [["new", "change", "delete"][rng.int(3)], 0.04 + rng.int(40) * 0.0005, rng.int(500) / 10];
  books.push(note(`book.${OPTION}.100ms`, {
    type: "change",
    timestamp: T0 + i * 100,
    instrument_name: OPTION,
    prev_change_id: 1000 + i,
    change_id: 1001 + i,
    bids: [level(), level()],
    asks: [level()],
  }));
}
const snapshot = mapDeribitFrame(
  note(`book.${OPTION}.100ms`, {
    type: "snapshot",
    timestamp: T0,
    instrument_name: OPTION,
    change_id: 1000,
    bids: [["new", 0.04, 10]],
    asks: [["new", 0.045, 10]],
  }),
  T0,
);
const trades = Array.from({ length: BATCH }, (_, i) =>
  note(`trades.${OPTION}.100ms`, [{
    trade_seq: i,
    trade_id: String(48_000_000 + i),
    timestamp: T0 + i,
    tick_direction: 0,
    price: 0.04 + rng.int(20) * 0.0005,
    mark_price: 0.0421,
    iv: 52.3,
    instrument_name: OPTION,
    index_price: 100_980.12,
    direction: rng.next() < 0.5 ? "buy" : "sell",
    amount: 0.1 * (1 + rng.int(50)),
  }]));
const tickers = Array.from({ length: BATCH }, (_, i) =>
  note(`ticker.${OPTION}.100ms`, {
    timestamp: T0 + i * 100,
    instrument_name: OPTION,
    state: "open",
    best_bid_price: 0.041,
    best_bid_amount: 12.5,
    best_ask_price: 0.043,
    best_ask_amount: 3.2,
    mark_price: 0.0421 + i * 1e-6,
    mark_iv: 52.3,
    bid_iv: 51.2,
    ask_iv: 53.9,
    underlying_price: 101_250.5,
    underlying_index: "BTC-27DEC26",
    index_price: 100_980.12,
    interest_rate: 0,
    open_interest: 1250.4,
    greeks: { delta: 0.52, gamma: 0.00002, vega: 120.5, theta: -85.1, rho: 30.2 },
    stats: { volume: 12, price_change: 1.2, low: 0.03, high: 0.05 },
  }));

let sink = 0;
Deno.bench(`deribit book changes: map + change_id check (${BATCH} frames)`, () => {
  const sync = createBookSync({
    symbol: OPTION,
    emit: () => sink++,
    bookStatus: () => {},
    resync: () => {},
    log: QUIET,
  });
  if (snapshot.kind === "book") sync.onMessage(snapshot.book);
  for (const text of books) {
    const f = mapDeribitFrame(text, T0);
    if (f.kind === "book") sync.onMessage(f.book);
  }
});
Deno.bench(`deribit trades: map (${BATCH} frames)`, () => {
  for (const text of trades) if (mapDeribitFrame(text, T0).kind === "trades") sink++;
});
Deno.bench(`deribit option tickers: map to quotes with greeks (${BATCH} frames)`, () => {
  for (const text of tickers) if (mapDeribitFrame(text, T0).kind === "ticker") sink++;
});

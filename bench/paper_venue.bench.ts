/**
 * Simulated venue benchmarks on a busy book (1,000 levels per side, tick 0.01 around 30,000,
 * seeded data): order actions per second (a resting limit submitted then cancelled; a market
 * order walking about five levels), and the cost of one book update touching 10 levels near the
 * top while 1,000 accounts each have an order resting there.
 * Run with `deno bench --no-check --config deno.dev.json bench/paper_venue.bench.ts`.
 * Target (issue #15): ≥ 100k order actions/s, i.e. ≤ 10 ms per 1,000-action iteration.
 * Each action iteration is a batch of 1,000 actions, so garbage collection is paid inside the
 * figure instead of showing up as rare huge outliers of single-action iterations.
 * @module
 */
import type { BookUpdate, Level } from "../core/events.ts";
import { applySnapshot, applyUpdate, createBook, type OrderBook } from "../core/books/book.ts";
import { createVenue, type Venue } from "../core/paper/venue.ts";
import type { OrderRequest } from "../core/paper/types.ts";
import { createRng } from "../testing.ts";

const DEPTH = 1_000;
const ACCOUNTS = 1_000;
const RULES = { exchange: "binance", symbol: "BTCUSDT", base: "BTC", quote: "USDT" };

/** Price of the k-th tick away from the touch. */
function tickPrice(side: "bid" | "ask", k: number): number {
  return side === "bid" ? (3_000_000 - k) / 100 : (3_000_001 + k) / 100;
}

function busyBook(seed: number): OrderBook {
  const rng = createRng(seed);
  const side = (name: "bid" | "ask"): Level[] =>
    Array.from({ length: DEPTH }, (_, k): Level => [tickPrice(name, k), 1 + rng.int(1_000) / 100]);
  const book = createBook();
  applySnapshot(book, side("bid"), side("ask"), 1);
  return book;
}

function busyVenue(book: OrderBook): Venue {
  return createVenue({
    rules: RULES,
    fees: { maker: 0.001, taker: 0.001 },
    latency: { marketDataMs: 0, orderEntryMs: 0 },
    book: () => book,
    onReport: () => {},
  });
}

const accountIds = Array.from({ length: ACCOUNTS }, (_, i) => `acct-${i}`);

function bookUpdate(time: number, bids: Level[], asks: Level[], snapshot = false): BookUpdate {
  return {
    type: "book",
    exchange: RULES.exchange,
    symbol: RULES.symbol,
    snapshot,
    bids,
    asks,
    eventTime: time,
    receiveTime: time,
    timestamp: "2026-12-07T00:00:00.000Z",
  };
}

// ---- submit a resting limit, then cancel it (2 actions per iteration) --------------------

{
  const book = busyBook(1);
  const venue = busyVenue(book);
  const rng = createRng(2);
  const requests: OrderRequest[] = Array.from({ length: 4_096 }, () => ({
    ...RULES,
    side: "buy",
    type: "limit",
    quantity: 0.01 * (1 + rng.int(100)),
    price: tickPrice("bid", rng.int(50)),
  }));
  let i = 0;
  Deno.bench("venue: 500 × (submit a resting limit + cancel it) = 1,000 actions", {
    group: "actions",
    n: 500,
    warmup: 100,
  }, () => {
    for (let k = 0; k < 500; k++, i++) {
      const account = accountIds[i % ACCOUNTS];
      const result = venue.submit(account, requests[i & 4_095], 1_000 + i);
      if (result.ok) venue.cancel(account, result.order.id, 1_000 + i);
    }
  });
}

// ---- a market order walking ~5 levels (1 action per iteration) ----------------------------

{
  const book = busyBook(3);
  const venue = busyVenue(book);
  const rng = createRng(4);
  const requests: OrderRequest[] = Array.from({ length: 4_096 }, () => ({
    ...RULES,
    side: rng.int(2) === 0 ? "buy" : "sell",
    type: "market",
    quantity: 20 + rng.int(1_000) / 100,
  }));
  let i = 0;
  Deno.bench("venue: 1,000 market orders walking ~5 levels = 1,000 actions", {
    group: "actions",
    n: 500,
    warmup: 100,
  }, () => {
    for (let k = 0; k < ACCOUNTS; k++, i++) {
      venue.submit(accountIds[k], requests[i & 4_095], 1_000 + i);
    }
    // Every account has had one order: a (no-op) snapshot makes the feed refresh every level,
    // so consumption is forgotten before an account walks again.
    venue.onBook(bookUpdate(1_000 + i, [], [], true));
  });
}

// ---- one book update with 1,000 accounts resting near the top -----------------------------

{
  const book = busyBook(5);
  const venue = busyVenue(book);
  const rng = createRng(6);
  // Each account rests a buy within the top 20 bid levels and a sell within the top 20 asks.
  for (const account of accountIds) {
    venue.submit(account, {
      ...RULES,
      side: "buy",
      type: "limit",
      quantity: 0.1,
      price: tickPrice("bid", rng.int(20)),
    }, 1_000);
    venue.submit(account, {
      ...RULES,
      side: "sell",
      type: "limit",
      quantity: 0.1,
      price: tickPrice("ask", rng.int(20)),
    }, 1_000);
  }
  // Updates change the quantity of 5 bid and 5 ask levels among the top 20 (never remove one:
  // the book keeps its shape, nothing crosses, so the orders rest for the whole run).
  const updates = Array.from({ length: 4_096 }, (_, n) => {
    const side = (name: "bid" | "ask"): Level[] =>
      Array.from(
        { length: 5 },
        (): Level => [tickPrice(name, rng.int(20)), 1 + rng.int(1_000) / 100],
      );
    return bookUpdate(2_000 + n, side("bid"), side("ask"));
  });
  let i = 0;
  Deno.bench(
    "venue: book update of 10 levels, 2,000 resting orders of 1,000 accounts in the top 20",
    {
      group: "book",
    },
    () => {
      const update = updates[i & 4_095];
      applyUpdate(book, update);
      venue.onBook(update);
      i++;
    },
  );
  Deno.bench("baseline: the same update applied to the book alone", {
    group: "book",
    baseline: true,
  }, () => {
    applyUpdate(book, updates[i & 4_095]);
    i++;
  });
}

// ---- the same update with the 1,000 accounts' orders resting deep in the book ------------

{
  const book = busyBook(5);
  const venue = busyVenue(book);
  const rng = createRng(6);
  // The orders sit 500–999 ticks away: the update's levels have none, so its cost must not
  // depend on how many accounts there are.
  for (const account of accountIds) {
    venue.submit(account, {
      ...RULES,
      side: "buy",
      type: "limit",
      quantity: 0.1,
      price: tickPrice("bid", 500 + rng.int(500)),
    }, 1_000);
    venue.submit(account, {
      ...RULES,
      side: "sell",
      type: "limit",
      quantity: 0.1,
      price: tickPrice("ask", 500 + rng.int(500)),
    }, 1_000);
  }
  const updates = Array.from({ length: 4_096 }, (_, n) => {
    const side = (name: "bid" | "ask"): Level[] =>
      Array.from(
        { length: 5 },
        (): Level => [tickPrice(name, rng.int(20)), 1 + rng.int(1_000) / 100],
      );
    return bookUpdate(2_000 + n, side("bid"), side("ask"));
  });
  let i = 0;
  Deno.bench("venue: book update of 10 levels, 2,000 resting orders of 1,000 accounts elsewhere", {
    group: "book",
    n: 50_000,
    warmup: 10_000,
  }, () => {
    const update = updates[i & 4_095];
    applyUpdate(book, update);
    venue.onBook(update);
    i++;
  });
}

/**
 * The desk on hand-built books of two venues, x and y, listing BTC/USD (tick 0.01, step 0.001,
 * fees 0.1 % maker and taker — the default of an exchange without a schedule): accounts priced
 * with their own fees, holds released, and routed orders — the sweep, and the passive strategy
 * filled by the market as maker or swept after its wait.
 */
import assert from "node:assert/strict";
import { createDesk, type Desk } from "../../core/paper/desk.ts";
import { createCatalog } from "../../core/market/catalog.ts";
import { applySnapshot, applyUpdate, createBook, type OrderBook } from "../../core/books/book.ts";
import type { Level, Side } from "../../core/events.ts";
import type { FeedItem } from "../../core/feed/messages.ts";
import type { RouteReport } from "../../core/paper/route_exec.ts";

const T = 1_765_000_000_000;
const LIMITS = { ordersPerSecond: 1_000, openOrders: 100 };
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} ≠ ${b}`);

function setup() {
  const catalog = createCatalog({ x: ["XUSD"], y: ["YUSD"] });
  for (const [exchange, symbol] of [["x", "XUSD"], ["y", "YUSD"]]) {
    catalog.setInstruments(exchange, [{
      symbol,
      base: "BTC",
      quote: "USD",
      unified: "BTC/USD",
      tickSize: 0.01,
      stepSize: 0.001,
    }], [symbol]);
  }
  const books = new Map<string, OrderBook>();
  const frames: Record<string, unknown>[] = [];
  let clock = T;
  const desk: Desk = createDesk({
    catalog,
    book: (exchange, symbol) => books.get(`${exchange}|${symbol}`),
    bookTime: () => clock,
    latency: { marketDataMs: 0, orderEntryMs: 0 },
    balances: { USD: 100_000, BTC: 10 },
    send: (_owner, text) => frames.push(JSON.parse(text)),
    now: () => clock,
  });
  /** A book item through the desk as the gateway sends it: before, apply, after. */
  const book = (
    exchange: string,
    symbol: string,
    time: number,
    bids: Level[],
    asks: Level[],
    snapshot = false,
  ) => {
    clock = time;
    const item: FeedItem = {
      type: "book",
      exchange,
      symbol,
      snapshot,
      bids,
      asks,
      eventTime: time,
      receiveTime: time,
      timestamp: "",
    };
    desk.beforeItem(exchange, item);
    const key = `${exchange}|${symbol}`;
    if (snapshot) {
      const b = createBook();
      applySnapshot(b, bids, asks);
      books.set(key, b);
    } else applyUpdate(books.get(key)!, { bids, asks });
    desk.afterItem(exchange, item);
  };
  const trade = (
    exchange: string,
    symbol: string,
    time: number,
    price: number,
    quantity: number,
    side: Side,
  ) => {
    clock = time;
    const item: FeedItem = {
      type: "trade",
      exchange,
      symbol,
      price,
      quantity,
      side,
      tradeId: time,
      eventTime: time,
      receiveTime: time,
      timestamp: "",
    };
    desk.beforeItem(exchange, item);
    desk.afterItem(exchange, item);
  };
  // x: bid 100 × 1, asks 101 × 1 then 102 × 5; y: bid 99.5 × 5, ask 101.5 × 5.
  book("x", "XUSD", T, [[100, 1]], [[101, 1], [102, 5]], true);
  book("y", "YUSD", T, [[99.5, 5]], [[101.5, 5]], true);
  return { desk, frames, book, trade };
}

const routeFrames = (frames: Record<string, unknown>[]) =>
  frames.filter((f) => f.type === "route").map((f) => f.route as RouteReport);

Deno.test("route sweep: 2 BTC split x 1 @ 101 + y 1 @ 101.5, cheaper than either venue alone", () => {
  const { desk, frames } = setup();
  const result = desk.route("alice", { symbol: "BTC/USD", side: "buy", quantity: 2 }, LIMITS);
  assert.ok(result.ok, JSON.stringify(result));
  const route = result.value;
  assert.equal(route.status, "done");
  assert.deepEqual(route.children.map((c) => [c.exchange, c.filledQuantity, c.averagePrice]), [
    ["x", 1, 101],
    ["y", 1, 101.5],
  ]);
  // 101 + 101.5 = 202.5 notional, fees 0.1 %: 202.7025 all-in, 101.35125 per BTC.
  close(route.allInAveragePrice!, 101.35125, "all-in average");
  // Alone, x: 101 + 102 = 203 → 203.203 all-in; y: 2 × 101.5 = 203 → 203.203: the split saves 0.5005.
  close(route.plan.bestSingleVenue!.allInAveragePrice, 101.6015, "best single venue");
  close(route.achievedSaving!, 0.5005, "saving achieved");
  assert.equal(routeFrames(frames).at(-1)?.status, "done", "a done route frame was sent");
});

Deno.test("route passive: joins the best bid (x at 100) and the market fills it as maker; no sweep", () => {
  const { desk, frames, trade } = setup();
  const result = desk.route(
    "alice",
    { symbol: "BTC/USD", side: "buy", quantity: 0.5, strategy: "passive", waitMs: 1_000 },
    LIMITS,
  );
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.value.status, "passive");
  assert.deepEqual(result.value.children.map((c) => [c.phase, c.exchange, c.status]), [
    ["passive", "x", "new"],
  ]);
  // 1.5 sold at 100: the 1.0 displayed ahead first, then 0.5 to our order.
  trade("x", "XUSD", T + 200, 100, 1.5, "sell");
  const done = routeFrames(frames).at(-1)!;
  assert.equal(done.status, "done");
  assert.equal(done.children.length, 1, "no sweep needed");
  assert.equal(done.children[0].status, "filled");
  // 0.5 @ 100 + 0.1 % maker: 100.1 per BTC; the best single venue sweeping 0.5 (x at 101):
  // 101.101 per BTC — the passive route saved (101.101 − 100.1) × 0.5 = 0.5005.
  close(done.allInAveragePrice!, 100.1, "all-in average");
  close(done.achievedSaving!, 0.5005, "saving achieved");
});

Deno.test("route passive: after its wait the rest is cancelled and swept at the asks", () => {
  const { desk, frames, book } = setup();
  const result = desk.route(
    "alice",
    { symbol: "BTC/USD", side: "buy", quantity: 0.5, strategy: "passive", waitMs: 1_000 },
    LIMITS,
  );
  assert.ok(result.ok);
  // No trade reaches the bid; a book update 999 ms later changes nothing for the route.
  book("y", "YUSD", T + 999, [[99.5, 4]], []);
  assert.equal(routeFrames(frames).length, 0, "still waiting");
  // At T + 1000 the wait is over: cancel, then sweep 0.5 at x's ask 101.
  book("y", "YUSD", T + 1_000, [[99.5, 3]], []);
  const done = routeFrames(frames).at(-1)!;
  assert.equal(done.status, "done");
  assert.deepEqual(done.children.map((c) => [c.phase, c.exchange, c.status, c.filledQuantity]), [
    ["passive", "x", "cancelled", 0],
    ["sweep", "x", "filled", 0.5],
  ]);
  assert.ok(done.sweepPlan, "the sweep of the rest is reported");
  close(done.averagePrice!, 101, "average price");
});

Deno.test("accounts: a fee override prices the fills; an ended order's hold is released", () => {
  const { desk, frames } = setup();
  const reset = desk.reset("bob", { fees: { x: { maker: 0, taker: 0.002 } } });
  assert.ok(reset.ok);
  const order = desk.order("bob", {
    exchange: "x",
    symbol: "XUSD",
    side: "buy",
    type: "limit",
    price: 101,
    quantity: 0.4,
    timeInForce: "IOC",
  }, LIMITS);
  assert.ok(order.ok, JSON.stringify(order));
  const fill = frames.find((f) => f.type === "fill")!.fill as { fee: number; price: number };
  close(fill.fee, 101 * 0.4 * 0.002, "taker fee at the account's 0.2 %");
  const account = desk.account("bob");
  // 100,000 − 40.4 − 0.0808 = 99,959.5192 USD, nothing left locked.
  close(account.balances.USD.free, 99_959.5192, "USD free");
  assert.equal(account.balances.USD.locked, 0);
  close(account.balances.BTC.free, 10.4, "BTC free");
});

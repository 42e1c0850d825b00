/**
 * The simulated venue, on hand-built books: taker walks, time in force, post-only, resting
 * orders' queue position, fills from trades, trade-throughs and crossed books, cancel and
 * amend, latency, independent accounts, consumed liquidity, fees and determinism.
 */
import { strict as assert } from "node:assert";
import { applySnapshot, applyUpdate, createBook } from "../../core/books/book.ts";
import type { Level, Side } from "../../core/events.ts";
import type {
  FeeSchedule,
  LatencyModel,
  OrderRequest,
  PaperFill,
  PaperOrder,
} from "../../core/paper/types.ts";
import { type QueueModel, riskAverseQueueModel } from "../../core/paper/queue.ts";
import { createVenue, type VenueReport, walkBook } from "../../core/paper/venue.ts";
import { createRng } from "../../testing.ts";

const RULES = { exchange: "binance", symbol: "BTCUSDT", base: "BTC", quote: "USDT" };
const FEES: FeeSchedule = { maker: 0.001, taker: 0.002 };

const cents = (x: number | undefined): number | undefined =>
  x === undefined ? undefined : Math.round(x * 100) / 100;

interface Setup {
  bids: Level[];
  asks: Level[];
  latency?: LatencyModel;
  fees?: FeeSchedule;
  /** Default: the venue's own (power model, n = 2). */
  queue?: QueueModel;
}

/** A venue on a hand-built book, with the gateway's call order for book updates. */
function setup(
  { bids, asks, latency = { marketDataMs: 0, orderEntryMs: 0 }, fees = FEES, queue }: Setup,
) {
  const book = createBook();
  applySnapshot(book, bids, asks);
  let synced = true;
  const reports: Array<[string, VenueReport]> = [];
  const venue = createVenue({
    rules: RULES,
    fees,
    latency,
    ...(queue ? { queue } : {}),
    book: () => synced ? book : undefined,
    onReport: (account, report) => reports.push([account, report]),
  });
  const order = (
    side: Side,
    quantity: number,
    price?: number,
    extra: Partial<OrderRequest> = {},
  ): OrderRequest => ({
    exchange: RULES.exchange,
    symbol: RULES.symbol,
    side,
    type: price === undefined ? "market" : "limit",
    quantity,
    ...(price === undefined ? {} : { price }),
    ...extra,
  });
  return {
    venue,
    book,
    reports,
    order,
    unsync: () => synced = false,
    /** As the gateway does: advance, apply the update to the book, then tell the venue. */
    update(time: number, bids: Level[], asks: Level[]): void {
      venue.advance(time);
      applyUpdate(book, { bids, asks });
      venue.onBook({
        type: "book",
        exchange: RULES.exchange,
        symbol: RULES.symbol,
        snapshot: false,
        bids,
        asks,
        eventTime: time,
        receiveTime: time,
        timestamp: new Date(time).toISOString(),
      });
    },
    trade(time: number, side: Side, price: number, quantity: number): void {
      venue.onTrade({
        type: "trade",
        exchange: RULES.exchange,
        symbol: RULES.symbol,
        price,
        quantity,
        side,
        tradeId: time,
        eventTime: time,
        receiveTime: time,
        timestamp: new Date(time).toISOString(),
      });
    },
    fills(account: string): PaperFill[] {
      return reports.flatMap(([a, r]) => a === account && r.type === "fill" ? [r.fill] : []);
    },
    /** The latest report of an order. */
    last(account: string, id: string): PaperOrder {
      const found = reports.findLast(([a, r]) =>
        a === account && r.type === "order" && r.order.id === id
      );
      assert.ok(found, `no report of ${account} ${id}`);
      return (found[1] as { order: PaperOrder }).order;
    },
    submit(account: string, request: OrderRequest, time: number): PaperOrder {
      const result = venue.submit(account, request, time);
      assert.ok(result.ok, result.ok ? "" : result.error.message);
      return result.order;
    },
  };
}

Deno.test("a market buy walks three asks: 1 @ 100, 1 @ 101, 0.5 @ 102, average 100.80, slippage 0 / 100 / 200 bps", () => {
  const v = setup({ bids: [[99, 1]], asks: [[100, 1], [101, 1], [102, 2]] });
  const { id } = v.submit("alice", v.order("buy", 2.5), 1_000);
  const fills = v.fills("alice");
  assert.deepEqual(fills.map((f) => [f.price, f.quantity, f.liquidity]), [
    [100, 1, "taker"],
    [101, 1, "taker"],
    [102, 0.5, "taker"],
  ]);
  // (101 − 100) / 100 = 100 bps, (102 − 100) / 100 = 200 bps.
  assert.deepEqual(fills.map((f) => cents(f.slippageBps)), [0, 100, 200]);
  const done = v.last("alice", id);
  assert.equal(done.status, "filled");
  assert.equal(done.filledQuantity, 2.5);
  assert.equal(cents(done.averagePrice), 100.8); // (100 + 101 + 51) / 2.5
  assert.equal(done.arrivalTime, 1_000);
  // The venue never changes the book.
  assert.deepEqual(v.book.asks.prices, [102, 101, 100]);
  assert.deepEqual(v.book.asks.quantities, [2, 1, 1]);
});

Deno.test("walkBook stops at the limit price and reports the levels it took", () => {
  const v = setup({ bids: [[99, 1], [98, 2]], asks: [[100, 1]] });
  assert.deepEqual(walkBook(v.book, "sell", 5, { limitPrice: 98.5 }), {
    quantity: 1,
    notional: 99,
    levels: [[99, 1]],
  });
  assert.deepEqual(walkBook(v.book, "sell", 2), {
    quantity: 2,
    notional: 197,
    levels: [[99, 1], [98, 1]],
  });
});

Deno.test("a limit buy takes what its price allows, then the remainder rests as maker", () => {
  const v = setup({ bids: [[99, 2]], asks: [[100, 1], [101, 1]] });
  const { id } = v.submit("alice", v.order("buy", 1.5, 100), 1_000);
  assert.deepEqual(v.fills("alice").map((f) => [f.price, f.quantity]), [[100, 1]]);
  const rested = v.last("alice", id);
  assert.equal(rested.status, "partially_filled");
  assert.equal(rested.filledQuantity, 1);
  assert.equal(rested.queueAhead, 0); // nobody displayed at 100 on the bid side
  assert.deepEqual(v.venue.openOrders("alice").map((o) => [o.id, o.status]), [[
    id,
    "partially_filled",
  ]]);
});

Deno.test("IOC: the remainder is cancelled with reason ioc_remainder", () => {
  const v = setup({ bids: [[99, 2]], asks: [[100, 1], [101, 1]] });
  const { id } = v.submit("alice", v.order("buy", 2, 100, { timeInForce: "IOC" }), 1_000);
  const done = v.last("alice", id);
  assert.equal(done.status, "cancelled");
  assert.equal(done.reason, "ioc_remainder");
  assert.equal(done.filledQuantity, 1);
  assert.deepEqual(v.venue.openOrders("alice"), []);
});

Deno.test("a market order larger than the book: the rest is cancelled with reason no_liquidity", () => {
  const v = setup({ bids: [[99, 2]], asks: [[100, 1]] });
  const { id } = v.submit("alice", v.order("buy", 3), 1_000);
  assert.equal(v.last("alice", id).status, "cancelled");
  assert.equal(v.last("alice", id).reason, "no_liquidity");
  assert.equal(v.last("alice", id).filledQuantity, 1);
});

Deno.test("FOK: rejected with nothing filled when the whole quantity is not there; filled in full when it is", () => {
  const v = setup({ bids: [[99, 2]], asks: [[100, 1], [101, 1], [102, 5]] });
  const killed = v.submit("alice", v.order("buy", 3, 101, { timeInForce: "FOK" }), 1_000);
  assert.equal(v.last("alice", killed.id).status, "rejected");
  assert.equal(v.last("alice", killed.id).reason, "fok_unfillable");
  const rejection = v.reports.findLast(([, r]) => r.type === "order")?.[1];
  assert.equal(rejection?.type === "order" ? rejection.error?.code : undefined, "fok_unfillable");
  assert.deepEqual(v.fills("alice"), []);

  const filled = v.submit("alice", v.order("buy", 2, 101, { timeInForce: "FOK" }), 1_001);
  assert.equal(v.last("alice", filled.id).status, "filled");
  assert.equal(v.last("alice", filled.id).averagePrice, 100.5);
});

Deno.test("post-only: rejected would_take when it would cross, in Binance's words; accepted at the back of the queue otherwise", () => {
  const v = setup({ bids: [[99, 2]], asks: [[100, 1]] });
  const crossing = v.submit("alice", v.order("buy", 1, 100, { timeInForce: "POST_ONLY" }), 1_000);
  const rejection = v.reports.findLast(([, r]) => r.type === "order")?.[1];
  assert.ok(rejection?.type === "order");
  assert.equal(rejection.order.id, crossing.id);
  assert.equal(rejection.order.status, "rejected");
  assert.deepEqual(rejection.error?.exchangeError, {
    code: -2010,
    msg: "Order would immediately match and take.",
  });
  assert.deepEqual(v.fills("alice"), []);

  const inside = v.submit("alice", v.order("buy", 1, 99.5, { timeInForce: "POST_ONLY" }), 1_001);
  assert.equal(v.last("alice", inside.id).status, "new");
  assert.equal(v.last("alice", inside.id).queueAhead, 0);
  const joining = v.submit("alice", v.order("buy", 1, 99, { timeInForce: "POST_ONLY" }), 1_002);
  assert.equal(v.last("alice", joining.id).queueAhead, 2);
});

Deno.test("a resting buy with 3.0 ahead: sell trades of 2.0 then 1.5 at its price fill 0.5 as maker", () => {
  const v = setup({ bids: [[99, 3]], asks: [[100, 1]] });
  const { id } = v.submit("alice", v.order("buy", 1, 99), 1_000);
  assert.equal(v.last("alice", id).queueAhead, 3);
  v.trade(1_100, "sell", 99, 2);
  assert.deepEqual(v.fills("alice"), []);
  assert.equal(v.venue.openOrders("alice")[0].queueAhead, 1);
  // A buy trade at 99 does not touch the bid queue.
  v.trade(1_150, "buy", 100, 5);
  assert.equal(v.venue.openOrders("alice")[0].queueAhead, 1);
  v.trade(1_200, "sell", 99, 1.5);
  const [fill] = v.fills("alice");
  assert.deepEqual([fill.price, fill.quantity, fill.liquidity, fill.time], [
    99,
    0.5,
    "maker",
    1_200,
  ]);
  assert.equal(cents(fill.fee * 1e4), 495); // 99 × 0.5 × 0.001 = 0.0495 USDT
  assert.equal(fill.feeAsset, "USDT");
  assert.equal(v.last("alice", id).status, "partially_filled");
  assert.equal(v.last("alice", id).queueAhead, 0);
});

Deno.test("the book decrease that follows a trade is not counted again as a cancel", () => {
  const v = setup({ bids: [[99, 2]], asks: [[100, 1]] });
  v.submit("alice", v.order("buy", 1, 99), 1_000);
  v.trade(1_100, "sell", 99, 1);
  assert.equal(v.venue.openOrders("alice")[0].queueAhead, 1);
  // The feed now shows the traded 1.0 gone: 2 → 1. Fully explained by the trade.
  v.update(1_101, [[99, 1]], []);
  assert.equal(v.venue.openOrders("alice")[0].queueAhead, 1);
  // A later trade of 1.0 still only reaches the front of the queue.
  v.trade(1_200, "sell", 99, 1);
  assert.deepEqual(v.fills("alice"), []);
});

Deno.test("cancels at the price: the power model moves the order by its share, the risk-averse one does not", () => {
  for (const [queue, expected] of [[undefined, 0.9], [riskAverseQueueModel(), 1]] as const) {
    const v = setup({ bids: [[99, 1]], asks: [[100, 1]], ...(queue ? { queue } : {}) });
    v.submit("alice", v.order("buy", 1, 99), 1_000);
    v.update(1_100, [[99, 4]], []); // 3.0 joins behind: still 1.0 ahead
    assert.equal(v.venue.openOrders("alice")[0].queueAhead, 1);
    v.update(1_200, [[99, 3]], []); // 1.0 cancelled: p(behind) = 3² / (3² + 1²) = 0.9
    assert.equal(cents(v.venue.openOrders("alice")[0].queueAhead), expected);
  }
});

Deno.test("a trade through the price fills the resting order in full at its own price", () => {
  const v = setup({ bids: [[99, 3]], asks: [[100, 1]] });
  const { id } = v.submit("alice", v.order("buy", 1, 99), 1_000);
  v.trade(1_100, "sell", 98.5, 0.2);
  assert.deepEqual(v.fills("alice").map((f) => [f.price, f.quantity, f.liquidity]), [[
    99,
    1,
    "maker",
  ]]);
  assert.equal(v.last("alice", id).status, "filled");
  assert.deepEqual(v.venue.openOrders("alice"), []);
});

Deno.test("a book whose best ask reaches the resting buy fills it in full as maker, without a trade", () => {
  const v = setup({ bids: [[99, 3]], asks: [[100, 1]] });
  const { id } = v.submit("alice", v.order("buy", 1, 99), 1_000);
  v.update(1_100, [[99, 0]], [[99, 0.5]]);
  assert.deepEqual(v.fills("alice").map((f) => [f.price, f.quantity, f.liquidity, f.time]), [[
    99,
    1,
    "maker",
    1_100,
  ]]);
  assert.equal(v.last("alice", id).status, "filled");
});

Deno.test("a cancelled order is not filled afterwards", () => {
  const v = setup({ bids: [[99, 3]], asks: [[100, 1]] });
  const { id } = v.submit("alice", v.order("buy", 1, 99, { clientOrderId: "mine-1" }), 1_000);
  assert.equal(v.venue.cancel("alice", "mine-1", 1_050), undefined);
  assert.equal(v.last("alice", id).status, "cancelled");
  assert.equal(v.last("alice", id).reason, "user");
  v.trade(1_100, "sell", 98, 10);
  assert.deepEqual(v.fills("alice"), []);
  // The client order id is free again.
  assert.ok(v.venue.submit("alice", v.order("buy", 1, 98, { clientOrderId: "mine-1" }), 1_200).ok);
});

Deno.test("amend: a price change loses priority, a quantity decrease keeps it, an increase loses it", () => {
  const v = setup({ bids: [[99, 3], [98, 2]], asks: [[100, 1]] });
  const { id } = v.submit("alice", v.order("buy", 1, 99), 1_000);
  v.trade(1_100, "sell", 99, 2);
  assert.equal(v.venue.openOrders("alice")[0].queueAhead, 1);

  v.venue.amend("alice", id, { quantity: 0.5 }, 1_200);
  assert.equal(v.last("alice", id).quantity, 0.5);
  assert.equal(v.last("alice", id).queueAhead, 1);

  v.venue.amend("alice", id, { quantity: 2 }, 1_300);
  assert.equal(v.last("alice", id).quantity, 2);
  assert.equal(v.last("alice", id).queueAhead, 3); // behind the 3.0 displayed at 99

  v.venue.amend("alice", id, { price: 98 }, 1_400);
  assert.equal(v.last("alice", id).price, 98);
  assert.equal(v.last("alice", id).queueAhead, 2); // behind the 2.0 displayed at 98

  v.venue.amend("alice", id, { price: 100 }, 1_500);
  const refused = v.reports.at(-1)?.[1];
  assert.ok(refused?.type === "reject");
  assert.equal(refused.error.code, "would_take");
  assert.equal(v.venue.openOrders("alice")[0].price, 98);
});

Deno.test("latency: an order sent at 1000 arrives at 1025 and meets the book as it is then", () => {
  const v = setup({
    bids: [[99, 1]],
    asks: [[100, 1], [101, 1]],
    latency: { marketDataMs: 5, orderEntryMs: 20 },
  });
  const sent = v.submit("alice", v.order("buy", 1), 1_000);
  assert.equal(sent.status, "pending");
  v.update(1_010, [], [[100, 0]]); // the 100 ask is gone before the order arrives
  assert.equal(v.venue.openOrders("alice")[0].status, "pending");
  v.venue.advance(1_024);
  assert.deepEqual(v.fills("alice"), []);
  v.update(1_030, [], [[100, 2]]); // arrives at 1025, before this update
  const [fill] = v.fills("alice");
  assert.deepEqual([fill.price, fill.time, fill.slippageBps], [101, 1_025, 0]);
  assert.equal(v.last("alice", sent.id).arrivalTime, 1_025);
});

Deno.test("latency: a cancel arriving after the fill is too late: the order is filled, the cancel refused unknown_order", () => {
  const v = setup({
    bids: [[98, 1]],
    asks: [[100, 1]],
    latency: { marketDataMs: 5, orderEntryMs: 20 },
  });
  const { id } = v.submit("alice", v.order("buy", 1, 99), 1_000);
  v.venue.advance(1_025);
  assert.equal(v.last("alice", id).queueAhead, 0);
  v.venue.cancel("alice", id, 2_000); // arrives at 2025
  v.trade(2_010, "sell", 99, 1);
  assert.equal(v.last("alice", id).status, "filled");
  v.venue.advance(2_025);
  const refused = v.reports.at(-1)?.[1];
  assert.ok(refused?.type === "reject");
  assert.deepEqual([refused.action, refused.id, refused.error.code, refused.time], [
    "cancel",
    id,
    "unknown_order",
    2_025,
  ]);
  assert.equal(v.last("alice", id).status, "filled");
});

Deno.test("latency: actions arriving at the same time are handled in the order they were sent", () => {
  const v = setup({
    bids: [[98, 1]],
    asks: [[100, 1]],
    latency: { marketDataMs: 5, orderEntryMs: 20 },
  });
  const { id } = v.submit("alice", v.order("buy", 1, 99), 1_000);
  v.venue.cancel("alice", id, 1_000);
  v.venue.submit("bob", v.order("buy", 1, 99), 999); // arrives first, at 1024
  v.venue.advance(1_024);
  assert.deepEqual(v.venue.openOrders("bob").map((o) => o.status), ["new"]);
  assert.deepEqual(v.venue.openOrders("alice").map((o) => o.status), ["pending"]);
  v.venue.advance(1_025);
  assert.deepEqual(
    v.reports.filter(([a]) => a === "alice").map(([, r]) =>
      r.type === "order" ? r.order.status : r.type
    ),
    ["pending", "new", "cancelled"],
  );
});

Deno.test("two accounts are independent: both fill the same 1.0 at 100 in full", () => {
  const v = setup({ bids: [[99, 1]], asks: [[100, 1], [101, 1]] });
  v.submit("alice", v.order("buy", 1), 1_000);
  v.submit("bob", v.order("buy", 1), 1_000);
  assert.deepEqual(v.fills("alice").map((f) => [f.price, f.quantity]), [[100, 1]]);
  assert.deepEqual(v.fills("bob").map((f) => [f.price, f.quantity]), [[100, 1]]);
  // Ids are per account.
  assert.equal(v.fills("alice")[0].orderId, "P-1");
  assert.equal(v.fills("bob")[0].orderId, "P-1");
});

Deno.test("one account's two orders never fill from the same liquidity, until the feed changes the level", () => {
  const v = setup({ bids: [[99, 1]], asks: [[100, 1], [101, 1]] });
  v.submit("alice", v.order("buy", 1), 1_000);
  v.submit("alice", v.order("buy", 1), 1_001);
  assert.deepEqual(v.fills("alice").map((f) => [f.price, cents(f.slippageBps)]), [[100, 0], [
    101,
    100,
  ]]);
  // A post-only at 100 does not cross the 100 ask alice already took...
  const post = v.submit("alice", v.order("buy", 1, 100, { timeInForce: "POST_ONLY" }), 1_002);
  assert.equal(v.last("alice", post.id).status, "new");
  // ...and the venue does not fill it as "crossed" while the ask it consumed is unchanged.
  v.update(1_050, [[99, 2]], []);
  assert.equal(v.fills("alice").length, 2);
  // The feed refreshes 100: alice's consumption there is forgotten, the resting buy is crossed.
  v.update(1_100, [], [[100, 1]]);
  assert.deepEqual(v.fills("alice").map((f) => [f.price, f.liquidity]), [[100, "taker"], [
    101,
    "taker",
  ], [100, "maker"]]);
});

Deno.test("one trade's quantity reaches one account's orders once, but every account's", () => {
  const v = setup({ bids: [[99, 3]], asks: [[100, 1]] });
  const first = v.submit("alice", v.order("buy", 1, 99.5), 1_000);
  const second = v.submit("alice", v.order("buy", 1, 99.5), 1_001);
  v.submit("bob", v.order("buy", 1, 99.5), 1_002);
  v.trade(1_100, "sell", 99.5, 1);
  assert.deepEqual(v.fills("alice").map((f) => [f.orderId, f.quantity]), [[first.id, 1]]);
  assert.equal(v.venue.openOrders("alice")[0].id, second.id);
  assert.deepEqual(v.fills("bob").map((f) => f.quantity), [1]);
});

Deno.test("fees: taker at 0.2 %, maker rebate at −0.01 %, in the quote asset", () => {
  const v = setup({ bids: [[99, 1]], asks: [[100, 1]], fees: { maker: -0.0001, taker: 0.002 } });
  v.submit("alice", v.order("buy", 0.5), 1_000);
  v.submit("alice", v.order("sell", 2, 100.5), 1_001);
  v.trade(1_100, "buy", 101, 1);
  const [taker, maker] = v.fills("alice");
  assert.deepEqual([taker.liquidity, cents(taker.fee * 100), taker.feeAsset], [
    "taker",
    10,
    "USDT",
  ]); // 100 × 0.5 × 0.002 = 0.10
  assert.deepEqual([maker.liquidity, maker.price, cents(maker.fee * 1e4)], ["maker", 100.5, -201]); // 100.5 × 2 × −0.0001 = −0.0201
});

Deno.test("refusals: no synced book, malformed request, wrong symbol, duplicate client order id", () => {
  const v = setup({ bids: [[99, 1]], asks: [[100, 1]] });
  const bad = v.venue.submit("alice", { ...v.order("buy", -1, 99) }, 1_000);
  assert.equal(bad.ok ? undefined : bad.error.code, "invalid_order");
  const noPrice = v.venue.submit("alice", { ...v.order("buy", 1), type: "limit" }, 1_000);
  assert.equal(noPrice.ok ? undefined : noPrice.error.code, "invalid_order");
  const other = v.venue.submit("alice", { ...v.order("buy", 1), symbol: "ETHUSDT" }, 1_000);
  assert.equal(other.ok ? undefined : other.error.code, "invalid_order");
  v.submit("alice", v.order("buy", 1, 98, { clientOrderId: "a" }), 1_000);
  const dup = v.venue.submit("alice", v.order("buy", 1, 98, { clientOrderId: "a" }), 1_000);
  assert.equal(dup.ok ? undefined : dup.error.code, "duplicate_client_order_id");
  assert.equal(v.venue.cancel("alice", "", 1_000)?.code, "invalid_order");
  assert.equal(v.venue.amend("alice", "P-1", {}, 1_000)?.code, "invalid_order");

  v.unsync();
  const { id } = v.submit("alice", v.order("buy", 1, 98), 1_001);
  assert.equal(v.last("alice", id).status, "rejected");
  assert.equal(v.last("alice", id).reason, "no_book");
});

Deno.test("the validate hook refuses a request before any order exists", () => {
  const book = createBook();
  applySnapshot(book, [[99, 1]], [[100, 1]]);
  const reports: VenueReport[] = [];
  const venue = createVenue({
    rules: RULES,
    fees: FEES,
    latency: { marketDataMs: 0, orderEntryMs: 0 },
    book: () => book,
    onReport: (_a, r) => reports.push(r),
    validate: (request) =>
      request.quantity < 0.001
        ? {
          code: "filter_failure",
          message: "LOT_SIZE",
          exchangeError: { code: -1013, msg: "Filter failure: LOT_SIZE" },
        }
        : undefined,
  });
  const result = venue.submit(
    "alice",
    { ...RULES, side: "buy", type: "market", quantity: 0.0001 },
    1_000,
  );
  assert.equal(result.ok ? undefined : result.error.exchangeError?.msg, "Filter failure: LOT_SIZE");
  assert.deepEqual(reports, []);
});

Deno.test("cancelAll and removeAccount: the account's resting orders go, other accounts' stay", () => {
  const v = setup({ bids: [[99, 1]], asks: [[100, 1]] });
  v.submit("alice", v.order("buy", 1, 98), 1_000);
  v.submit("alice", v.order("sell", 1, 101), 1_000);
  v.submit("bob", v.order("buy", 1, 98), 1_000);
  v.venue.cancelAll("alice", 1_010);
  assert.deepEqual(v.venue.openOrders("alice"), []);
  assert.equal(
    v.reports.filter(([a, r]) =>
      a === "alice" && r.type === "order" && r.order.status === "cancelled"
    ).length,
    2,
  );
  const before = v.reports.length;
  v.venue.removeAccount("bob");
  assert.equal(v.reports.length, before);
  v.trade(1_100, "sell", 97, 5);
  assert.deepEqual(v.fills("bob"), []);
  assert.deepEqual(v.venue.openOrders("bob"), []);
});

/** A scripted session driven by a seeded RNG: random books, trades and actions of 3 accounts. */
function randomSession(seed: number): Array<[string, VenueReport]> {
  const rng = createRng(seed);
  const v = setup({
    bids: Array.from({ length: 20 }, (_, k): Level => [1000 - k, 1 + rng.int(5)]),
    asks: Array.from({ length: 20 }, (_, k): Level => [1001 + k, 1 + rng.int(5)]),
    latency: { marketDataMs: 3, orderEntryMs: 7 },
  });
  const accounts = ["a", "b", "c"];
  let time = 1_000;
  for (let step = 0; step < 600; step++) {
    time += rng.int(4);
    const account = accounts[rng.int(3)];
    const side: Side = rng.int(2) === 0 ? "buy" : "sell";
    const roll = rng.int(10);
    const mid = (v.book.bids.prices.at(-1)! + v.book.asks.prices.at(-1)!) / 2;
    const price = Math.round(mid + (side === "buy" ? -1 : 1) * (rng.int(6) - 2));
    if (roll < 3) {
      const tif = (["GTC", "IOC", "FOK", "POST_ONLY"] as const)[rng.int(4)];
      v.venue.submit(
        account,
        v.order(side, 0.5 + rng.int(6) / 2, price, { timeInForce: tif }),
        time,
      );
    } else if (roll < 4) {
      v.venue.submit(account, v.order(side, 0.5 + rng.int(4) / 2), time);
    } else if (roll < 5) {
      v.venue.cancel(account, `P-${1 + rng.int(40)}`, time);
    } else if (roll < 6) {
      v.venue.amend(account, `P-${1 + rng.int(40)}`, { quantity: 0.5 + rng.int(6) / 2 }, time);
    } else if (roll < 8) {
      v.trade(time, side, price, 0.5 + rng.int(4) / 2);
    } else {
      // Keep the book uncrossed: move one level on the side the price belongs to.
      const bestBid = v.book.bids.prices.at(-1)!;
      const bestAsk = v.book.asks.prices.at(-1)!;
      const onBid = price < bestAsk && (price <= bestBid || side === "buy");
      const quantity = rng.int(4) === 0 ? 0 : 0.5 + rng.int(8) / 2;
      const remainingBids = v.book.bids.prices.length - (onBid && quantity === 0 ? 1 : 0);
      const remainingAsks = v.book.asks.prices.length - (!onBid && quantity === 0 ? 1 : 0);
      if (onBid && price < bestAsk && remainingBids > 0) v.update(time, [[price, quantity]], []);
      else if (!onBid && price > bestBid && remainingAsks > 0) {
        v.update(time, [], [[price, quantity]]);
      }
    }
  }
  v.venue.advance(time + 100);
  return v.reports;
}

Deno.test("determinism: the same events and actions twice give identical reports", () => {
  const first = randomSession(7);
  const second = randomSession(7);
  assert.ok(first.length > 300);
  assert.deepEqual(first, second);
  assert.notDeepEqual(randomSession(8), first);
});

Deno.test("property: fills never exceed an order's quantity, and every order and fill is simulated", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const reports = randomSession(seed);
    const filled = new Map<string, number>();
    const ordered = new Map<string, number>();
    for (const [account, report] of reports) {
      if (report.type === "fill") {
        assert.equal(report.fill.simulated, true);
        const key = `${account}/${report.fill.orderId}`;
        filled.set(key, (filled.get(key) ?? 0) + report.fill.quantity);
      } else if (report.type === "order") {
        assert.equal(report.order.simulated, true);
        const key = `${account}/${report.order.id}`;
        ordered.set(key, report.order.quantity);
        assert.ok(report.order.filledQuantity <= report.order.quantity * (1 + 1e-9), key);
        if (report.order.queueAhead !== undefined) assert.ok(report.order.queueAhead >= 0, key);
      }
    }
    assert.ok(filled.size > 10, `seed ${seed}: only ${filled.size} orders filled`);
    for (const [key, quantity] of filled) {
      assert.ok(
        quantity <= ordered.get(key)! * (1 + 1e-9),
        `${key}: filled ${quantity} of ${ordered.get(key)}`,
      );
    }
  }
});

import assert from "node:assert/strict";
import { createAccount } from "../../core/paper/account.ts";
import type { PaperFill } from "../../core/paper/types.ts";

const close = (actual: number | undefined, expected: number, eps = 1e-9) =>
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= eps,
    `${actual} ≠ ${expected}`,
  );

let fillId = 0;
const fill = (
  orderId: string,
  side: "buy" | "sell",
  quantity: number,
  price: number,
  liquidity: "maker" | "taker",
  fee: number,
): PaperFill => ({
  id: `F-${++fillId}`,
  orderId,
  exchange: "binance",
  symbol: "BTCUSDT",
  side,
  price,
  quantity,
  liquidity,
  fee,
  feeAsset: "USDT",
  time: 1_700_000_000_000 + fillId,
  simulated: true,
});

const mid105 = (exchange: string, symbol: string) =>
  exchange === "binance" && symbol === "BTCUSDT" ? 105 : undefined;

Deno.test("account: buy 0.5 at 100 taker, sell 0.2 at 110 maker, mark at 105, to the cent", () => {
  const account = createAccount({ balances: { USDT: 10_000 } });
  const rate = account.fees("binance"); // 0.1 % maker and taker

  // Buy 0.5 BTC at 100, taker: notional 50, fee 50 × 0.001 = 0.05.
  // USDT 10,000 − 50 − 0.05 = 9,949.95; BTC 0.5; position 0.5 at 100; realized −0.05.
  assert.equal(
    account.applyFill(fill("P-1", "buy", 0.5, 100, "taker", 50 * rate.taker), "BTC", "USDT"),
    undefined,
  );
  close(account.balance("USDT").free, 9_949.95);
  close(account.balance("BTC").free, 0.5);

  // Sell 0.2 BTC at 110, maker: notional 22, fee 22 × 0.001 = 0.022.
  // USDT 9,949.95 + 22 − 0.022 = 9,971.928; BTC 0.3.
  // Realized: (110 − 100) × 0.2 = 2, less fees 0.05 + 0.022 → 1.928.
  assert.equal(
    account.applyFill(fill("P-2", "sell", 0.2, 110, "maker", 22 * rate.maker), "BTC", "USDT"),
    undefined,
  );

  const s = account.snapshot(mid105);
  close(s.balances.USDT.free, 9_971.928);
  close(s.balances.BTC.free, 0.3);
  assert.equal(s.positions.length, 1);
  const p = s.positions[0];
  close(p.quantity, 0.3);
  close(p.averagePrice, 100);
  close(p.realizedPnl, 1.928);
  close(p.fees, 0.072);
  // Unrealized at the 105 mid: (105 − 100) × 0.3 = 1.5.
  close(p.unrealizedPnl, 1.5);
  close(s.realizedPnl, 1.928);
  close(s.unrealizedPnl, 1.5);
  close(s.feesPaid, 0.072);
  // Equity: 9,971.928 + 0.3 × 105 = 10,003.428 = 10,000 + 1.928 + 1.5.
  close(s.equity, 10_003.428);
  // To the cent, as reported: 9,971.93 USDT, realized 1.93, unrealized 1.50, equity 10,003.43.
  assert.equal(s.balances.USDT.free.toFixed(2), "9971.93");
  assert.equal(s.realizedPnl.toFixed(2), "1.93");
  assert.equal(s.unrealizedPnl.toFixed(2), "1.50");
  assert.equal(s.equity?.toFixed(2), "10003.43");
});

Deno.test("account: average cost over two buys, then a close to flat", () => {
  const account = createAccount({ balances: { USDT: 1_000 } });
  // Buy 1 at 100 (fee 0.1), buy 1 at 110 (fee 0.11): average (100 + 110)/2 = 105.
  account.applyFill(fill("P-1", "buy", 1, 100, "taker", 0.1), "BTC", "USDT");
  account.applyFill(fill("P-2", "buy", 1, 110, "taker", 0.11), "BTC", "USDT");
  let p = account.snapshot(() => 104).positions[0];
  close(p.averagePrice, 105);
  close(p.unrealizedPnl, -2); // (104 − 105) × 2
  // Sell 2 at 104 (fee 0.208): realized (104 − 105) × 2 − 0.1 − 0.11 − 0.208 = −2.418.
  account.applyFill(fill("P-3", "sell", 2, 104, "taker", 0.208), "BTC", "USDT");
  const s = account.snapshot(() => 104);
  p = s.positions[0];
  assert.equal(p.quantity, 0);
  assert.equal(p.averagePrice, 0);
  close(p.unrealizedPnl, 0);
  close(s.realizedPnl, -2.418);
  // USDT: 1,000 − 100.1 − 110.11 + 208 − 0.208 = 997.582 = 1,000 − 2.418.
  close(s.balances.USDT.total, 997.582);
  close(s.equity, 997.582);
});

Deno.test("account: a buy limit holds price × qty × (1 + max fee), fills consume the hold, release frees the rest", () => {
  const account = createAccount({
    balances: { USDT: 1_000 },
    fees: { binance: { maker: 0.0005 } },
  });
  const order = {
    exchange: "binance",
    symbol: "BTCUSDT",
    side: "buy" as const,
    type: "limit" as const,
    quantity: 2,
    price: 100,
  };
  // 100 × 2 × (1 + max(0.0005, 0.001)) = 200.2.
  const h = account.holdFor(order, "BTC", "USDT")!;
  assert.equal(h.asset, "USDT");
  close(h.amount, 200.2);
  assert.equal(account.hold("P-1", h.asset, h.amount), undefined);
  close(account.balance("USDT").free, 799.8);
  close(account.balance("USDT").locked, 200.2);
  // Half fills at 99 as maker: spends 99 + 0.0495 = 99.0495 out of the hold.
  account.applyFill(fill("P-1", "buy", 1, 99, "maker", 99 * 0.0005), "BTC", "USDT");
  close(account.held("P-1"), 200.2 - 99.0495);
  close(account.balance("USDT").locked, 101.1505);
  close(account.balance("USDT").free, 799.8);
  // Cancelled: the rest of the hold (101.1505) returns to free: 799.8 + 101.1505 = 900.9505.
  account.release("P-1");
  assert.equal(account.held("P-1"), 0);
  close(account.balance("USDT").locked, 0);
  close(account.balance("USDT").free, 900.9505);
  close(account.balance("BTC").free, 1);
});

Deno.test("account: a sell holds the base; a market buy holds at the reference price", () => {
  const account = createAccount({ balances: { BTC: 1, USDT: 50 } });
  const sell = {
    exchange: "binance",
    symbol: "BTCUSDT",
    side: "sell" as const,
    type: "limit" as const,
    quantity: 0.4,
    price: 120,
  };
  assert.deepEqual(account.holdFor(sell, "BTC", "USDT"), { asset: "BTC", amount: 0.4 });
  const market = {
    exchange: "binance",
    symbol: "BTCUSDT",
    side: "buy" as const,
    type: "market" as const,
    quantity: 0.4,
  };
  assert.equal(account.holdFor(market, "BTC", "USDT"), undefined);
  close(account.holdFor(market, "BTC", "USDT", 100)!.amount, 40.04);
});

Deno.test("account: spending more than is free is insufficient_balance and changes nothing", () => {
  const account = createAccount({ balances: { USDT: 100 } });
  assert.equal(account.canAfford("USDT", 100), undefined);
  assert.equal(account.canAfford("USDT", 100.01)?.code, "insufficient_balance");
  assert.equal(account.hold("P-1", "USDT", 150)?.code, "insufficient_balance");
  assert.deepEqual(account.balance("USDT"), { free: 100, locked: 0 });
  // A buy costing 100 + 0.1 fee > 100.
  const e = account.applyFill(fill("P-2", "buy", 1, 100, "taker", 0.1), "BTC", "USDT");
  assert.equal(e?.code, "insufficient_balance");
  assert.deepEqual(account.balance("USDT"), { free: 100, locked: 0 });
  assert.deepEqual(account.balance("BTC"), { free: 0, locked: 0 });
  // No shorting: selling BTC not held.
  const short = account.applyFill(fill("P-3", "sell", 0.1, 100, "taker", 0.01), "BTC", "USDT");
  assert.equal(short?.code, "insufficient_balance");
  assert.equal(account.snapshot(() => 100).positions.length, 0);
});

Deno.test("account: selling starting inventory opens a negative position; equity values BTC at the mark", () => {
  const account = createAccount({
    balances: { BTC: 1, USDT: 0 },
    instruments: [{ exchange: "binance", symbol: "BTCUSDT", base: "BTC", quote: "USDT" }],
  });
  // Before any fill: 1 BTC at 100 = equity 100; without a mark, no equity.
  close(account.snapshot(() => 100).equity, 100);
  assert.equal(account.snapshot(() => undefined).equity, undefined);
  // Sell 0.5 at 100 (fee 0.05): USDT 49.95, BTC 0.5, position −0.5 at 100.
  account.applyFill(fill("P-1", "sell", 0.5, 100, "taker", 0.05), "BTC", "USDT");
  const s = account.snapshot(() => 90);
  close(s.positions[0].quantity, -0.5);
  close(s.positions[0].averagePrice, 100);
  // Price fell to 90: the sale avoided (100 − 90) × 0.5 = 5 of loss: unrealized +5.
  close(s.unrealizedPnl, 5);
  // Equity 49.95 + 0.5 × 90 = 94.95 = starting 1 × 90 + 5 − 0.05.
  close(s.equity, 94.95);
});

Deno.test("account: reset restores the starting balances and forgets positions and holds", () => {
  const account = createAccount({ balances: { USDT: 1_000 } });
  account.hold("P-1", "USDT", 300);
  account.applyFill(fill("P-2", "buy", 1, 100, "taker", 0.1), "BTC", "USDT");
  account.reset();
  const s = account.snapshot(() => 100);
  assert.deepEqual(s.balances, { USDT: { free: 1_000, locked: 0, total: 1_000 } });
  assert.deepEqual(s.positions, []);
  assert.equal(s.realizedPnl, 0);
  assert.equal(account.held("P-1"), 0);
});

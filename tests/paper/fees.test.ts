import assert from "node:assert/strict";
import { DEFAULT_FEES, FALLBACK_FEES, feeFor, feeSchedule } from "../../core/paper/fees.ts";

const close = (actual: number, expected: number, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} ≠ ${expected}`);

Deno.test("fees: the base-tier spot schedules of the three exchanges", () => {
  assert.deepEqual(feeSchedule("binance"), { maker: 0.001, taker: 0.001 });
  assert.deepEqual(feeSchedule("coinbase"), { maker: 0.006, taker: 0.012 });
  assert.deepEqual(feeSchedule("kraken"), { maker: 0.0025, taker: 0.004 });
  assert.ok(Object.isFrozen(DEFAULT_FEES) && Object.isFrozen(DEFAULT_FEES.binance));
});

Deno.test("fees: an unknown exchange pays the fallback 0.1 % / 0.1 %", () => {
  assert.deepEqual(feeSchedule("bitstamp"), { ...FALLBACK_FEES });
  assert.deepEqual(feeSchedule("toString"), { maker: 0.001, taker: 0.001 });
});

Deno.test("fees: a partial override merges over the default, others untouched", () => {
  const overrides = { kraken: { maker: -0.0001 }, binance: { taker: 0.00075 } };
  assert.deepEqual(feeSchedule("kraken", overrides), { maker: -0.0001, taker: 0.004 });
  assert.deepEqual(feeSchedule("binance", overrides), { maker: 0.001, taker: 0.00075 });
  assert.deepEqual(feeSchedule("coinbase", overrides), { maker: 0.006, taker: 0.012 });
  // An override of an unknown exchange merges over the fallback.
  assert.deepEqual(feeSchedule("bitstamp", { bitstamp: { taker: 0.004 } }), {
    maker: 0.001,
    taker: 0.004,
  });
});

Deno.test("fees: feeFor charges the liquidity side's rate on the notional", () => {
  // 0.5 BTC at 67,000 = 33,500 notional; Coinbase taker 1.2 % = 402, maker 0.6 % = 201.
  close(feeFor(feeSchedule("coinbase"), "taker", 33_500), 402);
  close(feeFor(feeSchedule("coinbase"), "maker", 33_500), 201);
  // A maker rebate of 1 bp on 10,000 is −1.
  close(feeFor({ maker: -0.0001, taker: 0.001 }, "maker", 10_000), -1);
});

import assert from "node:assert/strict";
import {
  checkOrder,
  exchangeFilterError,
  onGrid,
  parseOrderRequest,
  roundToStep,
  roundToTick,
} from "../../core/paper/filters.ts";
import type { OrderRequest, VenueRules } from "../../core/paper/types.ts";

const rules = (exchange: string): VenueRules => ({
  exchange,
  symbol: "BTCUSD",
  base: "BTC",
  quote: "USD",
  tickSize: 0.01,
  stepSize: 0.0001,
  minQuantity: 0.001,
  maxQuantity: 100,
  minNotional: 10,
});

const limit = (exchange: string, quantity: number, price: number): OrderRequest => ({
  exchange,
  symbol: "BTCUSD",
  side: "buy",
  type: "limit",
  quantity,
  price,
});

Deno.test("parseOrderRequest: a valid limit and market order pass unchanged", () => {
  const order = {
    ...limit("binance", 0.5, 100),
    timeInForce: "POST_ONLY",
    clientOrderId: "a:b.c-1_2",
  };
  assert.deepEqual(parseOrderRequest(order), { ok: true, request: order });
  const market = {
    exchange: "kraken",
    symbol: "XBT/USD",
    side: "sell",
    type: "market",
    quantity: 1,
  };
  assert.deepEqual(parseOrderRequest(market), { ok: true, request: market });
  assert.equal(parseOrderRequest({ ...market, timeInForce: "IOC" }).ok, true);
});

Deno.test("parseOrderRequest: each malformed field is an invalid_order naming the field", () => {
  const message = (input: unknown) => {
    const r = parseOrderRequest(input);
    assert.equal(r.ok, false);
    if (r.ok) throw new Error("unreachable");
    assert.equal(r.error.code, "invalid_order");
    return r.error.message;
  };
  const base = limit("binance", 1, 100);
  assert.match(message({ ...base, price: undefined }), /^price: required for a limit order/);
  assert.match(
    message({ ...base, type: "market", price: 100 }),
    /^price: not allowed on a market order/,
  );
  assert.match(message({ ...base, quantity: 0 }), /^quantity:/);
  assert.match(message({ ...base, quantity: Infinity }), /^quantity:/);
  assert.match(message({ ...base, quantity: "1" }), /^quantity:/);
  assert.match(message({ ...base, price: -1 }), /^price:/);
  assert.match(message({ ...base, side: "short" }), /^side:/);
  assert.match(message({ ...base, type: "stop" }), /^type:/);
  assert.match(message({ ...base, timeInForce: "GTD" }), /^timeInForce:/);
  assert.match(
    message({
      exchange: "binance",
      symbol: "BTCUSDT",
      side: "buy",
      type: "market",
      quantity: 1,
      timeInForce: "POST_ONLY",
    }),
    /^timeInForce: POST_ONLY applies to limit orders only/,
  );
  assert.match(message({ ...base, exchange: "" }), /^exchange:/);
  assert.match(message({ ...base, symbol: 5 }), /^symbol:/);
  assert.match(message({ ...base, clientOrderId: "x".repeat(65) }), /^clientOrderId:/);
  assert.match(message({ ...base, clientOrderId: "no spaces" }), /^clientOrderId:/);
  assert.match(message({ ...base, extra: 1 }), /extra/);
  assert.match(message(null), /^order:/);
});

Deno.test("onGrid: multiples compared in whole steps with a 1e-9 relative tolerance", () => {
  assert.equal(onGrid(0.3, 0.1), true); // 0.3/0.1 = 2.9999999999999996
  assert.equal(onGrid(67_000.01, 0.01), true);
  assert.equal(onGrid(1.0001, 0.0001), true);
  assert.equal(onGrid(100.005, 0.01), false);
  assert.equal(onGrid(0.00015, 0.0001), false);
});

Deno.test("roundToStep rounds down; roundToTick rounds a buy down and a sell up", () => {
  assert.equal(roundToStep(1.23456, 0.001), 1.234);
  assert.equal(roundToStep(0.3, 0.1), 0.3); // on the grid despite floating point
  assert.equal(roundToStep(0.29999, 0.1), 0.2);
  assert.equal(roundToStep(0.000123456, 1e-8), 0.00012345);
  assert.equal(roundToStep(7, 5), 5);
  assert.equal(roundToStep(1.23456, undefined), 1.23456);
  assert.equal(roundToTick(100.037, 0.01, "buy"), 100.03);
  assert.equal(roundToTick(100.031, 0.01, "sell"), 100.04);
  assert.equal(roundToTick(100.03, 0.01, "sell"), 100.03);
  assert.equal(roundToTick(67_123.7, 0.5, "buy"), 67_123.5);
  assert.equal(roundToTick(67_123.7, 0.5, "sell"), 67_124);
  assert.equal(roundToTick(100.037, undefined, "buy"), 100.037);
});

Deno.test("checkOrder: a conforming order passes on every exchange", () => {
  for (const ex of ["binance", "coinbase", "kraken"]) {
    assert.equal(checkOrder(rules(ex), limit(ex, 0.5, 67_000.01)), undefined);
  }
});

Deno.test("checkOrder: Binance filters answer -1013 with the filter's name", () => {
  const r = rules("binance");
  const fail = (request: OrderRequest, ref?: number) => {
    const e = checkOrder(r, request, ref);
    assert.equal(e?.code, "filter_failure");
    return e?.exchangeError;
  };
  const error = (msg: string) => ({ code: -1013, msg });
  assert.deepEqual(fail(limit("binance", 0.5, 100.005)), error("Filter failure: PRICE_FILTER"));
  assert.deepEqual(fail(limit("binance", 0.50005, 100)), error("Filter failure: LOT_SIZE"));
  assert.deepEqual(fail(limit("binance", 0.0005, 100_000)), error("Filter failure: LOT_SIZE"));
  assert.deepEqual(fail(limit("binance", 101, 100)), error("Filter failure: LOT_SIZE"));
  // 0.09 × 100 = 9 < 10.
  assert.deepEqual(fail(limit("binance", 0.09, 100)), error("Filter failure: NOTIONAL"));
  // A market order's notional uses the reference price: 0.09 × 100 = 9 < 10 …
  const market: OrderRequest = {
    exchange: "binance",
    symbol: "BTCUSD",
    side: "sell",
    type: "market",
    quantity: 0.09,
  };
  assert.deepEqual(fail(market, 100), error("Filter failure: NOTIONAL"));
  // … 0.09 × 120 = 10.8 passes, and without a reference price it is not checked.
  assert.equal(checkOrder(r, market, 120), undefined);
  assert.equal(checkOrder(r, market), undefined);
  // Exactly the minimum passes: 0.1 × 100 = 10.000000000000002 or 10, either way ≥ 10.
  assert.equal(checkOrder(r, limit("binance", 0.1, 100)), undefined);
});

Deno.test("checkOrder: Coinbase and Kraken answer in their own words", () => {
  const cb = (request: OrderRequest) => checkOrder(rules("coinbase"), request)?.exchangeError;
  assert.deepEqual(cb(limit("coinbase", 0.5, 100.005)), {
    code: "INVALID_PRICE_PRECISION",
    msg: "INVALID_PRICE_PRECISION",
  });
  assert.equal(cb(limit("coinbase", 0.50005, 100))?.msg, "INVALID_SIZE_PRECISION");
  assert.equal(cb(limit("coinbase", 0.0005, 100_000))?.msg, "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL");
  assert.equal(cb(limit("coinbase", 101, 100))?.msg, "PREVIEW_INVALID_BASE_SIZE_TOO_LARGE");
  assert.equal(cb(limit("coinbase", 0.09, 100))?.msg, "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL");

  const kr = (request: OrderRequest) => checkOrder(rules("kraken"), request)?.exchangeError;
  assert.deepEqual(kr(limit("kraken", 0.5, 100.005)), { msg: "EOrder:Invalid price" });
  assert.deepEqual(kr(limit("kraken", 0.50005, 100)), { msg: "EGeneral:Invalid arguments:volume" });
  assert.deepEqual(kr(limit("kraken", 0.0005, 100_000)), { msg: "EOrder:Order minimum not met" });
  assert.deepEqual(kr(limit("kraken", 0.09, 100)), { msg: "EOrder:Cost minimum not met" });
});

Deno.test("checkOrder: an exchange without an error table still fails, without exchangeError", () => {
  const e = checkOrder(rules("bitstamp"), limit("bitstamp", 0.5, 100.005));
  assert.equal(e?.code, "filter_failure");
  assert.match(e!.message, /price 100.005 is not a multiple of the tick size 0.01/);
  assert.equal(e?.exchangeError, undefined);
  assert.equal(exchangeFilterError("bitstamp", "tick"), undefined);
});

Deno.test("checkOrder: rules without fields check nothing", () => {
  const bare: VenueRules = { exchange: "binance", symbol: "BTCUSD", base: "BTC", quote: "USD" };
  assert.equal(checkOrder(bare, limit("binance", 0.123456789, 100.123456)), undefined);
});

/**
 * The Deribit mapper on payloads shaped like Deribit's own (docs.deribit.com examples of
 * `book.{instrument}.{interval}`, `trades.{instrument}.{interval}`, `ticker.{instrument}.{interval}`,
 * `public/get_instruments`, heartbeats), and the pure helpers beside it: the credit bucket
 * (Deribit's documented 500 credits a request, 50 000 pool, 10 000 a second) and the
 * instrument selection.
 */
import assert from "node:assert/strict";
import { eventProblems } from "../../../testing.ts";
import type { Instrument } from "../../../mod.ts";
import { mapDeribitFrame, mapInstruments } from "../../../plugins/deribit/mapper.ts";
import { createCreditBucket } from "../../../plugins/deribit/credits.ts";
import {
  batches,
  channelsOf,
  expiryCode,
  selectInstruments,
} from "../../../plugins/deribit/selection.ts";
import { createBookSync } from "../../../plugins/deribit/book_sync.ts";
import type { BookStatusUpdate, BookUpdate } from "../../../mod.ts";

const T = 1_796_600_000_000;
const note = (channel: string, data: unknown) =>
  JSON.stringify({ jsonrpc: "2.0", method: "subscription", params: { channel, data } });

Deno.test("a book snapshot: every level `new`, absolute amounts, change_id kept", () => {
  const f = mapDeribitFrame(
    note("book.BTC-PERPETUAL.100ms", {
      type: "snapshot",
      timestamp: T,
      instrument_name: "BTC-PERPETUAL",
      change_id: 297217,
      bids: [["new", 5042.34, 30], ["new", 5041.94, 20]],
      asks: [["new", 5042.64, 40], ["new", 5043.3, 40]],
    }),
    T + 3,
  );
  assert.ok(f.kind === "book");
  assert.deepEqual(
    {
      snapshot: f.book.snapshot,
      changeId: f.book.changeId,
      prev: f.book.prevChangeId,
      bids: f.book.bids,
      asks: f.book.asks,
    },
    {
      snapshot: true,
      changeId: 297217,
      prev: undefined,
      bids: [[5042.34, 30], [5041.94, 20]],
      asks: [[5042.64, 40], [5043.3, 40]],
    },
  );
  assert.equal(f.book.eventTime, T);
  assert.equal(f.book.receiveTime, T + 3);
});

Deno.test("a book change: new/change keep the amount, delete becomes amount 0, prev_change_id kept", () => {
  const f = mapDeribitFrame(
    note("book.BTC-27DEC26-100000-C.100ms", {
      type: "change",
      timestamp: T,
      instrument_name: "BTC-27DEC26-100000-C",
      prev_change_id: 297217,
      change_id: 297218,
      bids: [["delete", 0.0415, 0], ["new", 0.041, 12.5]],
      asks: [["change", 0.043, 3.2]],
    }),
    T,
  );
  assert.ok(f.kind === "book");
  assert.equal(f.book.snapshot, false);
  assert.equal(f.book.prevChangeId, 297217);
  assert.deepEqual(f.book.bids, [[0.0415, 0], [0.041, 12.5]]);
  assert.deepEqual(f.book.asks, [[0.043, 3.2]]);
});

Deno.test("book frames that break a rule are malformed, with the rule named", () => {
  const base = {
    type: "change",
    timestamp: T,
    instrument_name: "BTC-PERPETUAL",
    prev_change_id: 1,
    change_id: 2,
    bids: [],
    asks: [],
  };
  const cases: [unknown, RegExp][] = [
    [{ ...base, bids: [["move", 1, 1]] }, /unknown level action/],
    [{ ...base, bids: [["new", -1, 1]] }, /price is not a positive/],
    [{ ...base, asks: [["new", 1, -1]] }, /amount is not a non-negative/],
    [{ ...base, prev_change_id: undefined }, /without prev_change_id/],
    [{ ...base, change_id: 2.5 }, /integer change_id/],
    [{ ...base, type: "snapshot", bids: [["change", 1, 1]] }, /unknown level action/],
  ];
  for (const [data, reason] of cases) {
    const f = mapDeribitFrame(note("book.BTC-PERPETUAL.100ms", data), T);
    assert.ok(f.kind === "malformed", JSON.stringify(data));
    assert.match(f.reason, reason);
  }
});

Deno.test("trades: the taker side from `direction`, amount as quantity, trade_id as the id", () => {
  const raw = {
    trade_seq: 30289432,
    trade_id: "48079254",
    timestamp: T,
    tick_direction: 0,
    price: 7934.5,
    mark_price: 7934.16,
    iv: 47.1,
    instrument_name: "BTC-PERPETUAL",
    index_price: 7931.53,
    direction: "sell",
    amount: 1210,
  };
  const f = mapDeribitFrame(
    note("trades.BTC-PERPETUAL.100ms", [raw, { ...raw, direction: "buy", trade_id: "48079255" }]),
    T + 1,
  );
  assert.ok(f.kind === "trades");
  assert.equal(f.events.length, 2);
  const [sell, buy] = f.events;
  assert.deepEqual(
    [sell.price, sell.quantity, sell.side, sell.tradeId, sell.timestamp, sell.receiveTime],
    [7934.5, 1210, "sell", "48079254", new Date(T).toISOString(), T + 1],
  );
  assert.equal(buy.side, "buy");
  for (const e of f.events) assert.deepEqual(eventProblems(e, "deribit"), []);
  const bad = mapDeribitFrame(
    note("trades.BTC-PERPETUAL.100ms", [{ ...raw, direction: "hold" }]),
    T,
  );
  assert.ok(bad.kind === "malformed");
});

Deno.test("an option ticker becomes a quote with the contract's option fields (IV in %, greeks as sent)", () => {
  const raw = {
    timestamp: T,
    instrument_name: "BTC-27DEC26-100000-C",
    state: "open",
    best_bid_price: 0.041,
    best_bid_amount: 12.5,
    best_ask_price: 0.043,
    best_ask_amount: 3.2,
    mark_price: 0.0421,
    mark_iv: 52.3,
    bid_iv: 51.2,
    ask_iv: 53.9,
    underlying_price: 101_250.5,
    underlying_index: "BTC-27DEC26",
    index_price: 100_980.12,
    interest_rate: 0,
    open_interest: 1250.4,
    greeks: { delta: 0.52, gamma: 0.00002, vega: 120.5, theta: -85.1, rho: 30.2 },
    stats: { volume: 12 },
  };
  const f = mapDeribitFrame(note("ticker.BTC-27DEC26-100000-C.100ms", raw), T + 2);
  assert.ok(f.kind === "ticker" && f.event);
  assert.deepEqual(
    [f.event.bidPrice, f.event.bidQuantity, f.event.askPrice, f.event.askQuantity],
    [0.041, 12.5, 0.043, 3.2],
  );
  assert.deepEqual(f.event.option, {
    markPrice: 0.0421,
    markIv: 52.3,
    bidIv: 51.2,
    askIv: 53.9,
    underlyingPrice: 101_250.5,
    underlyingIndex: "BTC-27DEC26",
    indexPrice: 100_980.12,
    interestRate: 0,
    openInterest: 1250.4,
    greeks: { delta: 0.52, gamma: 0.00002, vega: 120.5, theta: -85.1, rho: 30.2 },
  });
  assert.deepEqual(eventProblems(f.event, "deribit"), []);

  // A one-sided book (Deribit sends 0 for the missing side): no quote, the fields are kept.
  const oneSided = mapDeribitFrame(
    note("ticker.BTC-27DEC26-100000-C.100ms", { ...raw, best_bid_price: 0, best_bid_amount: 0 }),
    T,
  );
  assert.ok(oneSided.kind === "ticker");
  assert.equal(oneSided.event, undefined);
  assert.equal(oneSided.option.markIv, 52.3);

  // A future's ticker: no greeks, no IVs.
  const fut = mapDeribitFrame(
    note("ticker.BTC-PERPETUAL.100ms", {
      timestamp: T,
      instrument_name: "BTC-PERPETUAL",
      best_bid_price: 100_000,
      best_bid_amount: 1000,
      best_ask_price: 100_000.5,
      best_ask_amount: 200,
      mark_price: 100_000.2,
      index_price: 99_990,
      open_interest: 123_456_780,
      current_funding: 0,
    }),
    T,
  );
  assert.ok(fut.kind === "ticker" && fut.event);
  assert.deepEqual(fut.event.option, {
    markPrice: 100_000.2,
    indexPrice: 99_990,
    openInterest: 123_456_780,
  });
});

Deno.test("heartbeats, answers, errors, index notifications and garbage", () => {
  assert.deepEqual(
    mapDeribitFrame('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}', T),
    { kind: "heartbeat", testRequest: true },
  );
  assert.deepEqual(
    mapDeribitFrame('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}', T),
    { kind: "heartbeat", testRequest: false },
  );
  assert.deepEqual(mapDeribitFrame('{"jsonrpc":"2.0","id":7,"result":"ok"}', T), {
    kind: "result",
    id: 7,
    result: "ok",
  });
  assert.deepEqual(
    mapDeribitFrame(
      '{"jsonrpc":"2.0","id":8,"error":{"code":10028,"message":"too_many_requests"}}',
      T,
    ),
    { kind: "error", id: 8, code: 10028, message: "too_many_requests" },
  );
  assert.deepEqual(
    mapDeribitFrame(
      note("deribit_price_index.btc_usd", {
        index_name: "btc_usd",
        price: 3937.89,
        timestamp: 1550588002899,
      }),
      T,
    ),
    { kind: "index", index: { indexName: "btc_usd", price: 3937.89, eventTime: 1550588002899 } },
  );
  for (const text of ["{", "[1,2]", '{"jsonrpc":"2.0"}', note("weird.channel", {})]) {
    assert.equal(mapDeribitFrame(text, T).kind, "malformed", text);
  }
});

Deno.test("instruments: options carry their contract, futures say their amounts are USD; unified = Deribit's name", () => {
  const expiry = Date.UTC(2026, 11, 27, 8);
  const { instruments, invalid } = mapInstruments([
    {
      instrument_name: "BTC-27DEC26-100000-C",
      kind: "option",
      base_currency: "BTC",
      quote_currency: "BTC",
      counter_currency: "USD",
      settlement_currency: "BTC",
      option_type: "call",
      strike: 100_000,
      expiration_timestamp: expiry,
      tick_size: 0.0005,
      contract_size: 1,
      min_trade_amount: 0.1,
      settlement_period: "month",
      instrument_type: "reversed",
    },
    {
      instrument_name: "BTC_USDC-27DEC26-100000-P",
      kind: "option",
      base_currency: "BTC",
      quote_currency: "USDC",
      settlement_currency: "USDC",
      option_type: "put",
      strike: 100_000,
      expiration_timestamp: expiry,
      tick_size: 5,
      contract_size: 0.01,
      min_trade_amount: 0.01,
      instrument_type: "linear",
    },
    {
      instrument_name: "BTC-PERPETUAL",
      kind: "future",
      base_currency: "BTC",
      quote_currency: "USD",
      settlement_currency: "BTC",
      settlement_period: "perpetual",
      tick_size: 0.5,
      contract_size: 10,
      min_trade_amount: 10,
      future_type: "reversed",
    },
    {
      instrument_name: "BTC-27DEC26",
      kind: "future",
      base_currency: "BTC",
      quote_currency: "USD",
      settlement_currency: "BTC",
      settlement_period: "month",
      expiration_timestamp: expiry,
      tick_size: 2.5,
      contract_size: 10,
      min_trade_amount: 10,
    },
    {
      instrument_name: "BTC-1JAN27-1-X",
      kind: "option",
      base_currency: "BTC",
      quote_currency: "BTC",
    },
    { instrument_name: "BTC_USDC", kind: "spot", base_currency: "BTC", quote_currency: "USDC" },
  ]);
  assert.deepEqual(instruments[0], {
    symbol: "BTC-27DEC26-100000-C",
    base: "BTC",
    quote: "BTC",
    unified: "BTC-27DEC26-100000-C",
    tickSize: 0.0005,
    minQuantity: 0.1,
    stepSize: 0.1,
    kind: "option",
    quantityUnit: "contracts of 1 BTC",
    option: {
      underlying: "BTC",
      expiry,
      strike: 100_000,
      type: "call",
      contractSize: 1,
      settlement: "BTC",
      inverse: true,
    },
  });
  assert.equal(instruments[1].option?.inverse, false, "USDC-settled options are linear");
  assert.equal(instruments[1].option?.type, "put");
  assert.deepEqual(
    [instruments[2].kind, instruments[2].quantityUnit, instruments[3].kind],
    ["perpetual", "USD", "future"],
  );
  assert.equal(instruments.length, 4);
  assert.equal(invalid.length, 2);
  assert.match(invalid[0], /BTC-1JAN27-1-X: option without a strike/);
  assert.match(invalid[1], /kind "spot" is not streamed/);
  const event = { type: "instruments", exchange: "deribit", instruments, streamed: [] };
  assert.deepEqual(eventProblems(event, "deribit"), []);
  // The schema still holds spot instruments to BASE/QUOTE, and an option to its contract.
  const spotWithOwnName = { ...instruments[2], kind: undefined };
  assert.ok(
    eventProblems({ ...event, instruments: [spotWithOwnName] }, "deribit").some((p) =>
      /BASE\/QUOTE/.test(p)
    ),
  );
  assert.ok(
    eventProblems({ ...event, instruments: [{ ...instruments[0], option: undefined }] }, "deribit")
      .some((p) => /option contract/.test(p)),
  );
});

Deno.test("the credit bucket: Deribit's default allows a burst of 100 requests, then 20 a second", () => {
  // support.deribit.com "Rate Limits": 500 credits a request, 50 000 at most, 10 000 a second.
  const bucket = createCreditBucket({ cost: 500, max: 50_000, refillPerSec: 10_000 }, 0);
  let burst = 0;
  while (bucket.take(0)) burst++;
  assert.equal(burst, 100);
  assert.equal(bucket.waitMs(0), 50, "one request's credits refill in 50 ms");
  let sent = 0;
  for (let t = 0; t <= 1000; t++) if (bucket.take(t)) sent++;
  assert.equal(sent, 20, "20 requests in the following second");
  // public/subscribe: 3 000 of 30 000, 10 000 a second: 10 at once, then ~3.3 a second.
  const sub = createCreditBucket({ cost: 3_000, max: 30_000, refillPerSec: 10_000 }, 0);
  let n = 0;
  for (let t = 0; t <= 3000; t++) if (sub.take(t)) n++;
  assert.equal(n, 10 + 10, "10 at once, then 10 in 3 s");
});

Deno.test("property: the bucket never lets more through than pool + refill over any window", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const limit = { cost: 100 * seed, max: 1000 * seed, refillPerSec: 500 * seed };
    const bucket = createCreditBucket(limit, 0);
    const times: number[] = [];
    let t = 0;
    for (let i = 0; i < 300; i++) {
      t += (i * 7919 + seed * 104729) % 37;
      if (bucket.take(t)) times.push(t);
    }
    for (let i = 0; i < times.length; i++) {
      for (let j = i; j < times.length; j++) {
        const window = times[j] - times[i];
        const allowed = (limit.max + window * limit.refillPerSec / 1000) / limit.cost;
        assert.ok(
          j - i + 1 <= Math.floor(allowed + 1e-9),
          `seed ${seed}: ${j - i + 1} in ${window} ms`,
        );
      }
    }
  }
});

Deno.test("book continuity: a prev_change_id that is not the last change_id starts a resync", () => {
  const emitted: BookUpdate[] = [];
  const statuses: BookStatusUpdate[] = [];
  const resyncs: string[] = [];
  const sync = createBookSync({
    symbol: "BTC-PERPETUAL",
    emit: (e) => emitted.push(e),
    bookStatus: (s) => statuses.push(s),
    resync: (r) => resyncs.push(r),
    log: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const msg = (changeId: number, prevChangeId?: number) => ({
    symbol: "BTC-PERPETUAL",
    snapshot: prevChangeId === undefined,
    changeId,
    prevChangeId,
    bids: [[100, 1]] as [number, number][],
    asks: [] as [number, number][],
    eventTime: T,
    receiveTime: T,
    raw: {},
  });
  sync.onMessage(msg(10, 9)); // a change before any snapshot is ignored
  sync.onMessage(msg(10));
  sync.onMessage(msg(12, 10));
  sync.onMessage(msg(15, 13)); // 13 ≠ 12: a change was lost
  sync.onMessage(msg(16, 15)); // ignored until the next snapshot
  sync.onMessage(msg(20));
  sync.onMessage(msg(21, 20));
  assert.deepEqual(statuses.map((s) => s.state), ["syncing", "synced", "resyncing", "synced"]);
  assert.equal(resyncs.length, 1);
  assert.match(resyncs[0], /prev_change_id 13 after change_id 12/);
  assert.deepEqual(emitted.map((e) => [e.snapshot, e.updateId]), [
    [true, 10],
    [false, 12],
    [true, 20],
    [false, 21],
  ]);
  assert.equal(sync.breaks(), 1);
});

Deno.test("selection: configured Deribit names win; otherwise perpetual, futures and strikes nearest the index", () => {
  const expiries = [Date.UTC(2026, 11, 8, 8), Date.UTC(2026, 11, 14, 8), Date.UTC(2027, 0, 8, 8)];
  const list: Instrument[] = [
    {
      symbol: "BTC-PERPETUAL",
      base: "BTC",
      quote: "USD",
      unified: "BTC-PERPETUAL",
      kind: "perpetual",
    },
  ];
  for (const e of expiries) {
    const code = expiryCode(e);
    list.push({
      symbol: `BTC-${code}`,
      base: "BTC",
      quote: "USD",
      unified: `BTC-${code}`,
      kind: "future",
    });
    for (const k of [90_000, 95_000, 100_000, 105_000, 110_000]) {
      for (const type of ["call", "put"] as const) {
        const symbol = `BTC-${code}-${k}-${type === "call" ? "C" : "P"}`;
        list.push({
          symbol,
          base: "BTC",
          quote: "BTC",
          unified: symbol,
          kind: "option",
          option: {
            underlying: "BTC",
            expiry: e,
            strike: k,
            type,
            contractSize: 1,
            settlement: "BTC",
            inverse: true,
          },
        });
      }
    }
  }
  assert.equal(expiryCode(expiries[0]), "8DEC26");
  const base = {
    instruments: list,
    expiries: ["1"],
    strikesPerExpiry: 2,
    maxInstruments: 50,
    index: new Map([["BTC", 104_000]]),
  };
  assert.deepEqual(selectInstruments({ ...base, symbols: ["BTCUSDT"] }), {
    streamed: [
      "BTC-PERPETUAL",
      "BTC-8DEC26",
      "BTC-8DEC26-100000-C",
      "BTC-8DEC26-100000-P",
      "BTC-8DEC26-105000-C",
      "BTC-8DEC26-105000-P",
    ],
    unknown: ["BTCUSDT"],
  });
  assert.deepEqual(
    selectInstruments({ ...base, symbols: [], expiries: ["14DEC26"], strikesPerExpiry: 1 })
      .streamed,
    ["BTC-PERPETUAL", "BTC-14DEC26", "BTC-14DEC26-105000-C", "BTC-14DEC26-105000-P"],
  );
  assert.deepEqual(
    selectInstruments({ ...base, symbols: ["btc-8dec26-90000-p", "ETHUSDT"] }),
    { streamed: ["BTC-8DEC26-90000-P"], unknown: ["ETHUSDT"] },
  );
  assert.equal(
    selectInstruments({
      ...base,
      symbols: [],
      expiries: ["3"],
      strikesPerExpiry: 5,
      maxInstruments: 7,
    }).streamed.length,
    7,
  );
  assert.deepEqual(channelsOf("BTC-PERPETUAL", ["trade", "quote", "book", "kline"]), [
    "trades.BTC-PERPETUAL.100ms",
    "ticker.BTC-PERPETUAL.100ms",
    "book.BTC-PERPETUAL.100ms",
  ]);
  assert.deepEqual(batches(["a", "b", "c", "d", "e"], 2), [["a", "b"], ["c", "d"], ["e"]]);
});

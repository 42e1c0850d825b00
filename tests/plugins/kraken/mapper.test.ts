/**
 * The Kraken v2 mapper, documented with the docs' own example messages: what
 * each channel becomes, the control messages, and every rule that turns a
 * frame into `malformed` instead of an event.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type KrakenFrame, mapKrakenFrame } from "../../../plugins/kraken/mapper.ts";
import { isoTime, parseTime } from "../../../plugins/kraken/time.ts";

const SYMBOLS: ReadonlySet<string> = new Set(["MATIC/USD", "ALGO/USD", "BTC/USD"]);
const RECEIVED = 1_696_000_000_123;

const map = (message: unknown): KrakenFrame =>
  mapKrakenFrame(
    typeof message === "string" ? message : JSON.stringify(message),
    RECEIVED,
    SYMBOLS,
  );

function expectKind<K extends KrakenFrame["kind"]>(
  frame: KrakenFrame,
  kind: K,
): Extract<KrakenFrame, { kind: K }> {
  assert.equal(frame.kind, kind, JSON.stringify(frame));
  return frame as Extract<KrakenFrame, { kind: K }>;
}

const TRADE = {
  channel: "trade",
  type: "update",
  data: [{
    symbol: "MATIC/USD",
    side: "sell",
    price: 0.5117,
    qty: 40.0,
    ord_type: "market",
    trade_id: 4665906,
    timestamp: "2023-09-25T07:49:37.708706Z",
  }],
};
const TICKER = {
  channel: "ticker",
  type: "update",
  data: [{
    symbol: "ALGO/USD",
    bid: 0.10025,
    bid_qty: 740.0,
    ask: 0.10035,
    ask_qty: 740.0,
    last: 0.10035,
    volume: 997038.98383185,
    vwap: 0.10148,
    low: 0.09979,
    high: 0.10285,
    change: -0.00017,
    change_pct: -0.17,
    timestamp: "2023-09-25T09:04:31.742648Z",
  }],
};
const OHLC = {
  channel: "ohlc",
  type: "update",
  timestamp: "2023-10-04T16:26:30.524394914Z",
  data: [{
    symbol: "MATIC/USD",
    open: 0.5624,
    high: 0.5628,
    low: 0.5622,
    close: 0.5627,
    trades: 12,
    volume: 30927.68066226,
    vwap: 0.5626,
    interval_begin: "2023-10-04T16:25:00.000000000Z",
    interval: 5,
    timestamp: "2023-10-04T16:30:00.000000Z",
  }],
};
const BOOK_UPDATE = {
  channel: "book",
  type: "update",
  data: [{
    symbol: "MATIC/USD",
    bids: [{ price: 0.5657, qty: 1098.3947558 }],
    asks: [],
    checksum: 2114181697,
    timestamp: "2023-10-06T17:35:55.440295Z",
  }],
};

Deno.test("data channels", async (t) => {
  await t.step(
    "trade → TradeEvent: side is the taker side, trade_id the id, time from timestamp",
    () => {
      const f = expectKind(map(TRADE), "trades");
      assert.equal(f.snapshot, false);
      assert.deepEqual(f.events, [{
        type: "trade",
        exchange: "kraken",
        symbol: "MATIC/USD",
        eventTime: Date.parse("2023-09-25T07:49:37.708Z"),
        receiveTime: RECEIVED,
        price: 0.5117,
        quantity: 40,
        timestamp: "2023-09-25T07:49:37.708Z",
        tradeId: 4665906,
        side: "sell",
        raw: TRADE.data[0],
      }]);
    },
  );

  await t.step("several trades in one message become several events, in order", () => {
    const second = { ...TRADE.data[0], trade_id: 4665907, side: "buy" };
    const f = expectKind(
      map({ ...TRADE, type: "snapshot", data: [TRADE.data[0], second] }),
      "trades",
    );
    assert.equal(f.snapshot, true);
    assert.deepEqual(f.events.map((e) => [e.tradeId, e.side]), [[4665906, "sell"], [
      4665907,
      "buy",
    ]]);
  });

  await t.step("ticker → QuoteEvent with best bid and ask", () => {
    const f = expectKind(map(TICKER), "quotes");
    const q = f.events[0];
    assert.deepEqual(
      [q.symbol, q.bidPrice, q.bidQuantity, q.askPrice, q.askQuantity],
      ["ALGO/USD", 0.10025, 740, 0.10035, 740],
    );
    assert.equal(q.eventTime, Date.parse("2023-09-25T09:04:31.742Z"));
    assert.deepEqual(q.raw, TICKER.data[0]);
  });

  await t.step("a ticker without timestamp takes the receive time", () => {
    const { timestamp: _, ...rest } = TICKER.data[0];
    const q = expectKind(map({ ...TICKER, data: [rest] }), "quotes").events[0];
    assert.equal(q.eventTime, RECEIVED);
  });

  await t.step("ohlc → KlineEvent: interval_begin opens it, interval in Binance notation", () => {
    const k = expectKind(map(OHLC), "klines").events[0];
    const open = Date.parse("2023-10-04T16:25:00.000Z");
    assert.equal(k.interval, "5m");
    assert.equal(k.openTime, open);
    assert.equal(k.closeTime, open + 5 * 60_000 - 1);
    assert.deepEqual([k.open, k.high, k.low, k.close, k.trades], [
      0.5624,
      0.5628,
      0.5622,
      0.5627,
      12,
    ]);
    assert.equal(k.volume, 30927.68066226);
    assert.equal(k.quoteVolume, 30927.68066226 * 0.5626);
    assert.equal(k.eventTime, Date.parse("2023-10-04T16:26:30.524Z"), "the message timestamp");
    assert.equal(k.closed, false, "updates carry no closed flag");
  });

  await t.step("in an ohlc snapshot every candle older than the newest is closed", () => {
    const older = { ...OHLC.data[0], interval_begin: "2023-10-04T16:20:00.000000000Z" };
    const f = expectKind(map({ ...OHLC, type: "snapshot", data: [older, OHLC.data[0]] }), "klines");
    assert.deepEqual(f.events.map((e) => e.closed), [true, false]);
  });

  await t.step("book → a validated book message (the checksum is checked by the book sync)", () => {
    const b = expectKind(map(BOOK_UPDATE), "book").books[0];
    assert.deepEqual(b, {
      symbol: "MATIC/USD",
      snapshot: false,
      bids: [[0.5657, 1098.3947558]],
      asks: [],
      checksum: 2114181697,
      eventTime: Date.parse("2023-10-06T17:35:55.440Z"),
      receiveTime: RECEIVED,
      raw: BOOK_UPDATE.data[0],
    });
  });

  await t.step("qty 0 in a book update is a removal, and passes", () => {
    const f = map({
      ...BOOK_UPDATE,
      data: [{ ...BOOK_UPDATE.data[0], bids: [{ price: 0.5657, qty: 0 }] }],
    });
    assert.deepEqual(expectKind(f, "book").books[0].bids, [[0.5657, 0]]);
  });
});

Deno.test("instrument, status, heartbeat, pong and acknowledgements", async (t) => {
  await t.step("instrument snapshot → pairs with their precisions, increments and minimums", () => {
    const f = expectKind(
      map({
        channel: "instrument",
        type: "snapshot",
        data: {
          assets: [{ id: "BTC", status: "enabled" }],
          pairs: [
            // BTC/USD as the v2 docs list it (JSON numbers).
            {
              symbol: "BTC/USD",
              base: "BTC",
              quote: "USD",
              status: "online",
              qty_precision: 8,
              qty_increment: 1e-8,
              price_precision: 1,
              cost_precision: 5,
              marginable: true,
              has_index: true,
              cost_min: 0.5,
              margin_initial: 0.2,
              position_limit_long: 250,
              position_limit_short: 200,
              tick_size: 0.1,
              price_increment: 0.1,
              qty_min: 0.0001,
            },
            {
              symbol: "BAD/USD",
              base: "BAD",
              quote: "USD",
              price_precision: "1",
              qty_precision: 8,
            },
          ],
        },
      }),
      "instrument",
    );
    assert.equal(f.snapshot, true);
    assert.deepEqual(f.pairs, [{
      symbol: "BTC/USD",
      base: "BTC",
      quote: "USD",
      status: "online",
      pricePrecision: 1,
      qtyPrecision: 8,
      priceIncrement: 0.1,
      qtyIncrement: 1e-8,
      qtyMin: 0.0001,
      costMin: 0.5,
    }]);
    assert.deepEqual(
      f.invalid,
      ["instrument BAD/USD: bad price_precision"],
      "a bad pair is reported, not fatal",
    );
  });

  await t.step(
    "instrument: non-numeric, negative and zero rules are left out, the pair is kept",
    () => {
      const pair = {
        symbol: "ADA/USD",
        base: "ADA",
        quote: "USD",
        status: "online",
        qty_precision: 8,
        price_precision: 6,
      };
      const f = expectKind(
        map({
          channel: "instrument",
          type: "update",
          data: {
            pairs: [
              {
                ...pair,
                price_increment: "0.000001",
                tick_size: -1,
                qty_increment: 0,
                qty_min: null,
                cost_min: "abc",
              },
              // Only the deprecated tick_size: it stands in for price_increment.
              { ...pair, symbol: "DOT/USD", base: "DOT", tick_size: 0.0001 },
            ],
          },
        }),
        "instrument",
      );
      assert.deepEqual(f.pairs, [
        {
          symbol: "ADA/USD",
          base: "ADA",
          quote: "USD",
          status: "online",
          pricePrecision: 6,
          qtyPrecision: 8,
        },
        {
          symbol: "DOT/USD",
          base: "DOT",
          quote: "USD",
          status: "online",
          pricePrecision: 6,
          qtyPrecision: 8,
          priceIncrement: 0.0001,
        },
      ]);
      assert.deepEqual(f.invalid, []);
    },
  );

  await t.step("status: connection_id exceeds 2^53 and is kept as its digits", () => {
    const text =
      `{"channel":"status","data":[{"api_version":"v2","connection_id":13834774380200032777,"system":"online","version":"2.0.0"}],"type":"update"}`;
    assert.notEqual(String(JSON.parse(text).data[0].connection_id), "13834774380200032777");
    assert.deepEqual(mapKrakenFrame(text, RECEIVED, SYMBOLS), {
      kind: "status",
      system: "online",
      version: "2.0.0",
      connectionId: "13834774380200032777",
    });
  });

  await t.step("heartbeat", () => {
    assert.deepEqual(map({ channel: "heartbeat" }), { kind: "heartbeat" });
  });

  await t.step("pong with req_id and times", () => {
    assert.deepEqual(
      map({
        method: "pong",
        req_id: 101,
        time_in: "2023-09-24T14:10:23.799685Z",
        time_out: "2023-09-24T14:10:23.799703Z",
      }),
      {
        kind: "pong",
        reqId: 101,
        timeIn: "2023-09-24T14:10:23.799685Z",
        timeOut: "2023-09-24T14:10:23.799703Z",
      },
    );
  });

  await t.step("subscribe acknowledgement, one per symbol, with warnings", () => {
    const f = expectKind(
      map({
        method: "subscribe",
        result: {
          channel: "ohlc",
          interval: 1,
          snapshot: true,
          symbol: "ALGO/USD",
          warnings: ["timestamp is deprecated, use interval_begin"],
        },
        success: true,
        time_in: "2023-10-06T17:35:55.219022Z",
        time_out: "2023-10-06T17:35:55.219067Z",
        req_id: 7,
      }),
      "ack",
    );
    assert.deepEqual(f.ack, {
      method: "subscribe",
      success: true,
      reqId: 7,
      channel: "ohlc",
      symbol: "ALGO/USD",
      error: undefined,
      warnings: ["timestamp is deprecated, use interval_begin"],
    });
  });

  await t.step("subscribe failure: Currency pair not supported", () => {
    const f = expectKind(
      map({
        error: "Currency pair not supported XBT/USD",
        method: "subscribe",
        success: false,
        symbol: "XBT/USD",
        time_in: "2023-10-06T17:35:55.219022Z",
        time_out: "2023-10-06T17:35:55.219067Z",
      }),
      "ack",
    );
    assert.equal(f.ack.success, false);
    assert.equal(f.ack.symbol, "XBT/USD");
    assert.equal(f.ack.error, "Currency pair not supported XBT/USD");
  });

  await t.step("a request-level error", () => {
    assert.deepEqual(map({ error: "Malformed request", success: false, req_id: 3 }), {
      kind: "error",
      message: "Malformed request",
      reqId: 3,
    });
  });
});

Deno.test("malformed frames are reported, never mapped to events", async (t) => {
  const trade = TRADE.data[0];
  const level = BOOK_UPDATE.data[0];
  const cases: [string, unknown, RegExp][] = [
    ["invalid JSON", `{"channel":"trade"`, /invalid JSON/],
    ["not an object", [1, 2], /not an object/],
    ["unknown channel", { channel: "spread", type: "update", data: [] }, /unknown channel/],
    ["no channel, no method", { hello: 1 }, /neither channel nor known method/],
    ["bad message type", { ...TRADE, type: "delta" }, /trade: bad type/],
    ["data not an array", { ...TRADE, data: {} }, /data is not an array/],
    ["unknown symbol", { ...TRADE, data: [{ ...trade, symbol: "XBT/USD" }] }, /unexpected symbol/],
    ["price as string", { ...TRADE, data: [{ ...trade, price: "0.5117" }] }, /trade: bad price/],
    ["price 0", { ...TRADE, data: [{ ...trade, price: 0 }] }, /trade: bad price/],
    ["negative qty", { ...TRADE, data: [{ ...trade, qty: -1 }] }, /trade: bad qty/],
    ["qty 0 trade", { ...TRADE, data: [{ ...trade, qty: 0 }] }, /trade: bad qty/],
    ["bad side", { ...TRADE, data: [{ ...trade, side: "hold" }] }, /trade: bad side/],
    ["fractional trade_id", { ...TRADE, data: [{ ...trade, trade_id: 1.5 }] }, /bad trade_id/],
    ["bad timestamp", { ...TRADE, data: [{ ...trade, timestamp: "yesterday" }] }, /bad timestamp/],
    [
      "impossible date",
      { ...TRADE, data: [{ ...trade, timestamp: "2023-02-30T00:00:00Z" }] },
      /bad timestamp/,
    ],
    [
      "book level without qty",
      { ...BOOK_UPDATE, data: [{ ...level, bids: [{ price: 1 }] }] },
      /bad bids/,
    ],
    [
      "book price 0",
      { ...BOOK_UPDATE, data: [{ ...level, asks: [{ price: 0, qty: 1 }] }] },
      /bad asks/,
    ],
    [
      "book checksum missing",
      { ...BOOK_UPDATE, data: [{ ...level, checksum: undefined }] },
      /bad checksum/,
    ],
    [
      "book checksum beyond 32 bits",
      { ...BOOK_UPDATE, data: [{ ...level, checksum: 2 ** 32 }] },
      /bad checksum/,
    ],
    [
      "ticker bid as string",
      { ...TICKER, data: [{ ...TICKER.data[0], bid: "1" }] },
      /ticker: bad bid/,
    ],
    [
      "ticker negative ask_qty",
      { ...TICKER, data: [{ ...TICKER.data[0], ask_qty: -1 }] },
      /bad ask_qty/,
    ],
    ["ohlc high below low", { ...OHLC, data: [{ ...OHLC.data[0], high: 0.5 }] }, /bad high\/low/],
    [
      "ohlc unknown interval",
      { ...OHLC, data: [{ ...OHLC.data[0], interval: 2 }] },
      /bad interval/,
    ],
    [
      "ohlc bad interval_begin",
      { ...OHLC, data: [{ ...OHLC.data[0], interval_begin: 5 }] },
      /bad interval_begin/,
    ],
    ["ack without success", { method: "subscribe", result: {} }, /bad success/],
    ["failed ack without error", { method: "subscribe", success: false }, /failure without error/],
    ["pong with bad req_id", { method: "pong", req_id: "x" }, /pong: bad req_id/],
    ["status without system", { channel: "status", data: [{}] }, /status: bad system/],
  ];
  for (const [name, message, reason] of cases) {
    await t.step(name, () => {
      const f = map(message);
      assert.equal(f.kind, "malformed", JSON.stringify(f).slice(0, 200));
      assert.match((f as { reason: string }).reason, reason);
    });
  }

  await t.step("one bad entry makes the whole message malformed", () => {
    const f = map({ ...TRADE, data: [trade, { ...trade, price: -1 }] });
    assert.equal(f.kind, "malformed");
  });

  await t.step("never throws, whatever the input", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        map(value);
        return true;
      }),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.string(), (text) => (map(text), true)), { numRuns: 500 });
  });
});

Deno.test("RFC 3339 times with micro- and nanoseconds", () => {
  assert.equal(parseTime("2023-09-25T07:49:37.708706Z"), Date.parse("2023-09-25T07:49:37.708Z"));
  assert.equal(parseTime("2023-10-04T16:25:00.000000000Z"), Date.parse("2023-10-04T16:25:00Z"));
  assert.equal(parseTime("2024-02-29T23:59:59Z"), Date.parse("2024-02-29T23:59:59Z"));
  assert.equal(parseTime("1970-01-01T00:00:00.1Z"), 100);
  for (
    const bad of [
      "2023-02-29T00:00:00Z",
      "2023-10-04 16:25:00Z",
      "2023-10-04T16:25:00",
      "2023-10-04T24:00:00Z",
      "2023-10-04T16:25:00.Z",
      1,
    ]
  ) {
    assert.ok(Number.isNaN(parseTime(bad)), String(bad));
  }
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
      const iso = new Date(ms).toISOString();
      return isoTime(ms) === iso && parseTime(iso) === ms;
    }),
    { numRuns: 2000 },
  );
});

/**
 * The Coinbase Advanced Trade mapper against the documented frames
 * (docs.cdp.coinbase.com websocket-channels, as quoted in
 * exchange-protocols.md §2), plus the pure helpers beside it: time and decimal
 * parsing and the REST product mapping.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type CoinbaseFrame, mapCoinbaseFrame } from "../../../plugins/coinbase/mapper.ts";
import { counter, decimal, incrementDecimals } from "../../../plugins/coinbase/checks.ts";
import { isoTime, parseTime } from "../../../plugins/coinbase/time.ts";
import { chooseProducts, mapProducts } from "../../../plugins/coinbase/products.ts";

const PRODUCTS: ReadonlySet<string> = new Set(["BTC-USD", "ETH-USD"]);
const RECEIVED = 1_700_000_000_123;

// ---------------------------------------------------------------- documented frames

const TRADE = {
  trade_id: "000000000",
  product_id: "ETH-USD",
  price: "1260.01",
  size: "0.3",
  side: "BUY",
  time: "2019-08-14T20:42:27.265Z",
};
const MARKET_TRADES = {
  channel: "market_trades",
  client_id: "",
  timestamp: "2023-02-09T20:19:35.39625135Z",
  sequence_num: 0,
  events: [{ type: "snapshot", trades: [TRADE] }],
};
const TICKER = {
  type: "ticker",
  product_id: "BTC-USD",
  price: "21932.98",
  volume_24_h: "16038.28770938",
  low_24_h: "21835.29",
  high_24_h: "23011.18",
  low_52_w: "15460",
  high_52_w: "48240",
  price_percent_chg_24_h: "-4.15775596190603",
  best_bid: "21931.98",
  best_bid_quantity: "8000.21",
  best_ask: "21933.98",
  best_ask_quantity: "8038.07770938",
};
const TICKER_FRAME = {
  channel: "ticker",
  client_id: "",
  timestamp: "2023-02-09T20:30:37.167359596Z",
  sequence_num: 0,
  events: [{ type: "snapshot", tickers: [TICKER] }],
};
const L2_EVENT = {
  type: "snapshot",
  product_id: "BTC-USD",
  updates: [
    {
      side: "bid",
      event_time: "1970-01-01T00:00:00Z",
      price_level: "21921.73",
      new_quantity: "0.06317902",
    },
    // The docs example shows one of its two entries; the second is ccxt's (an offer here).
    {
      side: "offer",
      event_time: "1970-01-01T00:00:00Z",
      price_level: "21921.74",
      new_quantity: "0.02",
    },
  ],
};
const L2_FRAME = {
  channel: "l2_data",
  client_id: "",
  timestamp: "2023-02-09T20:32:50.714964855Z",
  sequence_num: 0,
  events: [L2_EVENT],
};
const CANDLE = {
  start: "1688998200",
  high: "1867.72",
  low: "1865.63",
  open: "1867.38",
  close: "1866.81",
  volume: "0.20269406",
  product_id: "ETH-USD",
};
const CANDLES_FRAME = {
  channel: "candles",
  client_id: "",
  timestamp: "2023-06-09T20:19:35.39625135Z",
  sequence_num: 0,
  events: [{ type: "snapshot", candles: [CANDLE] }],
};
const HEARTBEAT_FRAME = {
  channel: "heartbeats",
  client_id: "",
  timestamp: "2023-06-23T20:31:26.122969572Z",
  sequence_num: 0,
  events: [{
    current_time: "2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105",
    heartbeat_counter: "3049",
  }],
};
/** [NT] ws_subscriptions.json */
const SUBSCRIPTIONS_FRAME = {
  channel: "subscriptions",
  client_id: "",
  timestamp: "2026-04-07T14:30:00.000000Z",
  sequence_num: 0,
  events: [{ subscriptions: { level2: ["BTC-USD"], market_trades: ["BTC-USD", "ETH-USD"] } }],
};

function map(frame: unknown): CoinbaseFrame {
  return mapCoinbaseFrame(
    typeof frame === "string" ? frame : JSON.stringify(frame),
    RECEIVED,
    PRODUCTS,
  );
}

/** The frame, mapped, asserted to be of `kind`. */
function mapAs<K extends CoinbaseFrame["kind"]>(
  frame: unknown,
  kind: K,
): Extract<CoinbaseFrame, { kind: K }> {
  const out = map(frame);
  assert.equal(out.kind, kind, JSON.stringify(out));
  return out as Extract<CoinbaseFrame, { kind: K }>;
}

/** A copy of `frame` with `events[0].<list>[0]` patched. */
function patched<T>(frame: T, list: string, patch: Record<string, unknown>): T {
  const copy = structuredClone(frame) as Record<string, unknown> & T;
  const events = copy.events as Record<string, unknown>[];
  const items = events[0][list] as Record<string, unknown>[];
  items[0] = { ...items[0], ...patch };
  return copy;
}

Deno.test("market_trades: the documented frame becomes a TradeEvent with the taker side", async (t) => {
  await t.step("values exact; maker side BUY means the taker sold", () => {
    const out = mapAs(MARKET_TRADES, "trades");
    assert.equal(out.seq, 0);
    assert.deepEqual(out.trades, [{
      type: "trade",
      exchange: "coinbase",
      symbol: "ETH-USD",
      eventTime: Date.parse("2023-02-09T20:19:35.396Z"),
      receiveTime: RECEIVED,
      price: 1260.01,
      quantity: 0.3,
      timestamp: "2019-08-14T20:42:27.265Z",
      tradeId: "000000000",
      side: "sell",
      raw: TRADE,
    }]);
  });

  await t.step("maker side SELL means the taker bought", () => {
    const out = mapAs(patched(MARKET_TRADES, "trades", { side: "SELL" }), "trades");
    assert.equal(out.trades[0].side, "buy");
  });

  await t.step("trade_id is kept as given: a string stays a string, a number a number", () => {
    const asString = mapAs(patched(MARKET_TRADES, "trades", { trade_id: "00042" }), "trades");
    assert.equal(asString.trades[0].tradeId, "00042");
    const asNumber = mapAs(patched(MARKET_TRADES, "trades", { trade_id: 42 }), "trades");
    assert.equal(asNumber.trades[0].tradeId, 42);
  });

  await t.step("a batch sent newest first comes out oldest first", () => {
    const trade = (id: number, ms: number) => ({
      ...TRADE,
      trade_id: String(id),
      time: new Date(Date.UTC(2024, 0, 1, 0, 0, 0, ms)).toISOString().replace("Z", "123Z"),
    });
    const frame = {
      ...MARKET_TRADES,
      events: [{ type: "update", trades: [trade(12, 5), trade(11, 5), trade(10, 3)] }],
    };
    assert.deepEqual(mapAs(frame, "trades").trades.map((x) => x.tradeId), ["10", "11", "12"]);
    const mixed = {
      ...MARKET_TRADES,
      events: [{ type: "update", trades: [trade(11, 5), trade(10, 3), trade(12, 5)] }],
    };
    assert.deepEqual(mapAs(mixed, "trades").trades.map((x) => x.tradeId), ["10", "11", "12"]);
  });
});

Deno.test("l2_data: snapshot and updates become BookUpdates, offer = asks", async (t) => {
  await t.step("the documented snapshot replaces the book", () => {
    const out = mapAs(L2_FRAME, "book");
    assert.deepEqual(out.updates, [{
      type: "book",
      exchange: "coinbase",
      symbol: "BTC-USD",
      eventTime: Date.parse("2023-02-09T20:32:50.714Z"),
      receiveTime: RECEIVED,
      snapshot: true,
      bids: [[21921.73, 0.06317902]],
      asks: [[21921.74, 0.02]],
      timestamp: "2023-02-09T20:32:50.714Z",
      raw: L2_EVENT,
    }]);
  });

  await t.step('an update carries absolute quantities; "0" removes the level', () => {
    const frame = {
      ...L2_FRAME,
      sequence_num: 7,
      events: [{
        type: "update",
        product_id: "BTC-USD",
        updates: [
          {
            side: "offer",
            event_time: "2023-02-09T20:32:50.7Z",
            price_level: "21922",
            new_quantity: "0",
          },
          {
            side: "bid",
            event_time: "2023-02-09T20:32:50.7Z",
            price_level: "21921.3",
            new_quantity: "1.5",
          },
        ],
      }],
    };
    const out = mapAs(frame, "book");
    assert.equal(out.seq, 7);
    assert.equal(out.updates[0].snapshot, false);
    assert.deepEqual(out.updates[0].bids, [[21921.3, 1.5]]);
    assert.deepEqual(out.updates[0].asks, [[21922, 0]]);
  });

  await t.step("a level whose side is neither bid nor offer is rejected", () => {
    const frame = patched(L2_FRAME, "updates", { side: "ask" });
    const out = mapAs(frame, "malformed");
    assert.match(out.reason, /bad side/);
    assert.deepEqual(out.products, ["BTC-USD"], "the book to resync is named");
  });
});

Deno.test("ticker: best bid/ask with quantities become a QuoteEvent", () => {
  const out = mapAs(TICKER_FRAME, "quotes");
  assert.deepEqual(out.quotes, [{
    type: "quote",
    exchange: "coinbase",
    symbol: "BTC-USD",
    eventTime: Date.parse("2023-02-09T20:30:37.167Z"),
    receiveTime: RECEIVED,
    bidPrice: 21931.98,
    bidQuantity: 8000.21,
    askPrice: 21933.98,
    askQuantity: 8038.07770938,
    timestamp: "2023-02-09T20:30:37.167Z",
    raw: TICKER,
  }]);
});

Deno.test("candles: a 5-minute candle becomes a KlineEvent (start is UNIX seconds)", () => {
  const out = mapAs(CANDLES_FRAME, "candles");
  assert.deepEqual(out.candles, [{
    type: "kline",
    exchange: "coinbase",
    symbol: "ETH-USD",
    eventTime: Date.parse("2023-06-09T20:19:35.396Z"),
    receiveTime: RECEIVED,
    interval: "5m",
    openTime: 1_688_998_200_000,
    closeTime: 1_688_998_499_999,
    open: 1867.38,
    high: 1867.72,
    low: 1865.63,
    close: 1866.81,
    volume: 0.20269406,
    quoteVolume: 0,
    trades: 0,
    closed: false,
    timestamp: "2023-06-09T20:19:35.396Z",
    raw: CANDLE,
  }]);
});

Deno.test("control messages: heartbeats, subscriptions, errors, unknown channels", async (t) => {
  await t.step("heartbeat_counter is read as a string (docs) or an integer (captures)", () => {
    assert.equal(mapAs(HEARTBEAT_FRAME, "heartbeat").counter, 3049);
    const asInt = structuredClone(HEARTBEAT_FRAME) as { events: Record<string, unknown>[] };
    asInt.events[0].heartbeat_counter = 3049;
    assert.equal(mapAs(asInt, "heartbeat").counter, 3049);
    const broken = structuredClone(HEARTBEAT_FRAME);
    (broken.events[0] as Record<string, unknown>).heartbeat_counter = "30x9";
    assert.match(mapAs(broken, "malformed").reason, /heartbeat_counter/);
  });

  await t.step("the subscriptions ack lists every subscription", () => {
    const out = mapAs(SUBSCRIPTIONS_FRAME, "subscriptions");
    assert.deepEqual(out.subscriptions, {
      level2: ["BTC-USD"],
      market_trades: ["BTC-USD", "ETH-USD"],
    });
  });

  await t.step("an error message carries its text and no sequence number", () => {
    assert.deepEqual(map({ type: "error", message: "failure to subscribe" }), {
      kind: "error",
      message: "failure to subscribe",
    });
  });

  await t.step("unknown channels are ignored, but their sequence_num still counts", () => {
    const batch = { ...TICKER_FRAME, channel: "ticker_batch", sequence_num: 12 };
    assert.deepEqual(map(batch), { kind: "ignored", seq: 12, channel: "ticker_batch" });
  });
});

Deno.test("malformed frames are rejected with a reason, never thrown", async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ["invalid JSON", '{"channel":"l2_data",', /invalid JSON/],
    ["not an object", "[1,2]", /not an object/],
    ["no channel", { sequence_num: 1 }, /without channel/],
    ["bad sequence_num", { ...L2_FRAME, sequence_num: "1" }, /bad sequence_num/],
    ["bad timestamp", { ...L2_FRAME, timestamp: "yesterday" }, /bad timestamp/],
    ["events not an array", { ...L2_FRAME, events: {} }, /events is not an array/],
    [
      "price as a number",
      patched(L2_FRAME, "updates", { price_level: 21921.73 }),
      /bad price_level/,
    ],
    ["negative quantity", patched(L2_FRAME, "updates", { new_quantity: "-1" }), /bad new_quantity/],
    ["zero price", patched(MARKET_TRADES, "trades", { price: "0" }), /bad price/],
    ["NaN price", patched(MARKET_TRADES, "trades", { price: "NaN" }), /bad price/],
    ["exponent", patched(MARKET_TRADES, "trades", { size: "1e-3" }), /bad size/],
    ["zero size trade", patched(MARKET_TRADES, "trades", { size: "0" }), /bad size/],
    ["unknown side", patched(MARKET_TRADES, "trades", { side: "buy" }), /bad side/],
    [
      "bad trade time",
      patched(MARKET_TRADES, "trades", { time: "2019-13-14T20:42:27Z" }),
      /bad time/,
    ],
    ["empty trade_id", patched(MARKET_TRADES, "trades", { trade_id: "" }), /bad trade_id/],
    [
      "unknown product",
      patched(MARKET_TRADES, "trades", { product_id: "XXX-YYY" }),
      /unexpected product/,
    ],
    [
      "empty ticker (ccxt note)",
      patched(TICKER_FRAME, "tickers", { best_bid: "" }),
      /bad best_bid/,
    ],
    ["candle high below low", patched(CANDLES_FRAME, "candles", { high: "1" }), /bad high/],
  ];
  for (const [name, frame, reason] of cases) {
    await t.step(name, () => {
      const out = mapAs(frame, "malformed");
      assert.match(out.reason, reason);
    });
  }

  await t.step("a malformed frame with a readable envelope still reports its sequence_num", () => {
    const out = mapAs(
      { ...patched(L2_FRAME, "updates", { new_quantity: "x" }), sequence_num: 9 },
      "malformed",
    );
    assert.equal(out.seq, 9);
    assert.equal(out.channel, "l2_data");
  });

  await t.step("arbitrary JSON never throws and never yields a non-finite number", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const out = map(JSON.stringify(value));
        return out.kind === "malformed" || out.kind === "ignored" || out.kind === "error";
      }),
      { numRuns: 500 },
    );
    // Valid envelopes with arbitrary level strings: accepted values are exact, finite, in range.
    fc.assert(
      fc.property(fc.string(), fc.string(), (price, qty) => {
        const out = map(patched(L2_FRAME, "updates", { price_level: price, new_quantity: qty }));
        if (out.kind !== "book") return true;
        const [p, q] = out.updates[0].bids[0];
        return p > 0 && q >= 0 && Number.isFinite(p + q) && p === Number(price) &&
          q === Number(qty);
      }),
      { numRuns: 500 },
    );
  });
});

Deno.test("time and number parsing", async (t) => {
  await t.step("RFC 3339 with up to nanoseconds, truncated to the millisecond", () => {
    assert.equal(
      parseTime("2023-02-09T20:19:35.39625135Z"),
      Date.parse("2023-02-09T20:19:35.396Z"),
    );
    assert.equal(parseTime("1970-01-01T00:00:00Z"), 0);
    assert.equal(parseTime("2024-02-29T23:59:59.9+01:00"), Date.parse("2024-02-29T22:59:59.900Z"));
    for (
      const bad of [
        "2023-02-29T00:00:00Z",
        "2023-02-09 20:19:35Z",
        "2023-02-09T20:19:35",
        "2023-02-09T20:19:35.Z",
        "2023-02-09T24:00:00Z",
        5,
      ]
    ) {
      assert.ok(Number.isNaN(parseTime(bad)), String(bad));
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        const iso = new Date(ms).toISOString();
        return isoTime(ms) === iso && parseTime(iso) === ms &&
          parseTime(iso.replace("Z", "987654Z")) === ms;
      }),
    );
  });

  await t.step("decimals are exact; counters accept digits or integers", () => {
    assert.equal(decimal("21921.73"), 21921.73);
    assert.equal(decimal("0.06317902"), 0.06317902);
    assert.ok(
      Number.isNaN(decimal("1.")) && Number.isNaN(decimal(".5")) && Number.isNaN(decimal(5)),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 12 }), (m, k) => {
        const s = k === 0
          ? String(m)
          : `${String(m).padStart(k + 1, "0").slice(0, -k)}.${
            String(m).padStart(k + 1, "0").slice(-k)
          }`;
        return decimal(s) === Number(s);
      }),
    );
    assert.equal(counter("3049"), 3049);
    assert.equal(counter(3049), 3049);
    assert.ok(
      Number.isNaN(counter("-1")) && Number.isNaN(counter(1.5)) && Number.isNaN(counter("")),
    );
    assert.equal(incrementDecimals("0.01"), 2);
    assert.equal(incrementDecimals("0.00000001"), 8);
    assert.equal(incrementDecimals("1"), 0);
  });
});

Deno.test("REST products become instruments; configured names choose what to stream", async (t) => {
  const product = (id: string, extra: Record<string, unknown> = {}) => {
    const [base, quote] = id.split("-");
    return {
      product_id: id,
      base_currency_id: base,
      quote_currency_id: quote,
      base_increment: "0.00000001",
      quote_increment: "0.01",
      price_increment: "0.01",
      product_type: "SPOT",
      ...extra,
    };
  };

  await t.step(
    "precisions and rules come from the increments and sizes; unusable entries are skipped",
    () => {
      const out = mapProducts({
        products: [
          // BTC-USD's sizes as Advanced Trade lists them (decimal strings).
          product("BTC-USD", {
            base_min_size: "0.00000001",
            base_max_size: "3400",
            quote_min_size: "1",
            quote_max_size: "150000000",
          }),
          product("SHIB-USD", { base_increment: "1", price_increment: "0.00000001" }),
          { product_id: "BIT-28JUN24-CDE", base_currency_id: "", quote_currency_id: "" },
        ],
        num_products: 3,
      });
      assert.deepEqual(out, {
        ok: true,
        value: [
          {
            symbol: "BTC-USD",
            base: "BTC",
            quote: "USD",
            unified: "BTC/USD",
            pricePrecision: 2,
            quantityPrecision: 8,
            tickSize: 0.01,
            stepSize: 0.00000001,
            minQuantity: 0.00000001,
            maxQuantity: 3400,
            minNotional: 1,
          },
          {
            symbol: "SHIB-USD",
            base: "SHIB",
            quote: "USD",
            unified: "SHIB/USD",
            pricePrecision: 8,
            quantityPrecision: 0,
            tickSize: 0.00000001,
            stepSize: 1,
          },
        ],
      });
      assert.deepEqual(mapProducts({ nope: [] }), {
        ok: false,
        reason: "products: no products array",
      });
    },
  );

  await t.step(
    "an Exchange-API product: quote_increment is the tick, min_market_funds the minimum notional",
    () => {
      const out = mapProducts({
        products: [{
          product_id: "ETH-EUR",
          base_currency_id: "ETH",
          quote_currency_id: "EUR",
          quote_increment: "0.01",
          base_increment: "0.00000001",
          min_market_funds: "1",
        }],
      });
      assert.ok(out.ok);
      assert.deepEqual(
        [out.value[0].tickSize, out.value[0].stepSize, out.value[0].minNotional],
        [0.01, 0.00000001, 1],
      );
    },
  );

  await t.step("non-numeric, negative and zero sizes are left out; the product is kept", () => {
    const out = mapProducts({
      products: [product("SOL-USD", {
        price_increment: "0",
        quote_increment: "x",
        base_increment: "-0.001",
        base_min_size: "",
        base_max_size: "1e9",
        quote_min_size: "0.00",
        min_market_funds: null,
      })],
    });
    assert.deepEqual(out, {
      ok: true,
      value: [{
        symbol: "SOL-USD",
        base: "SOL",
        quote: "USD",
        unified: "SOL/USD",
        pricePrecision: undefined,
        quantityPrecision: undefined,
      }],
    });
  });

  await t.step("native, unified and joined names match; -USDC streams as its -USD twin", () => {
    const listed = mapProducts({
      products: ["BTC-USD", "BTC-USDC", "ETH-USDT", "USDT-USDC"].map((id) => product(id)),
    });
    assert.ok(listed.ok);
    assert.deepEqual(
      chooseProducts(["BTC-USD", "eth/usdt", "BTCUSDC", "USDT-USDC", "NOPE"], listed.value),
      {
        streamed: ["BTC-USD", "ETH-USDT", "USDT-USDC"],
        unknown: ["NOPE"],
        aliased: [["BTC-USDC", "BTC-USD"]],
      },
    );
  });
});

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BinanceFrame,
  mapBinanceFrame,
  mapBinanceMessage,
} from "../../../plugins/binance/mapper.ts";
import {
  mapDepthSnapshot,
  mapExchangeInfo,
  mapRestTrade,
} from "../../../plugins/binance/rest_mapper.ts";
import { decimal, stepDecimals } from "../../../plugins/binance/checks.ts";
import { scanDepthUpdate } from "../../../plugins/binance/depth_scan.ts";
import { isoTime } from "../../../mod.ts";

const SYMBOLS: ReadonlySet<string> = new Set(["BNBBTC", "BTCUSDT"]);
const RECEIVED = 1672515782200;

const TRADE = {
  e: "trade",
  E: 1672515782136,
  s: "BNBBTC",
  t: 12345,
  p: "0.001",
  q: "100",
  T: 1672515782134,
  m: true,
  M: true,
};
const BOOK_TICKER = {
  u: 400900217,
  s: "BNBBTC",
  b: "25.35190000",
  B: "31.21000000",
  a: "25.36520000",
  A: "40.66000000",
};
const DEPTH = {
  e: "depthUpdate",
  E: 1672515782136,
  s: "BNBBTC",
  U: 157,
  u: 160,
  b: [["0.0024", "10"], ["0.0023", "0"]],
  a: [["0.0026", "100"]],
};
const KLINE = {
  e: "kline",
  E: 1672515782136,
  s: "BNBBTC",
  k: {
    t: 1672515780000,
    T: 1672515839999,
    s: "BNBBTC",
    i: "1m",
    f: 100,
    L: 200,
    o: "0.0010",
    c: "0.0020",
    h: "0.0025",
    l: "0.0015",
    v: "1000",
    n: 100,
    x: false,
    q: "1.0000",
    V: "500",
    Q: "0.500",
    B: "123456",
  },
};

/** Wraps a payload the way a combined stream delivers it. */
function combined(stream: string, data: unknown): string {
  return JSON.stringify({ stream, data });
}

function map(text: string): BinanceFrame {
  return mapBinanceFrame(text, RECEIVED, SYMBOLS);
}

function reasonOf(frame: BinanceFrame): string {
  assert.equal(frame.kind, "malformed", JSON.stringify(frame));
  return frame.kind === "malformed" ? frame.reason : "";
}

Deno.test("mapBinanceFrame turns documented Binance payloads into normalized events", async (t) => {
  await t.step("a combined-stream @trade becomes a TradeEvent with the taker side", () => {
    const frame = map(combined("bnbbtc@trade", TRADE));
    assert.equal(frame.kind, "trade");
    if (frame.kind !== "trade") return;
    assert.deepEqual(frame.event, {
      type: "trade",
      exchange: "binance",
      symbol: "BNBBTC",
      eventTime: 1672515782136,
      receiveTime: RECEIVED,
      price: 0.001,
      quantity: 100,
      timestamp: "2022-12-31T19:43:02.134Z",
      tradeId: 12345,
      side: "sell", // m = buyer is maker → the taker sold
      raw: TRADE,
    });
  });

  await t.step("m = false means the buyer was the taker", () => {
    const frame = map(combined("bnbbtc@trade", { ...TRADE, m: false }));
    assert.equal(frame.kind === "trade" && frame.event.side, "buy");
  });

  await t.step("a raw (unwrapped) payload is mapped the same way", () => {
    const frame = map(JSON.stringify(TRADE));
    assert.equal(frame.kind === "trade" && frame.event.tradeId, 12345);
  });

  await t.step("@bookTicker has no event time, so the receive time stands in", () => {
    const frame = map(combined("bnbbtc@bookTicker", BOOK_TICKER));
    assert.equal(frame.kind, "quote");
    if (frame.kind !== "quote") return;
    assert.deepEqual(frame.event, {
      type: "quote",
      exchange: "binance",
      symbol: "BNBBTC",
      eventTime: RECEIVED,
      receiveTime: RECEIVED,
      bidPrice: 25.3519,
      bidQuantity: 31.21,
      askPrice: 25.3652,
      askQuantity: 40.66,
      timestamp: new Date(RECEIVED).toISOString(),
      updateId: 400900217,
      raw: BOOK_TICKER,
    });
  });

  await t.step("a diff-depth event keeps U and u and absolute quantities (0 removes)", () => {
    const frame = map(combined("bnbbtc@depth@100ms", DEPTH));
    assert.equal(frame.kind, "depth");
    if (frame.kind !== "depth") return;
    assert.deepEqual(frame.event, {
      type: "book",
      exchange: "binance",
      symbol: "BNBBTC",
      eventTime: 1672515782136,
      receiveTime: RECEIVED,
      snapshot: false,
      bids: [[0.0024, 10], [0.0023, 0]],
      asks: [[0.0026, 100]],
      firstUpdateId: 157,
      updateId: 160,
      timestamp: "2022-12-31T19:43:02.136Z",
      raw: DEPTH,
    });
  });

  await t.step("@kline_1m becomes a KlineEvent", () => {
    const frame = map(combined("bnbbtc@kline_1m", KLINE));
    assert.equal(frame.kind, "kline");
    if (frame.kind !== "kline") return;
    assert.deepEqual(frame.event, {
      type: "kline",
      exchange: "binance",
      symbol: "BNBBTC",
      eventTime: 1672515782136,
      receiveTime: RECEIVED,
      interval: "1m",
      openTime: 1672515780000,
      closeTime: 1672515839999,
      open: 0.001,
      high: 0.0025,
      low: 0.0015,
      close: 0.002,
      volume: 1000,
      quoteVolume: 1,
      trades: 100,
      closed: false,
      timestamp: "2022-12-31T19:43:02.136Z",
      raw: KLINE,
    });
  });

  await t.step("serverShutdown arrives on the !serverShutdown stream", () => {
    const frame = map(
      combined("!serverShutdown", { e: "serverShutdown", E: 1770123456789 }),
    );
    assert.deepEqual(frame, { kind: "serverShutdown", eventTime: 1770123456789 });
  });

  await t.step("subscription replies and errors are control results", () => {
    assert.deepEqual(map('{"result":null,"id":1}'), {
      kind: "reply",
      id: 1,
      result: null,
    });
    assert.deepEqual(map('{"result":["btcusdt@trade"],"id":"x3"}'), {
      kind: "reply",
      id: "x3",
      result: ["btcusdt@trade"],
    });
    assert.deepEqual(
      map('{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":2}'),
      { kind: "error", id: 2, code: 2, message: "Invalid request: invalid stream" },
    );
    assert.deepEqual(map('{"id":null,"error":{"code":3,"msg":"Invalid json"}}'), {
      kind: "error",
      id: null,
      code: 3,
      message: "Invalid json",
    });
  });

  await t.step("mapBinanceMessage accepts an already-parsed frame", () => {
    const frame = mapBinanceMessage(
      { stream: "bnbbtc@trade", data: TRADE },
      RECEIVED,
      SYMBOLS,
    );
    assert.equal(frame.kind === "trade" && frame.event.price, 0.001);
  });
});

Deno.test("mapBinanceFrame rejects malformed frames with a reason instead of mapping them", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["price 0", { ...TRADE, p: "0" }, /trade: bad p/],
    ["a negative quantity", { ...TRADE, q: "-1" }, /trade: bad q/],
    ["a zero trade quantity", { ...TRADE, q: "0.000" }, /trade: bad q/],
    ["NaN as a price", { ...TRADE, p: "NaN" }, /trade: bad p/],
    ["a number where a decimal string belongs", { ...TRADE, p: 0.001 }, /bad p/],
    ["an exponent", { ...TRADE, q: "1e3" }, /bad q/],
    ["a string trade id", { ...TRADE, t: "12345" }, /trade: bad t/],
    ["a fractional trade id", { ...TRADE, t: 1.5 }, /trade: bad t/],
    ["a missing event time", { ...TRADE, E: undefined }, /trade: bad E/],
    ["a non-boolean m", { ...TRADE, m: "true" }, /trade: bad m/],
    ["an unknown symbol", { ...TRADE, s: "DOGEUSDT" }, /unexpected symbol/],
    ["a lowercase symbol", { ...TRADE, s: "bnbbtc" }, /unexpected symbol/],
    ["an unknown event type", { ...TRADE, e: "aggTrade" }, /unknown event type/],
    ["a bookTicker with a zero bid", { ...BOOK_TICKER, b: "0" }, /bookTicker: bad b/],
    ["a bookTicker with a negative ask size", { ...BOOK_TICKER, A: "-2" }, /bad A/],
    ["a depth event with U > u", { ...DEPTH, U: 161 }, /bad U\/u/],
    ["a depth level with price 0", { ...DEPTH, a: [["0", "1"]] }, /depthUpdate: bad a/],
    ["a depth level with a negative size", { ...DEPTH, b: [["1", "-1"]] }, /bad b/],
    ["a depth level that is not a pair", { ...DEPTH, b: [["1"]] }, /bad b/],
    ["depth levels that are not an array", { ...DEPTH, a: {} }, /bad a/],
    ["a kline with high < low", { ...KLINE, k: { ...KLINE.k, h: "0.0001" } }, /bad h/],
    ["a kline with an unknown interval", { ...KLINE, k: { ...KLINE.k, i: "7m" } }, /bad i/],
    ["a kline whose k.s differs", { ...KLINE, k: { ...KLINE.k, s: "BTCUSDT" } }, /k.s/],
    ["a kline without k", { ...KLINE, k: null }, /k is not an object/],
    ["a payload without e or bookTicker fields", { s: "BNBBTC" }, /without event type/],
  ];
  for (const [name, payload, reason] of cases) {
    await t.step(`${name} is malformed`, () => {
      assert.match(reasonOf(map(combined("bnbbtc@x", payload))), reason);
    });
  }

  await t.step("invalid JSON, non-objects and broken envelopes are malformed", () => {
    assert.equal(reasonOf(map("{not json")), "invalid JSON");
    assert.equal(reasonOf(map("[1,2]")), "frame is not an object");
    assert.equal(reasonOf(map("null")), "frame is not an object");
    assert.match(reasonOf(map('{"stream":"a@trade","data":5}')), /data is not an object/);
    assert.match(reasonOf(map('{"stream":7,"data":{}}')), /stream is not a string/);
    assert.match(reasonOf(map('{"result":1,"id":{"x":1}}')), /bad id/);
  });
});

Deno.test("mapBinanceFrame properties", async (t) => {
  await t.step("never throws, whatever text arrives", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const frame = map(text);
        assert.ok(typeof frame.kind === "string");
      }),
      { numRuns: 2000 },
    );
  });

  await t.step("never throws on trade-shaped objects with arbitrary field values", () => {
    const anyValue = fc.oneof(
      fc.string(),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(
        fc.record({ p: anyValue, q: anyValue, t: anyValue, T: anyValue, E: anyValue, m: anyValue }),
        (fields) => {
          const frame = map(combined("bnbbtc@trade", { ...TRADE, ...fields }));
          if (frame.kind === "trade") {
            assert.ok(frame.event.price > 0 && Number.isFinite(frame.event.price));
            assert.ok(frame.event.quantity > 0 && Number.isFinite(frame.event.quantity));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  await t.step("a well-formed trade maps back to exactly its wire values", () => {
    const decimalString = fc
      .tuple(fc.integer({ min: 1, max: 9_999_999 }), fc.integer({ min: 0, max: 8 }))
      .map(([n, scale]) => (n / 10 ** scale).toFixed(scale));
    fc.assert(
      fc.property(
        decimalString,
        decimalString,
        fc.nat(),
        fc.integer({ min: 1, max: 4_102_444_800_000 }),
        fc.boolean(),
        (p, q, id, time, m) => {
          const payload = { ...TRADE, p, q, t: id, T: time, E: time, m };
          const frame = map(combined("bnbbtc@trade", payload));
          assert.equal(frame.kind, "trade");
          if (frame.kind !== "trade") return;
          assert.equal(frame.event.price, Number(p));
          assert.equal(frame.event.quantity, Number(q));
          assert.equal(frame.event.tradeId, id);
          assert.equal(Date.parse(frame.event.timestamp), time);
          assert.equal(frame.event.side, m ? "sell" : "buy");
        },
      ),
    );
  });
});

/** The mapper without its depth fast path: `JSON.parse` + `mapBinanceMessage`. */
function viaJsonParse(text: string): BinanceFrame {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: "malformed", reason: "invalid JSON" };
  }
  return mapBinanceMessage(msg, RECEIVED, SYMBOLS);
}

/**
 * Asserts that `mapBinanceFrame` gives exactly what the `JSON.parse` path gives
 * (event, `raw` down to its key order, or rejection reason); returns whether
 * the depth scanner took the frame.
 */
function assertSameAsJsonParse(text: string): boolean {
  const expected = viaJsonParse(text);
  const actual = map(text);
  assert.deepEqual(actual, expected, text);
  if (actual.kind === "depth" && expected.kind === "depth") {
    assert.equal(JSON.stringify(actual.event.raw), JSON.stringify(expected.event.raw), text);
  }
  const scanned = scanDepthUpdate(text, SYMBOLS) !== undefined;
  if (scanned) assert.equal(expected.kind, "depth", text);
  return scanned;
}

Deno.test("depth frames: the in-place scanner agrees with the JSON.parse path", async (t) => {
  const digits = (min: number, max: number) =>
    fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max });
  /** Decimal strings as Binance writes them (a quantity may be zero). */
  const wireDecimal = fc
    .tuple(digits(1, 12), fc.option(digits(1, 12)))
    .map(([int, frac]) => frac === null ? int : `${int}.${frac}`);
  const positiveDecimal = wireDecimal.filter((d) => Number(d) > 0);
  const edgeDecimal = fc.constantFrom(
    "0",
    "0.00000000",
    "00",
    "01.5",
    ".5",
    "5.",
    "1.2.3",
    "-1",
    "+1",
    "1e3",
    "1E3",
    " 1",
    "1 ",
    "Infinity",
    "NaN",
    "0x10",
    "",
    "9007199254740993",
    "123456789.123456789012",
    "0.00000000000000000000001",
    "1".repeat(40),
    "1".repeat(41),
    "\uff11",
    "1\u0000",
    'x"',
  );
  const anyDecimal = fc.oneof(
    { weight: 30, arbitrary: wireDecimal },
    { weight: 2, arbitrary: edgeDecimal },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(..."0123456789."), maxLength: 44 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const oddValue = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.string({ maxLength: 6 }),
    fc.constant({}),
  );
  const level = fc.oneof(
    { weight: 40, arbitrary: fc.tuple(anyDecimal, anyDecimal) },
    { weight: 1, arbitrary: fc.tuple(anyDecimal) },
    { weight: 1, arbitrary: fc.tuple(anyDecimal, anyDecimal, anyDecimal) },
    { weight: 1, arbitrary: fc.tuple(oddValue, oddValue) },
    { weight: 1, arbitrary: oddValue },
  );
  const levels = fc.oneof(
    { weight: 20, arbitrary: fc.array(level, { maxLength: 4 }) },
    { weight: 1, arbitrary: oddValue },
  );
  const id = fc.oneof(
    { weight: 20, arbitrary: fc.integer({ min: 0, max: 4_102_444_800_000 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        0,
        -1,
        1.5,
        -0,
        2 ** 53 - 1,
        2 ** 53,
        1e15 - 1,
        1e15,
        8.64e15,
        8.64e15 + 1,
        1e21,
        "157",
        null,
      ),
    },
    { weight: 1, arbitrary: oddValue },
  );
  const symbol = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom("BNBBTC", "BTCUSDT") },
    { weight: 1, arbitrary: fc.constantFrom("bnbbtc", "DOGEUSDT", "", 'BNB"BTC') },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
  const stream = fc.oneof(
    { weight: 10, arbitrary: fc.constant("bnbbtc@depth@100ms") },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constant('x","data":{"e":"depthUpdate","E":') },
  );
  type Entry = [string, unknown];
  /** A depth-shaped frame: fields in Binance's order or shuffled, some dropped, some added. */
  const depthFrame = fc
    .record({
      stream,
      e: fc.oneof(
        { weight: 20, arbitrary: fc.constant("depthUpdate") },
        { weight: 1, arbitrary: fc.constantFrom("depthupdate", "trade", "") },
      ),
      E: id,
      s: symbol,
      U: id,
      u: id,
      b: levels,
      a: levels,
      layout: fc.oneof(
        { weight: 12, arbitrary: fc.constant("binance") },
        { weight: 1, arbitrary: fc.constantFrom("shuffled", "dropped", "extra") },
      ),
      envelope: fc.oneof(
        { weight: 12, arbitrary: fc.constant("combined") },
        { weight: 1, arbitrary: fc.constantFrom("bare", "reordered", "extra") },
      ),
      seed: fc.nat(),
    })
    .map((f) => {
      let data: Entry[] = [
        ["e", f.e],
        ["E", f.E],
        ["s", f.s],
        ["U", f.U],
        ["u", f.u],
        ["b", f.b],
        ["a", f.a],
      ];
      if (f.layout === "shuffled") {
        data = data.map((e, i) => [e, (i * 7919 + f.seed) % 13] as const)
          .sort((x, y) => x[1] - y[1]).map(([e]) => e);
      }
      if (f.layout === "dropped") data.splice(f.seed % data.length, 1);
      if (f.layout === "extra") data.splice(f.seed % (data.length + 1), 0, ["x", 1]);
      const payload = Object.fromEntries(data);
      if (f.envelope === "bare") return JSON.stringify(payload);
      if (f.envelope === "reordered") return JSON.stringify({ data: payload, stream: f.stream });
      if (f.envelope === "extra") return JSON.stringify({ stream: f.stream, data: payload, x: 1 });
      return JSON.stringify({ stream: f.stream, data: payload });
    });
  /** A frame the scanner must take: Binance's layout and only valid values. */
  const validLevel = fc.tuple(positiveDecimal, wireDecimal);
  const validFrame = fc
    .record({
      E: fc.integer({ min: 1, max: 4_102_444_800_000 }),
      s: fc.constantFrom("BNBBTC", "BTCUSDT"),
      ids: fc.tuple(fc.integer({ min: 0, max: 1e14 }), fc.integer({ min: 0, max: 1e14 })),
      b: fc.array(validLevel, { maxLength: 20 }),
      a: fc.array(validLevel, { maxLength: 20 }),
    })
    .map(({ E, s, ids, b, a }) =>
      combined("bnbbtc@depth@100ms", {
        e: "depthUpdate",
        E,
        s,
        U: Math.min(...ids),
        u: Math.max(...ids),
        b,
        a,
      })
    );

  await t.step("every valid frame in Binance's layout is taken by the scanner, same result", () => {
    fc.assert(
      fc.property(validFrame, (text) => {
        assert.equal(assertSameAsJsonParse(text), true, text);
      }),
      { numRuns: 3000 },
    );
  });

  await t.step("generated depth-shaped frames map (or are rejected) identically", () => {
    let scanned = 0;
    fc.assert(
      fc.property(depthFrame, (text) => {
        if (assertSameAsJsonParse(text)) scanned++;
      }),
      { numRuns: 6000 },
    );
    assert.ok(scanned > 300, `only ${scanned} of 6000 frames reached the scanner`);
  });

  await t.step("mutated valid frames map (or are rejected) identically", () => {
    const mutation = fc.record({
      op: fc.constantFrom("insert", "delete", "replace", "truncate", "repeat"),
      at: fc.nat(),
      char: fc.constantFrom(
        ...'"{}[],:.-+0123456789eE \\\nu',
        "\u0000",
        "\u00e9",
        "\ud800",
        "١",
      ),
      len: fc.integer({ min: 1, max: 12 }),
    });
    fc.assert(
      fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 3 }), (text, ops) => {
        for (const { op, at, char, len } of ops) {
          const i = at % (text.length + 1);
          if (op === "insert") text = text.slice(0, i) + char + text.slice(i);
          else if (op === "delete") text = text.slice(0, i) + text.slice(i + len);
          else if (op === "replace") text = text.slice(0, i) + char + text.slice(i + 1);
          else if (op === "truncate") text = text.slice(0, i);
          else text = text.slice(0, i) + text.slice(i, i + len) + text.slice(i);
        }
        assertSameAsJsonParse(text);
      }),
      { numRuns: 6000 },
    );
  });

  await t.step("frames the scanner must leave to JSON.parse still map as before", () => {
    const frame = combined("bnbbtc@depth@100ms", DEPTH);
    const cases: [string, string, BinanceFrame["kind"]][] = [
      [
        "whitespace",
        JSON.stringify({ stream: "bnbbtc@depth@100ms", data: DEPTH }, null, 1),
        "depth",
      ],
      ["an escaped symbol", frame.replace('"s":"BNBBTC"', '"s":"BNB\\u0042TC"'), "depth"],
      ["an escaped stream name", frame.replace("bnbbtc@", "bnbbtc\\u0040"), "depth"],
      [
        "E written with a fraction",
        frame.replace('"E":1672515782136', '"E":1672515782136.0'),
        "depth",
      ],
      [
        "E written with an exponent",
        frame.replace('"E":1672515782136', '"E":1.672515782136e12'),
        "depth",
      ],
      [
        "a level with a third element",
        frame.replace('["0.0024","10"]', '["0.0024","10",7]'),
        "depth",
      ],
      ["a repeated key (the last one wins)", frame.replace('"U":157', '"U":1,"U":157'), "depth"],
      ["U written with a leading zero", frame.replace('"U":157', '"U":0157'), "malformed"],
      ["text after the frame", frame + "x", "malformed"],
      ["a missing closing brace", frame.slice(0, -1), "malformed"],
      [
        "a raw control character in the stream",
        frame.replace("@depth", "@\u0001depth"),
        "malformed",
      ],
      ["a negative E", frame.replace('"E":1672515782136', '"E":-1672515782136'), "malformed"],
      ["a 16-digit U above u", frame.replace('"U":157', '"U":1000000000000000'), "malformed"],
      ["a quantity with a sign", frame.replace('"10"', '"+10"'), "malformed"],
      ["a number where a price belongs", frame.replace('"0.0024"', "0.0024"), "malformed"],
    ];
    for (const [name, text, kind] of cases) {
      assert.equal(scanDepthUpdate(text, SYMBOLS), undefined, name);
      assert.equal(map(text).kind, kind, name);
      assertSameAsJsonParse(text);
    }
    assert.equal(assertSameAsJsonParse(frame), true, "the documented frame takes the fast path");

    // The symbol is compared after unescaping, never as written on the wire.
    const escaped = frame.replace('"s":"BNBBTC"', '"s":"BNB\\u0042TC"');
    const literal = new Set(["BNB\\u0042TC"]);
    assert.equal(scanDepthUpdate(escaped, literal), undefined);
    assert.match(
      reasonOf(mapBinanceFrame(escaped, RECEIVED, literal)),
      /depthUpdate: unexpected symbol "BNBBTC"/,
    );
  });
});

Deno.test("decimal() converts exactly like Number() for every plain decimal string", () => {
  const digits = (min: number, max: number) =>
    fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max });
  fc.assert(
    fc.property(digits(1, 20), fc.option(digits(1, 24)), (int, frac) => {
      const text = frac === null ? int : `${int}.${frac}`;
      assert.equal(Object.is(decimal(text), Number(text)), true, text);
    }),
    { numRuns: 20000 },
  );
  for (
    const text of [
      "0.00000001",
      "9007199254740993",
      "123456789012345678.5",
      "0.1",
      "86998.99000000",
    ]
  ) {
    assert.equal(decimal(text), Number(text), text);
  }
});

Deno.test("isoTime formats exactly like Date#toISOString", () => {
  for (
    const ms of [
      0,
      1,
      951_782_400_000,
      4_107_542_399_999,
      253_402_300_799_999,
      253_402_300_800_000,
      -1,
    ]
  ) {
    assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  }
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 8.64e15 }), (ms) => {
      assert.equal(isoTime(ms), new Date(ms).toISOString());
    }),
    { numRuns: 5000 },
  );
  // Runs of nearby times (the per-second cache), forwards, backwards and across seconds.
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4.1e12 }),
      fc.array(fc.integer({ min: -2500, max: 2500 }), { minLength: 1, maxLength: 40 }),
      (base, offsets) => {
        for (const d of offsets) {
          const ms = Math.max(0, base + d);
          assert.equal(isoTime(ms), new Date(ms).toISOString());
        }
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(isoTime(1.5), new Date(1.5).toISOString(), "fractional ms truncate like Date");
});

Deno.test("REST payload mappers", async (t) => {
  await t.step("a historical trade keeps the REST object as raw and its time as event time", () => {
    const item = {
      id: 28457,
      price: "4.00000100",
      qty: "12.00000000",
      quoteQty: "48.000012",
      time: 1499865549590,
      isBuyerMaker: true,
      isBestMatch: true,
    };
    assert.deepEqual(mapRestTrade(item, "BNBBTC", RECEIVED), {
      ok: true,
      value: {
        type: "trade",
        exchange: "binance",
        symbol: "BNBBTC",
        eventTime: 1499865549590,
        receiveTime: RECEIVED,
        price: 4.000001,
        quantity: 12,
        timestamp: "2017-07-12T13:19:09.590Z",
        tradeId: 28457,
        side: "sell",
        raw: item,
      },
    });
    assert.deepEqual(mapRestTrade({ ...item, price: "0" }, "BNBBTC", RECEIVED), {
      ok: false,
      reason: "historicalTrades: bad price",
    });
  });

  await t.step("a depth snapshot is validated level by level", () => {
    const body = {
      lastUpdateId: 1027024,
      bids: [["4.00000000", "431.00000000"]],
      asks: [["4.00000200", "12.00000000"]],
    };
    assert.deepEqual(mapDepthSnapshot(body), {
      ok: true,
      value: { lastUpdateId: 1027024, bids: [[4, 431]], asks: [[4.000002, 12]] },
    });
    assert.equal(mapDepthSnapshot({ ...body, lastUpdateId: -1 }).ok, false);
    assert.equal(mapDepthSnapshot({ ...body, bids: [["x", "1"]] }).ok, false);
  });

  await t.step(
    "exchangeInfo yields the trading instruments with precisions and filters, and splits the wanted symbols",
    () => {
      const body = {
        symbols: [
          {
            symbol: "BTCUSDT",
            status: "TRADING",
            baseAsset: "BTC",
            quoteAsset: "USDT",
            // BTCUSDT's filters as Binance lists them (strings, 8 decimals).
            filters: [
              {
                filterType: "PRICE_FILTER",
                minPrice: "0.01000000",
                maxPrice: "1000000.00000000",
                tickSize: "0.01000000",
              },
              {
                filterType: "LOT_SIZE",
                minQty: "0.00001000",
                maxQty: "9000.00000000",
                stepSize: "0.00001000",
              },
              { filterType: "ICEBERG_PARTS", limit: 10 },
              {
                filterType: "NOTIONAL",
                minNotional: "5.00000000",
                applyMinToMarket: true,
                maxNotional: "9000000.00000000",
                applyMaxToMarket: false,
                avgPriceMins: 5,
              },
            ],
          },
          { symbol: "OLDCOIN", status: "BREAK", baseAsset: "OLD", quoteAsset: "COIN" },
        ],
      };
      assert.deepEqual(mapExchangeInfo(body, ["BTCUSDT", "OLDCOIN", "NOPE"]), {
        ok: true,
        value: {
          instruments: [{
            symbol: "BTCUSDT",
            base: "BTC",
            quote: "USDT",
            unified: "BTC/USDT",
            pricePrecision: 2,
            quantityPrecision: 5,
            tickSize: 0.01,
            stepSize: 0.00001,
            minQuantity: 0.00001,
            maxQuantity: 9000,
            minNotional: 5,
          }],
          streamed: ["BTCUSDT"],
          unknown: ["OLDCOIN", "NOPE"],
        },
      });
    },
  );

  await t.step(
    "exchangeInfo: a symbol with only the legacy MIN_NOTIONAL filter takes its minNotional",
    () => {
      const body = {
        symbols: [{
          symbol: "BNBBTC",
          status: "TRADING",
          baseAsset: "BNB",
          quoteAsset: "BTC",
          filters: [
            { filterType: "MIN_NOTIONAL", minNotional: "0.00010000", applyToMarket: true },
          ],
        }],
      };
      const result = mapExchangeInfo(body, ["BNBBTC"]);
      assert.ok(result.ok);
      assert.equal(result.value.instruments[0].minNotional, 0.0001);
      assert.equal(result.value.instruments[0].tickSize, undefined);
    },
  );

  await t.step(
    "exchangeInfo: non-numeric, negative and zero filter values are left out, the symbol is kept",
    () => {
      const body = {
        symbols: [{
          symbol: "ETHUSDT",
          status: "TRADING",
          baseAsset: "ETH",
          quoteAsset: "USDT",
          filters: [
            { filterType: "PRICE_FILTER", tickSize: "abc" },
            // Binance disables a LOT_SIZE field set to 0.
            { filterType: "LOT_SIZE", minQty: "-0.0001", maxQty: "0.00000000", stepSize: 1e-4 },
            { filterType: "NOTIONAL", minNotional: null },
            { filterType: "MIN_NOTIONAL", minNotional: "1e1" },
            "not a filter",
          ],
        }],
      };
      assert.deepEqual(mapExchangeInfo(body, ["ETHUSDT"]), {
        ok: true,
        value: {
          instruments: [{
            symbol: "ETHUSDT",
            base: "ETH",
            quote: "USDT",
            unified: "ETH/USDT",
            pricePrecision: undefined,
            quantityPrecision: undefined,
            // A JSON number is not Binance's format for the precision, but is a usable step.
            stepSize: 0.0001,
          }],
          streamed: ["ETHUSDT"],
          unknown: [],
        },
      });
    },
  );

  await t.step("decimal() accepts only plain decimal strings", () => {
    assert.equal(decimal("0.00120000"), 0.0012);
    assert.equal(decimal("42"), 42);
    for (const bad of ["", ".5", "5.", "1.2.3", "-1", "+1", "1e3", "0x10", " 1", "Infinity", 5]) {
      assert.ok(Number.isNaN(decimal(bad)), String(bad));
    }
    assert.equal(stepDecimals("1.00000000"), 0);
    assert.equal(stepDecimals("0.10000000"), 1);
    assert.equal(stepDecimals("10"), 0);
    assert.equal(stepDecimals("0"), undefined);
  });
});

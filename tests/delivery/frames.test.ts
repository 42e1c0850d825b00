/**
 * The exact text of every frame the gateway sends (protocol/frames.ts): field
 * order and omitted fields are part of the protocol clients parse.
 */
import assert from "node:assert/strict";
import {
  batchFrame,
  bookFrame,
  bookStatusFrame,
  consolidatedFrame,
  errorFrame,
  feedStatusFrame,
  gapFrame,
  pongFrame,
  recoveredFrame,
  recoveryGapFrame,
  streamEventFrame,
  subscribedFrame,
  subscriptionsFrame,
  unsubscribedFrame,
} from "../../core/protocol/frames.ts";

const T = 1796638110494;
const ISO = new Date(T).toISOString();

Deno.test("frames: replies to client requests", () => {
  assert.equal(
    subscribedFrame({
      id: 1,
      symbols: ["BTC/USDT"],
      channels: ["trade", "book", "consolidated"],
      exchanges: ["binance", "kraken"],
      raw: false,
      depth: 10,
      subscriptions: 5,
    }),
    '{"type":"subscribed","id":1,"symbols":["BTC/USDT"],"channels":["trade","book","consolidated"],' +
      '"exchanges":["binance","kraken"],"raw":false,"depth":10,"subscriptions":5}',
  );
  assert.equal(
    subscribedFrame({
      id: undefined,
      symbols: ["BTCUSDT"],
      channels: ["trade"],
      exchanges: ["binance"],
      raw: true,
      subscriptions: 1,
    }),
    '{"type":"subscribed","symbols":["BTCUSDT"],"channels":["trade"],"exchanges":["binance"],' +
      '"raw":true,"subscriptions":1}',
  );
  // The live gateway names its epoch (the lineage of `pos`), last.
  assert.equal(
    subscribedFrame({
      id: 2,
      symbols: ["BTCUSDT"],
      channels: ["trade"],
      exchanges: ["binance"],
      raw: false,
      subscriptions: 1,
      epoch: "k3x9q2",
    }),
    '{"type":"subscribed","id":2,"symbols":["BTCUSDT"],"channels":["trade"],' +
      '"exchanges":["binance"],"raw":false,"subscriptions":1,"epoch":"k3x9q2"}',
  );
  assert.equal(
    unsubscribedFrame({
      id: "u",
      symbols: ["BTCUSDT"],
      channels: ["trade"],
      exchanges: ["binance"],
      removed: 1,
      subscriptions: 0,
    }),
    '{"type":"unsubscribed","id":"u","symbols":["BTCUSDT"],"channels":["trade"],' +
      '"exchanges":["binance"],"removed":1,"subscriptions":0}',
  );
  assert.equal(
    subscriptionsFrame(7, [
      { exchange: "binance", symbol: "BTCUSDT", channel: "book", raw: false, depth: 10 },
      { exchange: "*", symbol: "BTC/USDT", channel: "consolidated", raw: false },
    ]),
    '{"type":"subscriptions","id":7,"subscriptions":[' +
      '{"exchange":"binance","symbol":"BTCUSDT","channel":"book","raw":false,"depth":10},' +
      '{"exchange":"*","symbol":"BTC/USDT","channel":"consolidated","raw":false}]}',
  );
  assert.equal(pongFrame(3, T), `{"type":"pong","id":3,"time":${T}}`);
  assert.equal(
    errorFrame("unknown_symbol", "not streamed", "x"),
    '{"type":"error","code":"unknown_symbol","message":"not streamed","id":"x"}',
  );
  assert.equal(
    errorFrame("slow_consumer", "too slow"),
    '{"type":"error","code":"slow_consumer","message":"too slow"}',
  );
});

Deno.test("frames: feed and book status", () => {
  assert.equal(
    feedStatusFrame({
      exchange: "binance",
      state: "connected",
      emulator: true,
      reason: "subscribed",
      reconnects: 2,
      since: T,
    }),
    '{"type":"status","exchange":"binance","state":"connected","emulator":true,' +
      `"reason":"subscribed","reconnects":2,"timestamp":"${ISO}"}`,
  );
  assert.equal(
    feedStatusFrame({
      exchange: "binance",
      state: "connected",
      emulator: false,
      reconnects: 0,
      since: T,
    }, "k3x9q2"),
    '{"type":"status","exchange":"binance","state":"connected","emulator":false,' +
      `"reconnects":0,"timestamp":"${ISO}","epoch":"k3x9q2"}`,
  );
  assert.equal(
    bookStatusFrame("kraken", "BTC/USDT", "resyncing", T, "checksum mismatch"),
    '{"type":"status","exchange":"kraken","symbol":"BTC/USDT","channel":"book",' +
      `"state":"resyncing","reason":"checksum mismatch","timestamp":"${ISO}"}`,
  );
  assert.equal(
    bookStatusFrame("kraken", "BTC/USDT", "synced", T),
    '{"type":"status","exchange":"kraken","symbol":"BTC/USDT","channel":"book",' +
      `"state":"synced","timestamp":"${ISO}"}`,
  );
});

Deno.test("frames: market data, with and without raw", () => {
  const trade = {
    type: "trade" as const,
    exchange: "binance",
    symbol: "BTCUSDT",
    price: 64000.5,
    quantity: 0.01,
    timestamp: ISO,
    tradeId: 42,
    side: "buy" as const,
    eventTime: T,
    receiveTime: T + 1,
    raw: { t: 42 },
  };
  const tradeText = '{"type":"trade","symbol":"BTCUSDT","price":64000.5,"quantity":0.01,' +
    `"timestamp":"${ISO}","exchange":"binance","unified":"BTC/USDT","tradeId":42,"side":"buy",` +
    `"eventTime":${T},"receiveTime":${T + 1}`;
  assert.equal(streamEventFrame(trade, false, "BTC/USDT"), tradeText + "}");
  assert.equal(streamEventFrame(trade, true, "BTC/USDT"), tradeText + ',"raw":{"t":42}}');
  // Positions come after receiveTime, before raw.
  const at = { pos: 48213, prev: 48207 };
  assert.equal(
    streamEventFrame(trade, false, "BTC/USDT", at),
    tradeText + ',"pos":48213,"prev":48207}',
  );
  assert.equal(
    streamEventFrame(trade, true, "BTC/USDT", at),
    tradeText + ',"pos":48213,"prev":48207,"raw":{"t":42}}',
  );
  assert.equal(
    streamEventFrame(
      {
        type: "quote",
        exchange: "coinbase",
        symbol: "BTC-USDT",
        bidPrice: 1,
        bidQuantity: 2,
        askPrice: 3,
        askQuantity: 4,
        timestamp: ISO,
        updateId: 9,
        eventTime: T,
        receiveTime: T,
      },
      true,
      undefined,
      { pos: 7, prev: 0 },
    ),
    '{"type":"quote","symbol":"BTC-USDT","bidPrice":1,"bidQuantity":2,"askPrice":3,' +
      `"askQuantity":4,"timestamp":"${ISO}","exchange":"coinbase","updateId":9,` +
      `"eventTime":${T},"receiveTime":${T},"pos":7,"prev":0}`,
  );
  assert.equal(
    streamEventFrame(
      {
        type: "kline",
        exchange: "binance",
        symbol: "BTCUSDT",
        interval: "1m",
        openTime: T,
        closeTime: T + 59_999,
        open: 1,
        high: 2,
        low: 0.5,
        close: 1.5,
        volume: 10,
        quoteVolume: 15,
        trades: 3,
        closed: false,
        timestamp: ISO,
        eventTime: T,
        receiveTime: T,
      },
      false,
      "BTC/USDT",
      { pos: 9, prev: 3 },
    ),
    `{"type":"kline","symbol":"BTCUSDT","interval":"1m","openTime":${T},"closeTime":${
      T + 59_999
    },` +
      '"open":1,"high":2,"low":0.5,"close":1.5,"volume":10,"quoteVolume":15,"trades":3,' +
      `"closed":false,"timestamp":"${ISO}","exchange":"binance","unified":"BTC/USDT",` +
      `"eventTime":${T},"receiveTime":${T},"pos":9,"prev":3}`,
  );
  const book = {
    exchange: "binance",
    symbol: "BTCUSDT",
    unified: "BTC/USDT",
    snapshot: false,
    depth: 10,
    seq: 42,
    bids: [[64000, 0.5] as [number, number]],
    asks: [[64000.1, 0] as [number, number]],
    updateId: 981,
    timestamp: ISO,
    eventTime: T,
    receiveTime: T,
  };
  const bookText = '{"type":"book","exchange":"binance","symbol":"BTCUSDT","unified":"BTC/USDT",' +
    '"snapshot":false,"depth":10,"seq":42,"bids":[[64000,0.5]],"asks":[[64000.1,0]],' +
    `"updateId":981,"timestamp":"${ISO}","eventTime":${T},"receiveTime":${T}`;
  assert.equal(bookFrame(book), bookText + "}");
  assert.equal(bookFrame({ ...book, raw: { u: 981 } }), bookText + ',"raw":{"u":981}}');
  assert.equal(
    gapFrame({
      type: "gap",
      exchange: "binance",
      symbol: "BTCUSDT",
      channel: "trade",
      fromId: 101,
      toId: 140,
      reason: "reconnect",
      receiveTime: T,
    }),
    '{"type":"gap","exchange":"binance","symbol":"BTCUSDT","channel":"trade","fromId":101,' +
      `"toId":140,"reason":"reconnect","receiveTime":${T}}`,
  );
  assert.equal(
    gapFrame({
      type: "gap",
      exchange: "binance",
      symbol: "BTCUSDT",
      channel: "trade",
      fromId: 101,
      toId: 140,
      reason: "reconnect",
      receiveTime: T,
    }, { pos: 48216, prev: 48213 }),
    '{"type":"gap","exchange":"binance","symbol":"BTCUSDT","channel":"trade","fromId":101,' +
      `"toId":140,"reason":"reconnect","receiveTime":${T},"pos":48216,"prev":48213}`,
  );
  assert.equal(
    consolidatedFrame({
      type: "consolidated",
      symbol: "BTC/USDT",
      bidPrice: 2,
      bidQuantity: 1,
      bidExchange: "kraken",
      askPrice: 3,
      askQuantity: 1,
      askExchange: "binance",
      crossed: false,
      venues: [{
        exchange: "kraken",
        symbol: "BTC/USDT",
        bidPrice: 2,
        bidQuantity: 1,
        source: "quote",
      }],
      timestamp: ISO,
    }),
    '{"type":"consolidated","symbol":"BTC/USDT","bidPrice":2,"bidQuantity":1,"bidExchange":"kraken",' +
      '"askPrice":3,"askQuantity":1,"askExchange":"binance","crossed":false,' +
      '"venues":[{"exchange":"kraken","symbol":"BTC/USDT","bidPrice":2,"bidQuantity":1,"source":"quote"}],' +
      `"timestamp":"${ISO}"}`,
  );
});

Deno.test("frames: a batch is a JSON array of the frames, in order", () => {
  const a = pongFrame(1, T);
  const b = errorFrame("bad_json", "x");
  assert.equal(batchFrame([a]), `[${a}]`);
  assert.equal(batchFrame([a, b]), `[${a},${b}]`);
  assert.deepEqual(JSON.parse(batchFrame([a, b])), [JSON.parse(a), JSON.parse(b)]);
});

Deno.test("frames: recovery of a since subscribe", () => {
  assert.equal(
    recoveryGapFrame({
      exchange: "binance",
      symbol: "BTCUSDT",
      channel: "trade",
      reason: "recovery_window",
      fromPos: 48214,
      toPos: 50110,
      toId: 13880,
    }),
    '{"type":"gap","exchange":"binance","symbol":"BTCUSDT","channel":"trade",' +
      '"reason":"recovery_window","fromPos":48214,"toPos":50110,"toId":13880}',
  );
  assert.equal(
    recoveryGapFrame({
      exchange: "binance",
      symbol: "BTCUSDT",
      channel: "quote",
      reason: "recovery_window",
      fromPos: 48214,
      toPos: 50100,
    }),
    '{"type":"gap","exchange":"binance","symbol":"BTCUSDT","channel":"quote",' +
      '"reason":"recovery_window","fromPos":48214,"toPos":50100}',
  );
  assert.equal(
    recoveryGapFrame({
      exchange: "binance",
      symbol: "BTCUSDT",
      channel: "kline",
      reason: "epoch_changed",
    }),
    '{"type":"gap","exchange":"binance","symbol":"BTCUSDT","channel":"kline",' +
      '"reason":"epoch_changed"}',
  );
  assert.equal(
    recoveredFrame({
      id: 1,
      since: 48213,
      epoch: "k3x9q2",
      pos: 50207,
      streams: [
        { exchange: "binance", channel: "trade", symbol: "BTCUSDT", frames: 212, complete: true },
      ],
    }),
    '{"type":"recovered","id":1,"since":48213,"epoch":"k3x9q2","pos":50207,' +
      '"streams":[{"exchange":"binance","channel":"trade","symbol":"BTCUSDT","frames":212,' +
      '"complete":true}]}',
  );
});

/**
 * Hostile exchange frames, the same checks for every plugin: a malformed,
 * oversized or out-of-range frame is reported as malformed (the connection then
 * counts and logs it) and never becomes an event. The mappers never throw.
 */
import assert from "node:assert/strict";
import { mapBinanceFrame, MAX_FRAME_CHARS as BINANCE_MAX } from "../../plugins/binance/mapper.ts";
import {
  mapCoinbaseFrame,
  MAX_FRAME_CHARS as COINBASE_MAX,
} from "../../plugins/coinbase/mapper.ts";
import { mapKrakenFrame, MAX_FRAME_CHARS as KRAKEN_MAX } from "../../plugins/kraken/mapper.ts";

type Trade = { price: string | number; qty: string | number; symbol: string };

interface Venue {
  name: string;
  max: number;
  /** A trade frame in the exchange's own format. */
  frame(t: Trade): string;
  /** Maps a frame; returns "malformed" or the number of trade events. */
  map(text: string): "malformed" | number;
  valid: Trade;
}

const venues: Venue[] = [
  {
    name: "binance",
    max: BINANCE_MAX,
    valid: { price: "51042.94", qty: "0.001", symbol: "BTCUSDT" },
    frame: (t) =>
      `{"stream":"${t.symbol.toLowerCase()}@trade","data":{"e":"trade","E":1700000000000,"s":"${t.symbol}","t":1,"p":${
        JSON.stringify(t.price)
      },"q":${JSON.stringify(t.qty)},"T":1700000000000,"m":true,"M":true}}`,
    map: (text) => {
      const r = mapBinanceFrame(text, 1700000000001, new Set(["BTCUSDT"]));
      return r.kind === "malformed" ? "malformed" : r.kind === "trade" ? 1 : 0;
    },
  },
  {
    name: "coinbase",
    max: COINBASE_MAX,
    valid: { price: "1260.01", qty: "0.3", symbol: "ETH-USD" },
    frame: (t) =>
      `{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":1,"events":[{"type":"update","trades":[{"trade_id":"7","product_id":"${t.symbol}","price":${
        JSON.stringify(t.price)
      },"size":${JSON.stringify(t.qty)},"side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}`,
    map: (text) => {
      const r = mapCoinbaseFrame(text, 1700000000001, new Set(["ETH-USD"]));
      return r.kind === "malformed" ? "malformed" : r.kind === "trades" ? r.trades.length : 0;
    },
  },
  {
    name: "kraken",
    max: KRAKEN_MAX,
    valid: { price: 0.5117, qty: 40, symbol: "MATIC/USD" },
    frame: (t) =>
      `{"channel":"trade","type":"update","data":[{"symbol":"${t.symbol}","side":"sell","price":${
        typeof t.price === "string" ? JSON.stringify(t.price) : t.price
      },"qty":${
        typeof t.qty === "string" ? JSON.stringify(t.qty) : t.qty
      },"ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"}]}`,
    map: (text) => {
      const r = mapKrakenFrame(text, 1700000000001, new Set(["MATIC/USD"]));
      return r.kind === "malformed" ? "malformed" : r.kind === "trades" ? r.events.length : 0;
    },
  },
];

for (const venue of venues) {
  Deno.test(`${venue.name}: hostile frames are malformed, never events`, async (t) => {
    const numeric = typeof venue.valid.price === "number";
    await t.step("the valid frame maps to one trade (the fixture is right)", () => {
      assert.equal(venue.map(venue.frame(venue.valid)), 1);
    });
    const cases: [string, string][] = [
      ["NaN price", venue.frame({ ...venue.valid, price: numeric ? "NaN" : "NaN" })],
      ["negative quantity", venue.frame({ ...venue.valid, qty: numeric ? -1 : "-1" })],
      ["price 0", venue.frame({ ...venue.valid, price: numeric ? 0 : "0" })],
      ["infinite price", venue.frame({ ...venue.valid, price: numeric ? "1e999" : "1e999" })],
      ["wrong symbol", venue.frame({ ...venue.valid, symbol: "DOGE-EUR" })],
      ["not JSON", venue.frame(venue.valid).slice(0, -3)],
      ["oversized", venue.frame(venue.valid).replace("{", `{"pad":"${"x".repeat(venue.max)}",`)],
    ];
    for (const [what, text] of cases) {
      await t.step(what, () => assert.equal(venue.map(text), "malformed"));
    }
  });
}

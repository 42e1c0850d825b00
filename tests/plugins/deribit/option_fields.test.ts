/**
 * The option fields pass the core unchanged: the client frame of a quote carries them, and
 * the recording's column codec returns quotes with and without them exactly as written
 * (so recordings made before the fields existed still read the same).
 */
import assert from "node:assert/strict";
import type { QuoteEvent } from "../../../mod.ts";
import { streamEventFrame } from "../../../core/protocol/frames.ts";
import { readColumn, writeColumn } from "../../../core/history/columns.ts";
import { createByteReader, createByteWriter } from "../../../core/history/bytes.ts";

const T = 1_796_600_000_000;
const spot: QuoteEvent = {
  type: "quote",
  exchange: "kraken",
  symbol: "BTC/USD",
  bidPrice: 100_000,
  bidQuantity: 1.5,
  askPrice: 100_000.1,
  askQuantity: 0.2,
  timestamp: new Date(T).toISOString(),
  eventTime: T,
  receiveTime: T + 1,
};
const option: QuoteEvent = {
  ...spot,
  exchange: "deribit",
  symbol: "BTC-27DEC26-100000-C",
  bidPrice: 0.041,
  askPrice: 0.043,
  option: {
    markPrice: 0.0421,
    markIv: 52.3,
    bidIv: 51.2,
    askIv: 53.9,
    underlyingPrice: 101_250.5,
    underlyingIndex: "BTC-27DEC26",
    indexPrice: 100_980.12,
    interestRate: 0,
    greeks: { delta: 0.52, gamma: 0.00002, vega: 120.5, theta: -85.1, rho: 30.2 },
    openInterest: 1250.4,
  },
};

Deno.test("a quote's client frame carries the option fields as the plugin emitted them", () => {
  const frame = JSON.parse(streamEventFrame(option, false, option.symbol, { pos: 5, prev: 2 }));
  assert.deepEqual(frame.option, option.option);
  assert.equal(frame.unified, "BTC-27DEC26-100000-C");
  const plain = JSON.parse(streamEventFrame(spot, false, "BTC/USD"));
  assert.equal("option" in plain, false, "a spot quote's frame is unchanged");
});

Deno.test("the recording codec returns quotes with and without option fields exactly", () => {
  const values = [spot, option, { ...option, option: { markIv: 48.1 } }, spot, option];
  const w = createByteWriter();
  writeColumn(w, values);
  const back = readColumn(createByteReader(w.finish()), values.length);
  assert.deepEqual(back, values);
  const old = [spot, spot];
  const w2 = createByteWriter();
  writeColumn(w2, old);
  assert.deepEqual(readColumn(createByteReader(w2.finish()), 2), old);
});

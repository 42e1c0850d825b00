import assert from "node:assert/strict";
import { createCatalog } from "../../core/market/catalog.ts";

const instrument = (symbol: string, base: string, quote: string) => ({
  symbol,
  base,
  quote,
  unified: `${base}/${quote}`,
});

Deno.test("catalog: before the instruments arrive, a name matches a configured one written any way", () => {
  const catalog = createCatalog({ a: ["BTC/USDT"], b: ["BTCUSDT"] });
  for (const name of ["BTC/USDT", "btcusdt", "BTC-USDT"]) {
    assert.equal(catalog.resolve("a", name), "BTC/USDT", name);
    assert.equal(catalog.resolve("b", name), "BTCUSDT", name);
  }
  assert.equal(catalog.resolve("a", "ETH/USDT"), undefined);
  assert.equal(catalog.unified("a", "BTC/USDT"), "BTC/USDT");
  assert.equal(catalog.unified("b", "BTCUSDT"), undefined, "a joined name has no known split");
  // /api/symbols lists only names known to be native until the feed reports its own.
  assert.deepEqual(catalog.listings().map((l) => l.streamed), [[], ["BTCUSDT"]]);
});

Deno.test("catalog: once the instruments arrive, names resolve to the exchange's native symbol", () => {
  const catalog = createCatalog({ a: ["BTC/USDT"] });
  catalog.setInstruments("a", [
    instrument("BTC-USDT", "BTC", "USDT"),
    instrument("ETH-USDT", "ETH", "USDT"),
  ], ["BTC-USDT"]);
  for (const name of ["BTC/USDT", "BTCUSDT", "btc-usdt"]) {
    assert.equal(catalog.resolve("a", name), "BTC-USDT", name);
  }
  assert.equal(catalog.resolve("a", "ETH/USDT"), undefined, "listed but not streamed");
  assert.equal(catalog.unified("a", "BTC-USDT"), "BTC/USDT");
  assert.equal(catalog.unified("a", "BTC/USDT"), undefined, "no longer a provisional name");
  // Each listed instrument by its native symbol, streamed or not; unified names are not keys.
  assert.deepEqual(catalog.instrument("a", "ETH-USDT"), instrument("ETH-USDT", "ETH", "USDT"));
  assert.equal(catalog.instrument("a", "BTC/USDT"), undefined);
  assert.equal(catalog.instrument("b", "BTC-USDT"), undefined);
});

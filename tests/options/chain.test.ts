/**
 * An option's chain line: the venue's mark price turned back into an implied volatility with
 * our engine (Black-76 on the venue's forward; an inverse option's coin premium × forward is
 * its USD price), greeks at that IV in the venue's units, and the difference to the venue's IV.
 */
import assert from "node:assert/strict";
import { optionRow, smilesOf } from "../../core/options/chain.ts";
import { black76, YEAR_MS } from "../../core/options/mod.ts";
import type { OptionContract, QuoteEvent } from "../../core/events.ts";

const NOW = Date.UTC(2026, 11, 7, 12);
const EXPIRY = Date.UTC(2026, 11, 27, 8);
const T = (EXPIRY - NOW) / YEAR_MS;
const F = 100_000;

const terms = (strike: number, type: "call" | "put"): OptionContract => ({
  underlying: "BTC",
  expiry: EXPIRY,
  strike,
  type,
  contractSize: 1,
  settlement: "BTC",
  inverse: true,
});

/** A Deribit-like quote whose mark price is Black-76 at `iv` / F (the coin premium). */
function quoteAt(strike: number, type: "call" | "put", iv: number, spread = 0.0005): QuoteEvent {
  const mark = black76({ forward: F, strike, timeYears: T, vol: iv, rate: 0, type }).price / F;
  return {
    type: "quote",
    exchange: "deribit",
    symbol: `BTC-27DEC26-${strike}-${type === "call" ? "C" : "P"}`,
    bidPrice: mark - spread,
    bidQuantity: 1,
    askPrice: mark + spread,
    askQuantity: 1,
    timestamp: new Date(NOW).toISOString(),
    eventTime: NOW,
    receiveTime: NOW,
    option: { markPrice: mark, markIv: iv * 100, underlyingPrice: F, interestRate: 0 },
  };
}

Deno.test("chain line: our IV of the venue's mark price is the IV the mark was made with", () => {
  const quote = quoteAt(110_000, "call", 0.55);
  const row = optionRow({
    exchange: "deribit",
    instrument: quote.symbol,
    terms: terms(110_000, "call"),
    quote,
  }, NOW);
  assert.ok(Math.abs(row.ours.markIv! - 0.55) < 1e-12, `${row.ours.markIv}`);
  assert.ok(Math.abs(row.ivDiff!) < 1e-9, "vol points");
  assert.equal(row.venue.markIv, 0.55);
  // The bid is below the mark, the ask above: their IVs bracket it.
  assert.ok(row.ours.bidIv! < 0.55 && row.ours.askIv! > 0.55);
  // Greeks at our IV, in the venue's units: vega per vol point, theta per day.
  const q = black76({
    forward: F,
    strike: 110_000,
    timeYears: T,
    vol: row.ours.markIv!,
    rate: 0,
    type: "call",
  });
  assert.ok(Math.abs(row.ours.greeks!.vega - q.vega / 100) < 1e-9);
  assert.ok(Math.abs(row.ours.greeks!.theta - q.thetaPerDay) < 1e-9);
  assert.ok(Math.abs(row.ours.premium! - quote.option!.markPrice!) < 1e-15, "premium in BTC");
});

Deno.test("chain line: without a forward or a quote, our figures are null, never NaN", () => {
  const bare = optionRow({
    exchange: "deribit",
    instrument: "BTC-27DEC26-90000-P",
    terms: terms(90_000, "put"),
  }, NOW);
  assert.equal(bare.ours.markIv, null);
  assert.equal(bare.ivDiff, null);
  assert.equal(bare.bid, null);
  // A mark below intrinsic has no IV: a 120,000 put on a 100,000 forward is worth at least
  // 20,000 USD (0.2 BTC; the rate is 0 here), so 0.1 BTC is below it.
  const quote = quoteAt(120_000, "put", 0.5);
  quote.option!.markPrice = 0.1;
  const below = optionRow({
    exchange: "deribit",
    instrument: quote.symbol,
    terms: terms(120_000, "put"),
    quote,
  }, NOW);
  assert.equal(below.ours.markIv, null);
  assert.equal(below.ours.greeks, null);
});

Deno.test("smiles: out-of-the-money quotes of each expiry, puts below the forward and calls above", () => {
  const rows = [80_000, 90_000, 100_000, 110_000, 120_000].flatMap((k) =>
    (["call", "put"] as const).map((type) => {
      const quote = quoteAt(k, type, 0.5 + Math.abs(Math.log(k / F)));
      return optionRow({
        exchange: "deribit",
        instrument: quote.symbol,
        terms: terms(k, type),
        quote,
      }, NOW);
    })
  );
  const [smile] = smilesOf(rows);
  assert.equal(smile.forward, F);
  assert.deepEqual(smile.points.map((p) => p.strike), [80_000, 90_000, 100_000, 110_000, 120_000]);
  // Each point's IV is the mid of our bid and ask IVs: close to the smile it was made from.
  for (const p of smile.points) {
    assert.ok(
      Math.abs(p.iv - (0.5 + Math.abs(Math.log(p.strike / F)))) < 0.01,
      `${p.strike}: ${p.iv}`,
    );
  }
});

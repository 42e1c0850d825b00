/**
 * Three real plugins (Binance, Coinbase, Kraken) against their emulators at
 * once, behind one gateway and one symbol space.
 */
import assert from "node:assert/strict";
import type { Instrument, Level } from "../../core/events.ts";
import { connect, getJson, waitFor } from "../helpers.ts";
import { startThreeExchanges } from "./three_exchanges.ts";

Deno.test("one symbol space across Binance, Coinbase and Kraken, with a consolidated quote", async (t) => {
  const stack = await startThreeExchanges({ seed: 11, channels: ["trade", "quote", "book"] });
  const { gateway, bn, cb, kr } = stack;
  const client = await connect(gateway);
  try {
    await t.step(
      "GET /api/symbols lists each exchange's instruments from its own metadata",
      async () => {
        const { body } = await getJson(gateway, "/api/symbols");
        const listings = body.exchanges as {
          exchange: string;
          streamed: string[];
          instruments: Instrument[];
        }[];
        const streamed = Object.fromEntries(listings.map((l) => [l.exchange, l.streamed]));
        assert.deepEqual(streamed, {
          binance: ["BTCUSDT", "ETHUSDT"],
          coinbase: ["BTC-USDT", "ETH-USDT"],
          kraken: ["BTC/USDT", "ETH/USDT"],
        });
        for (const l of listings) assert.ok(l.instruments.some((i) => i.unified === "BTC/USDT"));
        // Each exchange's own trading rules for BTC/USDT: tick, step, min and max quantity,
        // min notional (Kraken lists no maximum quantity).
        const rules = Object.fromEntries(listings.map((l) => {
          const i = l.instruments.find((i) => i.unified === "BTC/USDT")!;
          return [l.exchange, [
            i.tickSize,
            i.stepSize,
            i.minQuantity,
            i.maxQuantity,
            i.minNotional,
          ]];
        }));
        assert.deepEqual(rules, {
          binance: [0.01, 0.00001, 0.00001, 9000, 5],
          coinbase: [0.01, 0.00000001, 0.00000001, 3400, 1],
          kraken: [0.1, 0.00000001, 0.00005, undefined, 0.5],
        });
      },
    );

    await t.step(
      "a client names BTC/USDT once and gets trades and books from every exchange",
      async () => {
        client.send({
          action: "subscribe",
          symbols: ["BTC/USDT"],
          channels: ["trade", "book", "consolidated"],
          depth: 1000,
          raw: false,
        });
        const ack = await client.next((f) => f.type === "subscribed");
        assert.deepEqual((ack.exchanges as string[]).sort(), ["binance", "coinbase", "kraken"]);
        for (
          const [exchange, symbol] of [["binance", "BTCUSDT"], ["coinbase", "BTC-USDT"], [
            "kraken",
            "BTC/USDT",
          ]]
        ) {
          const trade = await client.next(
            (f) => f.type === "trade" && f.exchange === exchange && f.symbol === symbol,
            15_000,
            0,
          );
          assert.equal(trade.unified, "BTC/USDT");
          const book = await client.next(
            (f) => f.type === "book" && f.exchange === exchange && f.snapshot === true,
            15_000,
            0,
          );
          assert.equal(book.symbol, symbol);
          assert.equal(book.unified, "BTC/USDT");
        }
      },
    );

    await t.step(
      "each client book equals its emulator's book level by level, and the consolidated quote is the best of the three",
      async () => {
        // Freeze all three markets, then let everything in flight arrive.
        bn.pause();
        cb.pause();
        kr.pause();
        bn.tick(0);
        const expected: Record<string, { bids: Level[]; asks: Level[] }> = {
          binance: toNumbers(bn.book("BTCUSDT")),
          coinbase: toNumbers(cb.book("BTC-USDT")),
          kraken: toNumbers(kr.book("BTC/USDT", 100)),
        };
        const books = () => {
          const out: Record<string, { bids: Level[]; asks: Level[] }> = {};
          for (const exchange of Object.keys(expected)) {
            const bids = new Map<number, number>();
            const asks = new Map<number, number>();
            for (
              const f of client.frames.filter((f) => f.type === "book" && f.exchange === exchange)
            ) {
              if (f.snapshot) {
                bids.clear();
                asks.clear();
              }
              for (const [p, q] of f.bids as Level[]) q === 0 ? bids.delete(p) : bids.set(p, q);
              for (const [p, q] of f.asks as Level[]) q === 0 ? asks.delete(p) : asks.set(p, q);
            }
            out[exchange] = {
              bids: [...bids].sort((a, b) => b[0] - a[0]),
              asks: [...asks].sort((a, b) => a[0] - b[0]),
            };
          }
          return out;
        };
        await waitFor(
          () => JSON.stringify(books()) === JSON.stringify(expected),
          10_000,
          "books to settle",
        );
        const bestBid = Object.entries(expected).sort((a, b) =>
          b[1].bids[0][0] - a[1].bids[0][0]
        )[0];
        const bestAsk = Object.entries(expected).sort((a, b) =>
          a[1].asks[0][0] - b[1].asks[0][0]
        )[0];
        await waitFor(
          () => {
            const last = client.frames.filter((f) => f.type === "consolidated").at(-1);
            return last?.bidPrice === bestBid[1].bids[0][0] &&
              last?.askPrice === bestAsk[1].asks[0][0];
          },
          5000,
          "consolidated quote to match",
        );
        const last = client.frames.filter((f) => f.type === "consolidated").at(-1)!;
        assert.equal(last.symbol, "BTC/USDT");
        assert.equal(last.bidExchange, bestBid[0]);
        assert.equal(last.bidQuantity, bestBid[1].bids[0][1]);
        assert.equal(last.askExchange, bestAsk[0]);
        assert.equal(last.askQuantity, bestAsk[1].asks[0][1]);
        const { body } = await getJson(gateway, "/api/market_data?symbol=BTC/USDT");
        const rest = body.consolidated as Record<string, unknown>;
        assert.equal(rest.bidPrice, last.bidPrice);
        assert.equal(rest.askPrice, last.askPrice);
        assert.equal((body.data as unknown[]).length, 3);
      },
    );

    await t.step("a joined name (BTCUSDT) reaches every exchange that lists the pair", async () => {
      client.send({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["quote"], id: "j" });
      const ack = await client.next((f) => f.type === "subscribed" && f.id === "j");
      assert.deepEqual((ack.exchanges as string[]).sort(), ["binance", "coinbase", "kraken"]);
    });

    await t.step(
      "exchange-native names keep working, and every event carries the native symbol",
      async () => {
        client.send({
          action: "subscribe",
          symbols: ["BTC-USDT"],
          exchanges: ["coinbase"],
          channels: ["quote"],
          id: "n",
        });
        const ack = await client.next((f) => f.type === "subscribed" && f.id === "n");
        assert.deepEqual(ack.exchanges, ["coinbase"]);
        client.send({
          action: "subscribe",
          symbols: ["BTC/USDT"],
          exchanges: ["kraken"],
          channels: ["consolidated"],
          id: "c",
        });
        const err = await client.next((f) => f.type === "error" && f.id === "c");
        assert.equal(err.code, "invalid_request");
      },
    );
  } finally {
    bn.resume();
    cb.resume();
    kr.resume();
    await client.close();
    await stack.close();
  }
});

function toNumbers(book: { bids: ArrayLike<unknown>[]; asks: ArrayLike<unknown>[] }) {
  const conv = (levels: ArrayLike<unknown>[]) =>
    levels.map((l) => [Number(l[0]), Number(l[1])] as Level);
  return { bids: conv(book.bids), asks: conv(book.asks) };
}

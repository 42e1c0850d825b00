import assert, { deepStrictEqual, equal } from "node:assert/strict";
import { openHistory } from "../../core/history/mod.ts";
import type { TradeEvent } from "../../core/events.ts";
import { generateStream } from "./fixture_stream.ts";
import { collect, recordAll, withTempDir } from "./helpers.ts";

const START = Date.UTC(2026, 11, 7, 23, 59, 40);

Deno.test("history round trip: every item comes back equal, field for field, in hub order", async () => {
  await withTempDir(async (dir) => {
    // 40 s across midnight UTC: two day files; merging into minute blocks on.
    const { items } = generateStream({ start: START, seconds: 40 });
    const recorded = await recordAll(items, dir, { compactMs: 10_000 });
    const history = openHistory(dir);
    const back = await collect(history.events({ from: 0, to: Infinity }));
    equal(back.length, recorded.length, "same number of items");
    for (let i = 0; i < back.length; i++) deepStrictEqual(back[i], recorded[i], `item ${i}`);
    for (let i = 1; i < back.length; i++) assert(back[i].seq > back[i - 1].seq);
    // Instruments with and without trading rules sit in one recording and read back as written.
    const listed = back.find((r) => r.item.type === "instruments")?.item;
    assert(listed?.type === "instruments");
    deepStrictEqual(listed.instruments.slice(0, 2), [
      {
        symbol: "BTCUSDT",
        base: "BTC",
        quote: "USDT",
        unified: "BTC/USDT",
        pricePrecision: 2,
        tickSize: 0.01,
        stepSize: 0.00001,
        minQuantity: 0.00001,
        maxQuantity: 9000,
        minNotional: 5,
      },
      { symbol: "ETHUSDT", base: "ETH", quote: "USDT", unified: "ETH/USDT", pricePrecision: 2 },
    ]);
    const exchanges = new Set(back.slice(0, 2000).map((r) => r.exchange));
    assert(exchanges.has("binance") && exchanges.has("kraken"), "exchanges interleave");
    const catalog = history.catalog();
    deepStrictEqual(catalog.days.map((d) => d.day), ["2026-12-07", "2026-12-08"]);
    const krakenTrades = catalog.streams.filter((s) =>
      s.exchange === "kraken" && s.kind === "trade"
    );
    equal(
      krakenTrades.reduce((a, s) => a + s.count, 0),
      recorded.filter((r) => r.exchange === "kraken" && r.item.type === "trade").length,
    );
    // A range of sequence numbers (resuming after an item a client already has).
    const a = recorded[5000].seq, b = recorded[9000].seq;
    deepStrictEqual(
      await collect(history.events({ from: 0, to: Infinity, afterSeq: a, untilSeq: b })),
      recorded.slice(5001, 9001),
    );
    deepStrictEqual(history.problems(), { corruptBlocks: 0, unreadableDays: 0 });
    history.close();
  });
});

Deno.test("history filters: one exchange and channel, a time window, trades of one symbol", async () => {
  await withTempDir(async (dir) => {
    const { items } = generateStream({ start: START, seconds: 30 });
    const recorded = await recordAll(items, dir);
    const history = openHistory(dir);
    const from = START + 7_000, to = START + 23_000;
    const expected = recorded.filter((r) =>
      r.exchange === "binance" && r.item.type === "trade" && r.receiveTime >= from &&
      r.receiveTime <= to && r.item.symbol === "ETHUSDT"
    ).map((r) => r.item);
    assert(expected.length > 100, "the window holds trades");
    deepStrictEqual(await collect(history.trades("binance", "ETHUSDT", from, to)), expected);
    // Without raw payloads: the same events, `raw` not decoded.
    deepStrictEqual(
      await collect(history.trades("binance", "ETHUSDT", from, to, { raw: false })),
      (expected as TradeEvent[]).map(({ raw: _, ...rest }) => rest),
    );

    const books = await collect(
      history.events({ from, to, exchanges: ["binance"], channels: ["book"], markers: false }),
    );
    deepStrictEqual(
      books,
      recorded.filter((r) =>
        r.exchange === "binance" && r.item.type === "book" && r.receiveTime >= from &&
        r.receiveTime <= to
      ),
    );
    // Markers of the kraken feed (status changes, the trade gap) sit where they happened.
    const kraken = await collect(
      history.events({ from: 0, to: Infinity, exchanges: ["kraken"], channels: ["trade"] }),
    );
    deepStrictEqual(
      kraken,
      recorded.filter((r) =>
        r.exchange === "kraken" &&
        ["trade", "gap", "status"].includes(r.item.type)
      ),
    );
    history.close();
  });
});

Deno.test("history numbers: awkward values come back identical", async () => {
  await withTempDir(async (dir) => {
    const t = Date.UTC(2026, 11, 7, 12);
    const prices = [
      0.1,
      0.30000000000000004,
      1e-7,
      123456789.12345679,
      5e-324,
      1.7976931348623157e308,
      -0,
      3,
    ];
    const items = prices.map((price, i) => ({
      exchange: "x",
      receiveTime: t + i,
      item: {
        type: "trade" as const,
        exchange: "x",
        symbol: "S",
        eventTime: t + i,
        receiveTime: t + i,
        price,
        quantity: i === 0 ? 2 ** 53 : 1 / 3,
        timestamp: i === 1 ? "2026-12-07T12:00:00Z" : new Date(t + i).toISOString(),
        tradeId: i % 2 ? `id-${i}` : i,
        side: "buy" as const,
        raw: i === 2
          ? JSON.parse('{"p":"007","q":"1e5","__proto__":{"x":[1,"2",null,true]},"s":"\\ud800"}')
          : [i, null],
      },
    }));
    const recorded = await recordAll(items, dir);
    const history = openHistory(dir);
    const back = await collect(history.events({ from: 0, to: Infinity }));
    deepStrictEqual(back, recorded);
    assert(Object.is((back[6].item as { price: number }).price, -0), "-0 stays -0");
    history.close();
  });
});

Deno.test("a backlog written in one flush still answers windows in its middle", async () => {
  await withTempDir(async (dir) => {
    // Five minutes handed over at once (e.g. after a slow disk): merged blocks must stay short.
    const { items } = generateStream({ start: START, seconds: 300, symbols: ["BTCUSDT"] });
    const recorded = await recordAll(items, dir, { flushMs: 1000 });
    const history = openHistory(dir);
    const from = START + 150_000, to = START + 151_000;
    const inWindow = recorded.filter((r) => r.receiveTime >= from && r.receiveTime <= to);
    assert(inWindow.length > 10);
    deepStrictEqual(await collect(history.events({ from, to })), inWindow);
    history.close();
  });
});

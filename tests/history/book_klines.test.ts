import assert, { deepStrictEqual, equal } from "node:assert/strict";
import { openHistory } from "../../core/history/mod.ts";
import { createBooks } from "../../core/books/books.ts";
import { topN } from "../../core/books/book.ts";
import type { Delivery } from "../../core/delivery/policy.ts";
import type { TradeEvent } from "../../core/events.ts";
import { generateStream, type HubItem } from "./fixture_stream.ts";
import { collect, recordAll, withTempDir } from "./helpers.ts";

const START = Date.UTC(2026, 11, 7, 23, 59, 30);

/** The hub's own books (core/books/books.ts), fed the items received up to `at`. */
function liveBookAt(items: readonly HubItem[], exchange: string, symbol: string, at: number) {
  const books = createBooks({} as Delivery, () => {});
  for (const { item, receiveTime } of items) {
    if (receiveTime > at) continue;
    if (item.type === "book") books.apply(item);
    else if (item.type === "book_status" && item.state === "resyncing") {
      books.markUnsynced(exchange, item.symbol);
    }
  }
  const entry = books.get(exchange, symbol);
  return entry &&
    { synced: entry.synced, updateId: entry.book.updateId, ...topN(entry.book, Infinity) };
}

for (const snapshotEvery of [25, 1_000_000]) {
  Deno.test(`bookAt equals the hub's book at that instant (snapshot every ${snapshotEvery} updates)`, async () => {
    await withTempDir(async (dir) => {
      const { items } = generateStream({
        start: START,
        seconds: 60,
        symbols: ["BTCUSDT", "ETHUSDT"],
      });
      await recordAll(items, dir, { snapshotEvery, compactMs: 20_000 });
      const history = openHistory(dir);
      // Instants: early, around the resync at 30 s (also across midnight), and late.
      const instants = [
        START + 150,
        START + 5_321,
        START + 29_999,
        START + 30_050,
        START + 30_107,
        START + 30_155,
        START + 47_777,
        START + 60_100,
      ];
      const states = new Set<boolean>();
      for (const at of instants) {
        for (const symbol of ["BTCUSDT", "ETHUSDT"]) {
          const live = liveBookAt(items, "binance", symbol, at)!;
          const past = await history.bookAt("binance", symbol, at);
          assert(past, `a book for ${symbol} at ${at}`);
          states.add(past.synced);
          deepStrictEqual(
            { synced: past.synced, updateId: past.updateId, bids: past.bids, asks: past.asks },
            live,
            `${symbol} at +${at - START} ms`,
          );
        }
      }
      deepStrictEqual(states, new Set([true, false]), "instants cover a resync (book unsynced)");
      const top = await history.bookAt("binance", "BTCUSDT", START + 40_000, 5);
      equal(top!.bids.length, 5);
      equal(top!.asks.length, 5);
      equal(await history.bookAt("binance", "NOPE", START + 40_000), undefined);
      history.close();
    });
  });
}

/** Decimal string → BigInt at 10^-18 (an independent exact sum). */
function big18(s: string): bigint {
  const [int, frac = ""] = s.split(".");
  return BigInt(int + frac.padEnd(18, "0").slice(0, 18));
}
function fromBig(v: bigint, scale: number): number {
  const p = 10n ** BigInt(scale);
  return Number(`${v / p}.${(v % p).toString().padStart(scale, "0")}`);
}

Deno.test("klines from history equal bars computed independently from the raw trades", async () => {
  await withTempDir(async (dir) => {
    const { items } = generateStream({
      start: START,
      seconds: 70,
      symbols: ["ETHUSDT"],
      tradesPerSecond: 30,
    });
    await recordAll(items, dir);
    const history = openHistory(dir);
    const trades = items.map((i) => i.item).filter((i): i is TradeEvent =>
      i.type === "trade" && i.exchange === "binance"
    );
    for (
      const [interval, ms] of [["1s", 1000], ["7s", 7000], ["1m", 60_000], [
        "1h",
        3_600_000,
      ]] as const
    ) {
      const from = START, to = START + 70_000;
      const bars = new Map<
        number,
        { o: number; h: number; l: number; c: number; v: bigint; q: bigint; n: number }
      >();
      for (const t of trades) {
        const raw = t.raw as { p: string; q: string; T: number };
        const open = raw.T - (raw.T % ms);
        if (open < from - (from % ms) || open > to) continue;
        const b = bars.get(open) ??
          { o: t.price, h: t.price, l: t.price, c: t.price, v: 0n, q: 0n, n: 0 };
        b.h = Math.max(b.h, t.price);
        b.l = Math.min(b.l, t.price);
        b.c = t.price;
        b.v += big18(raw.q);
        b.q += big18(raw.p) * big18(raw.q);
        b.n++;
        bars.set(open, b);
      }
      const expected = [...bars].map(([openTime, b]) => ({
        openTime,
        closeTime: openTime + ms - 1,
        open: b.o,
        high: b.h,
        low: b.l,
        close: b.c,
        volume: fromBig(b.v, 18),
        quoteVolume: fromBig(b.q, 36),
        trades: b.n,
      }));
      const got = await collect(history.klines("binance", "ETHUSDT", interval, from, to));
      assert(got.length > 0);
      deepStrictEqual(got, expected, interval);
    }
    await assert.rejects(
      () => collect(history.klines("binance", "ETHUSDT", "2d", START, START + 1)),
      RangeError,
    );
    await assert.rejects(
      () => collect(history.klines("binance", "ETHUSDT", "500ms", START, START + 1)),
      RangeError,
    );
    history.close();
  });
});

Deno.test("kline volumes stay exact past 2^53 and across changing decimals", async () => {
  const { klinesFromTrades } = await import("../../core/history/klines.ts");
  const T = Date.UTC(2026, 11, 7);
  const rows: [string, string][] = [];
  for (let i = 0; i < 5000; i++) {
    rows.push([(98765432.12345678 + i / 1e8).toFixed(8), i % 3 ? "123456.7" : "0.000001"]);
  }
  rows.push(["1", "0.123456789012"]);
  const trades = rows.map(([p, q], i): TradeEvent => ({
    type: "trade",
    exchange: "x",
    symbol: "S",
    eventTime: T + i,
    receiveTime: T + i,
    price: Number(p),
    quantity: Number(q),
    timestamp: new Date(T + i).toISOString(),
    tradeId: i,
    side: "buy",
  }));
  async function* source() {
    yield* trades;
  }
  const [bar] = await collect(klinesFromTrades(source(), "1m", T, T + 59_999));
  let v = 0n, q = 0n;
  for (const [p, qty] of rows) {
    v += big18(qty);
    q += big18(p) * big18(qty);
  }
  equal(bar.trades, rows.length);
  equal(bar.volume, fromBig(v, 18));
  equal(bar.quoteVolume, fromBig(q, 36));
});

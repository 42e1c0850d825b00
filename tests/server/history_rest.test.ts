/**
 * History over REST against what a live client saw: the gateway records the three
 * emulators (Binance, Coinbase, Kraken) while a client takes trades (with `raw`),
 * quotes, klines and 10-level books of BTC/USDT; then the recorded trades, klines
 * and books must equal the live ones. About 12 s of recording (the whole test ~20 s).
 */
import assert from "node:assert/strict";
import { connect, getJson, waitFor } from "../helpers.ts";
import { EXCHANGES, startThreeExchanges } from "./three_exchanges.ts";

type Frame = Record<string, unknown>;
type Level = [number, number];

const NATIVE: Record<string, string> = {
  binance: "BTCUSDT",
  coinbase: "BTC-USDT",
  kraken: "BTC/USDT",
};
/** How long the client and the recorder watch the market, ms. */
const RECORD_MS = 12_000;

/** An exact decimal of a number with at most 10 decimals, as a BigInt at 10^-10. */
const scaled = (n: number) => BigInt(n.toFixed(10).replace(".", ""));
/** The double nearest to `v` × 10^-`scale`. */
const toNumber = (v: bigint, scale: number) => {
  const s = v.toString().padStart(scale + 1, "0");
  return Number(`${s.slice(0, -scale)}.${s.slice(-scale)}`);
};

/** 1s bars computed here from trades, independently of the history engine. */
function barsOf(trades: Frame[]) {
  const bars = new Map<number, {
    open: number;
    high: number;
    low: number;
    close: number;
    trades: number;
    volume: bigint;
    quote: bigint;
  }>();
  for (const t of trades) {
    const open = Math.floor(Date.parse(t.timestamp as string) / 1000) * 1000;
    const price = t.price as number, qty = t.quantity as number;
    const b = bars.get(open);
    if (!b) {
      bars.set(open, {
        open: price,
        high: price,
        low: price,
        close: price,
        trades: 1,
        volume: scaled(qty),
        quote: scaled(price) * scaled(qty),
      });
    } else {
      b.high = Math.max(b.high, price);
      b.low = Math.min(b.low, price);
      b.close = price;
      b.trades++;
      b.volume += scaled(qty);
      b.quote += scaled(price) * scaled(qty);
    }
  }
  return new Map(
    [...bars].map(([open, b]) => [open, {
      openTime: open,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: toNumber(b.volume, 10),
      closeTime: open + 999,
      quoteVolume: toNumber(b.quote, 20),
      trades: b.trades,
    }]),
  );
}

/** The client's book after every frame with `receiveTime <= at`, best 10 levels per side. */
function clientBookAt(frames: Frame[], at: number): { bids: Level[]; asks: Level[] } {
  const bids = new Map<number, number>(), asks = new Map<number, number>();
  for (const f of frames) {
    if ((f.receiveTime as number) > at) break;
    if (f.snapshot) {
      bids.clear();
      asks.clear();
    }
    for (const [side, levels] of [[bids, f.bids], [asks, f.asks]] as const) {
      for (const [p, q] of levels as Level[]) q === 0 ? side.delete(p) : side.set(p, q);
    }
  }
  return {
    bids: [...bids].sort((a, b) => b[0] - a[0]).slice(0, 10),
    asks: [...asks].sort((a, b) => a[0] - b[0]).slice(0, 10),
  };
}

Deno.test("recorded trades, klines and books equal what a live client received", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "history-rest-" });
  const stack = await startThreeExchanges({
    seed: 21,
    channels: ["trade", "quote", "kline", "book"],
    gateway: { recordDir: dir },
  });
  const { gateway, bn } = stack;
  const client = await connect(gateway);
  try {
    client.send({
      action: "subscribe",
      symbols: ["BTC/USDT"],
      channels: ["trade", "quote", "kline", "book"],
      depth: 10,
      raw: true,
    });
    await client.next((f) => f.type === "subscribed");
    // Every item stamped from here on reaches the hub after the subscription took effect.
    const from = Date.now() + 100;
    await new Promise((r) => setTimeout(r, RECORD_MS)); // the recording window itself
    const to = Date.now();
    const lastTrade = (ex: string) =>
      client.frames.findLast((f) => f.type === "trade" && f.exchange === ex)
        ?.receiveTime as number ?? 0;
    await waitFor(
      () => EXCHANGES.every((ex) => lastTrade(ex) > to),
      10_000,
      "a live trade received after the window from every exchange",
    );
    await gateway.recording!.flush();
    const inWindow = (f: Frame) =>
      (f.receiveTime as number) >= from && (f.receiveTime as number) <= to;
    const live = (type: string, ex: string) =>
      client.frames.filter((f) => f.type === type && f.exchange === ex);

    await t.step("GET /api/history lists the three exchanges, marked as emulators", async () => {
      const { body } = await getJson(gateway, "/api/history");
      const exchanges = body.exchanges as {
        exchange: string;
        emulator: boolean;
        symbols: { symbol: string; unified: string; channels: Record<string, unknown> }[];
      }[];
      assert.deepEqual(exchanges.map((e) => e.exchange), [...EXCHANGES]);
      for (const e of exchanges) {
        assert.equal(e.emulator, true, e.exchange);
        const btc = e.symbols.find((s) => s.unified === "BTC/USDT")!;
        assert.equal(btc.symbol, NATIVE[e.exchange]);
        for (const kind of ["trade", "quote", "book"]) assert.ok(btc.channels[kind], kind);
      }
      assert.ok((body.bytes as number) > 0);
    });

    for (const ex of EXCHANGES) {
      await t.step(
        `${ex}: trades from history equal the live ones, in json, ndjson and csv`,
        async () => {
          // History keeps the trades, not their live positions (`pos`/`prev`).
          const expected = live("trade", ex).filter(inWindow).map((
            { pos: _pos, prev: _prev, ...trade },
          ) => trade);
          assert.ok(expected.length >= 5, `only ${expected.length} live ${ex} trades`);
          const base = `/api/history/trades?exchange=${ex}&symbol=BTC%2FUSDT&from=${
            new Date(from).toISOString()
          }&to=${to}&raw=true`;
          // JSON, in pages of 7 with the cursor.
          const got: Frame[] = [];
          let cursor: string | null = null;
          let pages = 0;
          do {
            const { status, body } = await getJson(
              gateway,
              `${base}&limit=7${cursor ? `&cursor=${cursor}` : ""}`,
            );
            assert.equal(status, 200, JSON.stringify(body));
            got.push(...body.trades as Frame[]);
            cursor = body.nextCursor as string | null;
            pages++;
          } while (cursor && pages < 10_000);
          assert.equal(got.length, expected.length);
          assert.deepEqual(got, expected);
          assert.ok(got.every((f) => f.raw !== undefined), "raw payloads kept");
          // NDJSON, streamed.
          const nd = await (await fetch(`${gateway.url}${base}&format=ndjson`)).text();
          assert.deepEqual(nd.trim().split("\n").map((l) => JSON.parse(l)), expected);
          // CSV.
          const res = await fetch(`${gateway.url}${base}&format=csv`);
          assert.match(res.headers.get("content-type")!, /text\/csv/);
          const csv = (await res.text()).trim().split("\n");
          assert.equal(
            csv[0],
            "exchange,symbol,unified,tradeId,timestamp,price,quantity,side,eventTime,receiveTime",
          );
          assert.deepEqual(
            csv.slice(1),
            expected.map((f) =>
              [
                f.exchange,
                f.symbol,
                f.unified,
                f.tradeId,
                f.timestamp,
                f.price,
                f.quantity,
                f.side,
                f.eventTime,
                f.receiveTime,
              ].join(",")
            ),
          );
        },
      );
    }

    for (const ex of EXCHANGES) {
      await t.step(
        `${ex}: 1s klines from history equal bars computed from the live trades`,
        async () => {
          const { status, body } = await getJson(
            gateway,
            `/api/history/klines?exchange=${ex}&symbol=BTC/USDT&interval=1s&from=${from}&to=${to}`,
          );
          assert.equal(status, 200, JSON.stringify(body));
          const mine = barsOf(live("trade", ex));
          // Bars wholly inside the window: the client saw every one of their trades.
          const bars = (body.klines as Frame[]).filter((k) =>
            (k.openTime as number) >= from + 1000 && (k.closeTime as number) <= to - 1000
          );
          assert.ok(bars.length >= 3, `only ${bars.length} full bars`);
          for (const bar of bars) {
            const { closed, ...fields } = bar;
            assert.equal(closed, true);
            assert.deepEqual(fields, mine.get(bar.openTime as number), `bar ${bar.openTime}`);
          }
          const opens = bars.map((b) => b.openTime as number);
          const expectedOpens = [...mine.keys()].filter((o) =>
            o >= from + 1000 && o + 999 <= to - 1000
          )
            .sort((a, b) => a - b);
          assert.deepEqual(
            opens,
            expectedOpens,
            "the same bars (a bar for every second with trades)",
          );
        },
      );
    }

    await t.step(
      "binance: closed 1s klines from history equal the emulator's own /api/v3/klines",
      async () => {
        const { body } = await getJson(
          gateway,
          `/api/history/klines?exchange=binance&symbol=BTCUSDT&interval=1s&from=${from}&to=${to}`,
        );
        const res = await fetch(
          `${bn.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1s&startTime=${
            from + 1000
          }&endTime=${to - 1000}&limit=1000`,
        );
        const theirs = new Map(
          (await res.json() as (string | number)[][]).map((k) => [k[0] as number, k]),
        );
        const ours = (body.klines as Frame[]).filter((k) =>
          (k.openTime as number) >= from + 1000 && (k.closeTime as number) <= to - 1000
        );
        assert.ok(ours.length >= 3);
        for (const k of ours) {
          const e = theirs.get(k.openTime as number);
          assert.ok(e, `emulator bar ${k.openTime}`);
          assert.deepEqual(
            [k.open, k.high, k.low, k.close, k.volume, k.closeTime, k.quoteVolume, k.trades],
            [
              Number(e[1]),
              Number(e[2]),
              Number(e[3]),
              Number(e[4]),
              Number(e[5]),
              e[6],
              Number(e[7]),
              e[8],
            ],
            `bar ${k.openTime}`,
          );
        }
      },
    );

    for (const ex of EXCHANGES) {
      await t.step(`${ex}: /api/history/book?at=T equals the live client's book at T`, async () => {
        const frames = live("book", ex);
        const probes = frames.filter(inWindow).filter((f) => !f.snapshot);
        assert.ok(probes.length >= 10, `only ${probes.length} book updates`);
        for (const share of [0.25, 0.5, 0.9]) {
          const at = probes[Math.floor(probes.length * share)].receiveTime as number;
          const expected = clientBookAt(frames, at);
          const { status, body } = await getJson(
            gateway,
            `/api/history/book?exchange=${ex}&symbol=BTC/USDT&at=${at}&depth=10`,
          );
          assert.equal(status, 200, JSON.stringify(body));
          assert.equal(body.synced, true);
          assert.deepEqual({ bids: body.bids, asks: body.asks }, expected, `${ex} at ${at}`);
        }
      });
    }
  } finally {
    await client.close();
    await stack.close();
    await Deno.remove(dir, { recursive: true });
  }
});

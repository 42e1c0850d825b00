/**
 * The whole gateway on the Binance emulator, as a user sees it: the real
 * Binance plugin in its Worker, clients on /ws, REST on the side.
 */
import assert from "node:assert/strict";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import type {
  BinanceEmulator,
  BinanceEmulatorOptions,
} from "../../plugins/binance/emulator/types.ts";
import { binance } from "../../plugins/binance/mod.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import type { Gateway } from "../../core/server/gateway.ts";
import type { Level } from "../../core/events.ts";
import {
  connect,
  gatewayWith,
  getJson,
  metricsText,
  metricValue,
  type TestClient,
  waitFor,
} from "../helpers.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

async function setup(
  emulatorOptions: BinanceEmulatorOptions = {},
  pluginOverrides: Record<string, unknown> = {},
): Promise<{ emu: BinanceEmulator; gateway: Gateway; close(): Promise<void> }> {
  const emu = await startBinanceEmulator({ symbols: SYMBOLS, seed: 7, ...emulatorOptions });
  const config = pluginConfig(binance, {
    BINANCE_WS_URL: emu.wsUrl,
    BINANCE_REST_URL: emu.restUrl,
  }, { backoffBaseMs: 50, backoffCapMs: 200, backfillDelayMs: 50, ...pluginOverrides });
  const gateway = await gatewayWith([{
    plugin: binance,
    workerUrl: new URL("../../plugins/binance/worker.ts", import.meta.url),
    config,
    symbols: SYMBOLS,
    channels: ["trade", "quote", "kline", "book"],
  }]);
  return {
    emu,
    gateway,
    async close() {
      await gateway.close();
      await emu.close();
    },
  };
}

/** A client-side book built the documented way: snapshot, then deltas whose seq is +1 each. */
function clientBook(client: TestClient, symbol: string) {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let seq = -1;
  let applied = 0;
  let snapshots = 0;
  const apply = (levels: Level[], side: Map<number, number>) => {
    for (const [p, q] of levels) q === 0 ? side.delete(p) : side.set(p, q);
  };
  return {
    /** Applies every book frame received so far (call repeatedly). */
    sync() {
      const frames = client.frames.filter((f) => f.type === "book" && f.symbol === symbol);
      for (const f of frames.slice(applied)) {
        if (f.snapshot) {
          bids.clear();
          asks.clear();
          snapshots++;
        } else {
          assert.equal(f.seq, seq + 1, "delta seq increases by exactly 1");
        }
        seq = f.seq as number;
        apply(f.bids as Level[], bids);
        apply(f.asks as Level[], asks);
      }
      applied = frames.length;
    },
    levels() {
      return {
        bids: [...bids].sort((a, b) => b[0] - a[0]),
        asks: [...asks].sort((a, b) => a[0] - b[0]),
      };
    },
    snapshots: () => snapshots,
  };
}

const wireLevels = (levels: [string, string][]): Level[] =>
  levels.map(([p, q]) => [Number(p), Number(q)]);

/** Pauses the market and waits until the client's book equals the emulator's, every level. */
async function assertBooksEqual(
  emu: BinanceEmulator,
  _client: TestClient,
  symbol: string,
  book: ReturnType<typeof clientBook>,
) {
  emu.pause();
  emu.tick(0);
  const expected = emu.book(symbol);
  let last = "";
  await waitFor(
    () => {
      book.sync();
      const got = book.levels();
      last =
        `bids ${got.bids.length}/${expected.bids.length} asks ${got.asks.length}/${expected.asks.length}`;
      return JSON.stringify(got.bids) === JSON.stringify(wireLevels(expected.bids)) &&
        JSON.stringify(got.asks) === JSON.stringify(wireLevels(expected.asks));
    },
    8000,
    `client book equal to the emulator's (${symbol}): ${last}`,
  );
  emu.resume();
}

Deno.test("gateway + Binance plugin + emulator, end to end", async (t) => {
  const env = await setup();
  const { emu, gateway } = env;
  const client = await connect(gateway);
  try {
    client.send({
      action: "subscribe",
      symbols: ["BTCUSDT"],
      channels: ["trade", "quote", "kline", "book"],
      depth: 1000,
      id: "all",
    });
    await client.next((f) => f.type === "subscribed" && f.id === "all");

    await t.step("trades carry the seed format and equal Binance's own frame", async () => {
      await client.until((fs) => fs.filter((f) => f.type === "trade").length >= 5, 10_000);
      for (const f of client.frames.filter((f) => f.type === "trade")) {
        const raw = f.raw as Record<string, unknown>;
        assert.equal(f.exchange, "binance");
        assert.equal(f.symbol, raw.s);
        assert.equal(f.price, Number(raw.p));
        assert.equal(f.quantity, Number(raw.q));
        assert.equal(f.tradeId, raw.t);
        assert.equal(f.timestamp, new Date(raw.T as number).toISOString());
        assert.equal(f.eventTime, raw.E);
        assert.equal(f.side, raw.m ? "sell" : "buy");
        assert.ok((f.receiveTime as number) >= (raw.E as number) - 5);
      }
    });

    await t.step("quotes equal bookTicker, klines equal the kline frame", async () => {
      const quote = await client.next((f) => f.type === "quote", 5000, 0);
      const raw = quote.raw as Record<string, string>;
      assert.equal(quote.bidPrice, Number(raw.b));
      assert.equal(quote.bidQuantity, Number(raw.B));
      assert.equal(quote.askPrice, Number(raw.a));
      assert.equal(quote.askQuantity, Number(raw.A));
      const kline = await client.next((f) => f.type === "kline", 10_000, 0);
      const k = (kline.raw as { k: Record<string, unknown> }).k;
      assert.equal(kline.interval, "1m");
      assert.equal(kline.open, Number(k.o));
      assert.equal(kline.close, Number(k.c));
      assert.equal(kline.volume, Number(k.v));
      assert.equal(kline.closed, k.x);
    });

    await t.step(
      "the status frame and /health say plainly that the feed is the emulator",
      async () => {
        const status = await client.next(
          (f) => f.type === "status" && f.state === "connected",
          5000,
          0,
        );
        assert.equal(status.emulator, true);
        const { body } = await getJson(gateway, "/health");
        const [feed] = body.feeds as Record<string, unknown>[];
        assert.equal(feed.source, "emulator");
        assert.equal(feed.state, "connected");
      },
    );

    const book = clientBook(client, "BTCUSDT");
    await t.step(
      "the book channel: a snapshot, then deltas, equal to the emulator's book at every level",
      async () => {
        await client.next((f) => f.type === "book" && f.snapshot === true, 10_000, 0);
        await client.until(
          (fs) => fs.filter((f) => f.type === "book" && !f.snapshot).length >= 3,
          10_000,
        );
        await assertBooksEqual(emu, client, "BTCUSDT", book);
      },
    );

    await t.step(
      "after a swallowed depth event the gateway resyncs and the client's book is exact again",
      async () => {
        const before = book.snapshots();
        const from = client.frames.length;
        emu.faults.skipDepthEvent("BTCUSDT");
        const resyncAt = await client.indexOf(
          (f) => f.type === "status" && f.channel === "book" && f.state === "resyncing",
          10_000,
          from,
          "book resyncing status frame",
        );
        assert.equal(client.frames[resyncAt].symbol, "BTCUSDT");
        await client.next(
          (f) => f.type === "book" && f.snapshot === true,
          10_000,
          resyncAt + 1,
          "a fresh book snapshot after the resyncing status",
        );
        book.sync();
        assert.equal(book.snapshots(), before + 1, "a fresh snapshot after the resync");
        await assertBooksEqual(emu, client, "BTCUSDT", book);
        const metrics = await (await fetch(gateway.url + "/metrics")).text();
        assert.match(
          metrics,
          /quant_book_resyncs_total\{exchange="binance",symbol="BTCUSDT"\} [1-9]/,
        );
        const { body } = await getJson(gateway, "/health");
        const entry = (body.books as { symbol: string; resyncs: number; synced: boolean }[])
          .find((b) => b.symbol === "BTCUSDT")!;
        assert.ok(entry.resyncs >= 1);
        assert.equal(entry.synced, true);
      },
    );

    await t.step("GET /api/book returns the same book with its sequence", async () => {
      emu.pause();
      emu.tick(0);
      const expected = emu.book("BTCUSDT");
      await waitFor(
        async () => {
          const { body } = await getJson(
            gateway,
            "/api/book?exchange=binance&symbol=BTCUSDT&depth=1000",
          );
          return body.updateId === expected.lastUpdateId;
        },
        5000,
        "REST book to catch up",
      );
      const { status, body } = await getJson(
        gateway,
        "/api/book?exchange=binance&symbol=BTCUSDT&depth=5",
      );
      emu.resume();
      assert.equal(status, 200);
      assert.deepEqual(body.bids, wireLevels(expected.bids.slice(0, 5)));
      assert.deepEqual(body.asks, wireLevels(expected.asks.slice(0, 5)));
      assert.equal(typeof body.sequence, "number");
      assert.equal(body.crossed, false);
    });

    await t.step("every trade id arrives once, in order, across an abrupt disconnect", async () => {
      const reconnectsBefore = metricValue(
        await metricsText(gateway),
        "quant_feed_reconnects_total",
        'exchange="binance"',
      ) ?? 0;
      /** Waits for `reconnecting` after index `from`, then `connected` after that. */
      const reconnected = async (from: number, what: string) => {
        const at = await client.indexOf(
          (f) => f.type === "status" && f.state === "reconnecting",
          10_000,
          from,
          `reconnecting status frame after ${what}`,
        );
        await client.indexOf(
          (f) => f.type === "status" && f.state === "connected",
          10_000,
          at + 1,
          `connected status frame after ${what}`,
        );
      };
      emu.faults.dropConnections();
      await reconnected(client.frames.length, "a clean disconnect");
      await assertBooksEqual(emu, client, "BTCUSDT", book);
      const beforeAbrupt = client.frames.length;
      emu.faults.dropConnections({ abrupt: true });
      await reconnected(beforeAbrupt, "an abrupt disconnect");
      const target = emu.lastTradeId("BTCUSDT") + 20;
      await client.until(
        (fs) => fs.some((f) => f.type === "trade" && (f.tradeId as number) >= target),
        20_000,
      );
      const ids = client.frames.filter((f) => f.type === "trade").map((f) => f.tradeId as number);
      for (let i = 1; i < ids.length; i++) {
        assert.equal(ids[i], ids[i - 1] + 1, `trade ${ids[i - 1]} then ${ids[i]}`);
      }
      assert.equal(client.frames.filter((f) => f.type === "gap").length, 0);
      // The book survives the reconnect too (continuity verified or resynced), level by level.
      await assertBooksEqual(emu, client, "BTCUSDT", book);
      const { body } = await getJson(gateway, "/health");
      assert.ok((body.feeds as { reconnects: number }[])[0].reconnects >= 1);
      const reconnectsAfter = metricValue(
        await metricsText(gateway),
        "quant_feed_reconnects_total",
        'exchange="binance"',
      )!;
      assert.ok(
        reconnectsAfter >= reconnectsBefore + 2,
        `quant_feed_reconnects_total ${reconnectsBefore} -> ${reconnectsAfter}`,
      );
    });

    await t.step(
      "trades that cannot be backfilled arrive as a gap frame with the missing ids",
      async () => {
        const gaps = async () =>
          metricValue(await metricsText(gateway), "quant_trade_gaps_total", 'exchange="binance"') ??
            0;
        const gapsBefore = await gaps();
        const from = client.frames.length;
        emu.faults.skipTrade("BTCUSDT");
        emu.faults.forgetTradeHistory("BTCUSDT");
        const gap = await client.next((f) => f.type === "gap", 20_000, from, "a gap frame");
        assert.equal(gap.symbol, "BTCUSDT");
        assert.ok((gap.toId as number) >= (gap.fromId as number));
        emu.faults.reset();
        assert.ok(await gaps() > gapsBefore, "quant_trade_gaps_total counts the gap");
      },
    );

    await t.step(
      "malformed exchange frames are dropped and counted in /health and /metrics",
      async () => {
        const malformed = async () =>
          metricValue(
            await metricsText(gateway),
            "quant_feed_malformed_total",
            'exchange="binance"',
          ) ?? 0;
        const before = await malformed();
        emu.faults.sendMalformed(2);
        await waitFor(
          async () => await malformed() >= before + 2,
          10_000,
          `quant_feed_malformed_total{exchange="binance"} >= ${before + 2}`,
        );
        const { body } = await getJson(gateway, "/health");
        assert.ok((body.feeds as { malformed: number }[])[0].malformed >= before + 2);
      },
    );
  } finally {
    await client.close();
    await env.close();
  }
});

Deno.test("silence without disconnect is reported stale in status frames, /health and /metrics, then recovers", async () => {
  const env = await setup({}, { staleMs: { trade: 400, quote: 400, book: 400, kline: 400 } });
  const client = await connect(env.gateway);
  try {
    client.send({ action: "subscribe", symbols: ["ETHUSDT"], channels: ["trade", "quote"] });
    await client.next((f) => f.type === "status" && f.state === "connected", 10_000, 0);
    const from = client.frames.length;
    // A stale connection is replaced at once, so `stale` lasts only until the new connection
    // opens. The emulator stays silent and refuses new connections until the test has read
    // /metrics and /health; a timed silence could end before a loaded machine gets there.
    env.emu.faults.silence(60_000);
    env.emu.faults.refuseConnections(60_000);
    const staleAt = await client.indexOf(
      (f) => f.type === "status" && f.state === "stale",
      5000,
      from,
      "stale status frame from binance",
    );
    const metrics = await metricsText(env.gateway);
    assert.match(metrics, /quant_feed_up\{exchange="binance",emulator="true"\} 0/);
    const { body: during } = await getJson(env.gateway, "/health");
    assert.notEqual((during.feeds as { state: string }[])[0].state, "connected");
    env.emu.faults.reset();
    const connectedAt = await client.indexOf(
      (f) => f.type === "status" && f.state === "connected",
      10_000,
      staleAt + 1,
      "connected status frame from binance after the stale one",
    );
    await client.next((f) => f.type === "quote", 10_000, connectedAt + 1, "a quote after recovery");
    assert.equal(
      metricValue(
        await metricsText(env.gateway),
        "quant_feed_up",
        'exchange="binance",emulator="true"',
      ),
      1,
    );
    const { body } = await getJson(env.gateway, "/health");
    assert.equal((body.feeds as { state: string }[])[0].state, "connected");
  } finally {
    await client.close();
    await env.close();
  }
});

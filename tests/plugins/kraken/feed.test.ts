/**
 * The Kraken feed against the Kraken emulator: what it delivers and how it
 * keeps it whole (checksum-verified books that equal the emulator's level by
 * level, resync on a bad checksum, reconnects, stale detection, maintenance,
 * malformed frames, application pings), plus its stateful helpers.
 */
import assert from "node:assert/strict";
import type { Channel, FeedItem, GapEvent, KlineEvent, TradeEvent } from "../../../mod.ts";
import { topN } from "../../../mod.ts";
import { assertQuietFor } from "../../helpers.ts";
import {
  assertRunsInWorkerWithDeclaredHosts,
  type EmulatedFeedRun,
  runFeedAgainst,
} from "../feed_harness.ts";
import { pluginConfig } from "../../../core/ingest/plugin_config.ts";
import {
  type KrakenEmulator,
  type KrakenEmulatorOptions,
  startKrakenEmulator,
} from "../../../plugins/kraken/emulator/mod.ts";
import { kraken } from "../../../plugins/kraken/mod.ts";
import { reconnectDelay } from "../../../plugins/kraken/backoff.ts";
import { createTradeTracker } from "../../../plugins/kraken/trades.ts";
import { createKlineTracker } from "../../../plugins/kraken/klines.ts";

// ---------------------------------------------------------------- harness

/** A feed running against a fresh emulator, and everything it emitted. */
type Harness = EmulatedFeedRun<KrakenEmulator>;

async function startFeed(options: {
  emulator?: KrakenEmulatorOptions;
  symbols?: string[];
  channels?: Channel[];
  config?: Record<string, unknown>;
} = {}): Promise<Harness> {
  const emu = await startKrakenEmulator({
    symbols: ["BTC/USD", "ETH/USD", "ADA/USD"],
    tickMs: 20,
    tradesPerSecond: 30,
    ...options.emulator,
  });
  const config = kraken.configSchema.parse({
    wsUrl: emu.wsUrl,
    bookDepth: 25,
    deadAfterMs: 1500,
    pongTimeoutMs: 1000,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    immediateRetries: 1,
    maintenanceRetryMs: 300,
    resyncTimeoutMs: 2000,
    connectTimeoutMs: 2000,
    ...options.config,
  });
  return runFeedAgainst(emu, {
    plugin: kraken,
    config,
    symbols: options.symbols ?? ["BTC/USD", "ETH/USD"],
    channels: options.channels ?? ["trade", "quote", "kline", "book"],
  });
}

/** Pauses the market and waits until the consumer's book equals the emulator's at `depth`, level by level. */
async function assertBookMatchesEmulator(h: Harness, symbol: string, depth: number): Promise<void> {
  h.emu.pause();
  const theirs = () => h.emu.book(symbol, depth);
  const same = () => {
    const ours = topN(h.book(symbol), Infinity);
    const t = theirs();
    return JSON.stringify([ours.bids, ours.asks]) === JSON.stringify([t.bids, t.asks]);
  };
  await h.until(same, `${symbol} book to equal the emulator's at depth ${depth}`, 3000);
  const ours = topN(h.book(symbol), Infinity);
  const t = theirs();
  assert.equal(ours.bids.length, depth, "the consumer book holds exactly the subscribed depth");
  assert.equal(ours.asks.length, depth);
  assert.deepEqual(ours.bids, t.bids);
  assert.deepEqual(ours.asks, t.asks);
}

/** Trade ids of `symbol` only ever increase, and every hole is reported as a gap. */
function assertTradesWhole(h: Harness, symbol: string): void {
  const ids = h.trades(symbol).map((t) => t.tradeId as number);
  assert.ok(ids.length > 0, `no ${symbol} trades`);
  const gaps = h.gaps(symbol);
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i] > ids[i - 1], `${symbol} trade ${ids[i]} after ${ids[i - 1]}`);
    if (ids[i] !== ids[i - 1] + 1) {
      assert.ok(
        gaps.some((g) => g.fromId === ids[i - 1] + 1 && g.toId === ids[i] - 1),
        `hole ${ids[i - 1] + 1}..${ids[i] - 1} reported`,
      );
    }
  }
}

// ---------------------------------------------------------------- helpers

Deno.test("reconnect delays: immediate retries, then capped exponential full jitter; 5 s floor around maintenance", () => {
  const o = { baseMs: 100, capMs: 1000, immediateRetries: 2, maintenanceDelayMs: 5000 };
  const top = () => 1 - 1e-9;
  assert.equal(reconnectDelay(0, o, false, top), 0);
  assert.equal(reconnectDelay(1, o, false, top), 0);
  assert.equal(reconnectDelay(2, o, false, top), 100);
  assert.equal(reconnectDelay(3, o, false, top), 200);
  assert.equal(reconnectDelay(20, o, false, top), 1000, "capped");
  assert.equal(reconnectDelay(20, o, false, () => 0), 0, "full jitter reaches 0");
  assert.equal(
    reconnectDelay(0, o, true, () => 0),
    5000,
    "never faster than 5 s around maintenance",
  );
  assert.equal(reconnectDelay(5, { ...o, capMs: 60_000 }, true, top), 5000);
  assert.equal(
    reconnectDelay(9, { ...o, capMs: 60_000 }, true, top),
    12_800,
    "longer backoff stays",
  );
});

Deno.test("trade continuity: duplicates dropped, holes reported as gaps", () => {
  const out: (TradeEvent | GapEvent)[] = [];
  const tracker = createTradeTracker((e) => out.push(e));
  const trade = (id: number): TradeEvent => ({
    type: "trade",
    exchange: "kraken",
    symbol: "BTC/USD",
    eventTime: 1,
    receiveTime: 1,
    price: 1,
    quantity: 1,
    timestamp: "",
    tradeId: id,
    side: "buy",
  });
  tracker.onTrades([trade(5), trade(6)], 10);
  tracker.onTrades([trade(4), trade(6), trade(7)], 11); // a reconnect's snapshot overlaps
  tracker.onTrades([trade(10)], 12);
  assert.deepEqual(
    out.map((e) => e.type === "gap" ? `gap ${e.fromId}-${e.toId}` : e.tradeId),
    [5, 6, 7, "gap 8-9", 10],
  );
  assert.equal(tracker.lastId("BTC/USD"), 10);
});

Deno.test("candles: the previous candle is re-emitted closed when the next interval begins", () => {
  const out: KlineEvent[] = [];
  const tracker = createKlineTracker((e) => out.push(e));
  const k = (openTime: number, close: number, closed = false): KlineEvent => ({
    type: "kline",
    exchange: "kraken",
    symbol: "BTC/USD",
    eventTime: openTime + 1,
    receiveTime: openTime + 2,
    interval: "1m",
    openTime,
    closeTime: openTime + 59_999,
    open: 1,
    high: 2,
    low: 1,
    close,
    volume: 1,
    quoteVolume: 1,
    trades: 1,
    closed,
    timestamp: "",
  });
  tracker.onKlines([k(0, 1.5, true), k(60_000, 1.1)]); // a snapshot
  tracker.onKlines([k(60_000, 1.2)]);
  tracker.onKlines([k(120_000, 1.3)]);
  tracker.onKlines([k(0, 1.5, true), k(60_000, 1.2, true), k(120_000, 1.4)]); // after a reconnect
  assert.deepEqual(
    out.map((e) => [e.openTime, e.close, e.closed]),
    [
      [0, 1.5, true],
      [60_000, 1.1, false],
      [60_000, 1.2, false],
      [60_000, 1.2, true],
      [120_000, 1.3, false],
      [120_000, 1.4, false],
    ],
  );
});

// ---------------------------------------------------------------- feed

Deno.test("the feed delivers trades, quotes, klines and verified books with the emulator's exact values", async () => {
  const h = await startFeed({ symbols: ["BTC/USD", "ethusd", "XBT/USD"] });
  try {
    for (const s of ["BTC/USD", "ETH/USD"]) {
      await h.until(
        () =>
          h.trades(s).length > 5 && h.quotes(s).length > 3 && h.klines(s).length > 1 &&
          h.books(s).length > 5,
        `${s} data`,
      );
    }
    // Connection status, emulator detected through the x-emulator header.
    const statuses = h.statuses();
    assert.equal(statuses[0].state, "connecting");
    assert.equal(statuses[1].state, "connected");
    assert.ok(statuses.every((s) => s.emulator === true));

    // Instruments from the instrument channel; unknown names logged and skipped.
    const instruments = h.items.find((i) => i.type === "instruments");
    assert.ok(instruments?.type === "instruments");
    assert.deepEqual(instruments.streamed, ["BTC/USD", "ETH/USD"]);
    assert.deepEqual(
      instruments.instruments.find((i) => i.symbol === "ADA/USD"),
      {
        symbol: "ADA/USD",
        base: "ADA",
        quote: "USD",
        unified: "ADA/USD",
        pricePrecision: 6,
        quantityPrecision: 8,
        // price_increment, qty_increment, qty_min and cost_min of the instrument channel.
        tickSize: 0.000001,
        stepSize: 0.00000001,
        minQuantity: 5,
        minNotional: 0.5,
      },
    );
    assert.equal(h.logs(/unknown Kraken symbols skipped: XBT\/USD/).length, 1);

    // Subscriptions as the emulator saw them.
    assert.deepEqual(h.emu.subscriptions()[0].sort(), [
      "book:BTC/USD@25",
      "book:ETH/USD@25",
      "instrument",
      "ohlc:BTC/USD@1",
      "ohlc:ETH/USD@1",
      "ticker:BTC/USD",
      "ticker:ETH/USD",
      "trade:BTC/USD",
      "trade:ETH/USD",
    ]);

    for (const s of ["BTC/USD", "ETH/USD"]) {
      for (const t of h.trades(s)) {
        const raw = t.raw as Record<string, unknown>;
        assert.deepEqual(
          [t.price, t.quantity, t.side, t.tradeId, t.eventTime],
          [raw.price, raw.qty, raw.side, raw.trade_id, Date.parse(raw.timestamp as string)],
        );
      }
      for (const q of h.quotes(s)) {
        const raw = q.raw as Record<string, number>;
        assert.deepEqual(
          [q.bidPrice, q.bidQuantity, q.askPrice, q.askQuantity],
          [raw.bid, raw.bid_qty, raw.ask, raw.ask_qty],
        );
        assert.ok(q.bidPrice < q.askPrice);
      }
      for (const k of h.klines(s)) {
        assert.equal(k.interval, "1m");
        assert.equal(k.openTime, Date.parse((k.raw as { interval_begin: string }).interval_begin));
        assert.equal(k.closeTime - k.openTime, 59_999);
      }
      assert.equal(h.books(s)[0].snapshot, true);
      assert.deepEqual(h.bookStatuses(s).map((b) => b.state), ["syncing", "synced"]);
      await assertBookMatchesEmulator(h, s, 25);
      await h.until(
        () => h.trades(s).at(-1)?.tradeId === h.emu.lastTradeId(s),
        `${s}: the last trade delivered`,
      );
      assertTradesWhole(h, s);
    }
    assert.equal(h.malformed().length, 0);
    assert.equal(h.logs(/checksum mismatch/).length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a corrupted checksum: resyncing, unsubscribe + subscribe, a fresh snapshot, and the book is equal again", async () => {
  const h = await startFeed({
    symbols: ["BTC/USD"],
    channels: ["book"],
    config: { bookDepth: 10 },
  });
  try {
    await h.until(() => h.bookStatuses("BTC/USD").some((b) => b.state === "synced"), "synced");
    await h.until(() => h.books("BTC/USD").length > 5, "book updates");
    h.emu.faults.corruptChecksum("BTC/USD");
    await h.until(
      () => h.bookStatuses("BTC/USD").some((b) => b.state === "resyncing"),
      "resyncing",
    );
    const resync = h.bookStatuses("BTC/USD").find((b) => b.state === "resyncing")!;
    assert.match(resync.reason!, /update checksum mismatch: expected \d+, computed \d+/);
    await h.until(() => h.bookStatuses("BTC/USD").at(-1)?.state === "synced", "synced again");
    assert.deepEqual(
      h.bookStatuses("BTC/USD").map((b) => b.state),
      ["syncing", "synced", "resyncing", "synced"],
    );
    const afterResync = h.items.slice(h.items.indexOf(resync as FeedItem));
    const fresh = afterResync.find((i) => i.type === "book");
    assert.ok(fresh?.type === "book" && fresh.snapshot, "the next book event is a fresh snapshot");
    assert.deepEqual(h.emu.subscriptions()[0].filter((s) => s.startsWith("book")), [
      "book:BTC/USD@10",
    ]);
    assert.equal(h.logs(/^unsubscribe book BTC\/USD: acknowledged$/).length, 1);
    assert.equal(h.logs(/^subscribe book BTC\/USD: acknowledged$/).length, 2);
    assert.equal(h.logs(/failed/).length, 0, "no refused request (no 'Already subscribed')");
    assert.equal(h.emu.totalConnections(), 1, "resynced without reconnecting");
    await h.until(
      () => h.books("BTC/USD").at(-1)?.snapshot === false,
      "updates after the snapshot",
    );
    await assertBookMatchesEmulator(h, "BTC/USD", 10);
  } finally {
    await h.close();
  }
});

Deno.test("after an abrupt drop the feed reconnects, reports it, resyncs the book, and data resumes", async () => {
  const h = await startFeed({ symbols: ["BTC/USD"], channels: ["trade", "book"] });
  try {
    await h.until(() => h.trades("BTC/USD").length > 5 && h.books("BTC/USD").length > 3, "data");
    const before = h.trades("BTC/USD").length;
    const droppedAt = Date.now();
    h.emu.faults.refuseConnections(400); // trades happen while the feed is away
    h.emu.faults.dropConnections({ abrupt: true });
    await h.until(() => h.statuses().some((s) => s.state === "reconnecting"), "reconnecting");
    await h.until(
      () => h.statuses().at(-1)?.state === "connected" && h.trades("BTC/USD").length > before + 5,
      "reconnected and trades flowing",
    );
    const reconnecting = h.statuses().find((s) => s.state === "reconnecting")!;
    assert.match(reconnecting.reason!, /connection closed.*reconnect #1 in \d+ ms/);
    assert.equal(h.emu.totalConnections(), 2);
    assert.equal(h.emu.connectionCount(), 1);
    assert.deepEqual(h.bookStatuses("BTC/USD").map((b) => b.state), [
      "syncing",
      "synced",
      "resyncing",
      "synced",
    ]);
    assert.equal(h.books("BTC/USD").filter((b) => b.snapshot).length, 2);
    assertTradesWhole(h, "BTC/USD");
    const away = h.trades("BTC/USD").filter((t) =>
      t.eventTime > droppedAt + 20 && t.eventTime < droppedAt + 350
    );
    assert.ok(away.length > 0, "trades made while disconnected were delivered");
    assert.deepEqual(h.gaps("BTC/USD"), [], "…from the trade snapshot requested on reconnect");
    const ids = h.trades("BTC/USD").map((t) => t.tradeId as number);
    assert.ok(ids.every((id, i) => i === 0 || id === ids[i - 1] + 1), "every trade exactly once");
    await assertBookMatchesEmulator(h, "BTC/USD", 25);
  } finally {
    await h.close();
  }
});

Deno.test("malformed frames are counted and never forwarded", async () => {
  const h = await startFeed({
    symbols: ["BTC/USD"],
    channels: ["trade", "book", "quote", "kline"],
  });
  try {
    await h.until(() => h.trades("BTC/USD").length > 2, "trades");
    h.emu.pause();
    h.emu.faults.sendMalformed(10);
    await h.until(() => h.malformed().length === 10, "10 malformed reports");
    // Everything sent before the malformed frames (in flight at the pause) is in by now;
    // nothing is sent after them, so any market item past the first report came from them.
    const events = h.items.findIndex((i) => i.type === "malformed");
    await assertQuietFor(
      100,
      "malformed report beyond the 10 sent",
      () => h.malformed().length > 10,
    );
    assert.ok(h.malformed().every((m) => m.frame !== undefined && m.reason.length > 0));
    const forwarded = h.items.slice(events).filter((i) =>
      ["trade", "quote", "kline", "book"].includes(i.type)
    );
    assert.deepEqual(forwarded, [], "nothing from the malformed frames reached the output");
    assert.ok(!h.statuses().some((s) => s.state === "reconnecting"));
    assert.equal(h.bookStatuses("BTC/USD").at(-1)?.state, "synced");
  } finally {
    await h.close();
  }
});

Deno.test("application pings are answered and keep the connection past Kraken's idle timeout", async (t) => {
  await t.step(
    "pinging every 100 ms: pongs matched by req_id, one connection throughout",
    async () => {
      const h = await startFeed({
        emulator: { idleTimeoutMs: 400 },
        symbols: ["BTC/USD"],
        channels: ["trade"],
        config: { pingIntervalMs: 100, pongTimeoutMs: 1000 },
      });
      try {
        // Ten pongs take over 1 s: well past the emulator's 400 ms idle timeout.
        await h.until(
          () => h.logs(/^pong \d+ after \d+ ms$/).length >= 10,
          "10 pongs (over 1 s of pinging every 100 ms)",
        );
        assert.equal(h.emu.totalConnections(), 1);
        assert.ok(!h.statuses().some((s) => s.state !== "connecting" && s.state !== "connected"));
      } finally {
        await h.close();
      }
    },
  );

  await t.step(
    "without pings the emulator closes the idle connection (and the feed reconnects)",
    async () => {
      const h = await startFeed({
        emulator: { idleTimeoutMs: 400 },
        symbols: ["BTC/USD"],
        channels: ["trade"],
        config: { pingIntervalMs: 60_000 },
      });
      try {
        await h.until(() => h.emu.totalConnections() >= 2, "a second connection", 3000);
        assert.match(
          h.statuses().find((s) => s.state === "reconnecting")!.reason!,
          /code 1000 idle timeout/,
        );
      } finally {
        await h.close();
      }
    },
  );
});

Deno.test("silence is reported as stale, the feed reconnects and recovers", async () => {
  const h = await startFeed({
    symbols: ["BTC/USD"],
    channels: ["trade"],
    config: { deadAfterMs: 300 },
  });
  try {
    await h.until(() => h.trades("BTC/USD").length > 2, "trades");
    h.emu.faults.silence(700);
    await h.until(() => h.statuses().some((s) => s.state === "stale"), "stale");
    assert.match(h.statuses().find((s) => s.state === "stale")!.reason!, /no data for \d+ ms/);
    const count = h.trades("BTC/USD").length;
    await h.until(
      () => h.statuses().at(-1)?.state === "connected" && h.trades("BTC/USD").length > count + 3,
      "recovered",
      4000,
    );
    assert.ok(h.emu.totalConnections() >= 2);
    assertTradesWhole(h, "BTC/USD");
  } finally {
    await h.close();
  }
});

Deno.test("maintenance: reported as stale, reconnects no faster than maintenanceRetryMs, then online", async (t) => {
  await t.step("status maintenance then online on the same connection", async () => {
    const h = await startFeed({ symbols: ["BTC/USD"], channels: ["trade"] });
    try {
      await h.until(() => h.trades("BTC/USD").length > 0, "trades");
      h.emu.faults.maintenance(300);
      await h.until(() => h.statuses().some((s) => s.state === "stale"), "stale");
      assert.equal(
        h.statuses().find((s) => s.state === "stale")!.reason,
        "exchange status: maintenance",
      );
      await h.until(
        () => h.statuses().at(-1)?.reason === "exchange status: online",
        "online again",
      );
      assert.equal(h.statuses().at(-1)?.state, "connected");
      assert.equal(h.emu.totalConnections(), 1);
    } finally {
      await h.close();
    }
  });

  await t.step("with disconnect: every retry waits at least maintenanceRetryMs", async () => {
    const h = await startFeed({
      symbols: ["BTC/USD"],
      channels: ["trade"],
      config: { maintenanceRetryMs: 400, immediateRetries: 3 },
    });
    try {
      await h.until(() => h.trades("BTC/USD").length > 0, "trades");
      const dropped = Date.now();
      h.emu.faults.maintenance(500, { disconnect: true });
      await h.until(
        () => h.emu.totalConnections() === 2 && h.statuses().at(-1)?.state === "connected",
        "reconnected",
        4000,
      );
      const took = Date.now() - dropped;
      assert.ok(
        took >= 800,
        `reconnected after ${took} ms (refused at 400 ms, accepted at 800 ms)`,
      );
      const retries = h.statuses().filter((s) => s.state === "reconnecting");
      assert.ok(retries.length >= 2);
      for (const r of retries) assert.match(r.reason!, /in (4\d\d|[5-9]\d\d) ms \(maintenance/);
    } finally {
      await h.close();
    }
  });
});

Deno.test("with no known symbol the feed reports failed after publishing the instruments", async () => {
  const h = await startFeed({ symbols: ["XBT/USD"] });
  try {
    await h.until(() => h.statuses().some((s) => s.state === "failed"), "failed");
    const instruments = h.items.find((i) => i.type === "instruments");
    assert.ok(instruments?.type === "instruments" && instruments.streamed.length === 0);
    assert.equal(instruments.instruments.length, 3);
    await h.until(() => h.emu.connectionCount() === 0, "socket closed");
  } finally {
    await h.close();
  }
});

Deno.test("the plugin runs in a Worker that may reach only its declared host", async () => {
  const emu = await startKrakenEmulator({ symbols: ["BTC/USD"], tickMs: 20, tradesPerSecond: 30 });
  try {
    assert.deepEqual(kraken.hosts(kraken.configSchema.parse({})), ["ws.kraken.com:443"]);
    await assertRunsInWorkerWithDeclaredHosts({
      plugin: kraken,
      workerUrl: new URL("../../../plugins/kraken/worker.ts", import.meta.url),
      config: pluginConfig(kraken, { KRAKEN_WS_URL: emu.wsUrl, KRAKEN_BOOK_DEPTH: "10" }),
      symbols: ["BTC/USD"],
      channels: ["trade", "book"],
      host: `127.0.0.1:${emu.port}`,
      eventTypes: ["trade", "book"],
    });
  } finally {
    await emu.close();
  }
});

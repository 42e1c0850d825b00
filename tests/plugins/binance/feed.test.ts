import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import {
  type BookStatusUpdate,
  type BookUpdate,
  type Channel,
  createFeedContext,
  type FeedItem,
  type FeedLogger,
  type GapEvent,
  type KlineEvent,
  type QuoteEvent,
  topN,
  type TradeEvent,
} from "../../../mod.ts";
import { pluginConfig } from "../../../core/ingest/plugin_config.ts";
import { assertQuietFor, waitFor } from "../../helpers.ts";
import {
  assertRunsInWorkerWithDeclaredHosts,
  type EmulatedFeedRun,
  runFeedAgainst,
} from "../feed_harness.ts";
import { startBinanceEmulator } from "../../../plugins/binance/emulator/mod.ts";
import type {
  BinanceEmulator,
  BinanceEmulatorOptions,
} from "../../../plugins/binance/emulator/types.ts";
import { binance, runBinanceFeed } from "../../../plugins/binance/mod.ts";
import { createSendLimiter as createLimitedSender } from "../../../mod.ts";
import { createDepthSync } from "../../../plugins/binance/depth_sync.ts";
import { createTradeTracker, type HistoryPage } from "../../../plugins/binance/trades.ts";
import { combinedStreamUrl, planConnections } from "../../../plugins/binance/streams.ts";

// ---------------------------------------------------------------- harness

/** One REST request the feed made, as the test's fetch wrapper saw it. */
interface SeenRequest {
  path: string;
  params: URLSearchParams;
  sentAt: number;
  status?: number;
  answeredAt?: number;
}

/** A feed running against a fresh emulator, everything it emitted, and its REST requests. */
type Harness = EmulatedFeedRun<BinanceEmulator> & { requests: SeenRequest[] };

const QUIET_LOG: FeedLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function startFeed(options: {
  emulator?: BinanceEmulatorOptions;
  symbols?: string[];
  channels?: Channel[];
  config?: Record<string, unknown>;
} = {}): Promise<Harness> {
  const emu = await startBinanceEmulator({
    symbols: ["BTCUSDT", "ETHUSDT"],
    tickMs: 20,
    tradesPerSecond: 40,
    ...options.emulator,
  });
  const requests: SeenRequest[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const seen: SeenRequest = { path: url.pathname, params: url.searchParams, sentAt: Date.now() };
    requests.push(seen);
    const res = await fetch(input, init);
    seen.status = res.status;
    seen.answeredAt = Date.now();
    return res;
  };
  const config = binance.configSchema.parse({
    wsUrl: emu.wsUrl,
    restUrl: emu.restUrl,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    backfillDelayMs: 30,
    connectTimeoutMs: 2000,
    handoverTimeoutMs: 2000,
    staleMs: { trade: 3000, quote: 2000, book: 2000, kline: 5000 },
    ...options.config,
  });
  return {
    ...runFeedAgainst(emu, {
      plugin: binance,
      config,
      symbols: options.symbols ?? ["BTCUSDT", "ETHUSDT"],
      channels: options.channels ?? ["trade", "quote", "kline", "book"],
      run: (ctx) => runBinanceFeed(ctx, { fetch: recordingFetch }),
    }),
    requests,
  };
}

/** The emulator's own book, as numbers, best first, top `n` levels. */
function emulatorTop(emu: BinanceEmulator, symbol: string, n: number) {
  const b = emu.book(symbol);
  const num = (levels: [string, string][]) =>
    levels.slice(0, n).map(([p, q]) => [Number(p), Number(q)]);
  return { lastUpdateId: b.lastUpdateId, bids: num(b.bids), asks: num(b.asks) };
}

/** Every update after a snapshot continues the previous one (U <= last u + 1 < u + 1). */
function assertBookChain(items: readonly FeedItem[], symbol: string): void {
  let last: number | undefined;
  for (const item of items) {
    if (item.type !== "book" || item.symbol !== symbol) continue;
    if (item.snapshot) {
      last = item.updateId;
      continue;
    }
    assert.ok(last !== undefined, "an update before any snapshot");
    assert.ok(
      item.firstUpdateId! <= last + 1,
      `update U=${item.firstUpdateId} after book id ${last}`,
    );
    assert.ok(item.updateId! > last, `update u=${item.updateId} not newer than ${last}`);
    last = item.updateId;
  }
}

/** Pauses the market, waits for the last depth event, and compares the books level by level. */
async function assertBookMatchesEmulator(h: Harness, symbol: string, limit = 1000): Promise<void> {
  h.emu.pause();
  await h.until(
    () => h.book(symbol).updateId === h.emu.book(symbol).lastUpdateId,
    `${symbol} book to reach the emulator's last update id`,
  );
  const ours = topN(h.book(symbol), limit);
  const theirs = emulatorTop(h.emu, symbol, limit);
  assert.ok(theirs.bids.length > 10 && theirs.asks.length > 10, "the emulator book has depth");
  assert.deepEqual(ours.bids, theirs.bids);
  assert.deepEqual(ours.asks, theirs.asks);
  assertBookChain(h.items, symbol);
}

/** Trade ids delivered for `symbol` are consecutive, each exactly once. */
function assertEveryTradeOnce(h: Harness, symbol: string): number[] {
  const ids = h.trades(symbol).map((t) => t.tradeId as number);
  assert.ok(ids.length > 0, `no ${symbol} trades`);
  for (let i = 1; i < ids.length; i++) {
    assert.equal(
      ids[i],
      ids[i - 1] + 1,
      `${symbol} trade ids jump from ${ids[i - 1]} to ${ids[i]}`,
    );
  }
  return ids;
}

/** Waits until the feed has delivered every trade the (paused) emulator generated. */
async function settleTrades(h: Harness, symbol: string): Promise<void> {
  h.emu.pause();
  await h.until(
    () => h.trades(symbol).at(-1)?.tradeId === h.emu.lastTradeId(symbol),
    `${symbol} trades up to ${h.emu.lastTradeId(symbol)}`,
  );
}

// ---------------------------------------------------------------- units

Deno.test("control messages go out at most 5 per second, in order", () => {
  const clock = FakeTimers.withGlobal(globalThis).install({
    now: 0,
    toFake: ["setTimeout", "clearTimeout"],
  });
  try {
    const sent: [number, string][] = [];
    const sender = createLimitedSender((m) => sent.push([clock.now, m]), 5, () => clock.now);
    for (let i = 0; i < 12; i++) sender.send(`m${i}`);
    assert.equal(sent.length, 5, "the first five go at once");
    assert.equal(sender.pending, 7);
    clock.tick(999);
    assert.equal(sent.length, 5, "nothing more within the same second");
    clock.tick(1);
    assert.equal(sent.length, 10);
    clock.tick(1000);
    assert.deepEqual(sent.map(([, m]) => m), Array.from({ length: 12 }, (_, i) => `m${i}`));
    assert.deepEqual(sent.map(([t]) => t), [
      0,
      0,
      0,
      0,
      0,
      1000,
      1000,
      1000,
      1000,
      1000,
      2000,
      2000,
    ]);
    sender.send("a");
    sender.send("b");
    sender.send("c");
    sender.close();
    assert.equal(sender.pending, 0, "close drops what still waits");
  } finally {
    clock.uninstall();
  }
});

Deno.test("streams are split over connections without splitting a symbol", () => {
  const plans = planConnections(["AUSDT", "BUSDT", "CUSDT"], ["trade", "book"], {
    klineInterval: "1m",
    depthSpeed: "100ms",
  }, 5);
  assert.deepEqual(plans, [
    {
      symbols: ["AUSDT", "BUSDT"],
      streams: ["ausdt@trade", "ausdt@depth@100ms", "busdt@trade", "busdt@depth@100ms"],
    },
    { symbols: ["CUSDT"], streams: ["cusdt@trade", "cusdt@depth@100ms"] },
  ]);
  assert.equal(
    combinedStreamUrl("wss://stream.binance.com:9443/", ["a@trade", "b@kline_1m"]),
    "wss://stream.binance.com:9443/stream?streams=a@trade/b@kline_1m",
  );
});

/** A diff event as the mapper produces it. */
function diff(
  U: number,
  u: number,
  bids: [number, number][] = [],
  asks: [number, number][] = [],
): BookUpdate {
  return {
    type: "book",
    exchange: "binance",
    symbol: "BTCUSDT",
    eventTime: 1,
    receiveTime: 1,
    snapshot: false,
    bids,
    asks,
    firstUpdateId: U,
    updateId: u,
    timestamp: "",
  };
}

Deno.test("depth sync follows Binance's documented procedure", async (t) => {
  const setup = (snapshots: number[]) => {
    const emitted: BookUpdate[] = [];
    const statuses: BookStatusUpdate[] = [];
    const fetched: number[] = [];
    let release: (() => void) | undefined;
    const abort = new AbortController();
    const sync = createDepthSync({
      symbol: "BTCUSDT",
      fetchSnapshot: () => {
        const lastUpdateId = snapshots.shift()!;
        fetched.push(lastUpdateId);
        return new Promise((resolve) => {
          release = () => resolve({ lastUpdateId, bids: [[100, 1]], asks: [[101, 1]] });
        });
      },
      emit: (u) => emitted.push(u),
      bookStatus: (s) => statuses.push(s),
      retryDelayMs: () => 0,
      maxBuffered: 100,
      now: () => 1,
      log: QUIET_LOG,
      signal: abort.signal,
    });
    /** Answers the pending snapshot request and waits until the sync has acted on it. */
    const answer = async () => {
      const before = { emitted: emitted.length, fetched: fetched.length };
      release!();
      await waitFor(
        () => emitted.length > before.emitted || fetched.length > before.fetched,
        5000,
        "the snapshot to be applied or fetched again",
      );
    };
    return { sync, emitted, statuses, fetched, answer, abort };
  };
  const ids = (updates: BookUpdate[]) =>
    updates.map((u) => u.snapshot ? `S${u.updateId}` : `${u.firstUpdateId}-${u.updateId}`);

  await t.step(
    "buffered events up to the snapshot are dropped; the straddling one applies first",
    async () => {
      const s = setup([105]);
      s.sync.onEvent(diff(101, 103));
      s.sync.onEvent(diff(104, 107));
      s.sync.onEvent(diff(108, 110));
      await s.answer();
      assert.deepEqual(ids(s.emitted), ["S105", "104-107", "108-110"]);
      assert.deepEqual(s.statuses.map((x) => x.state), ["syncing", "synced"]);
      s.abort.abort();
    },
  );

  await t.step("a snapshot older than the first buffered U is fetched again", async () => {
    const s = setup([99, 104]);
    s.sync.onEvent(diff(101, 103));
    s.sync.onEvent(diff(104, 107));
    await s.answer(); // 99 < 101: refetch
    await s.answer();
    assert.deepEqual(s.fetched, [99, 104]);
    assert.deepEqual(ids(s.emitted), ["S104", "104-107"]);
    s.abort.abort();
  });

  await t.step("duplicates and older events are ignored, not treated as gaps", async () => {
    const s = setup([103]);
    s.sync.onEvent(diff(101, 103));
    await s.answer();
    s.sync.onEvent(diff(104, 105));
    s.sync.onEvent(diff(104, 105)); // duplicate
    s.sync.onEvent(diff(102, 103)); // older than the book
    s.sync.onEvent(diff(106, 106));
    assert.deepEqual(ids(s.emitted), ["S103", "104-105", "106-106"]);
    assert.ok(!s.statuses.some((x) => x.state === "resyncing"));
    s.abort.abort();
  });

  await t.step("a hole in U/u discards the book and resyncs from a new snapshot", async () => {
    const s = setup([103, 109]);
    s.sync.onEvent(diff(101, 103));
    await s.answer();
    s.sync.onEvent(diff(106, 108)); // 104-105 missed
    assert.equal(s.statuses.at(-1)?.state, "resyncing");
    assert.match(s.statuses.at(-1)?.reason ?? "", /missed depth events/);
    s.sync.onEvent(diff(109, 111));
    await s.answer();
    assert.deepEqual(ids(s.emitted), ["S103", "S109", "109-111"]);
    assert.equal(s.statuses.at(-1)?.state, "synced");
    s.abort.abort();
  });

  await t.step("after a reconnect the book stays only if the next event continues it", async () => {
    const s = setup([103]);
    s.sync.onEvent(diff(101, 103));
    await s.answer();
    s.sync.onDisconnect("connection lost");
    assert.equal(s.statuses.at(-1)?.state, "resyncing");
    s.sync.onEvent(diff(104, 106));
    assert.equal(s.statuses.at(-1)?.state, "synced");
    assert.deepEqual(ids(s.emitted), ["S103", "104-106"]);
    s.abort.abort();
  });
});

function trade(id: number, live = true): TradeEvent {
  return {
    type: "trade",
    exchange: "binance",
    symbol: "BTCUSDT",
    eventTime: id,
    receiveTime: id,
    price: 1,
    quantity: 1,
    timestamp: "",
    tradeId: id,
    side: "buy",
    raw: live ? { e: "trade" } : { id },
  };
}

Deno.test("trade tracker", async (t) => {
  const setup = (history: (fromId: number, limit: number) => HistoryPage) => {
    const out: (TradeEvent | GapEvent)[] = [];
    const calls: [number, number][] = [];
    const abort = new AbortController();
    const tracker = createTradeTracker({
      symbol: "BTCUSDT",
      emit: (e) => out.push(e),
      fetchHistory: (fromId, limit) => {
        calls.push([fromId, limit]);
        return Promise.resolve(history(fromId, limit));
      },
      backfillDelayMs: 1, // a grace period: trades that arrive meanwhile need no REST call
      backfillAttempts: 2,
      retryDelayMs: () => 0,
      maxHeld: 1000,
      now: () => 0,
      log: QUIET_LOG,
      signal: abort.signal,
    });
    /** Waits until `done` holds; the machine may be busy. */
    const settle = (done: () => boolean) => waitFor(done, 5000);
    const seq = () => out.map((e) => e.type === "trade" ? e.tradeId : `gap ${e.fromId}-${e.toId}`);
    return { tracker, out, calls, abort, settle, seq };
  };

  await t.step(
    "a hole is backfilled and delivered before the held live trades, without duplicates",
    async () => {
      const s = setup((fromId, limit) => ({
        ok: true,
        trades: Array.from({ length: limit }, (_, i) => trade(fromId + i, false)),
      }));
      for (const id of [10, 11, 14, 15, 15, 12]) s.tracker.onLive(trade(id));
      await s.settle(() => s.out.length === 6);
      s.tracker.onLive(trade(16));
      assert.deepEqual(s.seq(), [10, 11, 12, 13, 14, 15, 16]);
      assert.deepEqual(s.calls, [[13, 1]], "12 arrived live; only 13 was fetched");
      assert.deepEqual(
        (s.out[3] as TradeEvent).raw,
        { id: 13 },
        "the backfilled trade carries the REST object",
      );
      s.abort.abort();
    },
  );

  await t.step("history that is gone becomes a gap event, then delivery goes on", async () => {
    const s = setup((_fromId, _limit) => ({ ok: true, trades: [trade(4, false)] }));
    s.tracker.onLive(trade(1));
    s.tracker.onLive(trade(6));
    await s.settle(() => s.out.length === 5);
    assert.deepEqual(s.seq(), [1, "gap 2-3", 4, "gap 5-5", 6]);
    s.abort.abort();
  });

  await t.step("a failing REST call is retried, then reported as a gap", async () => {
    const s = setup(() => ({ ok: false, reason: "HTTP 503", retryable: true }));
    s.tracker.onLive(trade(1));
    s.tracker.onLive(trade(3));
    await s.settle(() => s.out.length === 3);
    assert.equal(s.calls.length, 2);
    assert.deepEqual(s.seq(), [1, "gap 2-2", 3]);
    assert.match((s.out[1] as GapEvent).reason, /HTTP 503/);
    s.abort.abort();
  });
});

// ---------------------------------------------------------------- against the emulator

Deno.test("the feed delivers exactly what the emulator sends, normalized", async () => {
  const h = await startFeed({ symbols: ["BTCUSDT", "ETH/USDT", "NOPEUSDT"] });
  // An independent client on the same streams sees the raw frames.
  const raw = new Map<string, Record<string, unknown>[]>();
  const observer = new WebSocket(
    `${h.emu.wsUrl}/stream?streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@kline_1m/btcusdt@depth@100ms`,
  );
  const observerClosed = new Promise((r) => observer.addEventListener("close", r));
  observer.onmessage = (e) => {
    const { stream, data } = JSON.parse(e.data);
    if (!raw.has(stream)) raw.set(stream, []);
    raw.get(stream)!.push(data);
  };
  try {
    const rawKlineOf = (k: FeedItem) =>
      k.type === "kline" && k.symbol === "BTCUSDT"
        ? (raw.get("btcusdt@kline_1m") ?? []).find((d) => d.E === k.eventTime)
        : undefined;
    await h.until(
      () => h.items.some((i) => rawKlineOf(i) !== undefined) && h.trades("BTCUSDT").length > 20,
      "trades and a kline both clients saw",
      5000,
    );
    const status = h.statuses();
    assert.ok(
      status.length > 0 && status.every((s) => s.emulator === true),
      "every status says emulator",
    );
    assert.ok(h.logs(/EMULATOR/).length === 1, "the log says plainly that this is the emulator");
    assert.ok(h.logs(/unknown Binance symbols skipped: NOPEUSDT/).length === 1);

    const instruments = h.items.find((i) => i.type === "instruments");
    assert.ok(instruments?.type === "instruments");
    assert.deepEqual(instruments.streamed, ["BTCUSDT", "ETHUSDT"]);
    const info = await (await fetch(`${h.emu.restUrl}/api/v3/exchangeInfo?symbol=BTCUSDT`)).json();
    const tick: string = info.symbols[0].filters.find((f: { filterType: string }) =>
      f.filterType === "PRICE_FILTER"
    ).tickSize;
    const btc = instruments.instruments.find((i) => i.symbol === "BTCUSDT")!;
    assert.equal(btc.unified, "BTC/USDT");
    assert.equal(btc.pricePrecision, tick.replace(/0+$/, "").split(".")[1]?.length ?? 0);
    // PRICE_FILTER.tickSize, LOT_SIZE.stepSize/minQty/maxQty and NOTIONAL.minNotional.
    assert.deepEqual(
      [btc.tickSize, btc.stepSize, btc.minQuantity, btc.maxQuantity, btc.minNotional],
      [0.01, 0.00001, 0.00001, 9000, 5],
    );

    const rawTrades = new Map((raw.get("btcusdt@trade") ?? []).map((d) => [d.t, d]));
    let compared = 0;
    for (const t of h.trades("BTCUSDT")) {
      const d = rawTrades.get(t.tradeId);
      if (!d) continue;
      compared++;
      assert.equal(t.price, Number(d.p));
      assert.equal(t.quantity, Number(d.q));
      assert.equal(t.eventTime, d.E);
      assert.equal(t.timestamp, new Date(d.T as number).toISOString());
      assert.equal(t.side, d.m ? "sell" : "buy");
    }
    assert.ok(compared > 10, `compared ${compared} trades`);

    const rawQuotes = new Map((raw.get("btcusdt@bookTicker") ?? []).map((d) => [d.u, d]));
    const quotes = h.items.filter((i): i is QuoteEvent =>
      i.type === "quote" && i.symbol === "BTCUSDT"
    );
    const matched = quotes.filter((q) => rawQuotes.has(q.updateId));
    assert.ok(matched.length > 10);
    for (const q of matched) {
      const d = rawQuotes.get(q.updateId)!;
      assert.deepEqual(
        [q.bidPrice, q.bidQuantity, q.askPrice, q.askQuantity],
        [Number(d.b), Number(d.B), Number(d.a), Number(d.A)],
      );
    }

    const rawDepth = new Map((raw.get("btcusdt@depth@100ms") ?? []).map((d) => [d.u, d]));
    const diffs = h.items.filter((i): i is BookUpdate =>
      i.type === "book" && !i.snapshot && i.symbol === "BTCUSDT"
    );
    const matchedDiffs = diffs.filter((u) => rawDepth.has(u.updateId));
    assert.ok(matchedDiffs.length > 3);
    for (const u of matchedDiffs) {
      const d = rawDepth.get(u.updateId)!;
      assert.equal(u.firstUpdateId, d.U);
      assert.equal(u.eventTime, d.E);
      const levels = (l: unknown) => (l as string[][]).map(([p, q]) => [Number(p), Number(q)]);
      assert.deepEqual(u.bids, levels(d.b));
      assert.deepEqual(u.asks, levels(d.a));
    }

    const kline = h.items.find((i): i is KlineEvent => rawKlineOf(i) !== undefined)!;
    const k = rawKlineOf(kline)!.k as Record<string, string | number | boolean>;
    assert.deepEqual(
      [
        kline.interval,
        kline.openTime,
        kline.closeTime,
        kline.open,
        kline.high,
        kline.low,
        kline.close,
      ],
      [k.i, k.t, k.T, Number(k.o), Number(k.h), Number(k.l), Number(k.c)],
    );
    assert.deepEqual(
      [kline.volume, kline.quoteVolume, kline.trades, kline.closed],
      [Number(k.v), Number(k.q), k.n, k.x],
    );
    assert.equal(h.malformed().length, 0);
  } finally {
    observer.close();
    await observerClosed;
    await h.close();
  }
});

Deno.test("after the emulator drops the connection the feed reconnects, reports it, and no trade is lost or doubled", async () => {
  const h = await startFeed({ channels: ["trade", "book"] });
  try {
    await h.until(() => h.trades("BTCUSDT").length > 10, "first trades");
    h.emu.faults.dropConnections({ abrupt: true });
    await h.until(
      () =>
        h.statuses().some((s) => s.state === "reconnecting") &&
        h.statuses().at(-1)?.state === "connected",
      "reconnect",
    );
    const reconnecting = h.statuses().find((s) => s.state === "reconnecting")!;
    assert.match(reconnecting.reason ?? "", /reconnect #1/);
    const before = h.emu.lastTradeId("BTCUSDT");
    await h.until(
      () => (h.trades("BTCUSDT").at(-1)?.tradeId as number) > before + 5,
      "trades after the reconnect",
    );
    assert.equal(h.emu.totalConnections(), 2);
    await settleTrades(h, "BTCUSDT");
    await settleTrades(h, "ETHUSDT");
    assertEveryTradeOnce(h, "BTCUSDT");
    assertEveryTradeOnce(h, "ETHUSDT");
    assert.equal(h.gaps("BTCUSDT").length + h.gaps("ETHUSDT").length, 0);
    await assertBookMatchesEmulator(h, "BTCUSDT");
  } finally {
    await h.close();
  }
});

Deno.test("a trade skipped on the stream is backfilled over REST, in order, exactly once", async () => {
  const h = await startFeed({ channels: ["trade"] });
  try {
    await h.until(() => h.trades("BTCUSDT").length > 5, "first trades");
    h.emu.faults.skipTrade("BTCUSDT");
    const skippedAfter = h.emu.lastTradeId("BTCUSDT");
    await h.until(
      () => h.requests.some((r) => r.path === "/api/v3/historicalTrades"),
      "a backfill request",
    );
    await settleTrades(h, "BTCUSDT");
    assertEveryTradeOnce(h, "BTCUSDT");
    const backfilled = h.trades("BTCUSDT").filter((t) => !("e" in (t.raw as object)));
    assert.equal(backfilled.length, 1, "exactly the skipped trade came from REST");
    assert.ok((backfilled[0].tradeId as number) > skippedAfter);
    assert.ok("isBuyerMaker" in (backfilled[0].raw as object), "its raw is the REST trade object");
    assert.equal(h.gaps("BTCUSDT").length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("trades missed while history is forgotten are reported as a gap, never hidden", async () => {
  const h = await startFeed({ channels: ["trade"], symbols: ["BTCUSDT"] });
  try {
    await h.until(() => h.trades("BTCUSDT").length > 5, "first trades");
    h.emu.faults.refuseConnections(400);
    h.emu.faults.dropConnections({ abrupt: true });
    const lastSeen = h.emu.lastTradeId("BTCUSDT");
    await h.until(() => h.emu.lastTradeId("BTCUSDT") > lastSeen + 3, "trades during the outage");
    h.emu.faults.forgetTradeHistory("BTCUSDT");
    const forgottenUpTo = h.emu.lastTradeId("BTCUSDT"); // REST no longer serves ids <= this
    await h.until(() => h.gaps("BTCUSDT").length > 0, "a gap event", 4000);
    const gap = h.gaps("BTCUSDT")[0];
    const delivered = h.trades("BTCUSDT").map((t) => t.tradeId as number);
    assert.equal(
      gap.fromId,
      delivered.filter((id) => id < gap.fromId).at(-1)! + 1,
      "the gap starts right after the last delivered trade",
    );
    assert.equal(gap.toId, forgottenUpTo, "exactly the ids that are really gone are in the gap");
    assert.equal(gap.channel, "trade");
    await settleTrades(h, "BTCUSDT");
    const ids = h.trades("BTCUSDT").map((t) => t.tradeId as number);
    const covered = [
      ...ids,
      ...Array.from({ length: gap.toId - gap.fromId + 1 }, (_, i) => gap.fromId + i),
    ]
      .sort((a, b) => a - b);
    for (let i = 1; i < covered.length; i++) {
      assert.equal(covered[i], covered[i - 1] + 1, "trades + gap cover every id once");
    }
  } finally {
    await h.close();
  }
});

Deno.test("after a swallowed depth event the book resyncs and matches the emulator level by level", async () => {
  // Snapshot limit 1000 covers the emulator's 300 levels, so the whole book is known.
  const h = await startFeed({ channels: ["book"] });
  try {
    await h.until(() => h.bookStatuses("BTCUSDT").some((s) => s.state === "synced"), "first sync");
    h.emu.faults.skipDepthEvent("BTCUSDT");
    await h.until(() => h.bookStatuses("BTCUSDT").some((s) => s.state === "resyncing"), "resync");
    assert.match(
      h.bookStatuses("BTCUSDT").find((s) => s.state === "resyncing")!.reason!,
      /missed depth events/,
    );
    await h.until(() => h.bookStatuses("BTCUSDT").at(-1)?.state === "synced", "synced again");
    assert.equal(
      h.items.filter((i) => i.type === "book" && i.symbol === "BTCUSDT" && i.snapshot).length,
      2,
    );
    await assertBookMatchesEmulator(h, "BTCUSDT");
    await assertBookMatchesEmulator(h, "ETHUSDT");
  } finally {
    await h.close();
  }
});

Deno.test("duplicate and out-of-order depth events do not corrupt the book", async () => {
  const h = await startFeed({ channels: ["book"], symbols: ["BTCUSDT"] });
  try {
    await h.until(() => h.bookStatuses("BTCUSDT").some((s) => s.state === "synced"), "first sync");
    const updates = h.books("BTCUSDT").length;
    h.emu.faults.duplicateDepthEvent("BTCUSDT");
    await h.until(
      () => h.books("BTCUSDT").length >= updates + 3,
      "3 depth updates past the duplicated one",
    );
    assert.ok(
      !h.bookStatuses("BTCUSDT").some((s) => s.state === "resyncing"),
      "a duplicate is ignored, not a gap",
    );
    h.emu.faults.reorderDepthEvents("BTCUSDT");
    // Per the documented procedure a later event first is a gap: the book is discarded and rebuilt.
    await h.until(
      () => h.bookStatuses("BTCUSDT").some((s) => s.state === "resyncing"),
      "resync after reordering",
    );
    await h.until(() => h.bookStatuses("BTCUSDT").at(-1)?.state === "synced", "synced again");
    await assertBookMatchesEmulator(h, "BTCUSDT");
  } finally {
    await h.close();
  }
});

Deno.test("a stale depth snapshot is fetched again", async () => {
  const h = await startFeed({ channels: ["book"], symbols: ["BTCUSDT"], emulator: { tickMs: 10 } });
  try {
    await h.until(() => h.bookStatuses("BTCUSDT").some((s) => s.state === "synced"), "first sync");
    h.emu.faults.staleSnapshot("BTCUSDT", 2);
    h.emu.faults.skipDepthEvent("BTCUSDT");
    await h.until(
      () => h.bookStatuses("BTCUSDT").filter((s) => s.state === "synced").length === 2,
      "resynced",
    );
    const depthCalls = h.requests.filter((r) => r.path === "/api/v3/depth");
    assert.equal(depthCalls.length, 4, "1 first sync + 2 stale + 1 good");
    assert.equal(h.logs(/snapshot older than the buffered events/).length, 2);
    await assertBookMatchesEmulator(h, "BTCUSDT");
  } finally {
    await h.close();
  }
});

Deno.test("a 429 with Retry-After stops all REST calls until it expires", async () => {
  const h = await startFeed({ channels: ["book"], symbols: ["BTCUSDT", "ETHUSDT"] });
  try {
    await h.until(() => h.bookStatuses("ETHUSDT").some((s) => s.state === "synced"), "first sync");
    h.emu.faults.rateLimit({ status: 429, retryAfterSec: 1, count: 1 });
    h.emu.faults.skipDepthEvent("BTCUSDT");
    h.emu.faults.skipDepthEvent("ETHUSDT");
    await h.until(() => h.requests.some((r) => r.status === 429), "the 429");
    await h.until(
      () =>
        ["BTCUSDT", "ETHUSDT"].every((s) =>
          h.bookStatuses(s).filter((b) => b.state === "synced").length === 2
        ),
      "both books synced again",
    );
    const limited = h.requests.find((r) => r.status === 429)!;
    const after = h.requests.filter((r) => r.sentAt > limited.sentAt);
    assert.ok(after.length >= 2);
    for (const r of after) {
      assert.ok(
        r.sentAt >= limited.answeredAt! + 1000,
        `a request ${r.sentAt - limited.answeredAt!} ms after the 429`,
      );
    }
    assert.equal(h.logs(/REST 429 .* no REST request for 1000 ms/).length, 1);
  } finally {
    await h.close();
  }
});

Deno.test("serverShutdown is handled make-before-break: no trade missing or doubled, no reconnect", async () => {
  const h = await startFeed({ channels: ["trade", "book"] });
  try {
    await h.until(
      () => h.trades("BTCUSDT").length > 5 && h.bookStatuses("BTCUSDT").at(-1)?.state === "synced",
      "data",
    );
    h.emu.faults.serverShutdown(800);
    let overlapped = false;
    await h.until(() => {
      overlapped ||= h.emu.connectionCount() === 2;
      return h.statuses().some((s) => /serverShutdown/.test(s.reason ?? ""));
    }, "the switch");
    assert.ok(overlapped, "both connections were open at once");
    await h.until(
      () => h.emu.connectionCount() === 1,
      "the emulator to close the old connection (800 ms after serverShutdown)",
    );
    assert.ok(!h.statuses().some((s) => s.state === "reconnecting"), "no reconnect was needed");
    await settleTrades(h, "BTCUSDT");
    await settleTrades(h, "ETHUSDT");
    assertEveryTradeOnce(h, "BTCUSDT");
    assertEveryTradeOnce(h, "ETHUSDT");
    assert.equal(
      h.requests.filter((r) => r.path === "/api/v3/historicalTrades").length,
      0,
      "nothing needed backfill",
    );
    await assertBookMatchesEmulator(h, "BTCUSDT");
  } finally {
    await h.close();
  }
});

Deno.test("the connection is rotated make-before-break after rotateAfterMs", async () => {
  const h = await startFeed({
    channels: ["trade"],
    symbols: ["BTCUSDT"],
    config: { rotateAfterMs: 400 },
  });
  try {
    await h.until(() => h.emu.totalConnections() >= 3, "two rotations");
    await settleTrades(h, "BTCUSDT");
    assertEveryTradeOnce(h, "BTCUSDT");
    assert.ok(h.statuses().some((s) => /rotation after 400 ms/.test(s.reason ?? "")));
    assert.ok(!h.statuses().some((s) => s.state === "reconnecting"));
  } finally {
    await h.close();
  }
});

Deno.test("silence is reported as stale, the feed reconnects and recovers", async () => {
  const h = await startFeed({
    channels: ["trade", "quote"],
    config: { staleMs: { trade: 300, quote: 300, book: 300, kline: 300 } },
  });
  try {
    await h.until(() => h.trades("BTCUSDT").length > 3, "first trades");
    h.emu.faults.silence(500);
    await h.until(() => h.statuses().some((s) => s.state === "stale"), "stale", 2000);
    assert.match(h.statuses().find((s) => s.state === "stale")!.reason!, /no data for \d+ ms/);
    const stale = h.statuses().findIndex((s) => s.state === "stale");
    await h.until(
      () => h.statuses().slice(stale).some((s) => s.state === "connected"),
      "reconnected",
    );
    const n = h.trades("BTCUSDT").length;
    await h.until(() => h.trades("BTCUSDT").length > n + 5, "data again", 3000);
    assert.ok(h.emu.totalConnections() >= 2);
    await settleTrades(h, "BTCUSDT");
    assertEveryTradeOnce(h, "BTCUSDT");
  } finally {
    await h.close();
  }
});

Deno.test("a quiet market is not mistaken for a dead connection", async () => {
  const h = await startFeed({
    channels: ["trade", "quote"],
    symbols: ["BTCUSDT"],
    emulator: { tradesPerSecond: 0.01 },
    config: { staleMs: { trade: 200, quote: 2000, book: 2000, kline: 2000 } },
  });
  try {
    await h.until(
      () => h.logs(/no trade data for \d+ ms/).length > 0,
      "the quiet trade channel to be noticed",
    );
    // What is tested is that nothing happens: quotes still flow, so the connection is not stale.
    await assertQuietFor(
      300,
      "stale or reconnecting status",
      () => h.statuses().some((s) => s.state === "stale" || s.state === "reconnecting"),
    );
    assert.equal(h.emu.totalConnections(), 1);
  } finally {
    await h.close();
  }
});

Deno.test("with no known symbol the feed reports failed and waits to be stopped", async () => {
  const h = await startFeed({ symbols: ["NOPEUSDT"] });
  try {
    await h.until(() => h.statuses().some((s) => s.state === "failed"), "failed");
    assert.match(h.statuses()[0].reason ?? "", /no known symbol/);
    assert.equal(h.emu.totalConnections(), 0);
  } finally {
    await h.close();
  }
});

Deno.test("malformed frames are counted and never forwarded", async () => {
  const h = await startFeed({ channels: ["trade", "quote"] });
  try {
    await h.until(() => h.trades("BTCUSDT").length > 3, "first trades");
    h.emu.faults.sendMalformed(6);
    await h.until(() => h.malformed().length >= 6, "6 malformed reports");
    await assertQuietFor(100, "malformed report beyond the 6 sent", () => h.malformed().length > 6);
    for (const item of h.items) {
      if (item.type === "trade") {
        assert.ok(["BTCUSDT", "ETHUSDT"].includes(item.symbol));
        assert.ok(
          item.price > 0 && item.quantity > 0 && Number.isFinite(item.price + item.quantity),
        );
      }
      if (item.type === "quote") assert.ok(item.bidPrice > 0 && item.askPrice > 0);
    }
    assert.ok(h.statuses().at(-1)?.state === "connected", "the connection stays up");
  } finally {
    await h.close();
  }
});

Deno.test("server pings are answered by Deno's WebSocket, so the connection stays up", async () => {
  const h = await startFeed({
    channels: ["quote"],
    symbols: ["BTCUSDT"],
    // Pongs count towards Binance's 5 incoming messages/s, so ping no faster than ~3/s.
    emulator: { pingIntervalMs: 300, pongTimeoutMs: 500 },
  });
  try {
    await h.until(() => h.statuses().at(-1)?.state === "connected", "connected");
    // What is tested is that nothing happens over five ping intervals: no pong timeout, no reconnect.
    await assertQuietFor(
      1500,
      "reconnect",
      () => h.emu.totalConnections() !== 1 || h.statuses().some((s) => s.state === "reconnecting"),
    );
  } finally {
    await h.close();
  }
});

Deno.test("more streams than maxStreamsPerConnection open several connections", async () => {
  const symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"];
  const h = await startFeed({
    symbols,
    channels: ["trade", "quote"],
    emulator: { symbols },
    config: { maxStreamsPerConnection: 3 },
  });
  try {
    await h.until(() => h.emu.connectionCount() === 4, "four connections");
    await h.until(
      () => symbols.every((s) => h.items.some((i) => i.type === "quote" && i.symbol === s)),
      "quotes of all",
    );
    const subs = h.emu.subscriptions().map((s) => s.sort());
    assert.ok(subs.every((s) => s.length === 2));
    assert.deepEqual(
      subs.flat().sort(),
      symbols.flatMap((s) => [`${s.toLowerCase()}@bookTicker`, `${s.toLowerCase()}@trade`]).sort(),
    );
    assert.match(h.statuses()[0].reason ?? "", /^connection \d\/4: /);
  } finally {
    await h.close();
  }
});

Deno.test("the plugin object runs through createFeedContext and stops on abort", async () => {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], tickMs: 20 });
  const items: FeedItem[] = [];
  const abort = new AbortController();
  try {
    assert.deepEqual(
      binance.hosts(binance.configSchema.parse({})),
      ["stream.binance.com:9443", "api.binance.com:443"],
    );
    const config = binance.configSchema.parse({ wsUrl: emu.wsUrl, restUrl: emu.restUrl });
    const ctx = createFeedContext(
      binance,
      { symbols: ["btcusdt"], channels: ["quote"], config },
      abort.signal,
      (i) => items.push(i),
    );
    const running = binance.run(ctx);
    await waitFor(() => items.some((i) => i.type === "quote"), 3000, "a quote");
    abort.abort();
    await running;
    const last = items.at(-1);
    assert.equal(last?.type === "status" && last.state, "stopped");
    await waitFor(() => emu.connectionCount() === 0, 1000, "the feed's socket to be closed");
  } finally {
    abort.abort();
    await emu.close();
  }
});

Deno.test("the plugin runs in a Worker that may reach only its declared hosts", async () => {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], tickMs: 20 });
  try {
    await assertRunsInWorkerWithDeclaredHosts({
      plugin: binance,
      workerUrl: new URL("../../../plugins/binance/worker.ts", import.meta.url),
      config: pluginConfig(binance, {
        BINANCE_WS_URL: emu.wsUrl,
        BINANCE_REST_URL: emu.restUrl,
      }),
      symbols: ["BTCUSDT"],
      channels: ["trade", "quote"],
      host: `127.0.0.1:${emu.port}`,
      eventTypes: ["trade", "quote"],
    });
  } finally {
    await emu.close();
  }
});

/**
 * The Coinbase Advanced Trade feed: its parts (backoff, send limiter,
 * sequence check, book sync, trade and candle tracking) in isolation, then the
 * whole plugin against the emulator: what it delivers, how it resyncs after a
 * sequence gap, reconnects after drops, survives malformed frames and
 * silence, and keeps Coinbase's connection rules.
 */
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import {
  type BookStatusUpdate,
  type BookUpdate,
  type Channel,
  type FeedLogger,
  type GapEvent,
  type KlineEvent,
  type Level,
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
import { startCoinbaseEmulator } from "../../../plugins/coinbase/emulator/mod.ts";
import type {
  CoinbaseEmulator,
  CoinbaseEmulatorOptions,
} from "../../../plugins/coinbase/emulator/types.ts";
import { coinbase } from "../../../plugins/coinbase/mod.ts";
import { createSendLimiter } from "../../../mod.ts";
import { createSequenceTracker } from "../../../plugins/coinbase/sequence.ts";
import { createBookSync } from "../../../plugins/coinbase/books.ts";
import { createTradeTracker } from "../../../plugins/coinbase/trades.ts";
import { createCandleTracker } from "../../../plugins/coinbase/candles.ts";
import { planSubscriptions, subscriptionMessage } from "../../../plugins/coinbase/channels.ts";

const QUIET_LOG: FeedLogger = { debug() {}, info() {}, warn() {}, error() {} };

// ---------------------------------------------------------------- units

Deno.test("the send limiter lets at most 8 messages out per window, in order", () => {
  const clock = FakeTimers.withGlobal(globalThis).install({
    now: 0,
    toFake: ["setTimeout", "clearTimeout"],
  });
  try {
    const sent: [number, string][] = [];
    const limiter = createSendLimiter((m) => sent.push([clock.now, m]), {
      limit: 8,
      windowMs: 1100,
    }, () => clock.now);
    for (let i = 0; i < 18; i++) limiter.send(`m${i}`, i === 17 ? "level2" : undefined);
    assert.equal(sent.length, 8, "the first eight go at once");
    assert.equal(limiter.pending, 10);
    assert.ok(limiter.queued("level2") && !limiter.queued("ticker"));
    clock.tick(1099);
    assert.equal(sent.length, 8, "nothing more within the window");
    clock.tick(1);
    assert.equal(sent.length, 16);
    clock.tick(1100);
    assert.deepEqual(sent.map(([, m]) => m), Array.from({ length: 18 }, (_, i) => `m${i}`));
    assert.deepEqual(sent.map(([t]) => t), [
      ...Array(8).fill(0),
      ...Array(8).fill(1100),
      2200,
      2200,
    ]);
    for (let i = 0; i < 7; i++) limiter.send("x");
    assert.equal(limiter.pending, 1, "the window remembers the last sends");
    limiter.clear();
    assert.equal(limiter.pending, 0, "clear drops what waits (the connection is gone)");
    limiter.send("after");
    clock.tick(1100);
    assert.equal(sent.at(-1)?.[1], "after");
    limiter.close();
  } finally {
    clock.uninstall();
  }
});

Deno.test("sequence_num: next, gap, and late messages", () => {
  const s = createSequenceTracker();
  assert.deepEqual(s.check(0), { kind: "first" });
  assert.deepEqual(s.check(1), { kind: "next" });
  assert.deepEqual(s.check(4), { kind: "gap", expected: 2, missed: 2 });
  assert.deepEqual(s.check(3), { kind: "old", last: 4 }, "lower numbers are ignored");
  assert.deepEqual(s.check(4), { kind: "old", last: 4 }, "so are repeats");
  assert.deepEqual(s.check(5), { kind: "next" });
});

Deno.test("one channel per subscribe message; heartbeats first", () => {
  const plan = planSubscriptions(
    ["trade", "book", "kline", "quote"],
    ["BTC-USD", "ETH-USD"],
    "ticker",
  );
  assert.deepEqual(plan.map((s) => s.channel), [
    "heartbeats",
    "level2",
    "market_trades",
    "ticker",
    "candles",
  ]);
  assert.equal(
    subscriptionMessage("subscribe", plan[0]),
    '{"type":"subscribe","channel":"heartbeats"}',
  );
  assert.equal(
    subscriptionMessage("unsubscribe", plan[1]),
    '{"type":"unsubscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"}',
  );
  assert.deepEqual(
    planSubscriptions(["quote"], ["BTC-USD"], "book").map((s) => s.channel),
    ["heartbeats", "level2"],
    "derived quotes need level2, not ticker",
  );
});

/** An l2_data event as the mapper produces it. */
function l2(
  symbol: string,
  snapshot: boolean,
  bids: Level[] = [],
  asks: Level[] = [],
): BookUpdate {
  return {
    type: "book",
    exchange: "coinbase",
    symbol,
    eventTime: 1,
    receiveTime: 1,
    snapshot,
    bids,
    asks,
    timestamp: "",
  };
}

Deno.test("book sync: snapshot, updates, resync by resubscription", async (t) => {
  const setup = (snapshotTimeoutMs = 60_000) => {
    const emitted: BookUpdate[] = [];
    const statuses: BookStatusUpdate[] = [];
    const requests: string[][] = [];
    let clock = 0;
    const sync = createBookSync({
      products: ["BTC-USD", "ETH-USD"],
      emit: (u) => emitted.push(u),
      bookStatus: (s) => statuses.push(s),
      resubscribe: (ids) => (requests.push(ids), true),
      snapshotTimeoutMs,
      now: () => clock,
      log: QUIET_LOG,
    });
    const states = (symbol: string) =>
      statuses.filter((s) => s.symbol === symbol).map((s) => s.state);
    return { sync, emitted, statuses, requests, states, tick: (ms: number) => (clock += ms) };
  };

  await t.step("updates before the snapshot are dropped; the snapshot syncs the book", () => {
    const s = setup();
    s.sync.onSubscribed();
    s.sync.onUpdate(l2("BTC-USD", false, [[1, 1]]));
    s.sync.onUpdate(l2("BTC-USD", true, [[100, 1]], [[101, 1]]));
    s.sync.onUpdate(l2("BTC-USD", false, [[100, 0]]));
    assert.deepEqual(s.emitted.map((u) => u.snapshot), [true, false]);
    assert.deepEqual(s.states("BTC-USD"), ["syncing", "synced"]);
    assert.equal(s.sync.dropped(), 1);
    s.sync.stop();
  });

  await t.step("a gap resubscribes the synced books once; a snapshot on its way is enough", () => {
    const s = setup();
    s.sync.onSubscribed();
    s.sync.onUpdate(l2("BTC-USD", true, [[100, 1]]));
    s.sync.resync("sequence_num jumped from 7 to 9");
    assert.deepEqual(s.requests, [["BTC-USD"]], "ETH-USD's first snapshot is still on its way");
    assert.deepEqual(s.states("BTC-USD"), ["syncing", "synced", "resyncing"]);
    assert.equal(s.statuses.at(-1)?.reason, "sequence_num jumped from 7 to 9");
    s.sync.resync("sequence_num jumped from 12 to 14");
    assert.equal(s.requests.length, 1, "no second resubscription while one is pending");
    s.sync.onUpdate(l2("BTC-USD", false, [[99, 1]]));
    s.sync.onUpdate(l2("BTC-USD", true, [[98, 1]]));
    assert.deepEqual(s.emitted.map((u) => u.snapshot), [true, true]);
    assert.deepEqual(s.states("BTC-USD").at(-1), "synced");
    s.sync.stop();
  });

  await t.step("a malformed frame resyncs only the books it names", () => {
    const s = setup();
    s.sync.onUpdate(l2("BTC-USD", true));
    s.sync.onUpdate(l2("ETH-USD", true));
    s.sync.resync("malformed l2_data", ["ETH-USD"]);
    assert.deepEqual(s.requests, [["ETH-USD"]]);
    assert.equal(s.sync.phase("BTC-USD"), "synced");
    s.sync.stop();
  });

  await t.step("a snapshot that never comes is requested again", async () => {
    const s = setup(40);
    s.sync.onUpdate(l2("BTC-USD", true));
    s.sync.resync("gap", ["BTC-USD"]);
    s.tick(41);
    await waitFor(() => s.requests.length >= 2, 5000, "the snapshot to be requested again");
    assert.deepEqual(s.requests, [["BTC-USD"], ["BTC-USD"]]);
    s.sync.stop();
  });

  await t.step("a lost connection puts synced books back to resyncing", () => {
    const s = setup();
    s.sync.onUpdate(l2("BTC-USD", true));
    s.sync.onInterrupted("connection closed: code 1006");
    assert.equal(s.statuses.at(-1)?.state, "resyncing");
    assert.match(s.statuses.at(-1)?.reason ?? "", /connection lost/);
    assert.deepEqual(s.requests, [], "the next connection subscribes anyway");
    s.sync.stop();
  });
});

function trade(id: number | string, symbol = "BTC-USD"): TradeEvent {
  return {
    type: "trade",
    exchange: "coinbase",
    symbol,
    eventTime: 1,
    receiveTime: 1,
    price: 1,
    quantity: 1,
    timestamp: "",
    tradeId: typeof id === "number" ? String(id) : id,
    side: "buy",
  };
}

Deno.test("trade tracker: snapshot overlap dropped, jumps reported as gaps", async (t) => {
  const setup = (reportGaps = true) => {
    const out: (TradeEvent | GapEvent)[] = [];
    const tracker = createTradeTracker({ emit: (e) => out.push(e), reportGaps, now: () => 5 });
    const seq = () => out.map((e) => e.type === "trade" ? e.tradeId : `gap ${e.fromId}-${e.toId}`);
    return { tracker, out, seq };
  };

  await t.step("trades repeated by a new snapshot are delivered once", () => {
    const s = setup();
    s.tracker.onTrades([trade(10), trade(11), trade(12)]);
    s.tracker.onTrades([trade(11), trade(12), trade(13)]);
    assert.deepEqual(s.seq(), ["10", "11", "12", "13"]);
  });

  await t.step("a jump in trade ids becomes a gap event before the next trade", () => {
    const s = setup();
    s.tracker.onTrades([trade(10), trade(14)]);
    assert.deepEqual(s.seq(), ["10", "gap 11-13", "14"]);
    assert.equal((s.out[1] as GapEvent).reason, "trade ids jumped from 10 to 14");
    const quiet = setup(false);
    quiet.tracker.onTrades([trade(10), trade(14)]);
    assert.deepEqual(quiet.seq(), ["10", "14"]);
  });

  await t.step("non-numeric ids are deduplicated by value", () => {
    const s = setup();
    s.tracker.onTrades([trade("a-1"), trade("a-2"), trade("a-1")]);
    assert.deepEqual(s.seq(), ["a-1", "a-2"]);
  });
});

Deno.test("candle tracker: a candle closes when the next one starts", () => {
  const out: KlineEvent[] = [];
  const tracker = createCandleTracker((k) => out.push(k));
  const candle = (openTime: number, close: number, eventTime: number): KlineEvent => ({
    type: "kline",
    exchange: "coinbase",
    symbol: "BTC-USD",
    eventTime,
    receiveTime: eventTime,
    interval: "5m",
    openTime,
    closeTime: openTime + 299_999,
    open: 1,
    high: 3,
    low: 1,
    close,
    volume: 1,
    quoteVolume: 0,
    trades: 0,
    closed: false,
    timestamp: "",
  });
  tracker.onCandles([candle(0, 2, 10)]);
  tracker.onCandles([candle(0, 2, 11)]); // unchanged repeat
  tracker.onCandles([candle(0, 3, 12)]);
  tracker.onCandles([candle(300_000, 3, 300_500)]);
  tracker.onCandles([candle(0, 1, 300_600)]); // older: dropped
  assert.deepEqual(out.map((k) => [k.openTime, k.close, k.closed, k.eventTime]), [
    [0, 2, false, 10],
    [0, 3, false, 12],
    [0, 3, true, 300_500],
    [300_000, 3, false, 300_500],
  ]);
});

// ---------------------------------------------------------------- against the emulator

/** A feed running against a fresh emulator, and everything it emitted. */
type Harness = EmulatedFeedRun<CoinbaseEmulator>;

async function startFeed(options: {
  emulator?: CoinbaseEmulatorOptions;
  symbols?: string[];
  channels?: Channel[];
  config?: Record<string, unknown>;
  /** Use another emulator's REST (product list) than the WebSocket one. */
  restEmulator?: CoinbaseEmulator;
} = {}): Promise<Harness> {
  const emu = await startCoinbaseEmulator({
    products: ["BTC-USD", "ETH-USD", "SOL-USD"],
    tickMs: 20,
    tradesPerSecond: 30,
    heartbeatIntervalMs: 100,
    bookLevels: 100,
    ...options.emulator,
  });
  const config = coinbase.configSchema.parse({
    wsUrl: emu.wsUrl,
    restUrl: (options.restEmulator ?? emu).restUrl,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    deadAfterMs: 1500,
    connectTimeoutMs: 2000,
    snapshotTimeoutMs: 2000,
    staleMs: { trade: 5000, quote: 5000, book: 5000, kline: 5000 },
    ...options.config,
  });
  return runFeedAgainst(emu, {
    plugin: coinbase,
    config,
    symbols: options.symbols ?? ["BTC-USD", "ETH-USD"],
    channels: options.channels ?? ["trade", "quote", "kline", "book"],
  });
}

/** The emulator's full book of `symbol`, as numbers, best first. */
function emulatorBook(emu: CoinbaseEmulator, symbol: string): { bids: Level[]; asks: Level[] } {
  const b = emu.book(symbol);
  const num = (levels: [string, string][]): Level[] => levels.map(([p, q]) => [+p, +q]);
  return { bids: num(b.bids), asks: num(b.asks) };
}

/** Pauses the market and waits until the feed's book equals the emulator's, level by level. */
async function assertBookMatchesEmulator(h: Harness, symbol: string): Promise<void> {
  h.emu.pause();
  const same = () => {
    const ours = topN(h.book(symbol), Infinity);
    const theirs = emulatorBook(h.emu, symbol);
    return JSON.stringify(ours) === JSON.stringify(theirs);
  };
  await h.until(
    () => same() && h.bookStatuses(symbol).at(-1)?.state === "synced",
    `${symbol} book equal to the emulator's, and synced`,
  );
  const ours = topN(h.book(symbol), Infinity);
  const theirs = emulatorBook(h.emu, symbol);
  assert.ok(theirs.bids.length > 50 && theirs.asks.length > 50, "the emulator book has depth");
  assert.deepEqual(ours.bids, theirs.bids);
  assert.deepEqual(ours.asks, theirs.asks);
  assert.equal(h.bookStatuses(symbol).at(-1)?.state, "synced");
}

/** Pauses the market, waits for the last trade, and checks ids are consecutive, each once. */
async function assertEveryTradeOnce(h: Harness, symbol: string): Promise<void> {
  h.emu.pause();
  const last = h.emu.lastTradeId(symbol);
  await h.until(
    () => Number(h.trades(symbol).at(-1)?.tradeId) === last,
    `${symbol} trades up to ${last}`,
  );
  const ids = h.trades(symbol).map((t) => Number(t.tradeId));
  for (let i = 1; i < ids.length; i++) {
    assert.equal(
      ids[i],
      ids[i - 1] + 1,
      `${symbol} trade ids jump from ${ids[i - 1]} to ${ids[i]}`,
    );
  }
}

Deno.test("the feed delivers exactly what the emulator sends, normalized", async () => {
  const h = await startFeed({ symbols: ["BTC-USD", "eth/usd", "NOPE-USD"] });
  try {
    await h.until(
      () => h.trades("BTC-USD").length > 20 && h.of("kline").length > 0 && h.of("quote").length > 5,
      "trades, candles and quotes",
    );
    const statuses = h.statuses();
    assert.ok(statuses.every((s) => s.emulator === true), "every status says emulator");
    assert.deepEqual(statuses.map((s) => s.state), ["connecting", "connected"]);
    assert.equal(h.logs(/^EMULATOR/).length, 1);
    assert.equal(h.logs(/unknown Coinbase products skipped: NOPE-USD/).length, 1);
    const instruments = h.of("instruments")[0];
    assert.deepEqual(instruments.streamed, ["BTC-USD", "ETH-USD"]);
    assert.deepEqual(instruments.instruments.find((i) => i.symbol === "SOL-USD"), {
      symbol: "SOL-USD",
      base: "SOL",
      quote: "USD",
      unified: "SOL/USD",
      pricePrecision: 2,
      quantityPrecision: 8,
      // price_increment, base_increment, base_min_size, base_max_size, quote_min_size.
      tickSize: 0.01,
      stepSize: 0.00000001,
      minQuantity: 0.00000001,
      maxQuantity: 3400,
      minNotional: 1,
    });

    await assertEveryTradeOnce(h, "BTC-USD");
    // The last trades, field by field: price, size, taker side (the wire carries the maker's).
    for (const sent of h.emu.trades("BTC-USD", 20)) {
      const got = h.trades("BTC-USD").find((t) => t.tradeId === sent.trade_id);
      assert.ok(got, `trade ${sent.trade_id}`);
      assert.equal(got.price, Number(sent.price));
      assert.equal(got.quantity, Number(sent.size));
      assert.equal(got.side, sent.takerSide);
      assert.deepEqual(got.raw, {
        trade_id: sent.trade_id,
        product_id: sent.product_id,
        price: sent.price,
        size: sent.size,
        side: sent.side,
        time: sent.time,
      });
    }
    await assertBookMatchesEmulator(h, "BTC-USD");
    await assertBookMatchesEmulator(h, "ETH-USD");

    const quotes = h.of("quote") as QuoteEvent[];
    assert.ok(quotes.every((q) => q.bidPrice < q.askPrice && q.bidQuantity > 0));
    for (let i = 1; i < quotes.length; i++) {
      const [a, b] = [quotes[i - 1], quotes[i]];
      assert.ok(
        a.symbol !== b.symbol || a.bidPrice !== b.bidPrice || a.askPrice !== b.askPrice ||
          a.bidQuantity !== b.bidQuantity || a.askQuantity !== b.askQuantity,
        "repeated tickers are not forwarded",
      );
    }
    const kline = h.of("kline")[0];
    assert.equal(kline.interval, "5m");
    assert.equal(kline.openTime % 300_000, 0);
    assert.equal(kline.closeTime, kline.openTime + 299_999);
  } finally {
    await h.close();
  }
});

Deno.test("a sequence gap resyncs the books by resubscribing level2; they match again", async () => {
  const h = await startFeed();
  try {
    await h.until(() => h.bookStatuses("BTC-USD").at(-1)?.state === "synced", "first sync");
    const sentBefore = h.emu.received().length;
    h.emu.faults.skipSequence(); // an l2_data update is lost: the book really is wrong now
    await h.until(
      () => h.bookStatuses("BTC-USD").some((s) => s.state === "resyncing"),
      "resyncing",
    );
    const resync = h.bookStatuses("BTC-USD").find((s) => s.state === "resyncing")!;
    assert.match(resync.reason!, /sequence_num jumped from \d+ to \d+ \(1 message missed\)/);
    await h.until(() => h.bookStatuses("BTC-USD").at(-1)?.state === "synced", "synced again");
    const sent = h.emu.received().slice(sentBefore).map((m) => JSON.parse(m.text));
    assert.deepEqual(sent.map((m) => [m.type, m.channel]), [
      ["unsubscribe", "level2"],
      ["subscribe", "level2"],
    ]);
    assert.equal(h.emu.totalConnections(), 1, "no reconnect was needed");
    const snapshots = h.of("book").filter((u) => u.symbol === "BTC-USD" && u.snapshot);
    assert.equal(snapshots.length, 2, "a fresh snapshot replaced the book");
    await assertBookMatchesEmulator(h, "BTC-USD");
    await assertBookMatchesEmulator(h, "ETH-USD");
  } finally {
    await h.close();
  }
});

Deno.test("after an abrupt drop the feed reports it, reconnects, and data resumes", async () => {
  const h = await startFeed();
  try {
    await h.until(() => h.trades("BTC-USD").length > 5, "trades");
    h.emu.faults.dropConnections({ abrupt: true });
    await h.until(
      () => h.statuses().filter((s) => s.state === "connected").length === 2,
      "a second connected status",
    );
    const states = h.statuses().map((s) => s.state);
    assert.deepEqual(states, ["connecting", "connected", "reconnecting", "connected"]);
    assert.match(h.statuses()[2].reason!, /connection closed.*reconnect #1 in \d+ ms/);
    assert.ok(
      h.bookStatuses("BTC-USD").some((s) =>
        s.state === "resyncing" && /connection lost/.test(s.reason!)
      ),
    );
    const count = h.trades("BTC-USD").length;
    await h.until(() => h.trades("BTC-USD").length > count + 5, "trades after the reconnect");
    await assertEveryTradeOnce(h, "BTC-USD"); // the new snapshot filled what the drop missed
    assert.equal(h.of("gap").length, 0);
    await assertBookMatchesEmulator(h, "BTC-USD");
    assert.equal(h.emu.totalConnections(), 2);
  } finally {
    await h.close();
  }
});

Deno.test("malformed frames are counted, never forwarded, and do not corrupt the books", async () => {
  const h = await startFeed();
  try {
    await h.until(() => h.bookStatuses("ETH-USD").at(-1)?.state === "synced", "sync");
    h.emu.faults.sendMalformed(7);
    await h.until(() => h.of("malformed").length === 7, "7 malformed reports");
    const reasons = h.of("malformed").map((m) => m.reason);
    assert.ok(reasons.includes("invalid JSON"));
    assert.ok(reasons.some((r) => /unexpected product "XXX-MALFORMED"/.test(r)));
    assert.ok(reasons.some((r) => /bad new_quantity/.test(r)));
    for (const item of h.items) {
      if (item.type !== "trade" && item.type !== "quote" && item.type !== "book") continue;
      assert.notEqual(item.symbol, "XXX-MALFORMED");
      assert.ok(JSON.stringify(item).indexOf("null") < 0, "no NaN (JSON null) in any event");
    }
    await assertBookMatchesEmulator(h, "BTC-USD");
    await assertBookMatchesEmulator(h, "ETH-USD");
  } finally {
    await h.close();
  }
});

Deno.test("Coinbase's connection rules are kept: 5 s subscribe deadline, one channel per message", async () => {
  const h = await startFeed({ emulator: { subscribeDeadlineMs: 250 } });
  try {
    await h.until(
      () => h.emu.subscriptions()[0]?.candles?.length === 2,
      "all five channels subscribed",
    );
    // What is tested is that nothing happens: the emulator, enforcing a 250 ms subscribe
    // deadline, never closes the connection.
    await assertQuietFor(1000, "close by the emulator", () => h.emu.totalConnections() !== 1);
    assert.equal(
      h.emu.totalConnections(),
      1,
      "the emulator would have closed a late or bad subscriber",
    );
    assert.equal(h.emu.connectionCount(), 1);
    const sent = h.emu.received().map((m) => JSON.parse(m.text));
    assert.equal(sent.length, 5);
    for (const m of sent) {
      assert.equal(m.type, "subscribe");
      assert.equal(typeof m.channel, "string");
      assert.ok(!("channels" in m));
    }
    assert.deepEqual(h.emu.subscriptions(), [{
      heartbeats: ["heartbeats"],
      level2: ["BTC-USD", "ETH-USD"],
      market_trades: ["BTC-USD", "ETH-USD"],
      ticker: ["BTC-USD", "ETH-USD"],
      candles: ["BTC-USD", "ETH-USD"],
    }]);
    assert.equal(h.logs(/did not confirm/).length, 0, "every subscription was acknowledged");
  } finally {
    await h.close();
  }
});

Deno.test("at most 8 messages per second are sent, even when many resubscriptions pile up", async () => {
  // A silent market and tiny staleness limits make every channel ask for a
  // resubscription every few ms; heartbeats keep the connection alive.
  const h = await startFeed({
    emulator: { autoStart: false },
    config: { staleMs: { trade: 30, quote: 30, book: 30, kline: 30 } },
  });
  try {
    await h.until(
      () => h.emu.received().length >= 18,
      "18 messages sent (the limiter exercised over 2 s)",
      10_000,
    );
    const times = h.emu.received().map((m) => m.time);
    assert.ok(times.length >= 18, `the limiter was exercised (${times.length} messages)`);
    for (let i = 8; i < times.length; i++) {
      assert.ok(times[i] - times[i - 8] >= 1000, `9 messages within ${times[i] - times[i - 8]} ms`);
    }
    assert.equal(h.emu.totalConnections(), 1, "never disconnected for flooding");
    assert.ok(h.logs(/resubscribing/).length > 0);
  } finally {
    await h.close();
  }
});

Deno.test("silence is reported as stale; the feed reconnects and recovers", async () => {
  const h = await startFeed({ config: { deadAfterMs: 300 } });
  try {
    await h.until(() => h.bookStatuses("BTC-USD").at(-1)?.state === "synced", "sync");
    h.emu.faults.silence(700);
    await h.until(() => h.statuses().some((s) => s.state === "stale"), "stale");
    assert.match(h.statuses().find((s) => s.state === "stale")!.reason!, /no message for \d+ ms/);
    await h.until(
      () => h.statuses().at(-1)?.state === "connected" && h.emu.totalConnections() >= 2,
      "connected again",
      4000,
    );
    await assertBookMatchesEmulator(h, "BTC-USD");
  } finally {
    await h.close();
  }
});

Deno.test("refused connections are retried with backoff until accepted", async () => {
  const h = await startFeed({ channels: ["book"] });
  try {
    await h.until(() => h.bookStatuses("BTC-USD").at(-1)?.state === "synced", "sync");
    h.emu.faults.refuseConnections(500);
    h.emu.faults.dropConnections({ abrupt: true });
    await h.until(
      () => h.statuses().at(-1)?.state === "connected" && h.statuses().length > 3,
      "reconnected",
      4000,
    );
    const reconnecting = h.statuses().filter((s) => s.state === "reconnecting");
    assert.ok(reconnecting.length >= 2, `refusals were retried (${reconnecting.length})`);
    assert.equal(h.emu.totalConnections(), 2, "only the accepted attempt counts as a connection");
    await assertBookMatchesEmulator(h, "BTC-USD");
  } finally {
    await h.close();
  }
});

Deno.test("heartbeats keep the connection open while the market is quiet", async () => {
  const h = await startFeed({ emulator: { autoStart: false, idleCloseMs: 250 } });
  try {
    await h.until(() => h.statuses().at(-1)?.state === "connected", "connected");
    // What is tested is that nothing happens for four idle-close periods: no channel closed.
    await assertQuietFor(
      1000,
      "idle close or status change",
      () => h.emu.totalConnections() !== 1 || h.statuses().length !== 2,
    );
    assert.equal(h.emu.totalConnections(), 1, "no channel was closed as idle");
    assert.deepEqual(h.statuses().map((s) => s.state), ["connecting", "connected"]);
  } finally {
    await h.close();
  }
});

Deno.test("quotes can be derived from the level2 book", async () => {
  const h = await startFeed({ channels: ["quote"], config: { quoteSource: "book" } });
  try {
    await h.until(() => h.of("quote").length > 10, "quotes");
    assert.equal(h.of("book").length, 0, "the book itself is not published");
    h.emu.pause();
    const top = emulatorBook(h.emu, "BTC-USD");
    const lastQuote = () => h.quotes("BTC-USD").at(-1)!;
    const shown = () => {
      const q = lastQuote();
      return [q.bidPrice, q.bidQuantity, q.askPrice, q.askQuantity];
    };
    await h.until(
      () => JSON.stringify(shown()) === JSON.stringify([...top.bids[0], ...top.asks[0]]),
      "the last BTC-USD quote to show the paused book's top",
    );
    const last = lastQuote();
    assert.deepEqual(
      [last.bidPrice, last.bidQuantity, last.askPrice, last.askQuantity],
      [...top.bids[0], ...top.asks[0]],
    );
    assert.ok(!h.emu.subscriptions()[0].ticker, "no ticker subscription");
  } finally {
    await h.close();
  }
});

Deno.test("an exchange error is reported, and unconfirmed subscriptions named", async () => {
  // Products come from one emulator, the WebSocket from another that lacks SOL-USD.
  const rest = await startCoinbaseEmulator({ products: ["BTC-USD", "SOL-USD"], autoStart: false });
  const h = await startFeed({
    emulator: { products: ["BTC-USD"] },
    restEmulator: rest,
    symbols: ["BTC-USD", "SOL-USD"],
    channels: ["trade"],
  });
  try {
    await h.until(() => h.logs(/did not confirm/).length > 0, "the unconfirmed subscription");
    const errors = h.of("log").filter((l) => l.level === "error").map((l) => l.message);
    assert.ok(errors.includes("Coinbase error: failure to subscribe"));
    assert.deepEqual(h.logs(/did not confirm/), [
      "Coinbase did not confirm: market_trades",
    ]);
  } finally {
    await h.close();
    await rest.close();
  }
});

Deno.test("with no known product the feed reports failed and waits to be stopped", async () => {
  const h = await startFeed({ symbols: ["NOPE-USD"] });
  try {
    await h.until(() => h.statuses().length > 0, "a status");
    assert.deepEqual(h.statuses().map((s) => [s.state, s.reason]), [
      ["failed", "no known product or channel to stream"],
    ]);
    assert.equal(h.emu.totalConnections(), 0);
  } finally {
    await h.close();
  }
});

Deno.test("the plugin runs in a Worker that may reach only its declared hosts", async () => {
  const emu = await startCoinbaseEmulator({
    products: ["BTC-USD"],
    tickMs: 20,
    tradesPerSecond: 30,
  });
  try {
    await assertRunsInWorkerWithDeclaredHosts({
      plugin: coinbase,
      workerUrl: new URL("../../../plugins/coinbase/worker.ts", import.meta.url),
      config: pluginConfig(coinbase, {
        COINBASE_WS_URL: emu.wsUrl,
        COINBASE_REST_URL: emu.restUrl,
      }),
      symbols: ["BTC/USD"],
      channels: ["trade", "book"],
      host: `127.0.0.1:${emu.port}`,
      eventTypes: ["trade", "book"],
    });
  } finally {
    await emu.close();
  }
});

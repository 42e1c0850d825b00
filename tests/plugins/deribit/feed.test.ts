/**
 * The Deribit feed against the Deribit emulator: what it delivers (trades, quotes with the
 * option fields, books equal to the emulator's level by level, instruments with their option
 * contracts) and how it keeps it whole: `change_id` continuity and resync after a lost change,
 * heartbeats answered, reconnect with resubscription, Deribit's credit limits respected.
 */
import assert from "node:assert/strict";
import type { Channel, FeedItem } from "../../../mod.ts";
import { topN } from "../../../mod.ts";
import {
  assertRunsInWorkerWithDeclaredHosts,
  type EmulatedFeedRun,
  runFeedAgainst,
} from "../feed_harness.ts";
import { pluginConfig } from "../../../core/ingest/plugin_config.ts";
import {
  type DeribitEmulator,
  type DeribitEmulatorOptions,
  startDeribitEmulator,
} from "../../../plugins/deribit/emulator/mod.ts";
import { deribit } from "../../../plugins/deribit/mod.ts";

type Harness = EmulatedFeedRun<DeribitEmulator>;

async function startFeed(options: {
  emulator?: DeribitEmulatorOptions;
  symbols?: string[];
  channels?: Channel[];
  config?: Record<string, unknown>;
} = {}): Promise<Harness> {
  const emu = await startDeribitEmulator({
    tickMs: 40,
    tradesPerSecond: 60,
    minHeartbeatSec: 0.1,
    ...options.emulator,
  });
  const config = deribit.configSchema.parse({
    wsUrl: emu.wsUrl,
    emulator: true,
    heartbeatSec: 0.25,
    deadAfterMs: 2000,
    requestTimeoutMs: 3000,
    resyncTimeoutMs: 3000,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    ...options.config,
  });
  return runFeedAgainst(emu, {
    plugin: deribit,
    config,
    symbols: options.symbols ?? ["BTC-PERPETUAL"],
    channels: options.channels ?? ["trade", "quote", "book"],
  });
}

/** Pauses the market and waits until the consumer's book of `symbol` equals the emulator's. */
async function assertBookMatchesEmulator(h: Harness, symbol: string): Promise<void> {
  h.emu.pause();
  const same = () => {
    const ours = topN(h.book(symbol), Infinity);
    const theirs = h.emu.book(symbol);
    return JSON.stringify([ours.bids, ours.asks]) === JSON.stringify([theirs.bids, theirs.asks]);
  };
  await h.until(same, `${symbol} book to equal the emulator's`, 3000);
  const ours = topN(h.book(symbol), Infinity);
  assert.ok(ours.bids.length > 0 && ours.asks.length > 0, `${symbol}: a two-sided book`);
  assert.deepEqual([ours.bids, ours.asks], [h.emu.book(symbol).bids, h.emu.book(symbol).asks]);
  h.emu.resume();
}

const anOption = (emu: DeribitEmulator, strikeIndex = 6) =>
  emu.instruments().filter((n) => n.startsWith("BTC-") && n.endsWith("-C"))[strikeIndex];

Deno.test("the feed delivers trades, option quotes and books equal to the emulator's; instruments carry the option contract", async () => {
  const probe = await startDeribitEmulator({ autoStart: false });
  const option = anOption(probe); // the ATM call of the first expiry
  await probe.close();
  const h = await startFeed({ symbols: ["BTC-PERPETUAL", option, "BTCUSDT"] });
  try {
    for (const s of ["BTC-PERPETUAL", option]) {
      await h.until(
        () => h.trades(s).length > 2 && h.quotes(s).length > 3 && h.books(s).length > 3,
        `${s} data`,
        10_000,
      );
    }
    const statuses = h.statuses();
    assert.deepEqual(statuses.slice(0, 2).map((s) => s.state), ["connecting", "connected"]);
    assert.ok(statuses.every((s) => s.emulator === true));

    const listing = h.of("instruments")[0];
    assert.deepEqual(listing.streamed, ["BTC-PERPETUAL", option]);
    assert.equal(listing.instruments.length, h.emu.instruments().length);
    const call = listing.instruments.find((i) => i.symbol === option)!;
    const strike = Number(option.split("-")[2]);
    assert.equal(call.kind, "option");
    assert.equal(call.unified, option, "unified = Deribit's own name");
    assert.deepEqual(call.option, {
      underlying: "BTC",
      expiry: call.option!.expiry,
      strike,
      type: "call",
      contractSize: 1,
      settlement: "BTC",
      inverse: true,
    });
    assert.equal(new Date(call.option!.expiry).getUTCHours(), 8, "expiries at 08:00 UTC");
    const perp = listing.instruments.find((i) => i.symbol === "BTC-PERPETUAL")!;
    assert.deepEqual([perp.kind, perp.quantityUnit, perp.tickSize], ["perpetual", "USD", 2.5]);
    assert.equal(h.logs(/not Deribit instruments: BTCUSDT/).length, 1);

    // Subscriptions as the emulator saw them: 100 ms channels and the index.
    assert.deepEqual(h.emu.subscriptions()[0].sort(), [
      `book.${option}.100ms`,
      "book.BTC-PERPETUAL.100ms",
      "deribit_price_index.btc_usd",
      "deribit_price_index.eth_usd",
      `ticker.${option}.100ms`,
      "ticker.BTC-PERPETUAL.100ms",
      `trades.${option}.100ms`,
      "trades.BTC-PERPETUAL.100ms",
    ]);

    for (const t of h.trades(option)) {
      const raw = t.raw as Record<string, unknown>;
      assert.deepEqual(
        [t.price, t.quantity, t.side, t.tradeId, t.eventTime],
        [raw.price, raw.amount, raw.direction, raw.trade_id, raw.timestamp],
      );
    }
    for (const q of h.quotes(option)) {
      const raw = q.raw as Record<string, unknown>;
      assert.deepEqual(
        [q.bidPrice, q.askPrice, q.option?.markIv, q.option?.markPrice, q.option?.greeks],
        [raw.best_bid_price, raw.best_ask_price, raw.mark_iv, raw.mark_price, raw.greeks],
      );
      assert.ok(q.bidPrice < q.askPrice);
      assert.ok(q.option!.bidIv! <= q.option!.markIv! && q.option!.markIv! <= q.option!.askIv!);
      assert.equal(q.option?.underlyingIndex, `BTC-${option.split("-")[1]}`);
    }
    for (const s of ["BTC-PERPETUAL", option]) {
      assert.equal(h.books(s)[0].snapshot, true);
      assert.deepEqual(h.bookStatuses(s).map((b) => b.state), ["syncing", "synced"]);
      await assertBookMatchesEmulator(h, s);
    }
    assert.equal(h.malformed().length, 0);
    assert.deepEqual(h.emu.heartbeats().closedUnanswered, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a lost book change breaks change_id continuity: resyncing, unsubscribe + subscribe, a fresh snapshot, the book equal again", async () => {
  const h = await startFeed({ channels: ["book"] });
  try {
    const s = "BTC-PERPETUAL";
    await h.until(() => h.books(s).length > 5, "book updates");
    h.emu.faults.dropBookChange(s);
    await h.until(() => h.bookStatuses(s).some((b) => b.state === "resyncing"), "resyncing");
    const resync = h.bookStatuses(s).find((b) => b.state === "resyncing")!;
    assert.match(resync.reason!, /change_id gap: prev_change_id \d+ after change_id \d+/);
    await h.until(() => h.bookStatuses(s).at(-1)?.state === "synced", "synced again");
    assert.deepEqual(h.bookStatuses(s).map((b) => b.state), [
      "syncing",
      "synced",
      "resyncing",
      "synced",
    ]);
    const after = h.items.slice(h.items.indexOf(resync as FeedItem));
    const fresh = after.find((i) => i.type === "book");
    assert.ok(fresh?.type === "book" && fresh.snapshot, "the next book event is a snapshot");
    const methods = h.emu.requests().map((r) => r.method);
    assert.equal(methods.filter((m) => m === "public/unsubscribe").length, 1);
    assert.equal(h.emu.totalConnections(), 1, "resynced without reconnecting");
    assert.deepEqual(h.emu.subscriptions()[0].filter((c) => c.startsWith("book")), [
      "book.BTC-PERPETUAL.100ms",
    ]);
    await h.until(() => h.books(s).at(-1)?.snapshot === false, "updates after the snapshot");
    await assertBookMatchesEmulator(h, s);
  } finally {
    await h.close();
  }
});

Deno.test("heartbeats: every test_request is answered with public/test and the connection stays", async () => {
  const h = await startFeed({ channels: ["trade"], config: { heartbeatSec: 0.15 } });
  try {
    await h.until(() => h.emu.heartbeats().sent >= 6, "six test_requests", 10_000);
    await h.until(
      () => h.emu.heartbeats().answered >= h.emu.heartbeats().sent,
      "every test_request answered",
    );
    assert.equal(h.emu.heartbeats().closedUnanswered, 0);
    assert.equal(h.emu.totalConnections(), 1);
    const set = h.emu.requests().find((r) => r.method === "public/set_heartbeat");
    assert.ok(set, "public/set_heartbeat requested");
  } finally {
    await h.close();
  }
});

Deno.test("after an abrupt drop the feed reconnects, subscribes the same channels again and resyncs its books", async () => {
  const h = await startFeed();
  try {
    const s = "BTC-PERPETUAL";
    await h.until(() => h.books(s).length > 3 && h.trades(s).length > 2, "data");
    const before = h.emu.subscriptions()[0].sort();
    const trades = h.trades(s).length;
    h.emu.faults.dropConnections({ abrupt: true });
    await h.until(() => h.statuses().some((x) => x.state === "reconnecting"), "reconnecting");
    await h.until(
      () => h.statuses().at(-1)?.state === "connected" && h.trades(s).length > trades + 2,
      "reconnected, trades flowing",
    );
    assert.equal(h.emu.totalConnections(), 2);
    assert.deepEqual(h.emu.subscriptions()[0].sort(), before, "the same channels again");
    const instrumentCalls = h.emu.requests().filter((r) => r.method === "public/get_instruments");
    assert.ok(instrumentCalls.every((r) => r.connection === 1), "instruments listed once");
    assert.deepEqual(h.bookStatuses(s).map((b) => b.state), [
      "syncing",
      "synced",
      "resyncing",
      "synced",
    ]);
    await assertBookMatchesEmulator(h, s);
  } finally {
    await h.close();
  }
});

Deno.test("Deribit's credit limits: 30 instruments over 19 subscribe calls, heartbeats answered meanwhile, none refused, the pace within the pool", async () => {
  // Defaults select, per currency, the perpetual, 2 futures and 4 strikes × 2 types of 2
  // expiries; 5 channels a call makes more subscribe calls than the subscribe pool's burst (10).
  const h = await startFeed({
    symbols: ["BTCUSDT"],
    config: { channelsPerSubscribe: 5, maxInstruments: 30 },
    emulator: { tradesPerSecond: 5 },
  });
  try {
    const subscribes = () => h.emu.requests().filter((r) => r.method === "public/subscribe");
    await h.until(() => subscribes().length >= 19, "19 subscribe calls", 15_000);
    const calls = subscribes();
    assert.ok(calls.every((c) => (c.channels ?? 0) <= 5), "at most 5 channels a call");
    assert.equal(h.emu.rateLimited(), 0, "no request refused with too_many_requests");
    assert.equal(
      h.emu.totalConnections(),
      1,
      "no connection closed for an unanswered test_request",
    );
    assert.equal(h.emu.heartbeats().closedUnanswered, 0);
    // Within any window, no more calls than the pool (10) plus its refill (3.33 a second).
    const at = calls.map((c) => c.at);
    for (let i = 0; i < at.length; i++) {
      for (let j = i; j < at.length; j++) {
        assert.ok(
          j - i + 1 <= 10 + Math.floor((at[j] - at[i]) * 10_000 / 3_000 / 1000) + 1,
          `${j - i + 1} subscribe calls in ${at[j] - at[i]} ms`,
        );
      }
    }
    assert.ok(at.at(-1)! - at[0] >= 2500, "the calls beyond the burst waited for credits");
    await h.until(
      () => h.of("instruments")[0]?.streamed.every((s) => h.books(s).length > 0),
      "every streamed book",
      10_000,
    );
  } finally {
    await h.close();
  }
});

Deno.test("the plugin runs in a Worker that may reach only its declared host", async () => {
  const emu = await startDeribitEmulator({ tickMs: 40, tradesPerSecond: 40 });
  try {
    assert.deepEqual(deribit.hosts(deribit.configSchema.parse({})), ["www.deribit.com:443"]);
    await assertRunsInWorkerWithDeclaredHosts({
      plugin: deribit,
      workerUrl: new URL("../../../plugins/deribit/worker.ts", import.meta.url),
      config: pluginConfig(deribit, { DERIBIT_WS_URL: emu.wsUrl, DERIBIT_EMULATOR: "true" }),
      symbols: ["BTC-PERPETUAL"],
      channels: ["trade", "book"],
      host: `127.0.0.1:${emu.port}`,
      eventTypes: ["trade", "book"],
    });
  } finally {
    await emu.close();
  }
});

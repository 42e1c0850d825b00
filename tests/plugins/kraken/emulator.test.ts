/**
 * The Kraken Spot v2 emulator, documented through a plain WebSocket client:
 * connection status, the instrument channel, requests and their per-symbol
 * acknowledgements and failures, book snapshots and updates with checksums at
 * the subscribed depth, trades, tickers, candles, heartbeats, the idle close,
 * and every fault switch.
 */
import assert from "node:assert/strict";
import {
  applySnapshot,
  applyUpdate,
  createBook,
  topN,
  truncate,
} from "../../../core/books/book.ts";
import type { Level } from "../../../core/events.ts";
import { levelsChecksum } from "../../../plugins/kraken/checksum.ts";
import {
  type KrakenEmulator,
  type KrakenEmulatorOptions,
  startKrakenEmulator,
} from "../../../plugins/kraken/emulator/mod.ts";

import { connect, type EmulatorClient as Client, type Json } from "../emulator_client.ts";

import { assertQuietFor, elapse, waitFor } from "../../helpers.ts";

let barrierId = 1_000_000;
/**
 * Sends a ping and waits for its pong. The emulator answers in order on one socket, so every
 * frame it sent before (e.g. what a synchronous `tick()` produced) has arrived by then.
 */
async function barrier(c: Client): Promise<void> {
  const id = barrierId++;
  c.send({ method: "ping", req_id: id });
  await c.until(
    (m) => m.method === "pong" && m.req_id === id,
    3000,
    `pong ${id}, after every frame sent before it`,
  );
}

/** Runs `body` against a fresh emulator (market paused unless `autoStart`) and cleans up. */
async function withEmulator(
  options: KrakenEmulatorOptions,
  body: (emu: KrakenEmulator, open: () => Promise<Client>) => Promise<void>,
): Promise<void> {
  const emu = await startKrakenEmulator({
    tickMs: 20,
    tradesPerSecond: 30,
    autoStart: false,
    ...options,
  });
  const clients: Client[] = [];
  try {
    await body(emu, async () => {
      const c = await connect(emu.wsUrl);
      clients.push(c);
      return c;
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await emu.close();
  }
}

const isAck = (method: string, channel?: string) => (m: Json) =>
  m.method === method &&
  (channel === undefined || m.result?.channel === channel || m.success === false);
const levelsOf = (side: Json[]): Level[] => side.map((l) => [l.price, l.qty]);

Deno.test("connection: status, plain HTTP, paths", async (t) => {
  await withEmulator({}, async (emu, open) => {
    await t.step("a status message arrives on connect; connection_id exceeds 2^53", async () => {
      const c = await open();
      const status = await c.next();
      assert.equal(status.channel, "status");
      assert.equal(status.type, "update");
      assert.equal(status.data[0].system, "online");
      assert.equal(status.data[0].api_version, "v2");
      const digits = /"connection_id":(\d+)/.exec(c.frames[0])![1];
      assert.ok(BigInt(digits) > 2n ** 53n);
    });

    await t.step("plain HTTP answers with the x-emulator header", async () => {
      const res = await fetch(emu.wsUrl.replace("ws:", "http:"));
      await res.body?.cancel();
      assert.equal(res.headers.get("x-emulator"), "quant-saas-kraken-emulator");
    });

    await t.step("only /v2 upgrades", async () => {
      await assert.rejects(connect(emu.wsUrl.replace("/v2", "/v1")));
    });
  });
});

Deno.test("requests and acknowledgements", async (t) => {
  await withEmulator({}, async (_emu, open) => {
    const c = await open();
    await c.next((m) => m.channel === "status");

    await t.step("instrument: ack, then every pair with Kraken's precisions", async () => {
      c.send({ method: "subscribe", params: { channel: "instrument" }, req_id: 1 });
      const ack = await c.next(isAck("subscribe"));
      assert.deepEqual(ack.result, { channel: "instrument", snapshot: true });
      assert.equal(ack.req_id, 1);
      const snap = await c.next((m) => m.channel === "instrument");
      assert.equal(snap.type, "snapshot");
      const pairs = snap.data.pairs;
      assert.deepEqual(
        pairs.map((p: Json) => [p.symbol, p.price_precision, p.qty_precision]),
        [
          ["BTC/USD", 1, 8],
          ["ETH/USD", 2, 8],
          ["SOL/USD", 2, 8],
          ["BTC/USDT", 1, 8],
          ["ETH/USDT", 2, 8],
          ["ADA/USD", 6, 8],
        ],
      );
      assert.equal(pairs[0].price_increment, 0.1);
      assert.deepEqual(
        [pairs[0].qty_increment, pairs[0].qty_min, pairs[0].cost_min, pairs[0].tick_size],
        [1e-8, 0.00005, 0.5, 0.1],
      );
      assert.equal(pairs[0].status, "online");
      assert.ok(snap.data.assets.some((a: Json) => a.id === "BTC"));
    });

    await t.step("ping → pong echoing req_id with time_in and time_out", async () => {
      c.send({ method: "ping", req_id: 101 });
      const pong = await c.next((m) => m.method === "pong");
      assert.equal(pong.req_id, 101);
      assert.match(pong.time_in, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.match(pong.time_out, /Z$/);
    });

    await t.step("one acknowledgement per symbol, req_id echoed, then the snapshots", async () => {
      c.send({
        method: "subscribe",
        params: { channel: "book", symbol: ["BTC/USD", "ETH/USD"], depth: 25 },
        req_id: 7,
      });
      const a1 = await c.next(isAck("subscribe", "book"));
      const a2 = await c.next(isAck("subscribe", "book"));
      for (const [ack, symbol] of [[a1, "BTC/USD"], [a2, "ETH/USD"]]) {
        assert.equal(ack.success, true);
        assert.equal(ack.req_id, 7);
        assert.deepEqual(ack.result, { channel: "book", depth: 25, snapshot: true, symbol });
        assert.match(ack.time_in, /Z$/);
      }
    });

    await t.step("an unknown pair (v1 name XBT/USD): Currency pair not supported", async () => {
      c.send({ method: "subscribe", params: { channel: "trade", symbol: ["XBT/USD"] }, req_id: 8 });
      const fail = await c.next((m) => m.success === false);
      assert.equal(fail.error, "Currency pair not supported XBT/USD");
      assert.equal(fail.symbol, "XBT/USD");
      assert.equal(fail.method, "subscribe");
      assert.equal(fail.req_id, 8);
    });

    await t.step("a second book subscribe for a symbol: Already subscribed", async () => {
      c.send({
        method: "subscribe",
        params: { channel: "book", symbol: ["BTC/USD"], depth: 10 },
        req_id: 9,
      });
      const fail = await c.next((m) => m.success === false);
      assert.equal(fail.error, "Already subscribed");
      assert.equal(fail.symbol, "BTC/USD");
    });

    await t.step(
      "unsubscribing nothing: Subscription Not Found; unsubscribing a subscription: ack",
      async () => {
        c.send({
          method: "unsubscribe",
          params: { channel: "book", symbol: ["SOL/USD"], depth: 25 },
          req_id: 10,
        });
        const fail = await c.next((m) => m.success === false);
        assert.equal(fail.error, "Subscription Not Found");
        assert.equal(fail.method, "unsubscribe");
        c.send({
          method: "unsubscribe",
          params: { channel: "book", symbol: ["ETH/USD"], depth: 25 },
          req_id: 11,
        });
        const ok = await c.next(isAck("unsubscribe", "book"));
        assert.equal(ok.success, true);
        assert.deepEqual(ok.result, { channel: "book", depth: 25, symbol: "ETH/USD" });
      },
    );

    await t.step("bad requests are answered with an error, the connection stays", async () => {
      c.send("not json");
      assert.equal((await c.next((m) => m.success === false)).error, "Malformed request");
      c.send({ method: "dance", req_id: 12 });
      assert.equal((await c.next((m) => m.success === false)).error, "Method not found");
      c.send({ method: "subscribe", params: { channel: "book", symbol: ["BTC/USD"], depth: 7 } });
      assert.equal((await c.next((m) => m.success === false)).error, "Invalid depth");
      assert.equal(c.ws.readyState, WebSocket.OPEN);
    });
  });
});

Deno.test("book: snapshot and updates at the subscribed depth, checksums on both", async (t) => {
  await withEmulator({ symbols: ["BTC/USD", "ADA/USD"] }, async (emu, open) => {
    const depth = 10;
    const c = await open();
    c.send({ method: "subscribe", params: { channel: "book", symbol: ["BTC/USD"], depth } });
    const book = createBook();

    await t.step(
      "the snapshot holds `depth` levels per side and the emulator's checksum",
      async () => {
        const snap = await c.next((m) => m.channel === "book");
        assert.equal(snap.type, "snapshot");
        const d = snap.data[0];
        assert.equal(d.bids.length, depth);
        assert.equal(d.asks.length, depth);
        const bids = levelsOf(d.bids), asks = levelsOf(d.asks);
        assert.equal(d.checksum, emu.book("BTC/USD", depth).checksum);
        assert.equal(
          d.checksum,
          levelsChecksum(asks, bids, 1, 8),
          "the plugin's implementation agrees",
        );
        assert.match(d.timestamp, /^\d{4}-.*\.\d{6}Z$/);
        applySnapshot(book, bids, asks);
      },
    );

    await t.step(
      "every update verifies after applying it and truncating to the depth",
      async () => {
        let removalsOfLevelsStillInBook = 0;
        for (let i = 0; i < 60; i++) {
          const bookUpdates = () =>
            c.parsed().filter((m) => m.channel === "book" && m.type === "update");
          const before = bookUpdates().length;
          emu.tick(1);
          const full = emu.book("BTC/USD", 1100);
          const fullPrices = new Set([...full.bids, ...full.asks].map(([p]) => p));
          // Drain what this tick produced (at most one update per tick), however busy the machine.
          if (bookUpdates().length === before) await barrier(c);
          const updates = bookUpdates();
          const fresh = updates.slice(book.sequence);
          for (const u of fresh) {
            const d = u.data[0];
            for (const l of [...d.bids, ...d.asks]) {
              if (l.qty === 0 && fullPrices.has(l.price)) removalsOfLevelsStillInBook++;
            }
            applyUpdate(book, { bids: levelsOf(d.bids), asks: levelsOf(d.asks) });
            truncate(book, depth);
            const top = topN(book, depth);
            assert.equal(levelsChecksum(top.asks, top.bids, 1, 8), d.checksum);
          }
        }
        assert.ok(book.sequence > 20, `only ${book.sequence} updates`);
        assert.equal(
          removalsOfLevelsStillInBook,
          0,
          "levels that only fall out of range get no qty 0",
        );
        const top = topN(book, depth);
        const theirs = emu.book("BTC/USD", depth);
        assert.deepEqual(top.bids, theirs.bids);
        assert.deepEqual(top.asks, theirs.asks);
      },
    );

    await t.step(
      "numbers come trimmed (0.566) and padded (0.10000000), both valid JSON",
      async () => {
        c.send({
          method: "subscribe",
          params: { channel: "book", symbol: ["ADA/USD"], depth: 1000 },
        });
        const snap = await c.next((m) => m.channel === "book" && m.data[0].symbol === "ADA/USD");
        assert.equal(snap.data[0].bids.length, 1000, "depth 1000 is served");
        const text = c.frames.find((f) => f.includes('"ADA/USD"') && f.includes('"snapshot"'))!;
        const qtyTexts = [...text.matchAll(/"qty":([0-9.]+)/g)].map((m) => m[1]);
        assert.ok(qtyTexts.every((q) => /^\d+(\.\d+)?$/.test(q)));
        const all = c.frames.filter((f) => f.includes('"channel":"book"')).join("");
        assert.ok(/"qty":\d+\.\d{8}[,}]/.test(all), "some quantities are padded to 8 decimals");
        assert.ok(/"qty":\d+(\.\d{1,7})?[,}]/.test(all), "some are trimmed");
      },
    );
  });
});

Deno.test("trades, tickers and candles", async (t) => {
  await withEmulator({ symbols: ["ETH/USD"] }, async (emu, open) => {
    const c = await open();
    emu.tick(30);

    await t.step(
      "trade: no snapshot by default; updates with consecutive ids and taker side",
      async () => {
        c.send({ method: "subscribe", params: { channel: "trade", symbol: ["ETH/USD"] } });
        const ack = await c.next(isAck("subscribe", "trade"));
        assert.equal(ack.result.snapshot, false);
        emu.tick(40);
        await barrier(c);
        const msgs = c.parsed().filter((m) => m.channel === "trade");
        assert.ok(msgs.every((m) => m.type === "update"));
        const trades = msgs.flatMap((m) => m.data);
        assert.ok(trades.length > 3);
        for (let i = 1; i < trades.length; i++) {
          assert.equal(trades[i].trade_id, trades[i - 1].trade_id + 1);
        }
        assert.equal(trades.at(-1).trade_id, emu.lastTradeId("ETH/USD"));
        assert.ok(trades.every((x: Json) => (x.side === "buy" || x.side === "sell") && x.qty > 0));
        assert.ok(trades.every((x: Json) => x.ord_type === "market" || x.ord_type === "limit"));
      },
    );

    await t.step("trade with snapshot: the last 50 trades", async () => {
      const c2 = await open();
      c2.send({
        method: "subscribe",
        params: { channel: "trade", symbol: ["ETH/USD"], snapshot: true },
      });
      const snap = await c2.next((m) => m.channel === "trade");
      assert.equal(snap.type, "snapshot");
      assert.ok(snap.data.length > 0 && snap.data.length <= 50);
      assert.equal(snap.data.at(-1).trade_id, emu.lastTradeId("ETH/USD"));
    });

    await t.step(
      "ticker bbo: a snapshot, then updates whenever the best bid or ask changes",
      async () => {
        c.send({
          method: "subscribe",
          params: { channel: "ticker", symbol: ["ETH/USD"], event_trigger: "bbo" },
        });
        const ack = await c.next(isAck("subscribe", "ticker"));
        assert.equal(ack.result.event_trigger, "bbo");
        const snap = await c.next((m) => m.channel === "ticker");
        assert.equal(snap.type, "snapshot");
        const top = emu.book("ETH/USD", 1);
        assert.deepEqual(
          [snap.data[0].bid, snap.data[0].bid_qty, snap.data[0].ask, snap.data[0].ask_qty],
          [...top.bids[0], ...top.asks[0]],
        );
        emu.tick(20);
        const upd = await c.next((m) => m.channel === "ticker" && m.type === "update");
        assert.ok(upd.data[0].bid < upd.data[0].ask, "never crossed");
      },
    );

    await t.step(
      "ohlc: ack warns about the deprecated timestamp; interval_begin in nanoseconds",
      async () => {
        c.send({
          method: "subscribe",
          params: { channel: "ohlc", symbol: ["ETH/USD"], interval: 1 },
        });
        const ack = await c.next(isAck("subscribe", "ohlc"));
        assert.deepEqual(ack.result.warnings, ["timestamp is deprecated, use interval_begin"]);
        const snap = await c.next((m) => m.channel === "ohlc");
        assert.equal(snap.type, "snapshot");
        emu.tick(20);
        const upd = await c.next((m) => m.channel === "ohlc" && m.type === "update");
        const k = upd.data[0];
        assert.match(k.interval_begin, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000000000Z$/);
        assert.equal(k.interval, 1);
        assert.ok(k.low <= k.open && k.open <= k.high && k.low <= k.close && k.close <= k.high);
      },
    );
  });
});

Deno.test("heartbeats start with the first subscription; silent clients are closed", async (t) => {
  await withEmulator({ heartbeatMs: 50, idleTimeoutMs: 400 }, async (_emu, open) => {
    await t.step("no heartbeat before a subscription, about one per interval after", async () => {
      const c = await open();
      await assertQuietFor(
        200,
        "heartbeat before a subscription",
        () => c.frames.some((f) => f.includes("heartbeat")),
      );
      c.send({ method: "subscribe", params: { channel: "instrument" } });
      await elapse(300, "heartbeats are counted over 300 ms");
      const beats = c.frames.filter((f) => f === '{"channel":"heartbeat"}').length;
      assert.ok(beats >= 2 && beats <= 8, `${beats} heartbeats in 300 ms at 50 ms`);
      await c.close();
    });

    await t.step(
      "a client that sends nothing is closed after idleTimeoutMs; pings keep it open",
      async () => {
        const silent = await open();
        const pinging = await open();
        const started = Date.now();
        const timer = setInterval(() => pinging.send({ method: "ping" }), 100);
        try {
          await silent.closed;
          const took = Date.now() - started;
          assert.ok(took >= 350 && took < 1500, `closed after ${took} ms`);
          await assertQuietFor(
            300,
            "close of the pinging client",
            () => pinging.ws.readyState !== WebSocket.OPEN,
          );
        } finally {
          clearInterval(timer);
        }
      },
    );
  });
});

Deno.test("faults", async (t) => {
  await withEmulator({ symbols: ["BTC/USD"] }, async (emu, open) => {
    await t.step("dropConnections: graceful (1001) or abrupt (no close frame)", async () => {
      const a = await open();
      emu.faults.dropConnections();
      assert.equal((await a.closed).code, 1001);
      const b = await open();
      emu.faults.dropConnections({ abrupt: true });
      const abrupt = await b.closed;
      assert.equal(abrupt.wasClean, false);
      assert.notEqual(abrupt.code, 1001);
    });

    await t.step("refuseConnections: upgrades fail for the given time", async () => {
      const started = Date.now();
      emu.faults.refuseConnections(300);
      await assert.rejects(connect(emu.wsUrl));
      await waitFor(
        async () =>
          (await connect(emu.wsUrl).then((c) => c.close(), () => "refused")) !== "refused",
        2000,
        "an upgrade no longer refused",
      );
      assert.ok(Date.now() - started >= 300, "refused for the whole 300 ms");
      await open();
    });

    await t.step("corruptChecksum: the next book message carries a wrong checksum", async () => {
      const c = await open();
      emu.faults.corruptChecksum("BTC/USD");
      c.send({ method: "subscribe", params: { channel: "book", symbol: ["BTC/USD"], depth: 10 } });
      const snap = await c.next((m) => m.channel === "book");
      const d = snap.data[0];
      assert.notEqual(d.checksum, levelsChecksum(levelsOf(d.asks), levelsOf(d.bids), 1, 8));
      emu.tick(10);
      await c.next((m) => m.channel === "book" && m.type === "update");
      await barrier(c);
      const last = c.parsed().filter((m) => m.channel === "book").at(-1);
      assert.equal(last.data[0].checksum, emu.book("BTC/USD", 10).checksum, "later ones are right");
    });

    await t.step("sendMalformed: that many malformed frames to every connection", async () => {
      const c = await open();
      await c.next((m) => m.channel === "status");
      const before = c.frames.length;
      emu.faults.sendMalformed(7);
      await barrier(c);
      assert.equal(c.frames.slice(before, -1).length, 7, "7 frames before the barrier's pong");
    });

    await t.step("silence: nothing at all is sent, not even pongs", async () => {
      const c = await open();
      await c.next((m) => m.channel === "status");
      emu.faults.silence(250);
      c.send({ method: "ping", req_id: 5 });
      await assertQuietFor(
        150,
        "pong while silent",
        () => c.frames.some((f) => f.includes("pong")),
      );
      await elapse(200, "past the end of the 250 ms silence");
      c.send({ method: "ping", req_id: 6 });
      assert.equal((await c.next((m) => m.method === "pong")).req_id, 6);
    });

    await t.step(
      "maintenance: status maintenance, then online; with disconnect, refused meanwhile",
      async () => {
        const c = await open();
        await c.next((m) => m.channel === "status");
        emu.faults.maintenance(200);
        assert.equal((await c.next((m) => m.channel === "status")).data[0].system, "maintenance");
        assert.equal((await c.next((m) => m.channel === "status")).data[0].system, "online");
        const started = Date.now();
        emu.faults.maintenance(300, { disconnect: true });
        await c.closed;
        await assert.rejects(connect(emu.wsUrl));
        await waitFor(
          async () =>
            (await connect(emu.wsUrl).then((c) => c.close(), () => "refused")) !== "refused",
          2000,
          "an upgrade no longer refused after maintenance",
        );
        assert.ok(Date.now() - started >= 300, "refused for the whole 300 ms");
        const after = await open();
        assert.equal((await after.next()).data[0].system, "online");
      },
    );

    await t.step("reset clears every fault", async () => {
      emu.faults.refuseConnections(10_000);
      emu.faults.silence(10_000);
      emu.faults.reset();
      const c = await open();
      assert.equal((await c.next()).channel, "status");
    });
  });
});

Deno.test("the synthetic market: seeded, never crossed, consecutive trade ids", async () => {
  const a = await startKrakenEmulator({ autoStart: false, seed: 42, symbols: ["SOL/USD"] });
  const b = await startKrakenEmulator({ autoStart: false, seed: 42, symbols: ["SOL/USD"] });
  try {
    for (let i = 0; i < 300; i++) {
      a.tick();
      b.tick();
      const top = a.book("SOL/USD", 1);
      assert.ok(top.bids[0][0] < top.asks[0][0], "never crossed");
    }
    assert.deepEqual(a.book("SOL/USD", 100), b.book("SOL/USD", 100), "same seed, same market");
    assert.equal(a.lastTradeId("SOL/USD"), b.lastTradeId("SOL/USD"));
    assert.ok(a.lastTradeId("SOL/USD") > 50);
  } finally {
    await a.close();
    await b.close();
  }
});

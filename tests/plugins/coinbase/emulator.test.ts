/**
 * The Coinbase Advanced Trade emulator, documented through a plain WebSocket
 * client and fetch: REST, the subscribe flow (ack, snapshot, updates), one
 * `sequence_num` per connection, the connection rules (5 s subscribe deadline,
 * one channel per message, 8 messages/s, idle channels) and every fault switch.
 */
import assert from "node:assert/strict";
import { applySnapshot, applyUpdate, createBook, topN } from "../../../core/books/book.ts";
import type { Level } from "../../../core/events.ts";
import {
  type CoinbaseEmulator,
  type CoinbaseEmulatorOptions,
  startCoinbaseEmulator,
} from "../../../plugins/coinbase/emulator/mod.ts";

import { connect as connectClient, type EmulatorClient, type Json } from "../emulator_client.ts";

import { assertQuietFor, elapse, waitFor } from "../../helpers.ts";

/** The shared emulator client, plus Coinbase's subscribe message. */
interface Client extends Omit<EmulatorClient, "close"> {
  subscribe(channel: string, productIds?: string[]): void;
  close(): Promise<void>;
}

async function connect(url: string): Promise<Client> {
  const client = await connectClient(url);
  return {
    ...client,
    subscribe: (channel, productIds) =>
      client.send(
        productIds
          ? { type: "subscribe", product_ids: productIds, channel }
          : { type: "subscribe", channel },
      ),
    async close() {
      await client.close();
    },
  };
}

/** Runs `body` with an emulator (and closes it, and every client, afterwards). */
async function withEmulator(
  options: CoinbaseEmulatorOptions,
  body: (emu: CoinbaseEmulator, open: () => Promise<Client>) => Promise<void>,
): Promise<void> {
  const emu = await startCoinbaseEmulator({ tickMs: 20, tradesPerSecond: 30, ...options });
  const clients: Client[] = [];
  try {
    await body(emu, async () => {
      const c = await connect(emu.wsUrl);
      clients.push(c);
      return c;
    });
  } finally {
    for (const c of clients) await c.close();
    await emu.close();
  }
}

const numeric = (levels: [string, string][]): Level[] => levels.map(([p, q]) => [+p, +q]);

Deno.test("REST: public market endpoints, each marked as the emulator", async (t) => {
  await withEmulator({ autoStart: false }, async (emu) => {
    const get = async (path: string) => {
      const res = await fetch(emu.restUrl + "/api/v3/brokerage" + path);
      return {
        status: res.status,
        emulator: res.headers.get("x-emulator"),
        body: await res.json(),
      };
    };

    await t.step("products lists the five default products with their increments", async () => {
      const r = await get("/market/products");
      assert.equal(r.status, 200);
      assert.equal(r.emulator, "quant-saas-coinbase-emulator");
      assert.deepEqual(
        r.body.products.map((p: Json) => p.product_id),
        ["BTC-USD", "ETH-USD", "SOL-USD", "BTC-USDT", "ETH-USDT"],
      );
      assert.equal(r.body.num_products, 5);
      const btc = r.body.products[0];
      assert.equal(btc.base_currency_id, "BTC");
      assert.equal(btc.quote_currency_id, "USD");
      assert.equal(btc.quote_increment, "0.01");
      assert.equal(btc.base_increment, "0.00000001");
      assert.deepEqual(
        [btc.price_increment, btc.base_min_size, btc.base_max_size, btc.quote_min_size],
        ["0.01", "0.00000001", "3400", "1"],
      );
      assert.equal(btc.product_type, "SPOT");
    });

    await t.step("one product, and a 404 for an unknown one", async () => {
      assert.equal((await get("/market/products/ETH-USDT")).body.product_id, "ETH-USDT");
      const missing = await get("/market/products/NOPE-USD");
      assert.equal(missing.status, 404);
      assert.equal(missing.emulator, "quant-saas-coinbase-emulator");
      assert.equal(missing.body.error, "NOT_FOUND");
    });

    await t.step("product_book is the emulator's book", async () => {
      const r = await get("/market/product_book?product_id=BTC-USD&limit=5");
      const book = emu.book("BTC-USD");
      assert.deepEqual(
        r.body.pricebook.bids.map((l: Json) => [l.price, l.size]),
        book.bids.slice(0, 5),
      );
      assert.deepEqual(
        r.body.pricebook.asks.map((l: Json) => [l.price, l.size]),
        book.asks.slice(0, 5),
      );
    });

    await t.step("time", async () => {
      const r = await get("/time");
      assert.ok(Math.abs(Number(r.body.epochMillis) - Date.now()) < 5000);
      assert.equal(Date.parse(r.body.iso), Number(r.body.epochMillis));
    });
  });
});

Deno.test("subscribe flow: ack, snapshot, updates; one sequence_num per connection", async (t) => {
  await withEmulator({ products: ["BTC-USD", "ETH-USD"] }, async (emu, open) => {
    const c = await open();
    c.subscribe("level2", ["BTC-USD"]);
    c.subscribe("market_trades", ["BTC-USD"]);
    c.subscribe("ticker", ["BTC-USD"]);
    c.subscribe("candles", ["BTC-USD"]);
    await c.until((m) => m.channel === "l2_data" && m.events[0].type === "update");
    await c.until((m) => m.channel === "market_trades" && m.events[0].type === "update");
    await c.until((m) => m.channel === "candles" && m.events[0].type === "update", 3000);

    await t.step("every message carries the next number, across all channels", () => {
      assert.deepEqual(c.messages.map((m) => m.sequence_num), c.messages.map((_, i) => i));
    });

    await t.step("each subscribe is acknowledged before its snapshot", () => {
      const first = c.messages.slice(0, 3);
      assert.equal(first[0].channel, "subscriptions");
      assert.deepEqual(first[0].events[0].subscriptions, { level2: ["BTC-USD"] });
      assert.equal(first[1].channel, "l2_data");
      assert.equal(first[1].events[0].type, "snapshot");
      const acks = c.messages.filter((m) => m.channel === "subscriptions");
      assert.deepEqual(acks.at(-1).events[0].subscriptions, {
        level2: ["BTC-USD"],
        market_trades: ["BTC-USD"],
        ticker: ["BTC-USD"],
        candles: ["BTC-USD"],
      });
    });

    await t.step("level2 uses bid/offer, absolute sizes, snapshot event_time 1970", () => {
      const snap = c.messages.find((m) => m.channel === "l2_data").events[0];
      assert.equal(snap.product_id, "BTC-USD");
      const sides = new Set(snap.updates.map((u: Json) => u.side));
      assert.deepEqual([...sides], ["bid", "offer"]);
      assert.ok(snap.updates.every((u: Json) => u.event_time === "1970-01-01T00:00:00Z"));
      assert.match(snap.updates[0].price_level, /^\d+(\.\d+)?$/);
    });

    await t.step(
      "trades: consecutive numeric ids, newest first, maker side on the wire",
      async () => {
        emu.pause();
        const wireTrades = () =>
          c.messages.filter((m) => m.channel === "market_trades")
            .flatMap((m) => [...m.events[0].trades].reverse());
        const last = String(emu.lastTradeId("BTC-USD"));
        await waitFor(
          () => wireTrades().some((x: Json) => x.trade_id === last),
          3000,
          `the last batch to go out (trade ${last})`,
        );
        const wire = wireTrades();
        const ids = [...new Set(wire.map((x: Json) => Number(x.trade_id)))];
        for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1);
        assert.equal(ids.at(-1), emu.lastTradeId("BTC-USD"));
        const known = emu.trades("BTC-USD", 20);
        for (const k of known) {
          const sent = wire.find((x: Json) => x.trade_id === k.trade_id);
          assert.equal(sent.side, k.takerSide === "buy" ? "SELL" : "BUY");
          assert.equal(sent.price, k.price);
        }
      },
    );

    await t.step("ticker carries best bid/ask; candles are 5-minute buckets", () => {
      const tick = c.messages.filter((m) => m.channel === "ticker").at(-1).events[0].tickers[0];
      for (const key of ["best_bid", "best_bid_quantity", "best_ask", "best_ask_quantity"]) {
        assert.match(tick[key], /^\d+(\.\d+)?$/, key);
      }
      const candle = c.messages.filter((m) => m.channel === "candles").at(-1).events[0].candles[0];
      assert.equal(Number(candle.start) % 300, 0);
      assert.ok(Number(candle.high) >= Number(candle.low));
    });

    await t.step("the book built from the messages equals book() level by level", async () => {
      const built = () => {
        const book = createBook();
        for (const m of c.messages) {
          if (m.channel !== "l2_data") continue;
          for (const e of m.events) {
            const bids: Level[] = [], asks: Level[] = [];
            for (const u of e.updates) {
              (u.side === "bid" ? bids : asks).push([+u.price_level, +u.new_quantity]);
            }
            if (e.type === "snapshot") applySnapshot(book, bids, asks);
            else applyUpdate(book, { bids, asks });
          }
        }
        return topN(book, Infinity);
      };
      const theirs = emu.book("BTC-USD");
      await waitFor(
        () => {
          const b = built();
          return JSON.stringify([b.bids, b.asks]) ===
            JSON.stringify([numeric(theirs.bids), numeric(theirs.asks)]);
        },
        3000,
        "the book from the messages to equal book()",
      );
      const ours = built();
      assert.ok(theirs.bids.length > 50);
      assert.deepEqual(ours.bids, numeric(theirs.bids));
      assert.deepEqual(ours.asks, numeric(theirs.asks));
    });

    await t.step("unsubscribe is acknowledged and the channel stops", async () => {
      c.send({ type: "unsubscribe", product_ids: ["BTC-USD"], channel: "level2" });
      const ack = await c.until((m) =>
        m.channel === "subscriptions" && !("level2" in m.events[0].subscriptions)
      );
      const after = c.messages.indexOf(ack);
      emu.tick(20);
      await assertQuietFor(
        100,
        "l2_data after the unsubscribe ack",
        () => c.messages.slice(after).some((m) => m.channel === "l2_data"),
      );
    });
  });
});

Deno.test("heartbeats: one per second while subscribed, counter as a string or an integer", async (t) => {
  for (const form of ["string", "number"] as const) {
    await t.step(form, async () => {
      await withEmulator(
        { heartbeatIntervalMs: 50, heartbeatCounter: form },
        async (_emu, open) => {
          const c = await open();
          c.subscribe("heartbeats");
          await c.until((m) =>
            m.channel === "heartbeats" && Number(m.events[0].heartbeat_counter) === 3
          );
          const beats = c.messages.filter((m) => m.channel === "heartbeats");
          assert.deepEqual(
            beats.map((m) => typeof m.events[0].heartbeat_counter),
            beats.map(() => form),
          );
          assert.match(
            beats[0].events[0].current_time,
            /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} \+0000 UTC m=\+/,
          );
          assert.deepEqual(c.messages[0].events[0].subscriptions, { heartbeats: ["heartbeats"] });
        },
      );
    });
  }
});

Deno.test("connection rules", async (t) => {
  await t.step("no subscribe within the deadline: closed", async () => {
    await withEmulator({ subscribeDeadlineMs: 150 }, async (_emu, open) => {
      const c = await open();
      const started = Date.now();
      const ev = await c.closed;
      assert.ok(Date.now() - started >= 140);
      assert.match(ev.reason, /no subscribe within 150 ms/);
    });
  });

  await t.step("more than one channel in a message: error, then closed", async () => {
    await withEmulator({}, async (_emu, open) => {
      const c = await open();
      c.send({ type: "subscribe", product_ids: ["BTC-USD"], channels: ["level2", "ticker"] });
      const ev = await c.closed;
      assert.equal(c.messages[0].type, "error");
      assert.match(c.messages[0].message, /one channel per message/);
      assert.equal(ev.code, 1008);
    });
  });

  await t.step("an unknown product: failure to subscribe, connection kept", async () => {
    await withEmulator({}, async (_emu, open) => {
      const c = await open();
      c.subscribe("level2", ["BTC-USD", "NOPE-USD"]);
      await c.until((m) => m.type === "error");
      assert.deepEqual(c.messages[0], { type: "error", message: "failure to subscribe" });
      c.subscribe("ticker", ["BTC-USD"]);
      await c.until((m) => m.channel === "subscriptions");
      assert.equal(c.ws.readyState, WebSocket.OPEN);
    });
  });

  await t.step("more than 8 messages in a second: disconnected", async () => {
    await withEmulator({}, async (emu, open) => {
      const c = await open();
      for (let i = 0; i < 8; i++) c.subscribe("heartbeats");
      await assertQuietFor(
        100,
        "disconnect after 8 messages",
        () => c.ws.readyState !== WebSocket.OPEN,
      );
      c.subscribe("heartbeats");
      const ev = await c.closed;
      assert.equal(ev.code, 1008);
      assert.equal(emu.received().length, 9);
    });
  });

  await t.step("idle channels close the connection unless heartbeats is subscribed", async () => {
    await withEmulator({ idleCloseMs: 200, autoStart: false }, async (emu, open) => {
      const quiet = await open();
      quiet.subscribe("market_trades", ["SOL-USD"]);
      const kept = await open();
      kept.subscribe("market_trades", ["SOL-USD"]);
      kept.subscribe("heartbeats");
      const ev = await quiet.closed;
      assert.match(ev.reason, /market_trades idle/);
      await assertQuietFor(
        300,
        "idle close of the connection with heartbeats",
        () => kept.ws.readyState !== WebSocket.OPEN,
      );
      assert.equal(emu.connectionCount(), 1);
    });
  });
});

Deno.test("faults", async (t) => {
  await t.step(
    "skipSequence swallows the next l2_data message: a gap in sequence_num",
    async () => {
      await withEmulator({ autoStart: false }, async (emu, open) => {
        const c = await open();
        c.subscribe("level2", ["BTC-USD"]);
        await c.until((m) => m.channel === "l2_data");
        emu.faults.skipSequence();
        emu.tick(5);
        emu.tick(5);
        await c.until((m) => m.channel === "l2_data" && m.events[0].type === "update");
        const seqs = c.messages.map((m) => m.sequence_num);
        assert.deepEqual(seqs, [0, 1, 3], "message 2 was swallowed");
      });
    },
  );

  await t.step("sendMalformed sends broken frames, each taking a sequence number", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const c = await open();
      c.subscribe("level2", ["ETH-USD"]);
      await c.until((m) => m.channel === "l2_data");
      emu.faults.sendMalformed(7);
      await c.until((_m) => c.messages.length === 9, 2000, "7 malformed frames");
      assert.ok("unparsable" in c.messages[2], "the first is bad JSON");
      assert.deepEqual(c.messages.slice(3).map((m) => m.sequence_num), [3, 4, 5, 6, 7, 8]);
      assert.equal(c.messages[8].events.broken, true);
    });
  });

  await t.step(
    "dropConnections({abrupt}) ends the TCP connection without a close frame",
    async () => {
      await withEmulator({}, async (emu, open) => {
        const c = await open();
        c.subscribe("heartbeats");
        await c.until((m) => m.channel === "subscriptions");
        emu.faults.dropConnections({ abrupt: true });
        const ev = await c.closed;
        assert.equal(ev.wasClean, false, "no closing handshake");
        assert.notEqual(ev.code, 1001, "not the graceful going-away close");
        await waitFor(
          () => emu.connectionCount() === 0,
          2000,
          "the emulator to release the connection",
        );
      });
    },
  );

  await t.step("refuseConnections answers upgrades with 503 for a while", async () => {
    await withEmulator({}, async (emu, open) => {
      const started = Date.now();
      emu.faults.refuseConnections(300);
      await assert.rejects(open());
      let c: Client | undefined;
      await waitFor(
        async () => (c = await open().catch(() => undefined)) !== undefined,
        2000,
        "an upgrade no longer refused",
      );
      assert.ok(Date.now() - started >= 300, "refused for the whole 300 ms");
      c = c!;
      assert.equal(c.ws.readyState, WebSocket.OPEN);
      assert.equal(emu.totalConnections(), 1);
    });
  });

  await t.step("silence holds every message back, then delivers them in order", async () => {
    await withEmulator({ heartbeatIntervalMs: 30 }, async (emu, open) => {
      const c = await open();
      c.subscribe("heartbeats");
      await c.until((m) => m.channel === "heartbeats");
      emu.faults.silence(300);
      await elapse(30, "messages already in flight to arrive");
      const before = c.messages.length;
      await assertQuietFor(200, "message while silent", () => c.messages.length !== before);
      await c.until((_m) => c.messages.length > before + 5, 1000, "held messages");
      assert.deepEqual(c.messages.map((m) => m.sequence_num), c.messages.map((_, i) => i));
    });
  });

  await t.step("reset clears refusal and silence", async () => {
    await withEmulator({}, async (emu, open) => {
      emu.faults.refuseConnections(60_000);
      emu.faults.silence(60_000);
      emu.faults.reset();
      const c = await open();
      c.subscribe("heartbeats");
      await c.until((m) => m.channel === "subscriptions");
    });
  });
});

/**
 * The Binance Spot emulator, documented through a plain WebSocket client and
 * fetch: URL forms, control messages, limits, payload shapes, the local order
 * book procedure, trades and REST backfill, and every fault switch.
 */
import assert from "node:assert/strict";
// @ts-types="@types/ws"
import { WebSocket as NodeWebSocket } from "ws";
import {
  type BinanceEmulator,
  type BinanceEmulatorOptions,
  startBinanceEmulator,
} from "../../../plugins/binance/emulator/mod.ts";

import { connect, type EmulatorClient as Client, type Json } from "../emulator_client.ts";

import { assertQuietFor, elapse, waitFor } from "../../helpers.ts";

/** An `npm:ws` client, for what Deno's client cannot do (see or withhold pongs, send pongs). */
async function connectNode(url: string, autoPong: boolean): Promise<{
  ws: NodeWebSocket;
  pings: string[];
  closed: Promise<number>;
}> {
  const ws = new NodeWebSocket(url, { autoPong });
  const pings: string[] = [];
  ws.on("ping", (data) => pings.push(String(data)));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, pings, closed };
}

/** Status code of a raw WebSocket upgrade request (101 when accepted). */
async function upgradeStatus(port: number, path: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

async function getJson(url: string): Promise<{ status: number; headers: Headers; body: Json }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Runs `fn` against a fresh emulator and always closes it and the clients it opened. */
async function withEmulator(
  options: BinanceEmulatorOptions,
  fn: (emu: BinanceEmulator, open: (path: string) => Promise<Client>) => void | Promise<void>,
): Promise<void> {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT", "ETHUSDT"], ...options });
  const clients: Client[] = [];
  try {
    await fn(emu, async (path) => {
      const c = await connect(emu.wsUrl + path);
      clients.push(c);
      return c;
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await emu.close();
  }
}

const PADDED = /^\d+\.\d{8}$/;
const keys = (o: object): string[] => Object.keys(o).sort();

// ---------------------------------------------------------------------------

Deno.test("stream URL forms and payload shapes", async (t) => {
  await withEmulator({ autoStart: false, tradesPerSecond: 200 }, async (emu, open) => {
    await t.step(
      "raw /ws/<stream> sends bare trade payloads with padded decimal strings",
      async () => {
        const c = await open("/ws/btcusdt@trade");
        emu.tick(5);
        const trade = await c.next();
        assert.deepEqual(keys(trade), ["E", "M", "T", "e", "m", "p", "q", "s", "t"]);
        assert.equal(trade.e, "trade");
        assert.equal(trade.s, "BTCUSDT");
        assert.equal(trade.t, 1, "trade ids start at 1");
        assert.match(trade.p, PADDED);
        assert.match(trade.q, PADDED);
        assert.equal(typeof trade.m, "boolean");
        assert.ok(trade.E >= trade.T && trade.T > 1.6e12, "times in milliseconds");
      },
    );

    await t.step("raw /ws/<a>/<b> carries several streams, still unwrapped", async () => {
      const c = await open("/ws/ethusdt@bookTicker/ethusdt@aggTrade");
      emu.tick(5);
      const ticker = await c.next((m) => "u" in m);
      assert.deepEqual(keys(ticker), ["A", "B", "a", "b", "s", "u"], "bookTicker has no e/E/T");
      const agg = await c.next((m) => m.e === "aggTrade");
      assert.deepEqual(keys(agg), ["E", "M", "T", "a", "e", "f", "l", "m", "p", "q", "s"]);
    });

    await t.step("combined /stream?streams= wraps payloads as {stream,data}", async () => {
      const c = await open("/stream?streams=btcusdt@depth5@100ms/btcusdt@depth@100ms");
      emu.tick(2);
      const partial = await c.until((m) => m.stream === "btcusdt@depth5@100ms");
      assert.deepEqual(keys(partial), ["data", "stream"]);
      assert.deepEqual(
        keys(partial.data),
        ["asks", "bids", "lastUpdateId"],
        "partial depth has no symbol",
      );
      assert.equal(partial.data.bids.length, 5);
      const diff = await c.until((m) => m.stream === "btcusdt@depth@100ms");
      assert.deepEqual(keys(diff.data), ["E", "U", "a", "b", "e", "s", "u"]);
      assert.equal(diff.data.e, "depthUpdate");
    });

    await t.step("timeUnit=MICROSECOND switches timestamps to µs", async () => {
      const c = await open("/ws/btcusdt@trade?timeUnit=MICROSECOND");
      emu.tick(5);
      const trade = await c.next();
      assert.ok(trade.E > 1e15 && trade.T > 1e15);
    });

    await t.step(
      "a well-formed stream of an unknown symbol is accepted and sends nothing",
      async () => {
        const c = await open("/ws/dogeusdt@trade");
        emu.tick(5);
        await assertQuietFor(100, "frame for an unknown symbol", () => c.frames.length > 0);
        assert.equal(c.ws.readyState, WebSocket.OPEN);
      },
    );

    await t.step(
      "malformed stream names and unknown paths are refused at the upgrade",
      async () => {
        assert.equal(await upgradeStatus(emu.port, "/ws/btcusdt@trades"), 400);
        assert.equal(
          await upgradeStatus(emu.port, "/ws/BTCUSDT@trade"),
          400,
          "symbols must be lowercase",
        );
        assert.equal(await upgradeStatus(emu.port, "/stream?streams=btcusdt@kline_7m"), 400);
        assert.equal(await upgradeStatus(emu.port, "/socket"), 404);
        assert.equal(await upgradeStatus(emu.port, "/ws/btcusdt@kline_1M"), 101);
      },
    );
  });
});

Deno.test("control messages and their replies", async (t) => {
  await withEmulator({ autoStart: false, maxMessagesPerSecond: 1000 }, async (emu, open) => {
    const c = await open("/ws");
    const ask = async (message: unknown): Promise<Json> => {
      c.send(message);
      return await c.next((m) => "id" in m);
    };

    await t.step("SUBSCRIBE answers {result:null,id} and starts the streams", async () => {
      assert.deepEqual(
        await ask({ method: "SUBSCRIBE", params: ["btcusdt@trade", "btcusdt@bookTicker"], id: 1 }),
        { result: null, id: 1 },
      );
      emu.tick(10);
      const frame = await c.next();
      assert.ok(frame.e === "trade" || "u" in frame);
    });

    await t.step("LIST_SUBSCRIPTIONS lists streams in order; string ids are echoed", async () => {
      const reply = await ask({ method: "LIST_SUBSCRIPTIONS", id: "abc123" });
      assert.deepEqual(reply, { result: ["btcusdt@trade", "btcusdt@bookTicker"], id: "abc123" });
      assert.deepEqual(emu.subscriptions(), [["btcusdt@trade", "btcusdt@bookTicker"]]);
    });

    await t.step("UNSUBSCRIBE removes streams", async () => {
      assert.deepEqual(
        await ask({ method: "UNSUBSCRIBE", params: ["btcusdt@bookTicker"], id: 312 }),
        {
          result: null,
          id: 312,
        },
      );
      assert.deepEqual((await ask({ method: "LIST_SUBSCRIPTIONS", id: 3 })).result, [
        "btcusdt@trade",
      ]);
    });

    await t.step("SET_PROPERTY combined wraps payloads; GET_PROPERTY reads it", async () => {
      assert.deepEqual(await ask({ method: "GET_PROPERTY", params: ["combined"], id: 2 }), {
        result: false,
        id: 2,
      });
      assert.deepEqual(await ask({ method: "SET_PROPERTY", params: ["combined", true], id: 4 }), {
        result: null,
        id: 4,
      });
      assert.deepEqual(await ask({ method: "GET_PROPERTY", params: ["combined"], id: 5 }), {
        result: true,
        id: 5,
      });
      emu.tick(10);
      const wrapped = await c.next((m) => "stream" in m);
      assert.equal(wrapped.stream, "btcusdt@trade");
      assert.equal(wrapped.data.e, "trade");
      await ask({ method: "UNSUBSCRIBE", params: ["btcusdt@trade"], id: 6 });
    });

    await t.step("errors come wrapped with Binance's codes", async () => {
      const invalidJson = await ask("{not json");
      assert.deepEqual(Object.keys(invalidJson), ["id", "error"]);
      assert.equal(invalidJson.id, null);
      assert.equal(invalidJson.error.code, 3);
      assert.match(invalidJson.error.msg, /^Invalid JSON: .* at line 1 column \d+$/);

      assert.deepEqual(await ask({ method: "SUBSCRIBE", params: ["btcusdt@nope"], id: 7 }), {
        error: { code: 2, msg: "Invalid request: invalid stream" },
        id: 7,
      });
      assert.deepEqual(await ask({ params: [], id: 8 }), {
        error: { code: 2, msg: "Invalid request: missing field `method`" },
        id: 8,
      });
      const unknown = await ask({ method: "PING", id: 9 });
      assert.equal(unknown.error.code, 2);
      assert.match(
        unknown.error.msg,
        /^Invalid request: unknown variant `PING`, expected one of `SUBSCRIBE`/,
      );
      assert.deepEqual(await ask({ method: "SET_PROPERTY", params: ["combined", "yes"], id: 10 }), {
        error: { code: 1, msg: "Invalid value type: expected Boolean" },
        id: 10,
      });
      assert.deepEqual(await ask({ method: "GET_PROPERTY", params: ["colour"], id: 11 }), {
        error: { code: 0, msg: "Unknown property" },
        id: 11,
      });
      assert.deepEqual(await ask({ method: "LIST_SUBSCRIPTIONS", params: ["x"], id: 12 }), {
        error: { code: 2, msg: "Invalid request: too many parameters" },
        id: 12,
      });
    });

    await t.step(
      "ids must be 64-bit integers, alphanumeric strings of up to 36 chars, or null",
      async () => {
        for (const id of [1.5, "x".repeat(37), "a-b", { n: 1 }]) {
          const reply = await ask({ method: "LIST_SUBSCRIPTIONS", id });
          assert.equal(reply.id, null);
          assert.equal(reply.error.code, 2);
        }
        assert.deepEqual(await ask({ method: "LIST_SUBSCRIPTIONS", id: null }), {
          result: [],
          id: null,
        });
        assert.deepEqual(await ask({ method: "LIST_SUBSCRIPTIONS", id: "A".repeat(36) }), {
          result: [],
          id: "A".repeat(36),
        });
      },
    );
  });
});

Deno.test("connection limits", async (t) => {
  await t.step("more than 5 incoming messages in a second disconnects", async () => {
    await withEmulator({ autoStart: false }, async (_emu, open) => {
      const c = await open("/ws");
      for (let i = 1; i <= 5; i++) c.send({ method: "LIST_SUBSCRIPTIONS", id: i });
      for (let i = 1; i <= 5; i++) assert.equal((await c.next()).id, i);
      assert.equal(c.ws.readyState, WebSocket.OPEN, "five is allowed");
      c.send({ method: "LIST_SUBSCRIPTIONS", id: 6 });
      const closed = await c.closed;
      assert.equal(closed.code, 1008);
      assert.equal(c.frames.length, 5, "the sixth message got no reply");
    });
  });

  await t.step("pong frames count towards the message rate", async () => {
    await withEmulator({ autoStart: false }, async (emu) => {
      const n = await connectNode(`${emu.wsUrl}/ws`, true);
      for (let i = 0; i < 6; i++) n.ws.pong();
      assert.equal(await n.closed, 1008);
    });
  });

  await t.step("more than maxStreams streams are refused", async () => {
    await withEmulator({ autoStart: false, maxStreams: 2 }, async (emu, open) => {
      assert.equal(await upgradeStatus(emu.port, "/stream?streams=a@trade/b@trade/c@trade"), 400);
      const c = await open("/ws/btcusdt@trade");
      c.send({ method: "SUBSCRIBE", params: ["ethusdt@trade", "solusdt@trade"], id: 1 });
      const reply = await c.next();
      assert.equal(reply.id, 1);
      assert.equal(reply.error.code, 2);
      assert.deepEqual(emu.subscriptions(), [["btcusdt@trade"]], "nothing was subscribed");
      c.send({ method: "SUBSCRIBE", params: ["ethusdt@trade", "btcusdt@trade"], id: 2 });
      assert.deepEqual(
        await c.next(),
        { result: null, id: 2 },
        "re-subscribing is not a new stream",
      );
    });
  });

  await t.step("ping frames carry a payload; a client answering them stays connected", async () => {
    await withEmulator(
      { autoStart: false, pingIntervalMs: 50, pongTimeoutMs: 150, maxMessagesPerSecond: 100 },
      async (emu, open) => {
        const watcher = await connectNode(`${emu.wsUrl}/ws`, true);
        const deno = await open("/ws"); // Deno's client answers pings by itself
        // Four pings at 50 ms span more than the 150 ms pong timeout.
        await waitFor(() => watcher.pings.length >= 4, 3000, "4 pings");
        assert.ok(watcher.pings.every((p) => p.length > 0), "pings carry a payload");
        assert.equal(deno.ws.readyState, WebSocket.OPEN);
        assert.equal(watcher.ws.readyState, NodeWebSocket.OPEN);
        watcher.ws.close();
        await watcher.closed;
      },
    );
  });

  await t.step("no pong within pongTimeoutMs closes; unsolicited pongs do not help", async () => {
    await withEmulator(
      { autoStart: false, pingIntervalMs: 50, pongTimeoutMs: 150, maxMessagesPerSecond: 100 },
      async (emu) => {
        const silent = await connectNode(`${emu.wsUrl}/ws`, false);
        const chatty = await connectNode(`${emu.wsUrl}/ws`, false);
        const unsolicited = setInterval(() => chatty.ws.pong(), 40);
        const started = Date.now();
        try {
          assert.equal(await silent.closed, 1008);
          assert.equal(await chatty.closed, 1008);
        } finally {
          clearInterval(unsolicited);
        }
        const elapsed = Date.now() - started;
        assert.ok(silent.pings.length >= 1);
        assert.ok(elapsed >= 150 && elapsed < 1500, `closed after ${elapsed} ms`);
      },
    );
  });

  await t.step("after maxConnectionMs: serverShutdown, then close", async () => {
    await withEmulator({ autoStart: false, maxConnectionMs: 150 }, async (_emu, open) => {
      const raw = await open("/ws");
      const combined = await open("/stream");
      const shutdown = await raw.next();
      assert.deepEqual(keys(shutdown), ["E", "e"]);
      assert.equal(shutdown.e, "serverShutdown");
      const wrapped = await combined.next();
      assert.equal(wrapped.stream, "!serverShutdown");
      assert.equal(wrapped.data.e, "serverShutdown");
      await raw.closed;
      await combined.closed;
    });
  });
});

// ---------------------------------------------------------------------------

interface DepthEvent {
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

/** A local book built by Binance's documented procedure. */
function localBook(snapshot: Json, events: DepthEvent[]) {
  const bids = new Map<string, string>(snapshot.bids);
  const asks = new Map<string, string>(snapshot.asks);
  let id: number = snapshot.lastUpdateId;
  for (const e of events) {
    if (e.u <= id) continue; // older than the snapshot
    assert.ok(e.U <= id + 1, `gap: U=${e.U} after book id ${id}`);
    for (const [side, levels] of [[bids, e.b], [asks, e.a]] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(p);
        else side.set(p, q);
      }
    }
    id = e.u;
  }
  const sorted = (m: Map<string, string>, desc: boolean) =>
    [...m].sort((x, y) => desc ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0]));
  return { lastUpdateId: id, bids: sorted(bids, true), asks: sorted(asks, false) };
}

const assertChained = (events: DepthEvent[]): void => {
  for (let i = 1; i < events.length; i++) {
    assert.equal(events[i].U, events[i - 1].u + 1, `event ${i}: U = previous u + 1`);
    assert.ok(events[i].u >= events[i].U);
  }
};

Deno.test("order book: diff depth and the REST snapshot", async (t) => {
  await t.step("a client following Binance's procedure rebuilds exactly book(symbol)", async () => {
    await withEmulator({ tickMs: 10, seed: 11 }, async (emu, open) => {
      const c = await open("/ws/btcusdt@depth@100ms");
      const first = await c.next();
      let snapshot = (await getJson(`${emu.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5000`)).body;
      while (snapshot.lastUpdateId < first.U) {
        snapshot = (await getJson(`${emu.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5000`)).body;
      }
      await c.until(
        (m) => m.U > snapshot.lastUpdateId + 1,
        3000,
        "depth events past the snapshot",
      );
      emu.pause();
      emu.tick(0); // publish what the last window holds
      const expected = emu.book("BTCUSDT");
      await c.next((m) => m.u === expected.lastUpdateId);
      const events = c.parsed() as DepthEvent[];
      assertChained(events);
      assert.ok(events.length >= 3);
      const kept = events.filter((e) => e.u > snapshot.lastUpdateId);
      assert.ok(kept[0].U <= snapshot.lastUpdateId + 1 && snapshot.lastUpdateId <= kept[0].u);
      assert.deepEqual(localBook(snapshot, events), expected);
    });
  });

  await t.step("@depth (1000 ms) and @depth@100ms cover the same update ids", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const c = await open("/stream?streams=ethusdt@depth/ethusdt@depth@100ms");
      for (let i = 0; i < 4; i++) emu.tick(3);
      const last = emu.book("ETHUSDT").lastUpdateId;
      await c.until((m) => m.stream === "ethusdt@depth" && m.data.u === last);
      await c.until((m) => m.stream === "ethusdt@depth@100ms" && m.data.u === last);
      const slow = c.parsed().filter((m) => m.stream === "ethusdt@depth").map((m) => m.data);
      const fast = c.parsed().filter((m) => m.stream === "ethusdt@depth@100ms").map((m) => m.data);
      assertChained(slow);
      assertChained(fast);
      assert.equal(slow[0].U, fast[0].U);
    });
  });

  await t.step("the snapshot honours limit and charges Binance's weights", async () => {
    await withEmulator({ autoStart: false }, async (emu) => {
      const weights: number[] = [];
      let previous = 0;
      for (const limit of [100, 500, 1000, 5000]) {
        const res = await getJson(`${emu.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=${limit}`);
        const used = Number(res.headers.get("x-mbx-used-weight-1m"));
        weights.push(used - previous);
        previous = used;
        assert.equal(res.body.bids.length, Math.min(limit, 300));
      }
      assert.deepEqual(weights, [5, 25, 50, 250]);
      const byDefault = await getJson(`${emu.restUrl}/api/v3/depth?symbol=BTCUSDT`);
      assert.equal(byDefault.body.asks.length, 100);
    });
  });

  await t.step("bookTicker follows the best levels with u = the book update id", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const c = await open("/ws/btcusdt@bookTicker");
      emu.tick(20);
      const book = emu.book("BTCUSDT");
      const top = await c.next((m) =>
        m.b === book.bids[0][0] && m.B === book.bids[0][1] && m.a === book.asks[0][0] &&
        m.A === book.asks[0][1]
      );
      assert.ok(top.u <= book.lastUpdateId);
      const ticks = c.parsed();
      for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i].u > ticks[i - 1].u);
    });
  });

  await t.step(
    "the book is never crossed, keeps bookLevels levels, respects tick and step",
    async () => {
      // SOLUSDT: tick 0.01, step 0.001; ADAUSDT: tick 0.0001, step 0.1.
      const grid = {
        SOLUSDT: [/^\d+\.\d{2}0{6}$/, /^\d+\.\d{3}0{5}$/],
        ADAUSDT: [/^\d+\.\d{4}0{4}$/, /^\d+\.\d0{7}$/],
      };
      await withEmulator(
        { autoStart: false, bookLevels: 50, symbols: ["SOLUSDT", "ADAUSDT"] },
        (emu) => {
          for (let i = 0; i < 200; i++) {
            emu.tick();
            for (const [s, [price, qty]] of Object.entries(grid)) {
              const b = emu.book(s);
              assert.ok(Number(b.bids[0][0]) < Number(b.asks[0][0]), `${s} crossed at tick ${i}`);
              assert.equal(b.bids.length, 50);
              assert.equal(b.asks.length, 50);
              for (const [p, q] of [...b.bids, ...b.asks]) {
                assert.match(p, price);
                assert.match(q, qty);
              }
            }
          }
        },
      );
    },
  );

  await t.step(
    "the same seed gives the same market; the price stays within ±0.5% a minute",
    async () => {
      const a = await startBinanceEmulator({ autoStart: false, seed: 42, symbols: ["BTCUSDT"] });
      const b = await startBinanceEmulator({ autoStart: false, seed: 42, symbols: ["BTCUSDT"] });
      try {
        const start = Number(a.book("BTCUSDT").bids[0][0]);
        a.tick(1200); // one minute of 50 ms ticks
        b.tick(1200);
        assert.deepEqual(a.book("BTCUSDT"), b.book("BTCUSDT"));
        assert.equal(a.lastTradeId("BTCUSDT"), b.lastTradeId("BTCUSDT"));
        const now = Number(a.book("BTCUSDT").bids[0][0]);
        assert.ok(
          Math.abs(now / start - 1) < 0.005,
          `moved ${((now / start - 1) * 100).toFixed(3)}%`,
        );
        assert.ok(a.lastTradeId("BTCUSDT") > 100, "about 8 trades a second");
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});

Deno.test("trades and REST backfill", async (t) => {
  await withEmulator({ autoStart: false, tradesPerSecond: 300 }, async (emu, open) => {
    const c = await open("/stream?streams=btcusdt@trade/btcusdt@aggTrade");
    emu.tick(10);
    const last = emu.lastTradeId("BTCUSDT");
    await c.next((m) => m.stream === "btcusdt@trade" && m.data.t === last);
    const trades = c.parsed().filter((m) => m.stream === "btcusdt@trade").map((m) => m.data);
    const aggs = c.parsed().filter((m) => m.stream === "btcusdt@aggTrade").map((m) => m.data);

    await t.step("trade ids are consecutive from 1", () => {
      assert.ok(last > 20);
      assert.deepEqual(trades.map((x) => x.t), Array.from({ length: last }, (_, i) => i + 1));
    });

    await t.step("aggTrades cover the trade ids without gaps, one price each", async () => {
      await c.next((m) => m.stream === "btcusdt@aggTrade" && m.data.l === last);
      const all = c.parsed().filter((m) => m.stream === "btcusdt@aggTrade").map((m) => m.data);
      assert.equal(all[0].f, 1);
      for (let i = 1; i < all.length; i++) {
        assert.equal(all[i].f, all[i - 1].l + 1);
        assert.equal(all[i].a, all[i - 1].a + 1);
      }
      for (const agg of aggs) {
        const fills = trades.filter((x) => x.t >= agg.f && x.t <= agg.l);
        assert.ok(fills.every((x) => x.p === agg.p && x.m === agg.m));
      }
    });

    await t.step("historicalTrades?fromId returns the streamed trades", async () => {
      const res = await getJson(
        `${emu.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=5&limit=4`,
      );
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.map((x: Json) => x.id), [5, 6, 7, 8]);
      for (const rest of res.body) {
        const live = trades[rest.id - 1];
        assert.deepEqual([rest.price, rest.qty, rest.time, rest.isBuyerMaker], [
          live.p,
          live.q,
          live.T,
          live.m,
        ]);
        assert.match(rest.quoteQty, PADDED);
      }
    });

    await t.step("trades, aggTrades and klines endpoints", async () => {
      const recent = await getJson(`${emu.restUrl}/api/v3/trades?symbol=BTCUSDT&limit=3`);
      assert.deepEqual(recent.body.map((x: Json) => x.id), [last - 2, last - 1, last]);
      const agg = await getJson(`${emu.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&fromId=2&limit=2`);
      assert.deepEqual(agg.body.map((x: Json) => x.a), [2, 3]);
      assert.deepEqual(keys(agg.body[0]), ["M", "T", "a", "f", "l", "m", "p", "q"]);
      const klines = await getJson(
        `${emu.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5`,
      );
      const open = klines.body.at(-1);
      assert.equal(open.length, 12);
      assert.equal(open[8], last, "the open minute holds every trade so far");
      assert.equal(open[6] - open[0], 59_999);
      const bad = await getJson(`${emu.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=7m`);
      assert.deepEqual([bad.status, bad.body], [400, { code: -1120, msg: "Invalid interval." }]);
    });
  });

  await t.step("kline streams: 1s candles close every second with x:true", async () => {
    await withEmulator({ tickMs: 20 }, async (_emu, open) => {
      const c = await open("/ws/btcusdt@kline_1s");
      const k = (await c.next((m) => m.k.x === true, 2500)).k;
      assert.equal(k.i, "1s");
      assert.equal(k.T - k.t, 999);
      assert.equal(k.t % 1000, 0);
      assert.match(k.o, PADDED);
    });
  });
});

Deno.test("REST endpoints, errors and rate limits", async (t) => {
  await withEmulator({ autoStart: false, symbols: ["BTCUSDT", "ADAUSDT"] }, async (emu) => {
    await t.step(
      "every response says it comes from the emulator and carries the used weight",
      async () => {
        const res = await getJson(`${emu.restUrl}/api/v3/ping`);
        assert.deepEqual(res.body, {});
        assert.equal(res.headers.get("x-emulator"), "quant-saas-binance-emulator");
        assert.ok(Number(res.headers.get("x-mbx-used-weight-1m")) >= 1);
        const time = await getJson(`${emu.restUrl}/api/v3/time`);
        assert.ok(Math.abs(time.body.serverTime - Date.now()) < 5000);
      },
    );

    await t.step("exchangeInfo lists symbols with tick and step sizes", async () => {
      const res = await getJson(
        `${emu.restUrl}/api/v3/exchangeInfo?symbols=${encodeURIComponent('["ADAUSDT"]')}`,
      );
      const [ada] = res.body.symbols;
      assert.equal(res.body.symbols.length, 1);
      assert.deepEqual([ada.symbol, ada.status, ada.baseAsset, ada.quoteAsset], [
        "ADAUSDT",
        "TRADING",
        "ADA",
        "USDT",
      ]);
      const filter = (type: string) => ada.filters.find((f: Json) => f.filterType === type);
      assert.equal(filter("PRICE_FILTER").tickSize, "0.00010000");
      assert.equal(filter("LOT_SIZE").stepSize, "0.10000000");
      const all = await getJson(`${emu.restUrl}/api/v3/exchangeInfo`);
      assert.deepEqual(all.body.symbols.map((s: Json) => s.symbol), ["BTCUSDT", "ADAUSDT"]);
      const btc = all.body.symbols[0].filters;
      assert.deepEqual([btc[0].tickSize, btc[1].stepSize], ["0.01000000", "0.00001000"]);
      assert.deepEqual(btc[1], {
        filterType: "LOT_SIZE",
        minQty: "0.00001000",
        maxQty: "9000.00000000",
        stepSize: "0.00001000",
      });
      assert.deepEqual(btc.find((f: Json) => f.filterType === "NOTIONAL"), {
        filterType: "NOTIONAL",
        minNotional: "5.00000000",
        applyMinToMarket: true,
        maxNotional: "9000000.00000000",
        applyMaxToMarket: false,
        avgPriceMins: 5,
      });
      assert.deepEqual(
        [filter("LOT_SIZE").maxQty, filter("NOTIONAL").minNotional],
        ["900000.00000000", "5.00000000"],
      );
    });

    await t.step("errors have Binance's shape", async () => {
      assert.deepEqual((await getJson(`${emu.restUrl}/api/v3/depth?symbol=XYZUSDT`)).body, {
        code: -1121,
        msg: "Invalid symbol.",
      });
      const missing = await getJson(`${emu.restUrl}/api/v3/trades`);
      assert.deepEqual([missing.status, missing.body.code], [400, -1102]);
      const unknown = await getJson(`${emu.restUrl}/api/v3/nothing`);
      assert.equal(unknown.status, 404);
      assert.equal(typeof unknown.body.code, "number");
      assert.equal(typeof unknown.body.msg, "string");
      assert.equal(unknown.headers.get("x-emulator"), "quant-saas-binance-emulator");
    });

    await t.step("bookTicker REST matches the book", async () => {
      const res = await getJson(`${emu.restUrl}/api/v3/ticker/bookTicker?symbol=ADAUSDT`);
      const book = emu.book("ADAUSDT");
      assert.deepEqual(res.body, {
        symbol: "ADAUSDT",
        bidPrice: book.bids[0][0],
        bidQty: book.bids[0][1],
        askPrice: book.asks[0][0],
        askQty: book.asks[0][1],
      });
    });
  });
});

Deno.test("going over maxWeightPerMinute answers 429 with Retry-After", async () => {
  await withEmulator({ autoStart: false, maxWeightPerMinute: 30 }, async (emu) => {
    let res: Response | undefined;
    for (let i = 0; i < 20; i++) {
      res = await fetch(`${emu.restUrl}/api/v3/depth?symbol=BTCUSDT`); // weight 5
      await res.body?.cancel();
      if (res.status !== 200) break;
    }
    assert.equal(res?.status, 429);
    assert.ok(Number(res?.headers.get("x-mbx-used-weight-1m")) > 30);
    const retry = Number(res?.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 60);
  });
});

// ---------------------------------------------------------------------------

Deno.test("fault modes", async (t) => {
  await t.step(
    "dropConnections: abrupt drops have no close frame, others close with 1001",
    async () => {
      await withEmulator({ autoStart: false }, async (emu, open) => {
        const a = await open("/ws");
        emu.faults.dropConnections({ abrupt: true });
        const abrupt = await a.closed;
        assert.equal(abrupt.wasClean, false);
        assert.notEqual(abrupt.code, 1000);
        const b = await open("/ws");
        emu.faults.dropConnections();
        const graceful = await b.closed;
        assert.equal(graceful.code, 1001);
        await waitFor(() => emu.connectionCount() === 0, 2000, "both connections released");
        assert.equal(emu.totalConnections(), 2);
      });
    },
  );

  await t.step("refuseConnections answers 503 for a while", async () => {
    await withEmulator({ autoStart: false }, async (emu) => {
      const started = Date.now();
      emu.faults.refuseConnections(200);
      assert.equal(await upgradeStatus(emu.port, "/ws"), 503);
      let status = 0;
      await waitFor(
        async () => (status = await upgradeStatus(emu.port, "/ws")) !== 503,
        2000,
        "an upgrade no longer refused",
      );
      assert.equal(status, 101);
      assert.ok(Date.now() - started >= 200, "refused for the whole 200 ms");
    });
  });

  const depthEvents = async (
    emu: BinanceEmulator,
    c: Client,
    rounds: number,
  ): Promise<DepthEvent[]> => {
    for (let i = 0; i < rounds; i++) emu.tick(2);
    const last = emu.book("BTCUSDT").lastUpdateId;
    await c.next((m) => m.u === last);
    return c.parsed();
  };

  await t.step("skipDepthEvent leaves a gap in U/u", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const c = await open("/ws/btcusdt@depth@100ms");
      emu.tick(2);
      emu.faults.skipDepthEvent("BTCUSDT");
      const events = await depthEvents(emu, c, 3);
      assert.equal(events.length, 3, "four events, one swallowed");
      assert.ok(events[1].U > events[0].u + 1, "one event is missing");
      assert.equal(events[2].U, events[1].u + 1);
    });
  });

  await t.step("reorderDepthEvents swaps the next two events", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const c = await open("/ws/btcusdt@depth@100ms");
      emu.faults.reorderDepthEvents("btcusdt");
      const events = await depthEvents(emu, c, 3);
      assert.equal(events.length, 3);
      assert.equal(events[1].u + 1, events[0].U, "the second event arrived first");
      assert.equal(events[2].U, events[0].u + 1);
    });
  });

  await t.step("duplicateDepthEvent sends the next event twice", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const c = await open("/ws/btcusdt@depth@100ms");
      emu.faults.duplicateDepthEvent("BTCUSDT");
      await depthEvents(emu, c, 2);
      assert.equal(c.frames.length, 3);
      assert.equal(c.frames[0], c.frames[1]);
      assertChained([JSON.parse(c.frames[1]), JSON.parse(c.frames[2])]);
    });
  });

  await t.step("staleSnapshot serves an older book than the streamed events, once", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const initial = emu.book("BTCUSDT");
      const c = await open("/ws/btcusdt@depth@100ms");
      emu.tick(3);
      const first = await c.next();
      emu.faults.staleSnapshot("BTCUSDT");
      const stale = (await getJson(`${emu.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5000`)).body;
      assert.ok(stale.lastUpdateId < first.U, "older than the first buffered event");
      assert.deepEqual(stale, initial, "it is the real earlier book");
      const fresh = (await getJson(`${emu.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5000`)).body;
      assert.equal(fresh.lastUpdateId, emu.book("BTCUSDT").lastUpdateId);
    });
  });

  await t.step("sendMalformed sends broken frames of each kind", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const c = await open("/ws/btcusdt@trade");
      emu.faults.sendMalformed(6);
      await waitFor(() => c.frames.length >= 6, 3000, "6 malformed frames");
      assert.throws(() => JSON.parse(c.frames[0]), SyntaxError);
      const [wrongType, nan, negative, zero, unknown] = c.frames.slice(1).map((f) => JSON.parse(f));
      assert.equal(typeof wrongType.p, "number");
      assert.equal(nan.p, "NaN");
      assert.ok(Number(negative.q) < 0);
      assert.equal(Number(zero.p), 0);
      assert.notEqual(unknown.s, "BTCUSDT");
    });
  });

  await t.step("rateLimit forces 429/418 with Retry-After for the next requests", async () => {
    await withEmulator({ autoStart: false }, async (emu) => {
      emu.faults.rateLimit({ status: 418, retryAfterSec: 7, count: 2 });
      for (let i = 0; i < 2; i++) {
        const res = await getJson(`${emu.restUrl}/api/v3/ping`);
        assert.equal(res.status, 418);
        assert.equal(res.headers.get("retry-after"), "7");
        assert.equal(res.body.code, -1003);
      }
      assert.equal((await getJson(`${emu.restUrl}/api/v3/ping`)).status, 200);
      emu.faults.rateLimit({ retryAfterSec: 3 });
      assert.equal((await getJson(`${emu.restUrl}/api/v3/time`)).status, 429);
    });
  });

  await t.step("serverShutdown warns every connection, then closes it", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const raw = await open("/ws/btcusdt@trade");
      const combined = await open("/stream?streams=btcusdt@trade");
      emu.faults.serverShutdown(50);
      const notice = await raw.next();
      assert.equal(notice.e, "serverShutdown");
      assert.ok(Math.abs(notice.E - Date.now()) < 5000);
      assert.deepEqual(keys(await combined.next()), ["data", "stream"]);
      assert.equal(JSON.parse(combined.frames[0]).stream, "!serverShutdown");
      await raw.closed;
      await combined.closed;
    });
  });

  await t.step("silence withholds data but keeps the connection and its pings", async () => {
    await withEmulator(
      { tickMs: 10, tradesPerSecond: 100, pingIntervalMs: 50, maxMessagesPerSecond: 100 },
      async (emu) => {
        const n = await connectNode(`${emu.wsUrl}/ws/btcusdt@bookTicker`, true);
        let frames = 0;
        n.ws.on("message", () => frames++);
        await waitFor(() => frames > 0, 3000, "bookTicker frames");
        emu.faults.silence(300);
        await elapse(30, "frames already in flight to arrive");
        const [before, pings] = [frames, n.pings.length];
        await assertQuietFor(220, "data while silent", () => frames !== before);
        assert.ok(n.pings.length > pings, "pings continue");
        assert.equal(n.ws.readyState, NodeWebSocket.OPEN);
        await waitFor(() => frames > before, 3000, "data to resume after the silence");
        n.ws.close();
        await n.closed;
      },
    );
  });

  await t.step("skipTrade leaves a gap in the live trade ids that REST fills", async () => {
    await withEmulator({ autoStart: false, tradesPerSecond: 200 }, async (emu, open) => {
      const c = await open("/ws/btcusdt@trade");
      emu.faults.skipTrade("BTCUSDT");
      emu.tick(5);
      const last = emu.lastTradeId("BTCUSDT");
      await c.next((m) => m.t === last);
      const ids = c.parsed().map((m) => m.t);
      assert.deepEqual(
        ids,
        Array.from({ length: last - 1 }, (_, i) => i + 2),
        "trade 1 never arrived",
      );
      const rest = await getJson(
        `${emu.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=1`,
      );
      assert.equal(rest.body[0].id, 1);
    });
  });

  await t.step("forgetTradeHistory makes older trades impossible to backfill", async () => {
    await withEmulator({ autoStart: false, tradesPerSecond: 200 }, async (emu) => {
      emu.tick(5);
      const forgotten = emu.lastTradeId("BTCUSDT");
      assert.ok(forgotten > 0);
      emu.faults.forgetTradeHistory("BTCUSDT");
      emu.tick(5);
      const rest = await getJson(
        `${emu.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=3`,
      );
      assert.equal(
        rest.body[0].id,
        forgotten + 1,
        "the oldest trade served is the first newer one",
      );
      emu.faults.reset();
      const again = await getJson(
        `${emu.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=1`,
      );
      assert.equal(again.body[0].id, 1, "reset() clears the fault");
    });
  });

  await t.step("reset clears pending faults", async () => {
    await withEmulator({ autoStart: false }, async (emu, open) => {
      const c = await open("/ws/btcusdt@depth@100ms");
      emu.faults.skipDepthEvent("BTCUSDT");
      emu.faults.refuseConnections(10_000);
      emu.faults.reset();
      assertChained(await depthEvents(emu, c, 3));
      assert.equal(await upgradeStatus(emu.port, "/ws"), 101);
    });
  });
});

Deno.test("pause, resume and autoStart:false", async (t) => {
  await withEmulator({ autoStart: false, tickMs: 10 }, async (emu, open) => {
    const c = await open("/ws/btcusdt@trade/btcusdt@depth@100ms");
    const id = emu.book("BTCUSDT").lastUpdateId;
    await t.step("with autoStart:false nothing moves", async () => {
      await assertQuietFor(
        200,
        "market movement",
        () => emu.book("BTCUSDT").lastUpdateId !== id || c.frames.length > 0,
      );
    });
    await t.step("resume() starts the market, pause() freezes it", async () => {
      emu.resume();
      await c.next();
      emu.pause();
      emu.tick(0);
      const frozen = emu.book("BTCUSDT");
      await assertQuietFor(
        150,
        "book change while paused",
        () => JSON.stringify(emu.book("BTCUSDT")) !== JSON.stringify(frozen),
      );
      assert.deepEqual(emu.book("BTCUSDT"), frozen);
      assert.ok(frozen.lastUpdateId > id);
    });
  });
});

Deno.test("bench options: send stamps and the paced bench rate", async (t) => {
  const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;

  await t.step(
    "stampField appends the µs send time as the last field of @trade payloads; the mapper keeps it in raw",
    async () => {
      await withEmulator(
        { autoStart: false, tradesPerSecond: 200, stampField: "benchTs" },
        async (emu, open) => {
          const c = await open("/stream?streams=btcusdt@trade/btcusdt@aggTrade");
          const before = nowUs();
          emu.tick(5);
          const trade = await c.next((m) => m.stream === "btcusdt@trade");
          const after = nowUs();
          assert.deepEqual(keys(trade.data), [
            "E",
            "M",
            "T",
            "benchTs",
            "e",
            "m",
            "p",
            "q",
            "s",
            "t",
          ]);
          assert.ok(Number.isInteger(trade.data.benchTs));
          assert.ok(
            trade.data.benchTs >= Math.floor(before) && trade.data.benchTs <= Math.ceil(after),
            "µs since the epoch, taken when the payload is built",
          );
          const text = c.frames.find((f) => f.includes('"btcusdt@trade"'))!;
          assert.match(text, /,"benchTs":\d{16}\}\}$/);
          const agg = await c.next((m) => m.stream === "btcusdt@aggTrade");
          assert.equal(agg.data.benchTs, undefined, "only @trade payloads are stamped");

          // The Binance plugin's mapper accepts the extra field and carries it in `raw`,
          // which the gateway's wire form sends to clients that asked for raw frames.
          const { mapBinanceFrame } = await import("../../../plugins/binance/mapper.ts");
          const { encodeOnce } = await import("../../../core/delivery/wire.ts");
          const mapped = mapBinanceFrame(text, Date.now(), new Set(["BTCUSDT"]));
          assert.equal(mapped.kind, "trade");
          if (mapped.kind !== "trade") return;
          assert.equal((mapped.event.raw as Json).benchTs, trade.data.benchTs);
          const wire = JSON.parse(encodeOnce(mapped.event).withRaw());
          assert.equal(wire.raw.benchTs, trade.data.benchTs);
          assert.equal(JSON.parse(encodeOnce(mapped.event).plain()).raw, undefined);
        },
      );
    },
  );

  await t.step("without stampField trades carry no stamp", async () => {
    await withEmulator({ autoStart: false, tradesPerSecond: 200 }, async (emu, open) => {
      const c = await open("/ws/btcusdt@trade");
      emu.tick(5);
      assert.equal((await c.next()).benchTs, undefined);
    });
  });

  await t.step(
    "benchTradesPerSecond paces consecutive trades round-robin; the rate can be changed",
    async () => {
      await withEmulator(
        { tradesPerSecond: 0, benchTradesPerSecond: 400, stampField: "benchTs" },
        async (emu, open) => {
          const c = await open("/stream?streams=btcusdt@trade/ethusdt@trade");
          await elapse(500, "the bench rate is measured over 0.5 s");
          const trades = c.parsed().map((m) => m.data);
          // 400/s for ~0.5 s; loose bounds, the machine may be busy.
          assert.ok(trades.length >= 60 && trades.length <= 260, `${trades.length} trades`);
          for (const symbol of ["BTCUSDT", "ETHUSDT"]) {
            const ids = trades.filter((x) => x.s === symbol).map((x) => x.t);
            assert.ok(ids.length >= 30, `${symbol}: ${ids.length}`);
            for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1);
          }
          const history = await getJson(
            `${emu.restUrl}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=5`,
          );
          assert.deepEqual(history.body.map((x: Json) => x.id), [1, 2, 3, 4, 5]);

          const res = await fetch(`${emu.restUrl}/_bench/rate?tradesPerSecond=0`, {
            method: "POST",
          });
          assert.deepEqual([res.status, await res.json()], [200, { tradesPerSecond: 0 }]);
          await elapse(50, "trades already in flight to arrive");
          const stopped = c.frames.length;
          await assertQuietFor(200, "bench trade at rate 0", () => c.frames.length !== stopped);

          emu.setBenchRate(400);
          await c.next(undefined, 2000);
          const bad = await fetch(`${emu.restUrl}/_bench/rate?tradesPerSecond=-1`, {
            method: "POST",
          });
          assert.equal(bad.status, 400);
          await bad.body?.cancel();
        },
      );
    },
  );

  await t.step("the bench control endpoint exists only in bench mode", async () => {
    await withEmulator({ autoStart: false }, async (emu) => {
      const res = await fetch(`${emu.restUrl}/_bench/rate?tradesPerSecond=5`, { method: "POST" });
      assert.equal(res.status, 404);
      await res.body?.cancel();
    });
  });

  await t.step("CLI flags --stamp-field and --bench-trades-per-second", async () => {
    const { parseCliOptions } = await import("../../../plugins/binance/emulator/main.ts");
    assert.deepEqual(
      parseCliOptions(["--stamp-field", "benchTs", "--bench-trades-per-second", "1000"]),
      { stampField: "benchTs", benchTradesPerSecond: 1000 },
    );
    assert.throws(() => parseCliOptions(["--stamp-field", "bad name"]), /identifier/);
  });
});

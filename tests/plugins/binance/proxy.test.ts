/**
 * The Binance-compatible proxy under /binance on the gateway's port, with the
 * Binance emulator as its upstream: plain Binance-protocol WebSocket clients,
 * the REST endpoints, Binance's local-book procedure run against the proxy,
 * ccxt pro pointed at it unmodified, and 100 clients sharing one upstream stream.
 */
import assert from "node:assert/strict";
import ccxt from "ccxt";
import { startBinanceEmulator } from "../../../plugins/binance/emulator/mod.ts";
import type {
  BinanceEmulator,
  BinanceEmulatorOptions,
  EmulatorBook,
} from "../../../plugins/binance/emulator/types.ts";
import {
  type BinanceProxy,
  type BinanceProxyOptions,
  createBinanceProxy,
} from "../../../plugins/binance/proxy/mod.ts";
import { type Gateway, startGateway } from "../../../core/server/gateway.ts";
import { assertQuietFor, describe, testConfig, waitFor } from "../../helpers.ts";

interface Setup {
  emu: BinanceEmulator;
  gateway: Gateway;
  proxy: BinanceProxy;
  /** `ws://127.0.0.1:<port>/binance` */
  ws: string;
  /** `http://127.0.0.1:<port>/binance/api/v3` */
  rest: string;
  close(): Promise<void>;
}

/** Emulator → gateway with the proxy mounted (no feeds: the proxy stands alone). */
async function setup(
  emulator: BinanceEmulatorOptions = {},
  proxyOptions: Partial<BinanceProxyOptions> = {},
): Promise<Setup> {
  const emu = await startBinanceEmulator({
    symbols: ["BTCUSDT", "ETHUSDT"],
    seed: 11,
    ...emulator,
  });
  const proxy = createBinanceProxy({
    wsUrl: emu.wsUrl,
    restUrl: emu.restUrl,
    releaseDelayMs: 0,
    backoffBaseMs: 50,
    backoffCapMs: 200,
    ...proxyOptions,
  });
  const gateway = await startGateway({ config: testConfig(), feeds: [], extensions: [proxy] });
  const base = `127.0.0.1:${gateway.port}/binance`;
  return {
    emu,
    gateway,
    proxy,
    ws: `ws://${base}`,
    rest: `http://${base}/api/v3`,
    async close() {
      await gateway.close();
      await emu.close();
    },
  };
}

/** A WebSocket client that keeps every text frame as received. */
interface Client {
  socket: WebSocket;
  texts: string[];
  send(message: unknown): void;
  /** Resolves with the first frame (at index >= `from`) that `match`es. */
  next(match: (text: string) => boolean, timeoutMs?: number, from?: number): Promise<string>;
  close(): Promise<void>;
}

async function open(url: string, onText?: (text: string) => void): Promise<Client> {
  const socket = new WebSocket(url);
  const texts: string[] = [];
  const waiters = new Set<() => void>();
  socket.onmessage = (e) => {
    texts.push(e.data);
    onText?.(e.data);
    for (const w of [...waiters]) w();
  };
  const closed = new Promise<void>((r) => socket.addEventListener("close", () => r()));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  return {
    socket,
    texts,
    send: (m) => socket.send(typeof m === "string" ? m : JSON.stringify(m)),
    next(match, timeoutMs = 5000, from = texts.length) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = texts.slice(from).find(match);
          if (found === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for: frame matching ${
                describe(match)
              } (from frame ${from}); last: ${texts.slice(-2)}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async close() {
      if (socket.readyState < WebSocket.CLOSING) socket.close();
      await closed;
    },
  };
}

/** Sends a control request and resolves with its reply (the frame carrying that id). */
async function request(client: Client, message: Record<string, unknown> | string): Promise<string> {
  const from = client.texts.length;
  client.send(message);
  const id = typeof message === "string" ? null : message.id ?? null;
  return await client.next(
    (t) => {
      const f = JSON.parse(t);
      return "id" in f && (f.id === id || (f.id === null && "error" in f));
    },
    6000,
    from,
  );
}

Deno.test("Binance proxy: stream URLs and payloads are Binance's, byte for byte", async (t) => {
  const s = await setup({ autoStart: false });
  const direct = await open(
    `${s.emu.wsUrl}/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker`,
  );
  const combined = await open(
    `${s.ws}/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker`,
  );
  const raw = await open(`${s.ws}/ws/btcusdt@trade`);
  const micros = await open(`${s.ws}/ws/btcusdt@trade?timeUnit=MICROSECOND`);
  try {
    // The direct client's 3 streams, the proxy's 3 in milliseconds (the raw client's
    // btcusdt@trade is shared) and 1 in microseconds.
    await waitFor(() => s.emu.subscriptions().flat().length === 3 + 3 + 1, 5000, "subscriptions");
    s.emu.tick(40);
    const trades = () => direct.texts.filter((x) => x.startsWith('{"stream":"btcusdt@trade"'));
    await waitFor(
      () =>
        trades().length >= 3 && combined.texts.length === direct.texts.length &&
        raw.texts.length === trades().length && micros.texts.length === trades().length,
      5000,
      "every frame relayed",
    );

    await t.step("combined clients get each upstream frame exactly as Binance sent it", () => {
      assert.deepEqual(combined.texts, direct.texts);
    });

    await t.step("raw clients get the bare payload, same bytes", () => {
      const payloads = trades().map((x) => x.slice('{"stream":"btcusdt@trade","data":'.length, -1));
      assert.deepEqual(raw.texts, payloads);
      assert.match(raw.texts[0], /^\{"e":"trade","E":\d+,"s":"BTCUSDT","t":\d+,/);
    });

    await t.step("timeUnit=MICROSECOND is served from a microsecond upstream stream", () => {
      assert.equal(micros.texts.length, raw.texts.length);
      const ms = JSON.parse(raw.texts[0]), us = JSON.parse(micros.texts[0]);
      assert.equal(us.t, ms.t);
      assert.equal(us.E, ms.E * 1000);
      assert.equal(s.proxy.stats().upstreamConnections, 2, "one per time unit");
    });

    await t.step("upper-case or unknown stream names are refused as Binance does", async () => {
      const reply = await request(raw, { method: "SUBSCRIBE", params: ["BTCUSDT@trade"], id: 9 });
      assert.equal(reply, '{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":9}');
      const res = await fetch(`${s.rest.replace("/api/v3", "")}/stream?streams=btcusdt@nope`);
      assert.equal(res.status, 426, "a plain GET on a stream path asks for the upgrade");
      await res.body?.cancel();
    });
  } finally {
    await Promise.all([direct, combined, raw, micros].map((c) => c.close()));
    await s.close();
  }
});

Deno.test("Binance proxy: control methods answer with Binance's replies and error objects", async () => {
  const s = await setup({ autoStart: false, maxMessagesPerSecond: 100 });
  const direct = await open(`${s.emu.wsUrl}/ws`);
  const proxied = await open(`${s.ws}/ws`);
  try {
    const requests: (Record<string, unknown> | string)[] = [
      { method: "SUBSCRIBE", params: ["btcusdt@trade", "ethusdt@depth@100ms"], id: 1 },
      { method: "SUBSCRIBE", params: ["btcusdt@kline_1m"], id: "abc" },
      { method: "LIST_SUBSCRIPTIONS", id: 3 },
      { method: "UNSUBSCRIBE", params: ["btcusdt@trade"], id: 4 },
      { method: "LIST_SUBSCRIPTIONS", id: 5 },
      { method: "GET_PROPERTY", params: ["combined"], id: 6 },
      { method: "SET_PROPERTY", params: ["combined", true], id: 7 },
      { method: "GET_PROPERTY", params: ["combined"], id: 8 },
      { method: "SET_PROPERTY", params: ["combined", "yes"], id: 9 },
      { method: "GET_PROPERTY", params: ["colour"], id: 10 },
      { method: "LIST_SUBSCRIPTIONS", params: ["x"], id: 11 },
      { method: "PING", id: 12 },
      { params: [], id: 13 },
      { method: "SUBSCRIBE", params: ["btcusdt@bogus"], id: 14 },
      { method: "SUBSCRIBE", id: 15 },
      { method: "LIST_SUBSCRIPTIONS", id: -1.5 },
      "{not json",
    ];
    for (const r of requests) {
      const expected = await request(direct, r);
      const actual = await request(proxied, r);
      assert.equal(actual, expected, `reply to ${JSON.stringify(r)}`);
    }
  } finally {
    await Promise.all([direct.close(), proxied.close()]);
    await s.close();
  }
});

Deno.test("Binance proxy: REST endpoints", async (t) => {
  const s = await setup({ autoStart: false });
  const get = async (path: string) => {
    const res = await fetch(s.rest + path);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  try {
    await t.step("ping and time are answered by the proxy", async () => {
      assert.deepEqual(await get("/ping").then((r) => [r.status, r.text]), [200, "{}"]);
      const time = JSON.parse((await get("/time")).text);
      assert.ok(Math.abs(time.serverTime - Date.now()) < 5000);
    });

    await t.step("exchangeInfo comes from one cached upstream copy, filtered locally", async () => {
      const upstream = await (await fetch(`${s.emu.restUrl}/api/v3/exchangeInfo`)).json();
      const all = JSON.parse((await get("/exchangeInfo")).text);
      assert.deepEqual(all.symbols, upstream.symbols);
      const one = await get("/exchangeInfo?symbol=ETHUSDT");
      assert.equal(one.headers.get("x-proxy-source"), "cache");
      assert.deepEqual(JSON.parse(one.text).symbols.map((x: { symbol: string }) => x.symbol), [
        "ETHUSDT",
      ]);
      const bad = await get("/exchangeInfo?symbol=NOPEUSDT");
      assert.deepEqual([bad.status, bad.text], [400, '{"code":-1121,"msg":"Invalid symbol."}']);
    });

    await t.step("depth without a local book is Binance's own snapshot", async () => {
      const proxied = await get("/depth?symbol=BTCUSDT&limit=5");
      const upstream = await (await fetch(`${s.emu.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5`))
        .text();
      assert.equal(proxied.headers.get("x-proxy-source"), "upstream");
      assert.equal(proxied.text, upstream);
      const missing = await get("/depth");
      assert.equal(missing.status, 400);
      assert.equal(JSON.parse(missing.text).code, -1102);
    });

    await t.step(
      "other market-data endpoints pass through, cached and weight-counted",
      async () => {
        const first = await get("/klines?symbol=BTCUSDT&interval=1m&limit=3");
        const second = await get("/klines?symbol=BTCUSDT&interval=1m&limit=3");
        assert.equal(first.status, 200);
        assert.equal(first.headers.get("x-proxy-source"), "upstream");
        assert.equal(second.headers.get("x-proxy-source"), "cache");
        assert.equal(second.text, first.text);
        assert.ok(Number(first.headers.get("x-mbx-used-weight-1m")) > 0);
        const invalid = await get("/klines?symbol=BTCUSDT&interval=7x");
        assert.deepEqual([invalid.status, invalid.text], [
          400,
          '{"code":-1120,"msg":"Invalid interval."}',
        ]);
      },
    );

    await t.step("unknown and private endpoints get Binance's error shape", async () => {
      for (const path of ["/nope", "/account", "/order"]) {
        const r = await get(path);
        assert.equal(r.status, 404);
        const body = JSON.parse(r.text);
        assert.equal(body.code, -1000);
        assert.equal(typeof body.msg, "string");
      }
      const other = await fetch(s.rest.replace("/api/v3", "/sapi/v1/foo"));
      assert.equal(other.status, 404);
      assert.equal((await other.json()).code, -1000);
    });
  } finally {
    await s.close();
  }
});

/** A client-side book kept exactly as Binance documents it, against `rest` for snapshots. */
function documentedBook(rest: string, symbol: string) {
  type Ev = { U: number; u: number; b: [string, string][]; a: [string, string][] };
  const bids = new Map<string, string>(), asks = new Map<string, string>();
  let id: number | undefined;
  let buffer: Ev[] = [];
  let syncing = false;
  let restarts = 0;
  const sources: (string | null)[] = [];
  const errors: unknown[] = [];
  const apply = (levels: [string, string][], side: Map<string, string>) => {
    for (const [p, q] of levels) Number(q) === 0 ? side.delete(p) : side.set(p, q);
  };
  const onEvent = (e: Ev): void => {
    if (id === undefined) {
      buffer.push(e);
      if (!syncing) {
        syncing = true;
        sync().catch((err) => errors.push(err));
      }
      return;
    }
    if (e.u <= id) return; // older than the book, or a duplicate
    if (e.U > id + 1) { // missed events: discard the book and restart
      restarts++;
      id = undefined;
      buffer = [];
      onEvent(e);
      return;
    }
    apply(e.b, bids);
    apply(e.a, asks);
    id = e.u;
  };
  const sync = async () => {
    for (;;) {
      const res = await fetch(`${rest}/depth?symbol=${symbol}&limit=5000`);
      sources.push(res.headers.get("x-proxy-source"));
      const snap = await res.json();
      if (snap.lastUpdateId < buffer[0].U) continue; // older than the first event: again
      bids.clear();
      asks.clear();
      apply(snap.bids, bids);
      apply(snap.asks, asks);
      id = snap.lastUpdateId;
      const pending = buffer.filter((e) => e.u > snap.lastUpdateId);
      buffer = [];
      syncing = false;
      for (const e of pending) onEvent(e);
      return;
    }
  };
  const sorted = (side: Map<string, string>, desc: boolean) =>
    [...side].sort((x, y) => desc ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0]));
  return {
    onText: (text: string) => onEvent(JSON.parse(text)),
    id: () => id,
    restarts: () => restarts,
    sources,
    errors,
    levels: () => ({ bids: sorted(bids, true), asks: sorted(asks, false) }),
  };
}

const levelsOf = (book: EmulatorBook) => ({ bids: book.bids, asks: book.asks });

Deno.test("Binance proxy: Binance's local-book procedure against the proxy ends correct, through resyncs", async (t) => {
  const s = await setup({}, { depthSyncWaitMs: 3000 });
  const fast = documentedBook(s.rest, "BTCUSDT");
  const slow = documentedBook(s.rest, "BTCUSDT");
  const fastClient = await open(`${s.ws}/ws`, fast.onText);
  const slowClient = await open(`${s.ws}/ws`, slow.onText);
  try {
    for (
      const [c, stream] of [[fastClient, "btcusdt@depth@100ms"], [
        slowClient,
        "btcusdt@depth",
      ]] as const
    ) {
      const reply = await request(c, { method: "SUBSCRIBE", params: [stream], id: 1 });
      assert.equal(reply, '{"result":null,"id":1}');
      c.texts.length = 0;
    }
    await waitFor(() => fast.id() !== undefined && slow.id() !== undefined, 6000, "books synced");

    await t.step("the snapshot comes from the proxy's local book", () => {
      assert.ok(fast.sources.includes("book") || slow.sources.includes("book"), `${fast.sources}`);
    });

    await t.step(
      "a gap upstream (skipped diff event) is seen by the client, which resyncs",
      async () => {
        s.emu.faults.skipDepthEvent("BTCUSDT");
        await waitFor(() => fast.restarts() >= 1 && fast.id() !== undefined, 8000, "fast resync");
        await waitFor(() => slow.restarts() >= 1 && slow.id() !== undefined, 8000, "slow resync");
      },
    );

    await t.step("after the market pauses, both books equal the emulator's", async () => {
      const [fastFrom, slowFrom] = [fast.id()!, slow.id()!];
      await waitFor(
        () => fast.id()! > fastFrom && slow.id()! > slowFrom,
        4000,
        "both books to apply depth events after the resync",
      );
      s.emu.pause();
      const target = () => s.emu.book("BTCUSDT").lastUpdateId;
      await waitFor(() => fast.id() === target() && slow.id() === target(), 4000, "final events");
      const expected = levelsOf(s.emu.book("BTCUSDT"));
      assert.deepEqual(fast.levels(), expected);
      assert.deepEqual(slow.levels(), expected);
      assert.deepEqual([...fast.errors, ...slow.errors], []);
    });

    await t.step("and the proxy's own depth answer is the same book", async () => {
      const res = await fetch(`${s.rest}/depth?symbol=BTCUSDT&limit=5000`);
      assert.equal(res.headers.get("x-proxy-source"), "book");
      assert.deepEqual(await res.json(), s.emu.book("BTCUSDT"));
    });
  } finally {
    await Promise.all([fastClient.close(), slowClient.close()]);
    await s.close();
  }
});

Deno.test("Binance proxy: ccxt pro, unmodified, watches trades and a correct book through it", async (t) => {
  const s = await setup({ tradesPerSecond: 30 });
  const exchange = new ccxt.pro.binance({
    urls: { api: { ws: { spot: `${s.ws}/ws` }, public: s.rest } },
    options: { fetchMarkets: { types: ["spot"] }, fetchCurrencies: false },
  });
  try {
    await t.step("watchTrades delivers the emulator's trades", async () => {
      const seen: number[] = [];
      while (seen.length < 5) {
        for (const trade of await exchange.watchTrades("BTC/USDT")) {
          if (!seen.includes(Number(trade.id))) seen.push(Number(trade.id));
        }
      }
      assert.ok(seen.every((id, i) => i === 0 || id > seen[i - 1]), `${seen}`);
      assert.ok(seen.at(-1)! <= s.emu.lastTradeId("BTCUSDT"));
    });

    await t.step("watchOrderBook converges to the emulator's book", async () => {
      for (let i = 0; i < 5; i++) await exchange.watchOrderBook("BTC/USDT");
      s.emu.pause();
      const expected = s.emu.book("BTCUSDT");
      const book = () => exchange.orderbooks["BTC/USDT"];
      await waitFor(() => book()?.nonce === expected.lastUpdateId, 4000, "last update applied");
      const asNumbers = (levels: [string, string][]) => levels.map(([p, q]) => [+p, +q]);
      assert.deepEqual(Array.from(book().bids, ([p, q]) => [p, q]), asNumbers(expected.bids));
      assert.deepEqual(Array.from(book().asks, ([p, q]) => [p, q]), asNumbers(expected.asks));
    });

    await t.step("both ccxt streams ride on one upstream connection", () => {
      assert.equal(s.emu.connectionCount(), 1);
      assert.deepEqual(s.emu.subscriptions()[0].sort(), ["btcusdt@depth@100ms", "btcusdt@trade"]);
    });
  } finally {
    await exchange.close();
    await s.close();
  }
});

Deno.test("Binance proxy: 100 clients share one upstream stream, released after the last leaves", async (t) => {
  // Binance's own limits upstream (5 messages/s): breaking them would disconnect the proxy.
  const s = await setup({ tradesPerSecond: 20 });
  const clients: Client[] = [];
  try {
    await t.step("100 clients, raw and combined, subscribe btcusdt@trade", async () => {
      const raw = Array.from({ length: 50 }, () => open(`${s.ws}/ws`));
      const combined = Array.from(
        { length: 50 },
        () => open(`${s.ws}/stream?streams=btcusdt@trade`),
      );
      clients.push(...await Promise.all([...raw, ...combined]));
      const replies = await Promise.all(
        clients.slice(0, 50).map((c) =>
          request(c, { method: "SUBSCRIBE", params: ["btcusdt@trade"], id: 7 })
        ),
      );
      assert.ok(replies.every((r) => r === '{"result":null,"id":7}'));
    });

    await t.step("upstream holds one connection with the stream once", () => {
      assert.equal(s.emu.connectionCount(), 1);
      assert.deepEqual(s.emu.subscriptions(), [["btcusdt@trade"]]);
      assert.equal(s.proxy.stats().clients, 100);
    });

    await t.step("every client receives the same trades", async () => {
      const tradeIds = (c: Client) =>
        c.texts.map((x) => JSON.parse(x)).map((f) => (f.data ?? f).t).filter((id) => id);
      await waitFor(() => clients.every((c) => tradeIds(c).length >= 3), 5000, "trades");
      const last = Math.max(...clients.map((c) => tradeIds(c).at(-1)));
      await waitFor(() => clients.every((c) => tradeIds(c).includes(last)), 2000, "catch-up");
      const window = (c: Client) => tradeIds(c).filter((id) => id > last - 3 && id <= last);
      for (const c of clients) assert.deepEqual(window(c), window(clients[0]));
    });

    await t.step("the stream is kept while one client holds it, released after", async () => {
      await Promise.all(clients.slice(1).map((c) => c.close()));
      // What is tested is that nothing happens: the stream stays subscribed upstream.
      await assertQuietFor(
        100,
        "upstream stream change while one client holds it",
        () => JSON.stringify(s.emu.subscriptions()) !== JSON.stringify([["btcusdt@trade"]]),
      );
      await clients[0].close();
      await waitFor(() => s.emu.connectionCount() === 0, 3000, "upstream released");
      assert.equal(s.emu.totalConnections(), 1, "no reconnect: never over Binance's limits");
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await s.close();
  }
});

Deno.test("Binance proxy: streams spread over connections within the per-connection limit", async () => {
  const s = await setup({ autoStart: false }, { maxStreamsPerConnection: 2 });
  const client = await open(`${s.ws}/ws`);
  try {
    const streams = ["btcusdt@trade", "btcusdt@aggTrade", "ethusdt@trade", "ethusdt@bookTicker"];
    streams.push("btcusdt@kline_1m");
    const reply = await request(client, { method: "SUBSCRIBE", params: streams, id: 1 });
    assert.equal(reply, '{"result":null,"id":1}');
    assert.equal(s.emu.connectionCount(), 3);
    assert.deepEqual(s.emu.subscriptions().flat().sort(), [...streams].sort());
    assert.ok(s.emu.subscriptions().every((list) => list.length <= 2));
  } finally {
    await client.close();
    await s.close();
  }
});

Deno.test("Binance proxy: clients keep receiving through upstream shutdowns and drops", async (t) => {
  const s = await setup({ tradesPerSecond: 40 });
  const client = await open(`${s.ws}/ws/btcusdt@trade`);
  const ids = () => client.texts.map((x) => JSON.parse(x).t as number);
  try {
    await waitFor(() => ids().length >= 3, 5000, "first trades");

    await t.step("serverShutdown: make-before-break, no trade lost or doubled", async () => {
      s.emu.faults.serverShutdown(1500);
      await waitFor(() => s.proxy.stats().handovers === 1, 5000, "handover");
      await waitFor(() => s.emu.connectionCount() === 1, 3000, "old connection gone");
      const before = ids().length;
      await waitFor(() => ids().length >= before + 5, 5000, "trades after the handover");
      const list = ids();
      for (let i = 1; i < list.length; i++) assert.equal(list[i], list[i - 1] + 1, `at ${i}`);
      assert.equal(s.emu.totalConnections(), 2);
    });

    await t.step("a dropped upstream is reconnected and resubscribed", async () => {
      s.emu.faults.dropConnections({ abrupt: true });
      await waitFor(() => s.proxy.stats().reconnects === 1, 3000, "reconnect");
      const before = ids().length;
      await waitFor(() => ids().length >= before + 3, 5000, "trades after the reconnect");
      assert.equal(client.socket.readyState, WebSocket.OPEN, "the client never noticed");
      assert.deepEqual(s.emu.subscriptions(), [["btcusdt@trade"]]);
    });

    await t.step("closing the gateway announces serverShutdown, as Binance does", async () => {
      const closed = new Promise<CloseEvent>((r) => client.socket.addEventListener("close", r));
      await s.gateway.close();
      assert.equal((await closed).code, 1001);
      assert.match(client.texts.at(-1)!, /^\{"e":"serverShutdown","E":\d+\}$/);
    });
  } finally {
    await client.close();
    await s.close();
  }
});

Deno.test("Binance proxy: a client that stops reading is cut off, others are not", async () => {
  // The gateway's slow-consumer policy applies (HIGH_WATER_MARK, MAX_QUEUED_TRADES).
  const s = await setup({ tradesPerSecond: 0, benchTradesPerSecond: 20_000 });
  const healthy = await open(`${s.ws}/ws/btcusdt@trade`);
  // A raw TCP client that upgrades and then never reads.
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: s.gateway.port });
  try {
    await stuck.write(new TextEncoder().encode(
      "GET /binance/ws/btcusdt@trade HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\n\r\n",
    ));
    await waitFor(() => s.proxy.stats().clients === 2, 3000, "both connected");
    await waitFor(() => s.proxy.stats().clients === 1, 15_000, "the stuck client cut off");
    const before = healthy.texts.length;
    await waitFor(() => healthy.texts.length > before + 100, 3000, "healthy client still served");
  } finally {
    stuck.close();
    await healthy.close();
    await s.close();
  }
});

Deno.test("Binance proxy: the registry mounts it for the Binance entry, unless switched off", async () => {
  const { registry } = await import("../../../plugins/registry.ts");
  const entry = registry.find((e) => e.plugin.name === "binance")!;
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], autoStart: false });
  const extensions = entry.extensions!({
    BINANCE_WS_URL: emu.wsUrl,
    BINANCE_REST_URL: emu.restUrl,
  });
  const gateway = await startGateway({ config: testConfig(), feeds: [], extensions });
  try {
    assert.deepEqual(extensions.map((e) => e.prefix), ["/binance"]);
    const res = await fetch(`http://127.0.0.1:${gateway.port}/binance/api/v3/exchangeInfo`);
    assert.deepEqual((await res.json()).symbols.map((x: { symbol: string }) => x.symbol), [
      "BTCUSDT",
    ]);
    assert.deepEqual(entry.extensions!({ BINANCE_PROXY: "false" }), []);
  } finally {
    await gateway.close();
    await emu.close();
  }
});

Deno.test("Binance proxy: envelopes split without parsing, sequences for handover merges", async () => {
  const { splitEnvelope } = await import("../../../plugins/binance/proxy/envelope.ts");
  const { parseStreamName, sequenceOf } = await import(
    "../../../plugins/binance/proxy/stream_names.ts"
  );
  const frame = '{"stream":"btcusdt@trade","data":{"e":"trade","t":42,"p":"1.00"}}';
  const fast = splitEnvelope(frame)!;
  assert.equal(fast.combined, frame, "the frame as received");
  assert.equal(fast.data, '{"e":"trade","t":42,"p":"1.00"}');
  // Another serialization of the same envelope is re-serialized once, Binance-style.
  const spaced = splitEnvelope('{ "data": {"u": 7}, "stream": "btcusdt@bookTicker" }')!;
  assert.equal(spaced.combined, '{"stream":"btcusdt@bookTicker","data":{"u":7}}');
  assert.equal(splitEnvelope('{"result":null,"id":1}'), undefined);
  assert.equal(splitEnvelope("{nope"), undefined);
  assert.equal(sequenceOf("trade", fast.data), 42);
  assert.equal(sequenceOf("kline", '{"e":"kline","k":{"t":1}}'), undefined);
  assert.deepEqual(parseStreamName("ethbtc@depth@100ms"), {
    name: "ethbtc@depth@100ms",
    kind: "depth",
    symbol: "ETHBTC",
    speedMs: 100,
  });
  assert.equal(parseStreamName("ETHBTC@depth"), undefined, "symbols are lowercase");
  assert.equal(parseStreamName("ethbtc@kline_7x"), undefined);
});

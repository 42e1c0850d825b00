/**
 * Paper trading through the gateway, on the Binance emulator's book (held still: the
 * emulator runs tick by tick), over `/ws` and `/api/paper/*`: a market order fills at the
 * book's best ask as `GET /api/book` shows it, the exchange's filters answer with the
 * exchange's own error, a resting order is listed and cancelled, the account's balances move
 * by the fill and its fee, and nothing is ever sent anywhere but to the client.
 */
import assert from "node:assert/strict";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import { connect, gatewayWith, getJson, waitFor } from "../helpers.ts";
import { binanceFeed } from "../replay/helpers.ts";
import type { Gateway } from "../../core/server/gateway.ts";

type Frame = Record<string, unknown>;

async function stillBinance() {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], seed: 17, autoStart: false });
  const gateway = await gatewayWith([binanceFeed(emu, ["BTCUSDT"])], {
    paperBalances: "USDT=100000,BTC=1",
  });
  await waitFor(
    async () => {
      emu.tick(1);
      const { status, body } = await getJson(
        gateway,
        "/api/book?exchange=binance&symbol=BTCUSDT&depth=5",
      );
      return status === 200 && body.synced === true &&
        emu.book("BTCUSDT").lastUpdateId === body.updateId;
    },
    20_000,
    "the BTCUSDT book synced and equal to the emulator's",
  );
  return { emu, gateway };
}

const post = async (gateway: Gateway, path: string, body: unknown, method = "POST") => {
  const res = await fetch(gateway.url + path, { method, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};

Deno.test("paper over /ws: a market buy fills at the best ask of /api/book, with its fee, and the account shows it", async () => {
  const { emu, gateway } = await stillBinance();
  const client = await connect(gateway);
  try {
    const book = (await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=5")).body;
    const [askPrice, askQuantity] = (book.asks as [number, number][])[0];
    const quantity = Math.min(0.01, Math.floor(askQuantity * 1e5) / 1e5);
    client.send({
      action: "order",
      id: "o1",
      exchange: "binance",
      symbol: "BTCUSDT",
      side: "buy",
      type: "market",
      quantity,
      clientOrderId: "my-1",
    });
    const fill = await client.next((f) => f.type === "fill", 5000, 0, "the fill frame");
    const filled = fill.fill as Frame;
    assert.equal(fill.simulated, true);
    assert.equal(filled.price, askPrice, "at the best ask");
    assert.equal(filled.quantity, quantity);
    assert.equal(filled.liquidity, "taker");
    assert.equal(filled.clientOrderId, "my-1");
    // Binance's base-tier taker fee, 0.1 %, in USDT.
    assert.ok(Math.abs((filled.fee as number) - askPrice * quantity * 0.001) < 1e-9);
    const done = await client.next(
      (f) => f.type === "order" && (f.order as Frame).status === "filled",
      5000,
      0,
      "the order filled",
    );
    // Σ p·q / Σ q of one fill: the ask, to floating-point rounding.
    assert.ok(Math.abs((done.order as Frame).averagePrice as number - askPrice) < askPrice * 1e-12);
    const account = await client.next((f) => f.type === "account", 5000, 0, "the account frame");
    const balances = (account.account as { balances: Record<string, { free: number }> }).balances;
    assert.ok(Math.abs(balances.BTC.free - (1 + quantity)) < 1e-12);
    assert.ok(
      Math.abs(balances.USDT.free - (100_000 - askPrice * quantity * 1.001)) < 1e-6,
      `USDT ${balances.USDT.free}`,
    );
    // Counted as simulated in /metrics.
    const metricsText = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(
      metricsText,
      /quant_paper_fills_total\{exchange="binance",liquidity="taker"\} 1/,
    );
    assert.match(
      metricsText,
      /quant_paper_orders_total\{exchange="binance",status="filled"\} 1/,
    );
    // The market data clients see did not change: the book is still the emulator's.
    const after =
      (await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=5")).body;
    assert.deepEqual(after.asks, book.asks);
  } finally {
    await client.close();
    await gateway.close();
    await emu.close();
  }
});

Deno.test("paper over /ws: Binance's filters and rejections answer with Binance's own errors", async () => {
  const { emu, gateway } = await stillBinance();
  const client = await connect(gateway);
  try {
    const book = (await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1")).body;
    const ask = (book.asks as [number, number][])[0][0];
    const base = { action: "order", exchange: "binance", symbol: "BTCUSDT", side: "buy" };
    const cases: [Frame, string, RegExp][] = [
      [
        { ...base, type: "limit", price: ask - 0.005, quantity: 0.001 },
        "filter_failure",
        /PRICE_FILTER/,
      ],
      [
        { ...base, type: "limit", price: ask - 1, quantity: 0.0000001 },
        "filter_failure",
        /LOT_SIZE/,
      ],
      [{ ...base, type: "limit", price: 1, quantity: 0.001 }, "filter_failure", /NOTIONAL/],
      [
        { ...base, type: "limit", price: ask + 1, quantity: 0.001, timeInForce: "POST_ONLY" },
        "would_take",
        /immediately match/,
      ],
      [{ ...base, type: "market", quantity: 1_000 }, "insufficient_balance", /./],
      [{ ...base, type: "limit", quantity: 0.001 }, "invalid_order", /price/],
    ];
    for (const [i, [frame, code, text]] of cases.entries()) {
      client.send({ ...frame, id: i });
      const reply = await client.next(
        (f) => f.id === i || (f.type === "order" && (f.order as Frame).status === "rejected"),
        5000,
        client.frames.length,
        `the answer to case ${i}`,
      );
      const error = reply.type === "order" ? (reply.error as Frame) : reply;
      assert.equal(error.code, code, `case ${i}: ${JSON.stringify(reply)}`);
      const said = JSON.stringify(error.exchangeError ?? error.message);
      assert.match(said, text, `case ${i}`);
    }
    // The connection stays open and usable.
    client.send({ action: "account", id: "a" });
    await client.next((f) => f.type === "account" && f.id === "a", 5000, 0, "the account");
  } finally {
    await client.close();
    await gateway.close();
    await emu.close();
  }
});

Deno.test("paper over REST: a resting limit order is listed, cancelled, and its hold released", async () => {
  const { emu, gateway } = await stillBinance();
  try {
    const book = (await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1")).body;
    const bid = (book.bids as [number, number][])[0][0];
    const price = Math.round((bid - 100) * 100) / 100;
    const placed = await post(gateway, "/api/paper/orders", {
      exchange: "binance",
      symbol: "BTC/USDT",
      side: "buy",
      type: "limit",
      price,
      quantity: 0.5,
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.body.status, "new");
    assert.equal(placed.body.simulated, true);
    const id = placed.body.id as string;
    const account = (await getJson(gateway, "/api/paper/account")).body as {
      balances: Record<string, { free: number; locked: number }>;
    };
    // A buy locks price × quantity × (1 + the higher of maker and taker fees).
    assert.ok(Math.abs(account.balances.USDT.locked - price * 0.5 * 1.001) < 1e-6);
    const open = (await getJson(gateway, "/api/paper/orders?open=true")).body;
    assert.deepEqual((open.orders as Frame[]).map((o) => o.id), [id]);
    const cancelled = await post(gateway, `/api/paper/orders/${id}`, undefined, "DELETE");
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const after = (await getJson(gateway, "/api/paper/account")).body as typeof account;
    assert.equal(after.balances.USDT.locked, 0);
    assert.equal(after.balances.USDT.free, 100_000);
    const listed = (await getJson(gateway, `/api/paper/orders/${id}`)).body;
    assert.equal(listed.status, "cancelled");
    const bad = await post(gateway, "/api/paper/orders", {
      exchange: "binance",
      symbol: "BTCUSDT",
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "invalid_order");
    const unknown = await post(gateway, "/api/paper/orders/P-999", undefined, "DELETE");
    assert.equal(unknown.status, 404);
  } finally {
    await gateway.close();
    await emu.close();
  }
});

Deno.test("paper trading opens no socket and sends no request: orders only ever reach the simulated venue", async () => {
  const { emu, gateway } = await stillBinance();
  const client = await connect(gateway);
  const attempts: string[] = [];
  const saved = { fetch: globalThis.fetch, WebSocket: globalThis.WebSocket, connect: Deno.connect };
  try {
    // From here on, any request or socket of this isolate is recorded (and refused).
    globalThis.fetch = ((input: RequestInfo | URL) => {
      attempts.push(`fetch ${String(input)}`);
      return Promise.reject(new Error("no requests during paper trading"));
    }) as typeof fetch;
    globalThis.WebSocket = class {
      constructor(url: string | URL) {
        attempts.push(`WebSocket ${String(url)}`);
        throw new Error("no sockets during paper trading");
      }
    } as unknown as typeof WebSocket;
    (Deno as { connect: unknown }).connect = (o: unknown) => {
      attempts.push(`Deno.connect ${JSON.stringify(o)}`);
      throw new Error("no sockets during paper trading");
    };
    for (let i = 0; i < 5; i++) {
      client.send({
        action: "order",
        id: i,
        exchange: "binance",
        symbol: "BTCUSDT",
        side: i % 2 ? "sell" : "buy",
        type: "market",
        quantity: 0.001,
      });
    }
    await client.until(
      // The answers to the five actions (each `id` echoed), all filled.
      (fs) =>
        fs.filter((f) =>
          f.type === "order" && f.id !== undefined && (f.order as Frame).status === "filled"
        ).length === 5,
      5000,
      "five filled orders",
    );
    emu.tick(20);
    await client.until((fs) => fs.length > 0, 1000, "frames");
  } finally {
    globalThis.fetch = saved.fetch;
    globalThis.WebSocket = saved.WebSocket;
    (Deno as { connect: unknown }).connect = saved.connect;
    await client.close();
    await gateway.close();
    await emu.close();
  }
  assert.deepEqual(attempts, [], "no request or socket was attempted");
  // And no code under core/paper can: no fetch, WebSocket or socket API appears in it.
  for (const entry of Deno.readDirSync(new URL("../../core/paper/", import.meta.url))) {
    const text = Deno.readTextFileSync(new URL(`../../core/paper/${entry.name}`, import.meta.url));
    for (
      const api of ["fetch(", "WebSocket", "Deno.connect", "Deno.listen", "node:net", "node:http"]
    ) {
      assert.ok(!text.includes(api), `core/paper/${entry.name} mentions ${api}`);
    }
  }
});

Deno.test("paper limits: orders per second and open orders of the plan, each refused with its code; /health says paper trading is simulated", async () => {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], seed: 19, autoStart: false });
  const gateway = await gatewayWith([binanceFeed(emu, ["BTCUSDT"])], {
    paperOrdersPerSecond: "4",
    paperOpenOrders: "2",
  });
  const client = await connect(gateway);
  try {
    await waitFor(
      async () => {
        emu.tick(1);
        return (await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1")).body
          .synced === true;
      },
      20_000,
      "the book synced",
    );
    const bid = ((await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1")).body
      .bids as [number, number][])[0][0];
    // Resting bids far below the market: two fit, the third is one too many open orders.
    for (let i = 0; i < 5; i++) {
      client.send({
        action: "order",
        id: i,
        exchange: "binance",
        symbol: "BTCUSDT",
        side: "buy",
        type: "limit",
        price: Math.round((bid - 500 - i) * 100) / 100,
        quantity: 0.001,
      });
    }
    const answers = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => client.next((f) => f.id === i, 5000, 0, `answer ${i}`)),
    );
    assert.deepEqual(
      answers.map((f) => f.type === "order" ? (f.order as Frame).status : f.code),
      ["new", "new", "too_many_open_orders", "too_many_open_orders", "order_rate_limited"],
    );
    const health = (await getJson(gateway, "/health")).body;
    assert.deepEqual(health.paper, {
      enabled: true,
      simulated: true,
      accounts: 1,
      openOrders: 2,
      venues: 1,
    });
  } finally {
    await client.close();
    await gateway.close();
    await emu.close();
  }
});

Deno.test("paper latency: an order meets the book as it is when it arrives, even in a quiet market", async () => {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], seed: 23, autoStart: false });
  const gateway = await gatewayWith([binanceFeed(emu, ["BTCUSDT"])], {
    paperOrderLatencyMs: "300",
  });
  const client = await connect(gateway);
  const caughtUp = () =>
    waitFor(
      async () =>
        (await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1")).body
          .updateId === emu.book("BTCUSDT").lastUpdateId,
      10_000,
      "the gateway's book at the emulator's last update",
    );
  try {
    await waitFor(
      async () => {
        emu.tick(1);
        return (await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1")).body
          .synced === true;
      },
      20_000,
      "the book synced",
    );
    emu.tick(1);
    await caughtUp();
    const askAtSending =
      ((await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1"))
        .body.asks as [number, number][])[0][0];
    const sent = Date.now();
    client.send({
      action: "order",
      id: "late",
      exchange: "binance",
      symbol: "BTCUSDT",
      side: "buy",
      type: "market",
      quantity: 0.001,
    });
    const reply = await client.next((f) => f.id === "late", 5000, 0, "the reply");
    assert.equal((reply.order as Frame).status, "pending", "on its way to the venue");
    // The market moves while the order travels.
    emu.tick(10);
    await caughtUp();
    const askThen = ((await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1"))
      .body.asks as [number, number][])[0][0];
    assert.notEqual(
      askThen,
      askAtSending,
      "the ticks moved the best ask (else this test shows nothing)",
    );
    const fill = await client.next((f) => f.type === "fill", 5000, 0, "the fill");
    const filled = fill.fill as Frame;
    assert.equal(filled.price, askThen, "the best ask at arrival, not at sending");
    const order = await client.next(
      (f) => f.type === "order" && (f.order as Frame).status === "filled",
      5000,
      0,
      "the order filled",
    );
    const { sentTime, arrivalTime } = order.order as { sentTime: number; arrivalTime: number };
    assert.equal(arrivalTime - sentTime, 300, "arrival = sent + the order latency");
    assert.ok(Date.now() - sent >= 250, "it did not arrive before its latency passed");
  } finally {
    await client.close();
    await gateway.close();
    await emu.close();
  }
});

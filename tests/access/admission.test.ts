/**
 * One admission for every WebSocket endpoint: `/ws` and the Binance-compatible proxy's
 * `/binance/ws` and `/binance/stream` share the plan's connection slots, its channel and
 * subscription limits, `MAX_CLIENTS` and the process-wide memory budget, tried with
 * independent clients as a user would.
 */
import assert from "node:assert/strict";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import type { BinanceEmulatorOptions } from "../../plugins/binance/emulator/types.ts";
import { createBinanceProxy } from "../../plugins/binance/proxy/mod.ts";
import { type Gateway, type GatewayExtension, startGateway } from "../../core/server/gateway.ts";
import type { CoreConfig } from "../../core/server/config.ts";
import { getJson, testConfig, waitFor } from "../helpers.ts";
import { rawUpgrade } from "../raw_ws.ts";
import { createAdmission } from "../../core/server/admission.ts";
import type { AccessGate } from "../../core/access/gate.ts";

const ONE = "one-connection-key-01";
const TRADES = "trades-only-key-0002";
const ELSEWHERE = "other-exchange-key-03";

const PLANS = JSON.stringify({
  one: { maxConnections: 1, restPerMinute: 2 },
  trades: { maxConnections: 10, maxSubscriptions: 2, channels: ["trade"] },
  elsewhere: { exchanges: ["coinbase"] },
});

interface Stack {
  gateway: Gateway;
  /** `127.0.0.1:<port>` */
  host: string;
  proxyClients(): number;
  /** Synthetic trades per second of the emulator (needs `benchTradesPerSecond` set). */
  setTradeRate(tradesPerSecond: number): void;
  close(): Promise<void>;
}

/** Binance emulator → gateway (no feeds) with the proxy mounted under /binance. */
async function stack(
  overrides: Partial<Record<keyof CoreConfig, unknown>>,
  emulator: BinanceEmulatorOptions = { autoStart: false },
): Promise<Stack> {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 5, ...emulator });
  const proxy = createBinanceProxy({
    wsUrl: emu.wsUrl,
    restUrl: emu.restUrl,
    releaseDelayMs: 0,
    backoffBaseMs: 50,
    backoffCapMs: 200,
  });
  const gateway = await startGateway({
    config: testConfig(overrides),
    feeds: [],
    extensions: [proxy],
  });
  return {
    gateway,
    host: `127.0.0.1:${gateway.port}`,
    proxyClients: () => proxy.stats().clients,
    setTradeRate: (rate) => emu.setBenchRate(rate),
    async close() {
      await gateway.close();
      await emu.close();
    },
  };
}

/** A WebSocket that keeps its text frames; rejects when the upgrade is refused. */
async function open(url: string, protocols?: string[]) {
  const socket = new WebSocket(url, protocols);
  const texts: string[] = [];
  socket.onmessage = (e) => texts.push(e.data);
  const closed = new Promise<void>((r) => socket.addEventListener("close", () => r()));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`upgrade to ${url} refused`));
  });
  return {
    socket,
    texts,
    async close() {
      socket.close();
      await closed;
    },
  };
}

/** Sends a Binance control request and waits for the reply carrying its id. */
async function control(client: Awaited<ReturnType<typeof open>>, request: Record<string, unknown>) {
  const from = client.texts.length;
  client.socket.send(JSON.stringify(request));
  let reply: string | undefined;
  await waitFor(
    () =>
      (reply = client.texts.slice(from).find((t) => t.includes(`"id":${request.id}`))) !==
        undefined,
    5000,
    `the reply to request ${request.id}`,
  );
  return reply!;
}

Deno.test("admission: a 1-connection plan holds one connection across /ws and /binance/ws", async (t) => {
  const s = await stack({ apiKeys: `${ONE}:one`, plans: PLANS });
  try {
    await t.step(
      "/ws first: a /binance/ws connection is refused 429 in Binance's shape",
      async () => {
        const ws = await open(`ws://${s.host}/ws`, ["quant-saas", `bearer.${ONE}`]);
        const res = await rawUpgrade(s.gateway.port, "/binance/ws/btcusdt@trade", {
          Authorization: `Bearer ${ONE}`,
        });
        res.conn?.close();
        assert.equal(res.status, 429);
        const body = res.body as { code: number; msg: string };
        assert.equal(body.code, -1003);
        assert.match(body.msg, /connection_limit/);
        assert.ok(Number(res.headers["retry-after"]) >= 1);
        await ws.close();
      },
    );

    await t.step("/binance/ws first: a /ws connection is refused", async () => {
      // The slot of the closed /ws connection comes back once its close completed.
      let proxied: Awaited<ReturnType<typeof open>> | undefined;
      await waitFor(
        async () => {
          proxied = await open(`ws://${s.host}/binance/ws/btcusdt@trade?token=${ONE}`)
            .catch(() => undefined);
          return proxied !== undefined;
        },
        5000,
        "the /binance/ws connection to be admitted",
      );
      const res = await rawUpgrade(s.gateway.port, "/ws", { Authorization: `Bearer ${ONE}` });
      res.conn?.close();
      assert.equal(res.status, 429);
      assert.equal((res.body as { error: { code: string } }).error.code, "connection_limit");
      const second = await rawUpgrade(s.gateway.port, "/binance/stream?streams=btcusdt@trade", {
        Authorization: `Bearer ${ONE}`,
      });
      second.conn?.close();
      assert.equal(second.status, 429, "nor a second proxy connection");
      await proxied!.close();
    });

    await t.step("upgrades spend no REST request of the plan", async () => {
      // The plan allows 2 REST requests a minute; three upgrades first, then one request.
      for (let i = 0; i < 3; i++) {
        const up = await rawUpgrade(s.gateway.port, "/binance/ws/btcusdt@trade", {
          Authorization: `Bearer ${ONE}`,
        });
        up.conn?.close();
        assert.ok([101, 429].includes(up.status), `upgrade ${i}: HTTP ${up.status}`);
      }
      const res = await fetch(`http://${s.host}/binance/api/v3/ping`, {
        headers: { Authorization: `Bearer ${ONE}` },
      });
      assert.equal(res.status, 200, await res.text());
    });
  } finally {
    await s.close();
  }
});

Deno.test("admission: the plan's channel, subscription and exchange limits apply on /binance", async (t) => {
  const s = await stack({
    apiKeys: `${TRADES}:trades,${ELSEWHERE}:elsewhere`,
    plans: PLANS,
  });
  try {
    await t.step("a stream of a channel the plan lacks is refused at connect (403)", async () => {
      const res = await rawUpgrade(s.gateway.port, `/binance/ws/btcusdt@depth?token=${TRADES}`);
      res.conn?.close();
      assert.equal(res.status, 403);
      assert.match((res.body as { msg: string }).msg, /forbidden_channel/);
    });

    await t.step("more streams than the plan's subscriptions are refused at connect", async () => {
      const res = await rawUpgrade(
        s.gateway.port,
        `/binance/stream?streams=btcusdt@trade/ethusdt@trade/btcusdt@aggTrade&token=${TRADES}`,
      );
      res.conn?.close();
      assert.equal(res.status, 403);
      assert.match((res.body as { msg: string }).msg, /too_many_subscriptions/);
    });

    await t.step("a plan without Binance may not use the proxy", async () => {
      const res = await rawUpgrade(s.gateway.port, `/binance/ws/btcusdt@trade?token=${ELSEWHERE}`);
      res.conn?.close();
      assert.equal(res.status, 403);
      assert.match((res.body as { msg: string }).msg, /forbidden_exchange/);
    });

    await t.step("SUBSCRIBE is held to the same limits", async () => {
      const client = await open(`ws://${s.host}/binance/ws/btcusdt@trade?token=${TRADES}`);
      try {
        const quote = await control(client, {
          method: "SUBSCRIBE",
          params: ["ethusdt@bookTicker"],
          id: 1,
        });
        assert.match(quote, /^\{"error":\{"code":2,"msg":"[^"]*quote channel[^"]*"\},"id":1\}$/);
        const trade = await control(client, {
          method: "SUBSCRIBE",
          params: ["ethusdt@trade"],
          id: 2,
        });
        assert.equal(trade, '{"result":null,"id":2}');
        const third = await control(client, {
          method: "SUBSCRIBE",
          params: ["ethusdt@aggTrade"],
          id: 3,
        });
        assert.match(third, /too many streams \(maximum 2 per connection\)/);
        const list = await control(client, { method: "LIST_SUBSCRIPTIONS", id: 4 });
        assert.equal(list, '{"result":["btcusdt@trade","ethusdt@trade"],"id":4}');
      } finally {
        await client.close();
      }
    });
  } finally {
    await s.close();
  }
});

Deno.test("admission: MAX_CLIENTS counts /ws and /binance clients together", async () => {
  const s = await stack({ maxClients: 2 });
  const open1 = await open(`ws://${s.host}/ws`);
  const open2 = await open(`ws://${s.host}/binance/ws/btcusdt@trade`);
  try {
    await waitFor(() => s.gateway.clientCount() === 2, 3000, "both clients counted");
    const proxied = await rawUpgrade(s.gateway.port, "/binance/ws/ethusdt@trade");
    proxied.conn?.close();
    assert.equal(proxied.status, 503);
    assert.deepEqual(
      [
        (proxied.body as { code: number }).code,
        /server_busy/.test((proxied.body as { msg: string }).msg),
      ],
      [-1008, true],
    );
    const ws = await rawUpgrade(s.gateway.port, "/ws");
    ws.conn?.close();
    assert.equal(ws.status, 503);
    assert.equal((ws.body as { error: { code: string } }).error.code, "server_busy");
  } finally {
    await Promise.all([open1.close(), open2.close()]);
    await s.close();
  }
});

Deno.test("admission: never-reading /binance/stream clients are shed by the memory budget", async () => {
  const MiB = 1024 * 1024;
  // The slow-consumer queue bound is out of the way: only the memory budget can act.
  const s = await stack(
    { memoryBudget: 2 * MiB, maxQueuedTrades: 10_000_000 },
    { tradesPerSecond: 0, benchTradesPerSecond: 0 },
  );
  const STUCK = 4;
  const stuck: Deno.Conn[] = [];
  let maxHeld = 0;
  try {
    const reader = await open(
      `ws://${s.host}/binance/stream?streams=btcusdt@trade/btcusdt@depth@100ms`,
    );
    for (let i = 0; i < STUCK; i++) {
      const up = await rawUpgrade(
        s.gateway.port,
        "/binance/stream?streams=btcusdt@trade/ethusdt@trade/btcusdt@depth@100ms",
      );
      assert.equal(up.status, 101);
      stuck.push(up.conn!); // never read again
    }
    // Everyone is connected: now the market gets busy.
    s.setTradeRate(20_000);
    await waitFor(
      async () => {
        const { body } = await getJson(s.gateway, "/health");
        const delivery = body.delivery as { held: number; disconnects: number };
        maxHeld = Math.max(maxHeld, delivery.held);
        return delivery.disconnects >= STUCK;
      },
      20_000,
      `the memory budget to shed all ${STUCK} never-reading clients`,
    );
    await waitFor(() => s.proxyClients() === 1, 5000, "only the reader left on the proxy");
    const metrics = await (await fetch(`http://${s.host}/metrics`)).text();
    assert.match(metrics, /quant_budget_disconnects_total(\{[^}]*\})? [4-9]/);
    // Held bytes were counted (the proxy's sockets are in the budget) and stayed bounded:
    // at most the budget plus what four clients add in one 250 ms sample.
    assert.ok(maxHeld > 0, "proxy sockets count toward the budget");
    assert.ok(maxHeld < 16 * MiB, `held ${maxHeld} bytes`);
    const before = reader.texts.length;
    await waitFor(() => reader.texts.length > before + 100, 5000, "the reader still served");
    await reader.close();
  } finally {
    for (const conn of stuck) conn.close();
    await s.close();
  }
});

Deno.test("admission: an extension route answered without ctx.admit passes the REST gate", async (t) => {
  const KEY = "extension-test-key-01";
  const rogue: GatewayExtension = {
    prefix: "/rogue",
    handle() {
      // Answers data to anything, an Upgrade header included, without calling ctx.admit.
      return new Response(JSON.stringify({ secret: "data" }));
    },
  };
  const gateway = await startGateway({
    config: testConfig({ apiKeys: KEY }),
    feeds: [],
    extensions: [rogue],
  });
  try {
    await t.step("an Upgrade header does not skip the REST gate", async () => {
      const res = await rawUpgrade(gateway.port, "/rogue/data");
      res.conn?.close();
      assert.equal(res.status, 401);
      assert.ok(!JSON.stringify(res.body).includes("secret"));
      const keyed = await rawUpgrade(gateway.port, "/rogue/data", {
        Authorization: `Bearer ${KEY}`,
      });
      keyed.conn?.close();
      assert.deepEqual([keyed.status, keyed.body], [200, { secret: "data" }]);
    });
  } finally {
    await gateway.close();
  }
});

Deno.test("admission: while the memory budget is over, upgrades are refused 503 overloaded in the endpoint's shape", async () => {
  const gate = {
    websocket: () => Promise.reject(new Error("the gate is not reached while overloaded")),
  } as unknown as AccessGate;
  const errors: string[] = [];
  const admission = createAdmission({
    gate,
    delivery: { send() {} },
    budget: { overloaded: () => true, clientsChanged() {} },
    metrics: {
      clients: { set() {} },
      clientErrors: { inc: (labels: { code: string }) => errors.push(labels.code) },
    } as unknown as Parameters<typeof createAdmission>[0]["metrics"],
    maxClients: 10,
    idleTimeout: 60,
    slowConsumerMessage: "slow",
    log: { info() {}, warning() {} },
  });
  const req = new Request("http://127.0.0.1/binance/ws", { headers: { upgrade: "websocket" } });
  const info = {
    remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" },
  } as Deno.ServeHandlerInfo<Deno.NetAddr>;
  const plain = await admission.admit(req, new URL(req.url), info);
  assert.ok(plain instanceof Response);
  assert.deepEqual([plain.status, plain.headers.get("retry-after")], [503, "5"]);
  assert.equal((await plain.json()).error.code, "overloaded");
  const shaped = await admission.admit(req, new URL(req.url), info, {
    refuse: (r) =>
      Response.json({ code: -1008, msg: `${r.message} (${r.code})` }, { status: r.status }),
  });
  assert.ok(shaped instanceof Response);
  assert.equal(shaped.status, 503);
  assert.match((await shaped.json()).msg, /\(overloaded\)$/);
  assert.deepEqual(errors, ["overloaded", "overloaded"]);
});

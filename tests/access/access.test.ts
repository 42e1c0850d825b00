import assert from "node:assert/strict";
import {
  connect,
  elapse,
  gatewayWith,
  scriptedFeed,
  type TestClient,
  waitFor,
  waitForValue,
} from "../helpers.ts";
import { createKeyStore, hashKey } from "../../core/access/keys.ts";
import { AuthConfigError } from "../../core/access/keys.ts";
import { createConcurrencyLimiter, createRateLimiter } from "../../core/access/limits.ts";
import { ERROR_CODES } from "../../core/protocol/messages.ts";
import { rawUpgrade } from "../raw_ws.ts";

const SMALL = "small-plan-key-0001";
const PRO = "pro-plan-key-000002";
const ADMIN = "admin-key-000000003";

const PLANS = JSON.stringify({
  small: {
    maxConnections: 2,
    maxSubscriptions: 2,
    exchanges: ["scripted"],
    channels: ["trade"],
    restPerMinute: 3,
    messagesPerSecond: 4,
  },
  pro: { maxConnections: 10, maxSubscriptions: 50, restPerMinute: 1000, messagesPerSecond: 20 },
  elsewhere: { exchanges: ["binance"] },
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text.startsWith("{") ? JSON.parse(text) : text,
  };
}

async function connectWith(port: number, query: string, protocols?: string[]) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, protocols);
  const frames: Record<string, unknown>[] = [];
  socket.onmessage = (e) => frames.push(JSON.parse(e.data));
  const closed = new Promise<void>((r) => socket.addEventListener("close", () => r()));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("refused"));
  });
  return { socket, frames, closed };
}

Deno.test("key store: only SHA-256 hashes are kept, plans are validated", async (t) => {
  await t.step("hashKey is hex SHA-256", async () => {
    assert.equal(
      await hashKey("abc"),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
  await t.step("keys from the file (hashes) and env (key or hash) find their plan", async () => {
    const file = JSON.stringify({
      plans: { gold: { maxConnections: 7 } },
      keys: [{ name: "alice", sha256: await hashKey("alice-secret-1"), plan: "gold" }],
    });
    const store = await createKeyStore({
      file,
      apiKeys: `bob-secret-0002,${await hashKey("carol-secret-3")}:gold`,
      adminKeys: "root-secret-0004",
    });
    assert.equal(store.required, true);
    assert.equal(store.hasAdmin, true);
    const alice = await store.lookup("alice-secret-1");
    assert.deepEqual([alice?.id, alice?.plan.maxConnections, alice?.admin], ["alice", 7, false]);
    assert.equal((await store.lookup("bob-secret-0002"))?.plan.maxConnections, 10);
    assert.equal((await store.lookup("carol-secret-3"))?.plan.maxConnections, 7);
    assert.equal((await store.lookup("root-secret-0004"))?.admin, true);
    assert.equal(await store.lookup("alice-secret-2"), undefined);
    assert.equal(await store.lookup(""), undefined);
  });
  await t.step("no keys: authentication is off", async () => {
    assert.equal((await createKeyStore({})).required, false);
  });
  await t.step("bad files, unknown plans and short keys are refused at start", async () => {
    await assert.rejects(createKeyStore({ file: "{" }), AuthConfigError);
    await assert.rejects(
      createKeyStore({ file: JSON.stringify({ keys: [{ sha256: "xyz" }] }) }),
      /sha256 must be 64 hex digits/,
    );
    await assert.rejects(createKeyStore({ apiKeys: "some-long-key:gold" }), /unknown plan "gold"/);
    await assert.rejects(createKeyStore({ apiKeys: "short" }), /8 to 256/);
    await assert.rejects(
      createKeyStore({ plans: JSON.stringify({ x: { maxConnections: -1 } }) }),
      /PLANS/,
    );
  });
});

Deno.test("limiters: token buckets give Retry-After, concurrency slots are returned", () => {
  const buckets = createRateLimiter(60_000);
  assert.deepEqual(buckets.take("a", 2, 0), { ok: true });
  assert.deepEqual(buckets.take("a", 2, 0), { ok: true });
  assert.deepEqual(buckets.take("a", 2, 0), { ok: false, retryAfterMs: 30_000 });
  assert.deepEqual(buckets.take("b", 2, 0), { ok: true }, "ids are independent");
  assert.deepEqual(buckets.take("a", 2, 30_000), { ok: true }, "refilled after half a minute");
  const small = createRateLimiter(1000, 2);
  small.take("x", 1, 0);
  small.take("y", 1, 0);
  small.take("z", 1, 5000);
  assert.equal(small.size(), 1, "idle buckets are pruned when the table is full");
  const slots = createConcurrencyLimiter();
  assert.equal(slots.acquire("k", 1), true);
  assert.equal(slots.acquire("k", 1), false);
  slots.release("k");
  assert.equal(slots.acquire("k", 1), true);
  assert.equal(slots.held("k"), 1);
});

Deno.test("with API keys configured", async (t) => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT", "ETHUSDT", "SOLUSDT"])], {
    apiKeys: `${SMALL}:small,${await hashKey(PRO)}:pro,other-plan-key-4:elsewhere`,
    adminKeys: ADMIN,
    plans: PLANS,
  });
  const base = gateway.url;
  const open: Awaited<ReturnType<typeof connectWith>>[] = [];
  try {
    await t.step("every new error code is documented", () => {
      for (
        const code of [
          "unauthorized",
          "forbidden",
          "forbidden_origin",
          "forbidden_exchange",
          "forbidden_channel",
          "connection_limit",
        ]
      ) assert.ok(code in ERROR_CODES, code);
    });

    await t.step("REST without a key or with a wrong key is 401 unauthorized", async () => {
      const none = await get(`${base}/api/symbols`);
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, "unauthorized");
      assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
      const wrong = await get(`${base}/api/symbols`, bearer("not-a-real-key-x"));
      assert.equal(wrong.status, 401);
      assert.equal((await get(`${base}/api/symbols`, bearer(PRO))).status, 200);
    });

    await t.step("/health and /ready stay open", async () => {
      assert.equal((await get(`${base}/health`)).status, 200);
      assert.notEqual((await get(`${base}/ready`)).status, 401);
    });

    await t.step("/metrics needs the admin key: 401 without, 403 with a user key", async () => {
      assert.equal((await get(`${base}/metrics`)).status, 401);
      const user = await get(`${base}/metrics`, bearer(PRO));
      assert.equal(user.status, 403);
      assert.equal(user.body.error.code, "forbidden");
      const admin = await get(`${base}/metrics`, bearer(ADMIN));
      assert.equal(admin.status, 200);
      assert.match(admin.body, /quant/);
    });

    await t.step(
      "a small plan gets 429 rate_limited with Retry-After past its REST budget",
      async () => {
        for (let i = 0; i < 3; i++) {
          assert.equal((await get(`${base}/api/symbols`, bearer(SMALL))).status, 200);
        }
        const over = await get(`${base}/api/symbols`, bearer(SMALL));
        assert.equal(over.status, 429);
        assert.equal(over.body.error.code, "rate_limited");
        assert.ok(Number(over.headers.get("retry-after")) >= 1);
        assert.equal(
          (await get(`${base}/api/symbols`, bearer(PRO))).status,
          200,
          "others unaffected",
        );
      },
    );

    await t.step("a WebSocket upgrade without a valid key is refused with 401 JSON", async () => {
      const none = await rawUpgrade(gateway.port, "/ws");
      assert.equal(none.status, 401);
      assert.equal((none.body as { error: { code: string } }).error.code, "unauthorized");
      const wrong = await rawUpgrade(gateway.port, "/ws?token=wrong-key-123456");
      assert.equal(wrong.status, 401);
    });

    await t.step(
      "the key may come as a header, a bearer.<key> subprotocol or ?token=",
      async () => {
        const header = await rawUpgrade(gateway.port, "/ws", bearer(PRO));
        assert.equal(header.status, 101);
        header.conn!.close();
        const viaProtocol = await connectWith(gateway.port, "", ["quant-saas", `bearer.${PRO}`]);
        assert.equal(viaProtocol.socket.protocol, "quant-saas", "the key is not echoed back");
        const viaQuery = await connectWith(gateway.port, `?token=${PRO}`);
        for (const c of [viaProtocol, viaQuery]) {
          c.socket.close();
          await c.closed;
        }
      },
    );

    await t.step(
      "a small plan holds at most 2 connections: the third is 429 connection_limit",
      async () => {
        open.push(await connectWith(gateway.port, `?token=${SMALL}`));
        open.push(await connectWith(gateway.port, `?token=${SMALL}`));
        const third = await rawUpgrade(gateway.port, `/ws?token=${SMALL}`);
        assert.equal(third.status, 429);
        assert.equal((third.body as { error: { code: string } }).error.code, "connection_limit");
        assert.ok(third.headers["retry-after"]);
        const first = open.shift()!;
        first.socket.close();
        await first.closed;
        let again: Awaited<ReturnType<typeof rawUpgrade>> | undefined;
        await waitFor(
          async () => (again = await rawUpgrade(gateway.port, `/ws?token=${SMALL}`)).status === 101,
          2000,
          "a closed connection to give its slot back (upgrade answered 101)",
        );
        again!.conn!.close();
      },
    );

    await t.step(
      "a small plan cannot exceed its subscription, channel or exchange limits",
      async () => {
        const client = open[0];
        const next = (id: number) =>
          waitForValue(() => client.frames.find((f) => f.id === id), 2000, `a reply to id ${id}`);
        const send = (frame: unknown) => client.socket.send(JSON.stringify(frame));
        send({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["quote"], id: 1 });
        assert.equal((await next(1)).code, "forbidden_channel");
        send({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["consolidated"], id: 2 });
        assert.equal((await next(2)).code, "forbidden_channel");
        send({ action: "subscribe", symbols: ["BTCUSDT", "ETHUSDT"], id: 3 });
        assert.equal((await next(3)).subscriptions, 2);
        send({ action: "subscribe", symbols: ["SOLUSDT"], id: 4 });
        assert.equal((await next(4)).code, "too_many_subscriptions");
        const other = await connectWith(gateway.port, "?token=other-plan-key-4");
        other.socket.send(JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT"], id: 7 }));
        await waitFor(() => other.frames.length > 0, 2000, "a reply to id 7");
        assert.equal(other.frames[0]?.code, "forbidden_exchange");
        other.socket.close();
        await other.closed;
      },
    );

    await t.step("a small plan gets rate_limited past 4 frames per second", async () => {
      await elapse(1100, "the earlier frames' 1 s rate window to end");
      const client = open[0];
      const from = client.frames.length;
      for (let i = 0; i < 6; i++) {
        client.socket.send(JSON.stringify({ action: "ping", id: 100 + i }));
      }
      await waitFor(
        () => client.frames.slice(from).some((f) => f.code === "rate_limited"),
        2000,
        "a rate_limited error frame",
      );
      const replies = client.frames.slice(from).filter((f) => f.type !== "trade");
      assert.equal(replies.filter((f) => f.type === "pong").length, 4);
      assert.ok(replies.some((f) => f.code === "rate_limited"));
    });
  } finally {
    for (const c of open) {
      c.socket.close();
      await c.closed;
    }
    await gateway.close();
  }
});

Deno.test("without keys: per-IP limits on connections and REST requests", async (t) => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])], {
    ipLimitLoopback: true,
    ipMaxConnections: 2,
    ipRestPerMinute: 5,
    ipConnectsPerMinute: 4,
  });
  const clients: TestClient[] = [];
  try {
    await t.step("a third concurrent connection from one IP is 429 connection_limit", async () => {
      clients.push(await connect(gateway), await connect(gateway));
      const third = await rawUpgrade(gateway.port, "/ws");
      assert.equal(third.status, 429);
      assert.equal((third.body as { error: { code: string } }).error.code, "connection_limit");
    });
    await t.step("new connections per minute are limited too", async () => {
      await clients.pop()!.close();
      await waitFor(
        () => gateway.clientCount() === 1,
        2000,
        "the gateway to release the closed connection",
      );
      const fourth = await rawUpgrade(gateway.port, "/ws");
      assert.equal(fourth.status, 101);
      fourth.conn!.close();
      await waitFor(
        () => gateway.clientCount() === 1,
        2000,
        "the gateway to release the fourth connection",
      );
      const fifth = await rawUpgrade(gateway.port, "/ws");
      assert.equal(fifth.status, 429);
      assert.equal((fifth.body as { error: { code: string } }).error.code, "rate_limited");
    });
    await t.step("the sixth REST request in a minute is 429 with Retry-After", async () => {
      for (let i = 0; i < 5; i++) assert.equal((await get(`${gateway.url}/health`)).status, 200);
      const over = await get(`${gateway.url}/health`);
      assert.equal(over.status, 429);
      assert.ok(Number(over.headers.get("retry-after")) > 0);
    });
  } finally {
    for (const c of clients) await c.close();
    await gateway.close();
  }
});

Deno.test("CORS and WebSocket Origin allow-list", async (t) => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])], {
    allowedOrigins: "https://app.example",
  });
  try {
    await t.step("an allowed origin gets CORS headers; others get none", async () => {
      const ok = await get(`${gateway.url}/health`, { origin: "https://app.example" });
      assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
      const other = await get(`${gateway.url}/health`, { origin: "https://evil.example" });
      assert.equal(other.headers.get("access-control-allow-origin"), null);
    });
    await t.step(
      "preflight: 204 for an allowed origin, 403 forbidden_origin otherwise",
      async () => {
        const pre = (origin: string) =>
          fetch(`${gateway.url}/api/symbols`, {
            method: "OPTIONS",
            headers: { origin, "access-control-request-method": "GET" },
          });
        const ok = await pre("https://app.example");
        await ok.body?.cancel();
        assert.equal(ok.status, 204);
        assert.match(ok.headers.get("access-control-allow-headers") ?? "", /Authorization/);
        const bad = await pre("https://evil.example");
        assert.equal(bad.status, 403);
        assert.equal((await bad.json()).error.code, "forbidden_origin");
      },
    );
    await t.step(
      "a WebSocket from another origin is refused 403; no Origin is allowed",
      async () => {
        const bad = await rawUpgrade(gateway.port, "/ws", { origin: "https://evil.example" });
        assert.equal(bad.status, 403);
        assert.equal((bad.body as { error: { code: string } }).error.code, "forbidden_origin");
        const good = await rawUpgrade(gateway.port, "/ws", { origin: "https://app.example" });
        assert.equal(good.status, 101);
        good.conn!.close();
        const cli = await rawUpgrade(gateway.port, "/ws");
        assert.equal(cli.status, 101);
        cli.conn!.close();
      },
    );
  } finally {
    await gateway.close();
  }
});

Deno.test("the auth file is read at start; an unreadable one stops the gateway", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/auth.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({ keys: [{ name: "ops", sha256: await hashKey(ADMIN), admin: true }] }),
    );
    const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])], { authFile: path });
    try {
      assert.equal((await get(`${gateway.url}/api/symbols`)).status, 401);
      assert.equal((await get(`${gateway.url}/metrics`, bearer(ADMIN))).status, 200);
    } finally {
      await gateway.close();
    }
    await assert.rejects(
      gatewayWith([scriptedFeed(["BTCUSDT"])], { authFile: `${dir}/missing.json` }),
      /cannot read AUTH_FILE/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The process-wide memory budget: however many clients stop reading, the bytes the
 * gateway holds for them stay bounded; the biggest holders are cut off, readers keep
 * every trade, and new connections are refused while the budget is exhausted.
 */
import assert from "node:assert/strict";
import {
  bufferedCost,
  type Client,
  createClient,
  createDelivery,
  QUEUED_MESSAGE_OVERHEAD,
} from "../../core/delivery/policy.ts";
import { createMemoryBudget } from "../../core/delivery/budget.ts";
import {
  connect,
  gatewayWith,
  getJson,
  metricsText,
  metricValue,
  scriptedFeed,
  waitFor,
} from "../helpers.ts";
import type { ReaderReport } from "../fixtures/trade_reader_worker.ts";
import { maskedFrame, rawUpgrade, write } from "../raw_ws.ts";

function fakeSocket(bufferedAmount = 0) {
  const sent: string[] = [];
  const socket = {
    readyState: WebSocket.OPEN,
    bufferedAmount,
    send(text: string) {
      sent.push(text);
    },
  };
  return { socket, sent };
}

/**
 * A client whose socket holds `bufferedAmount` payload bytes, having sent frames of
 * `meanFrame` bytes on average (default: one huge frame, so the per-message overhead
 * is a single {@link QUEUED_MESSAGE_OVERHEAD}).
 */
function fakeClient(id: number, bufferedAmount = 0, meanFrame = 1 << 30) {
  const fake = fakeSocket(bufferedAmount);
  const client = createClient(id, fake.socket as unknown as WebSocket, `c${id}`);
  client.sentFrames = 1;
  client.sentBytes = meanFrame;
  return { ...fake, client };
}

const OVERHEAD = QUEUED_MESSAGE_OVERHEAD;

Deno.test("memory budget policy", async (t) => {
  const KiB = 1024;

  await t.step("below half the budget the configured high-water mark stays in force", () => {
    const delivery = createDelivery({ highWaterMark: 256 * KiB, maxQueuedTrades: 100 }, () => {});
    const budget = createMemoryBudget(
      { budget: 1024 * KiB, highWaterMark: 256 * KiB },
      delivery,
      () => assert.fail("nobody is over"),
    );
    const state = budget.sample([fakeClient(1, 100 * KiB).client], []);
    assert.equal(state.pressure, "normal");
    assert.equal(state.held, 100 * KiB + OVERHEAD);
    assert.equal(delivery.highWaterMark(), 256 * KiB);
    assert.equal(budget.overloaded(), false);
    delivery.close();
  });

  await t.step(
    "with many clients each one's mark is its share of half the budget, so together they fit",
    () => {
      const delivery = createDelivery({ highWaterMark: 256 * KiB, maxQueuedTrades: 100 }, () => {});
      const budget = createMemoryBudget(
        { budget: 4096 * KiB, highWaterMark: 256 * KiB },
        delivery,
        () => {},
      );
      budget.clientsChanged(2);
      assert.equal(delivery.highWaterMark(), 256 * KiB, "2 MiB each would be over the cap");
      budget.clientsChanged(16);
      assert.equal(delivery.highWaterMark(), 128 * KiB, "16 × 128 KiB = half the budget");
      budget.clientsChanged(1000);
      assert.equal(delivery.highWaterMark(), 64 * KiB, "never below 64 KiB");
      // A client at 200 KiB was fine with 2 clients connected; with 16 it is over its share.
      const c = fakeClient(1, 200 * KiB);
      budget.clientsChanged(16);
      delivery.send(c.client, "q1", "quote|x");
      assert.deepEqual(c.sent, [], "held back (conflated) instead of buffered");
      budget.clientsChanged(2);
      delivery.send(c.client, "t1");
      assert.deepEqual(c.sent, [], "a client with a backlog keeps queueing until it drains");
      delivery.close();
    },
  );

  await t.step(
    "from half the budget the mark drops to a quarter, so a lagging client conflates instead of buffering",
    () => {
      const delivery = createDelivery({ highWaterMark: 256 * KiB, maxQueuedTrades: 100 }, () => {});
      const budget = createMemoryBudget(
        { budget: 1024 * KiB, highWaterMark: 256 * KiB },
        delivery,
        () => assert.fail("nobody is over"),
      );
      const a = fakeClient(1, 450 * KiB);
      const b = fakeClient(2, 100 * KiB);
      const state = budget.sample([a.client, b.client], []);
      assert.equal(state.pressure, "tight");
      assert.equal(delivery.highWaterMark(), 64 * KiB);
      // b (100 KiB buffered) was fine under 256 KiB; under 64 KiB its quotes now conflate.
      delivery.send(b.client, "q1", "quote|x");
      delivery.send(b.client, "q2", "quote|x");
      assert.deepEqual(b.sent, []);
      assert.equal(delivery.stats.conflated, 1);
      // Pressure gone: the configured mark is back.
      a.socket.bufferedAmount = 0;
      b.socket.bufferedAmount = 0;
      assert.equal(budget.sample([a.client, b.client], []).pressure, "normal");
      assert.equal(delivery.highWaterMark(), 256 * KiB);
      delivery.close();
    },
  );

  await t.step(
    "over the budget the biggest holders are cut off first, a client with little in flight never",
    () => {
      const delivery = createDelivery({ highWaterMark: 256 * KiB, maxQueuedTrades: 100 }, () => {});
      const cut: [number, string][] = [];
      const budget = createMemoryBudget(
        { budget: 1024 * KiB, highWaterMark: 256 * KiB },
        delivery,
        (client: Client, detail) => cut.push([client.id, detail]),
      );
      const clients = [
        fakeClient(1, 400 * KiB),
        fakeClient(2, 500 * KiB),
        fakeClient(3, 300 * KiB),
        fakeClient(4, 8 * KiB),
      ];
      // All of them have been over their high-water mark for 5 s.
      for (const { client } of clients) client.slowSince = 1;
      const state = budget.sample(clients.map((c) => c.client), [], 5001);
      assert.equal(state.held, 1208 * KiB + 4 * OVERHEAD);
      assert.equal(state.pressure, "over");
      assert.equal(budget.overloaded(), true);
      // 1208 → shed 500 (708 ≤ 768): one client is enough to get under three quarters.
      assert.deepEqual(cut.map(([id]) => id), [2]);
      assert.match(cut[0][1], /memory budget .* exceeded; this connection held the most/);
      assert.equal(state.disconnects, 1);
      delivery.close();
    },
  );

  await t.step(
    "a reader only briefly behind (under the 1 s grace) is never shed, even if it holds the most",
    () => {
      const delivery = createDelivery({ highWaterMark: 256 * KiB, maxQueuedTrades: 100 }, () => {});
      const cut: number[] = [];
      const budget = createMemoryBudget(
        { budget: 1024 * KiB, highWaterMark: 256 * KiB },
        delivery,
        (client: Client) => cut.push(client.id),
      );
      const reader = fakeClient(1, 700 * KiB).client; // behind for 200 ms: a pause of ours
      reader.slowSince = 4800;
      const stuck = fakeClient(2, 600 * KiB).client; // behind for 5 s
      stuck.slowSince = 1;
      const fresh = fakeClient(3, 500 * KiB).client; // not over its mark at all
      budget.sample([reader, stuck, fresh], [], 5000);
      assert.deepEqual(cut, [2]);
      delivery.close();
    },
  );

  await t.step(
    "sockets closed but not yet released (a peer that never reads) keep counting",
    () => {
      const delivery = createDelivery({ highWaterMark: 256 * KiB, maxQueuedTrades: 100 }, () => {});
      const budget = createMemoryBudget(
        { budget: 1024 * KiB, highWaterMark: 256 * KiB },
        delivery,
        () => assert.fail("only lingering sockets hold memory: nothing to shed"),
      );
      const stuck = fakeClient(2, 1100 * KiB).client;
      const state = budget.sample([fakeClient(1, 0).client], [stuck]);
      assert.equal(state.lingering, 1100 * KiB + OVERHEAD);
      assert.equal(state.pressure, "over", "new connections are refused until it is released");
      delivery.close();
    },
  );

  await t.step("a slow client's backlog counts toward the budget", () => {
    const delivery = createDelivery({ highWaterMark: 1024, maxQueuedTrades: 1000 }, () => {});
    const budget = createMemoryBudget(
      { budget: 1024 * KiB, highWaterMark: 1024 },
      delivery,
      () => {},
    );
    const slow = fakeClient(1, 2000);
    for (let i = 0; i < 10; i++) delivery.send(slow.client, `t${i}`);
    assert.ok(slow.client.backlog);
    assert.equal(
      budget.sample([slow.client], []).held,
      2000 + OVERHEAD + slow.client.backlog.bytes,
    );
    assert.ok(slow.client.backlog.bytes >= 10 * 64);
    delivery.close();
  });
});

Deno.test("a socket's cost counts every queued message, not just its payload bytes", () => {
  // Deno keeps ~1 KiB per queued send besides the payload: 100 KiB of 200-byte frames
  // is 512 messages, so it costs 100 KiB + 512 KiB, while one 100 KiB snapshot costs 101 KiB.
  const small = fakeClient(1, 100 * 1024, 200).client;
  const big = fakeClient(2, 100 * 1024, 100 * 1024).client;
  assert.equal(bufferedCost(small), 100 * 1024 + 512 * OVERHEAD);
  assert.equal(bufferedCost(big), 100 * 1024 + OVERHEAD);
  assert.equal(bufferedCost(fakeClient(3, 0, 200).client), 0);
});

Deno.test({
  name:
    "clients that never read cannot exhaust the gateway: the budget sheds them, readers lose nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const budget = 2 * 1024 * 1024;
    const gateway = await gatewayWith(
      // Memory pressure from bytes, not from message count: 800 trades/s whose `raw` carries
      // 4 KiB. The stuck clients take `raw` (3.2 MB/s each); the reader does not (small
      // frames). At 8,000 small trades/s (as before) a full parallel run on two cores saturated
      // the gateway's thread, so every socket, the reader's too, stayed over its mark past the
      // grace and the budget rightly shed the reader as well.
      [scriptedFeed(["BTCUSDT"], { perTick: 4, tickMs: 5, rawPadding: 4096 })],
      {
        memoryBudget: budget,
        highWaterMark: 256 * 1024,
        maxQueuedTrades: 1_000_000,
        maxClients: 100,
      },
    );
    const port = new URL(gateway.url).port;
    const stuck: Deno.Conn[] = [];
    // The reader reads on its own thread, like a remote client, not when the gateway's event
    // loop on the test's thread lets it.
    const reader = new Worker(new URL("../fixtures/trade_reader_worker.ts", import.meta.url), {
      type: "module",
    });
    let seen: ReaderReport = { trades: 0, holes: [], open: false };
    reader.onmessage = (e: MessageEvent<ReaderReport>) => seen = e.data;
    reader.postMessage({ url: gateway.url.replace("http", "ws") + "/ws", symbol: "BTCUSDT" });
    try {
      await waitFor(() => seen.trades > 0, 10_000, "the reader's first trade");
      const subscribe = new TextEncoder().encode(
        JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT"] }),
      );
      for (let i = 0; i < 8; i++) {
        const up = await rawUpgrade(Number(port), "/ws", { "x-keep": "1" });
        assert.equal(up.status, 101);
        await write(up.conn!, maskedFrame(0x1, subscribe));
        stuck.push(up.conn!); // never read again
      }

      // The stuck clients fill their sockets; the budget cuts the biggest ones off.
      const delivery = async () =>
        (await getJson(gateway, "/health")).body.delivery as Record<string, number | string>;
      await waitFor(async () => (await delivery()).disconnects as number >= 1, 20_000, "a shed");
      const shed = await delivery();
      assert.equal(shed.budget, budget);
      const metrics = await metricsText(gateway);
      assert.ok(
        metricValue(metrics, "quant_budget_disconnects_total")! >= 1,
        "quant_budget_disconnects_total counts the shed client",
      );
      assert.ok(
        metricValue(metrics, "quant_client_held_bytes")! > 0,
        "quant_client_held_bytes reports what is held",
      );

      // While the closed-but-unread sockets still hold more than the budget, new clients wait.
      // Pressure is sampled every 250 ms and can ease between our read and the upgrade, so an
      // attempt counts only if the pressure was over both before and after it.
      let refused: Awaited<ReturnType<typeof rawUpgrade>> | undefined;
      await waitFor(
        async () => {
          if ((await delivery()).pressure !== "over") return false;
          const attempt = await rawUpgrade(Number(port), "/ws");
          const after = (await delivery()).pressure;
          if (attempt.status === 101) {
            attempt.conn!.close();
            assert.notEqual(after, "over", "a connection admitted while over the budget");
            return false;
          }
          refused = attempt;
          return true;
        },
        10_000,
        "an upgrade attempted while the pressure is over",
      );
      assert.equal(refused!.status, 503);
      assert.equal((refused!.body as { error: { code: string } }).error.code, "overloaded");

      // The reader kept up and has every trade, in order, without a gap.
      await waitFor(() => seen.trades > 100, 10_000, "the reader to have over 100 trades");
      assert.deepEqual(seen.holes, [], "trade ids consecutive");
      assert.equal(seen.open, true, `reader still connected (${seen.closed ?? "open"})`);

      // The peers finally go away: their memory is released and the gateway admits again.
      for (const conn of stuck.splice(0)) conn.close();
      await waitFor(async () => (await delivery()).pressure !== "over", 10_000, "pressure eased");
      const again = await connect(gateway);
      await again.close();
    } finally {
      for (const conn of stuck) conn.close();
      reader.terminate();
      await gateway.close();
    }
  },
});

/**
 * Scale-out end to end, as separate processes: a private nats-server, the Binance emulator,
 * two ingest nodes (leader + standby) and two edges, all `main.ts --role ...`. Clients on both
 * edges must see the same trades and books; a client of a killed edge reconnects to the other
 * with `since` and loses nothing; a NATS restart and the death of the leading ingest node lose
 * no trade without an exact `gap` frame.
 */
import assert from "node:assert/strict";
import { binanceEntry } from "../../plugins/binance/entry.ts";
import type { Gateway } from "../../core/server/gateway.ts";
import { connect, type TestClient, waitFor } from "../helpers.ts";
import { openHistory } from "../../core/history/mod.ts";
import { natsServerAvailable, NO_NATS_SERVER, startNatsServer } from "./nats_server.ts";
import { type ClusterNode, startNode } from "./cluster.ts";

type Frame = Record<string, unknown>;
const SYMBOL = "BTCUSDT";

/** The trades of SYMBOL a client received, in order. */
const tradesOf = (c: TestClient) =>
  c.frames.filter((f) => f.type === "trade" && f.symbol === SYMBOL) as Array<
    Frame & { tradeId: number; pos: number; prev: number }
  >;
const gapsOf = (c: TestClient) =>
  c.frames.filter((f) => f.type === "gap" && f.symbol === SYMBOL) as Array<
    Frame & { fromId?: number; toId?: number }
  >;
const lastPos = (c: TestClient) =>
  Math.max(0, ...c.frames.map((f) => typeof f.pos === "number" ? f.pos : 0));

/**
 * Trade ids rise by exactly one from frame to frame, except where a `gap` frame names the
 * missing ids exactly; no id twice. Returns the number of ids reported missing.
 */
function assertContinuous(trades: Array<{ tradeId: number }>, gaps: Frame[], who: string): number {
  const ids = trades.map((t) => t.tradeId);
  assert.equal(new Set(ids).size, ids.length, `${who}: a trade id arrived twice`);
  let missing = 0;
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] === ids[i - 1] + 1) continue;
    const covered = gaps.some((g) => g.fromId === ids[i - 1] + 1 && g.toId === ids[i] - 1);
    assert.ok(
      covered,
      `${who}: trade ids jump ${ids[i - 1]} → ${ids[i]} without a gap frame naming ${
        ids[i - 1] + 1
      }..${ids[i] - 1}`,
    );
    missing += ids[i] - ids[i - 1] - 1;
  }
  return missing;
}

/** The client's top-of-book after every book frame, keyed by the frame's updateId. */
function booksByUpdate(c: TestClient): Map<number, string> {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const out = new Map<number, string>();
  for (const f of c.frames) {
    if (f.type !== "book" || f.symbol !== SYMBOL) continue;
    if (f.snapshot) {
      bids.clear();
      asks.clear();
    }
    for (const [p, q] of f.bids as number[][]) q === 0 ? bids.delete(p) : bids.set(p, q);
    for (const [p, q] of f.asks as number[][]) q === 0 ? asks.delete(p) : asks.set(p, q);
    const side = (m: Map<number, number>, desc: boolean) =>
      [...m].sort((a, b) => desc ? b[0] - a[0] : a[0] - b[0]);
    if (typeof f.updateId === "number") {
      out.set(f.updateId, JSON.stringify([side(bids, true), side(asks, false)]));
    }
  }
  return out;
}

const clientOf = (node: ClusterNode) => connect({ url: node.url } as unknown as Gateway);

const subscribe = (c: TestClient, extra: Frame = {}) =>
  c.send({
    action: "subscribe",
    symbols: [SYMBOL],
    channels: ["trade", "book"],
    exchanges: ["binance"],
    depth: 10,
    raw: false,
    ...extra,
  });

const leaderOf = async (nodes: ClusterNode[]) => {
  for (const node of nodes) {
    try {
      const h = await node.health();
      if ((h.scale as Frame | undefined)?.leading === true) return node;
    } catch { /* down */ }
  }
  return undefined;
};

Deno.test({
  name: "scale-out: 2 ingest nodes + 2 edges on a private NATS keep every trade and book" +
    (natsServerAvailable() ? "" : ` (skipped: ${NO_NATS_SERVER})`),
  ignore: !natsServerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const nats = await startNatsServer();
    const emulator = await binanceEntry.emulator([SYMBOL, "ETHUSDT"]);
    const nodes: ClusterNode[] = [];
    const clients: TestClient[] = [];
    const cleanup: Array<() => Promise<unknown>> = [];
    try {
      const ingestEnv = {
        NATS_URL: nats.url,
        EXCHANGES: "binance",
        SYMBOLS: `${SYMBOL},ETHUSDT`,
        BINANCE_EMULATOR: "true",
        BINANCE_PROXY: "false",
        LEASE_TTL_MS: "2000",
        ...emulator.env,
      };
      const ingestA = await startNode("ingest", "ingest-a", ingestEnv);
      nodes.push(ingestA);
      const ingestB = await startNode("ingest", "ingest-b", ingestEnv);
      nodes.push(ingestB);
      const recordDir = await Deno.makeTempDir({ prefix: "scale-out-recording-" });
      cleanup.push(() => Deno.remove(recordDir, { recursive: true }));
      const recorder = await startNode("recorder", "recorder", {
        NATS_URL: nats.url,
        RECORD_DIR: recordDir,
      });
      nodes.push(recorder);
      const edge1 = await startNode("edge", "edge-1", {
        NATS_URL: nats.url,
        REPLAY_DIR: recordDir,
      });
      nodes.push(edge1);
      const edge2 = await startNode("edge", "edge-2", {
        NATS_URL: nats.url,
        REPLAY_DIR: recordDir,
      });
      nodes.push(edge2);
      const ingests = [ingestA, ingestB];
      await waitFor(
        async () => (await leaderOf(ingests)) !== undefined,
        15_000,
        "an ingest leader",
      );

      const c1 = await clientOf(edge1);
      const c2 = await clientOf(edge2);
      clients.push(c1, c2);
      subscribe(c1);
      subscribe(c2);

      await t.step("clients on both edges receive identical trades and books", async () => {
        await c1.until(() => tradesOf(c1).length >= 20, 20_000, "20 trades on edge 1");
        await c2.until(() => tradesOf(c2).length >= 20, 20_000, "20 trades on edge 2");
        // Wait until both have seen the same latest trade, then compare the common range.
        const target = tradesOf(c1).at(-1)!.tradeId;
        await c2.until(
          () => tradesOf(c2).some((x) => x.tradeId >= target),
          10_000,
          `trade ${target} on edge 2`,
        );
        const a = tradesOf(c1);
        const b = tradesOf(c2);
        const from = Math.max(a[0].tradeId, b[0].tradeId);
        const pick = (xs: typeof a) =>
          xs.filter((x) => x.tradeId >= from && x.tradeId <= target).map((x) =>
            `${x.tradeId}@${x.pos}<${x.prev}`
          );
        assert.ok(pick(a).length >= 10, "at least 10 common trades");
        assert.deepEqual(pick(a), pick(b), "same trade ids with the same positions on both edges");
        assertContinuous(a, gapsOf(c1), "edge 1");
        assertContinuous(b, gapsOf(c2), "edge 2");
        // Books: wherever both clients applied the same exchange update, they hold the same book.
        await waitFor(
          () => {
            const x = booksByUpdate(c1);
            const y = booksByUpdate(c2);
            return [...x.keys()].filter((k) => y.has(k)).length >= 5;
          },
          20_000,
          "5 book updates seen on both edges",
        );
        const x = booksByUpdate(c1);
        const y = booksByUpdate(c2);
        const common = [...x.keys()].filter((k) => y.has(k));
        for (const k of common) assert.equal(x.get(k), y.get(k), `book after update ${k}`);
      });

      await t.step(
        "kill -9 an edge: its client reconnects to the other with since and loses nothing",
        async () => {
          const before = tradesOf(c1);
          const since = lastPos(c1);
          await edge1.kill9();
          await c1.until(
            () => c1.socket.readyState === WebSocket.CLOSED,
            10_000,
            "edge 1 socket closed",
          );
          // Trades keep flowing while the client is away.
          const awayFrom = tradesOf(c2).length;
          await c2.until(() => tradesOf(c2).length >= awayFrom + 8, 20_000, "8 trades while away");
          const again = await clientOf(edge2);
          clients.push(again);
          subscribe(again, { since });
          const recovered = await again.next((f) => f.type === "recovered", 15_000);
          const target = tradesOf(c2).at(-1)!.tradeId;
          await again.until(
            () => tradesOf(again).some((x) => x.tradeId >= target),
            15_000,
            `trade ${target} after recovery`,
          );
          const all = [...before, ...tradesOf(again)];
          const missing = assertContinuous(
            all,
            gapsOf(again),
            "edge 1 client across the reconnect",
          );
          assert.equal(missing, 0, "no trade id missing across the reconnect");
          assert.ok(
            (recovered.streams as Frame[]).some((s) =>
              s.channel === "trade" && s.complete === true
            ),
            `the trade stream recovered completely: ${JSON.stringify(recovered)}`,
          );
          // The pos/prev chain links the last trade before the drop to the first after it.
          const first = tradesOf(again)[0];
          assert.equal(
            first.prev,
            before.at(-1)!.pos,
            "the first recovered trade follows the last one received",
          );
        },
      );

      await t.step(
        "NATS restart: trades continue on the edge, none lost without an exact gap",
        async () => {
          const mark = tradesOf(c2).length;
          const leader = (await leaderOf(ingests))!;
          await nats.kill();
          // The outage is real: the edge notices NATS is gone, and trades pile up at the ingest.
          await waitFor(
            async () => {
              const h = await edge2.health();
              return JSON.stringify(h).includes("NATS disconnected");
            },
            10_000,
            "edge 2 reporting NATS disconnected",
          );
          await waitFor(
            async () => ((await leader.health()).scale as { pending: number }).pending >= 10,
            15_000,
            "10 items held by the ingest node while NATS is down",
          );
          await nats.restart();
          await c2.until(
            () => tradesOf(c2).length >= mark + 15,
            30_000,
            "15 trades after the NATS restart",
          );
          const missing = assertContinuous(
            tradesOf(c2),
            gapsOf(c2),
            "edge 2 across the NATS restart",
          );
          assert.equal(
            missing,
            0,
            "no trade lost across a NATS restart (file storage, republished)",
          );
        },
      );

      await t.step(
        "kill -9 the leading ingest node: the standby takes over, trade ids continue",
        async () => {
          const leader = await leaderOf(ingests);
          assert.ok(leader, "a leader before the failover");
          const standby = ingests.find((n) => n !== leader)!;
          const mark = tradesOf(c2).length;
          await leader.kill9();
          await waitFor(
            async () => (await leaderOf([standby])) === standby,
            15_000,
            "the standby leading",
          );
          await c2.until(
            () => tradesOf(c2).length >= mark + 15,
            30_000,
            "15 trades after the failover",
          );
          assertContinuous(tradesOf(c2), gapsOf(c2), "edge 2 across the ingest failover");
          const ids = tradesOf(c2).map((x) => x.tradeId);
          assert.equal(new Set(ids).size, ids.length, "no duplicate trade across the failover");
          // The book the client holds is the new leader's book: wait for the client to apply the
          // update the leader's REST book is at, then compare the levels.
          const book = await (await fetch(
            `${standby.url}/api/book?exchange=binance&symbol=${SYMBOL}&depth=10`,
          )).json() as { updateId: number; bids: number[][]; asks: number[][] };
          await waitFor(
            () => booksByUpdate(c2).has(book.updateId),
            10_000,
            `update ${book.updateId} applied by the edge 2 client`,
          );
          assert.equal(
            booksByUpdate(c2).get(book.updateId),
            JSON.stringify([book.bids, book.asks]),
            "the client's book equals the new leader's book at the same update",
          );
        },
      );
      await t.step(
        "the recorder wrote every trade the clients saw, once, from NATS",
        async () => {
          const seen = tradesOf(c2);
          const upTo = seen.at(-1)!.pos;
          await waitFor(
            async () => {
              const recording = (await recorder.health()).recording as { flushedSeq: number };
              return recording.flushedSeq >= upTo;
            },
            15_000,
            `the recording written to disk up to position ${upTo}`,
          );
          const history = openHistory(recordDir);
          try {
            const recorded: number[] = [];
            for await (const trade of history.trades("binance", SYMBOL, 0, Date.now() + 60_000)) {
              recorded.push(Number(trade.tradeId));
            }
            assert.equal(new Set(recorded).size, recorded.length, "no trade recorded twice");
            const set = new Set(recorded);
            const absent = seen.filter((x) => !set.has(x.tradeId)).map((x) => x.tradeId);
            assert.deepEqual(absent, [], "every trade a client saw is in the recording");
            // The recording says the data came from an emulator, read through an edge.
            const catalog = await (await fetch(`${edge2.url}/api/history`)).json() as {
              exchanges: Array<{ exchange: string; source: string; emulator: boolean }>;
            };
            const binance = catalog.exchanges.find((e) => e.exchange === "binance");
            assert.equal(binance?.source, "emulator", JSON.stringify(catalog.exchanges));
          } finally {
            history.close();
          }
        },
      );
      await t.step(
        "/replay on an edge: the recorder's recording, then live, for a symbol no client followed",
        async () => {
          const from = Date.now() - 5_000;
          const replay = await connect(
            { url: edge2.url } as unknown as Gateway,
            `/replay?from=${from}&speed=max`,
          );
          clients.push(replay);
          replay.send({
            action: "subscribe",
            symbols: ["ETHUSDT"],
            exchanges: ["binance"],
            raw: false,
          });
          const liveAt = await replay.indexOf(
            (f) => f.type === "status" && f.state === "live",
            20_000,
            0,
          );
          const eth = () =>
            replay.frames.filter((f) => f.type === "trade" && f.symbol === "ETHUSDT") as Array<
              Frame & { tradeId: number }
            >;
          const recorded = eth().length;
          await replay.until(
            () => eth().length >= recorded + 8,
            20_000,
            "8 live ETHUSDT trades after the handover",
          );
          assert.ok(recorded > 0, "trades from the recording before live");
          assert.ok(
            replay.frames.slice(liveAt).some((f) => f.type === "trade"),
            "trades after the live frame",
          );
          const missing = assertContinuous(
            eth(),
            replay.frames.filter((f) => f.type === "gap" && f.symbol === "ETHUSDT"),
            "replay across the handover to live",
          );
          assert.equal(missing, 0, "no ETHUSDT trade lost at the handover");
        },
      );
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      for (const node of nodes.reverse()) await node.stop().catch(() => {});
      await emulator.close();
      await nats.stop();
      for (const step of cleanup) await step().catch(() => {});
    }
  },
});

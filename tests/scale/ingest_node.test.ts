/**
 * Two ingest nodes of one group on the same exchange (the Binance emulator), a private
 * nats-server: only the leader publishes; when it goes away the standby takes over within
 * seconds, and the trades in JetStream stay continuous (no duplicate, no hole, or one gap
 * item with the exact missing ids). A NATS restart is survived the same way.
 */
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import type { BinanceEmulator } from "../../plugins/binance/emulator/types.ts";
import { binance } from "../../plugins/binance/mod.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import type { FeedSpec } from "../../core/ingest/supervisor.ts";
import { type IngestNode, startIngestNode } from "../../core/scale/ingest_node.ts";
import { lastOfSubject, readSubject } from "../../core/scale/log.ts";
import type { MdEnvelope } from "../../core/scale/envelope.ts";
import { getJson, testConfig, waitFor } from "../helpers.ts";
import { natsServerAvailable, NO_NATS_SERVER, startNatsServer } from "./nats_server.ts";

const skip = !natsServerAvailable();
if (skip) console.log(`tests/scale/ingest_node.test.ts: NATS tests skipped: ${NO_NATS_SERVER}`);

const TRADES = "md.binance.trade.BTCUSDT";
const LEASE_TTL_MS = 1_000;

function binanceFeed(emu: BinanceEmulator): FeedSpec {
  return {
    plugin: binance,
    workerUrl: new URL("../../plugins/binance/worker.ts", import.meta.url),
    config: pluginConfig(binance, {
      BINANCE_WS_URL: emu.wsUrl,
      BINANCE_REST_URL: emu.restUrl,
    }, { backoffBaseMs: 50, backoffCapMs: 200, backfillDelayMs: 50 }),
    symbols: ["BTCUSDT"],
    channels: ["trade", "book"],
  };
}

function ingest(url: string, emu: BinanceEmulator, nodeId: string): Promise<IngestNode> {
  return startIngestNode({
    config: testConfig({
      natsUrl: url,
      natsStorage: "memory",
      ingestGroup: "test",
      leaseTtlMs: LEASE_TTL_MS,
    }),
    feeds: [binanceFeed(emu)],
    nodeId,
  });
}

/** Every envelope stored on a subject, in stream order. */
async function stored(nc: NatsConnection, subject: string): Promise<MdEnvelope[]> {
  const out: MdEnvelope[] = [];
  for await (const s of readSubject(jetstream(nc), "MD", subject, 1)) out.push(s.envelope);
  return out;
}

/** The trade id the stream's last trade message on BTCUSDT reached (a gap's toId counts). */
async function lastStoredTradeId(nc: NatsConnection): Promise<number> {
  const last = await lastOfSubject(await jetstreamManager(nc), "MD", TRADES).catch(() => undefined);
  const item = last?.envelope.item;
  if (item?.type === "trade") return Number(item.tradeId);
  if (item?.type === "gap") return item.toId;
  return 0;
}

/**
 * The trades of a subject are continuous: each trade id is the one after the previous trade
 * (or after a gap item's exact range), seqs only grow, and each `prev` is the seq before.
 * Returns the number of gap items.
 */
function assertContinuous(envelopes: MdEnvelope[]): number {
  let gaps = 0;
  let nextId: number | undefined;
  envelopes.forEach((env, i) => {
    if (i > 0) {
      assert.ok(env.seq > envelopes[i - 1].seq, `seq grows at message ${i}`);
      assert.equal(env.prev, envelopes[i - 1].seq, `prev of seq ${env.seq} is the seq before`);
    }
    const item = env.item;
    if (item.type === "gap") {
      gaps++;
      if (nextId !== undefined) assert.equal(item.fromId, nextId, "a gap starts at the next id");
      nextId = item.toId + 1;
      return;
    }
    assert.equal(item.type, "trade");
    if (item.type !== "trade") return;
    const id = Number(item.tradeId);
    if (nextId !== undefined) {
      assert.equal(id, nextId, `trade id after ${nextId - 1} (seq ${env.seq})`);
    }
    nextId = id + 1;
  });
  return gaps;
}

Deno.test({
  name:
    "ingest: only the leader publishes; the standby takes over and the trade ids stay continuous",
  ignore: skip,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await startNatsServer();
    const emu = await startBinanceEmulator({
      symbols: ["BTCUSDT"],
      seed: 3,
      tradesPerSecond: 40,
      benchTradesPerSecond: 1_000,
    });
    const nc = await connect({ servers: server.url });
    const nodes: IngestNode[] = [];
    try {
      const a = await ingest(server.url, emu, "node-a");
      nodes.push(a);
      await waitFor(() => a.health().mode === "leading", 5_000, "node-a to lead");
      const b = await ingest(server.url, emu, "node-b");
      nodes.push(b);
      await waitFor(
        async () => (await lastStoredTradeId(nc)) >= 1_000 && b.health().pending > 500,
        10_000,
        "1,000 trades in the stream and node-b holding 500 items",
      );
      assert.equal(b.health().mode, "standby");
      assert.equal(b.health().published, 0, "the standby publishes nothing");
      assert.ok(a.health().published > 0);
      const health = await getJson(a.gateway, "/health");
      assert.equal(
        (health.body.scale as Record<string, unknown>)?.role,
        "ingest",
        "/health shows the node's scale state",
      );
      assert.equal((health.body.scale as Record<string, unknown>)?.leading, true);
      assert.equal(health.body.role, "ingest");
      const ws = await getJson(a.gateway, "/ws");
      assert.equal(ws.status, 404, "an ingest node serves no clients");
      assert.equal(ws.body.error, "not_served");

      const before = await lastStoredTradeId(nc);
      const closedAt = Date.now();
      await a.close();
      nodes.shift();
      await waitFor(() => b.health().mode === "leading", 5_000, "node-b to take over");
      const tookMs = Date.now() - closedAt;
      assert.ok(tookMs < 5_000, `took over in ${tookMs} ms`);
      await waitFor(
        async () => (await lastStoredTradeId(nc)) >= before + 1_000,
        10_000,
        "1,000 more trades published by node-b",
      );

      const envelopes = await stored(nc, TRADES);
      const ids = envelopes.flatMap((e) => e.item.type === "trade" ? [e.item.tradeId] : []);
      assert.equal(new Set(ids).size, ids.length, "no trade id is stored twice");
      const gaps = assertContinuous(envelopes);
      assert.ok(gaps <= 1, `at most one gap item (${gaps})`);
      assert.equal(
        new Set(envelopes.map((e) => e.epoch)).size,
        1,
        "one epoch across the leader change",
      );
      const snaps = await stored(nc, "md.binance.booksnap.BTCUSDT");
      assert.equal(snaps.length, 1, "the booksnap subject keeps one message (rolled up)");
      const status = await stored(nc, "md.binance.status._");
      assert.equal(status.length, 1);
      assert.equal(status[0].item.type, "feed_info");
      assert.equal(status[0].prev, 0, "a status has no prev chain");
      assert.ok(
        status[0].seq <= b.health().lastSeq,
        `the status sits at a position already given out (${status[0].seq}), none of its own`,
      );
    } finally {
      for (const n of nodes) await n.close();
      await nc.close();
      await emu.close();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "ingest: after a NATS restart the leader republishes what the log lost; trades stay continuous",
  ignore: skip,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await startNatsServer();
    const emu = await startBinanceEmulator({
      symbols: ["BTCUSDT"],
      seed: 5,
      tradesPerSecond: 40,
      benchTradesPerSecond: 2_000,
    });
    let nc = await connect({ servers: server.url });
    let node: IngestNode | undefined;
    try {
      node = await startIngestNode({
        config: testConfig({
          natsUrl: server.url,
          natsStorage: "file",
          ingestGroup: "test",
          leaseTtlMs: 3_000,
        }),
        feeds: [binanceFeed(emu)],
        nodeId: "node-a",
      });
      const n = node;
      await waitFor(() => n.health().mode === "leading", 5_000, "the node to lead");
      await waitFor(
        async () => (await lastStoredTradeId(nc)) >= 2_000,
        10_000,
        "2,000 trades stored",
      );
      await nc.close();
      await server.kill();
      await waitFor(() => n.health().mode === "paused", 5_000, "the node to notice NATS is down");
      await server.restart();
      nc = await connect({ servers: server.url });
      await waitFor(() => n.health().mode === "leading", 10_000, "the node to resume");
      const resumedAt = await lastStoredTradeId(nc);
      await waitFor(
        async () => (await lastStoredTradeId(nc)) >= resumedAt + 20,
        10_000,
        "20 more trades after the resume",
      );
      const envelopes = await stored(nc, TRADES);
      const ids = envelopes.flatMap((e) => e.item.type === "trade" ? [e.item.tradeId] : []);
      assert.equal(new Set(ids).size, ids.length, "no trade id is stored twice");
      assert.equal(assertContinuous(envelopes), 0, "no gap: the node held everything");
    } finally {
      await node?.close();
      await nc.close();
      await emu.close();
      await server.stop();
    }
  },
});

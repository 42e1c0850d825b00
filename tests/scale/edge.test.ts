/**
 * An edge node against a private nats-server. The test plays the ingest: it publishes
 * envelopes (feed state, instruments, trades, book messages and a booksnap) the way the
 * leading ingest node does, and real WebSocket clients talk to the edge.
 */
import assert from "node:assert/strict";
import { connect as connectNats, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureLog, publishEnvelope } from "../../core/scale/log.ts";
import { newEpoch } from "../../core/scale/epoch.ts";
import type { MdEnvelope } from "../../core/scale/envelope.ts";
import { subjectOf } from "../../core/scale/subjects.ts";
import { type EdgeNode, startEdgeNode } from "../../core/scale/edge_node.ts";
import type { EdgeHealth } from "../../core/scale/edge_source.ts";
import { type FeedInfo, newFeedInfo } from "../../core/ingest/supervisor.ts";
import type { BookUpdate, InstrumentsEvent, TradeEvent } from "../../core/events.ts";
import { connect, getJson, type TestClient, testConfig, waitFor } from "../helpers.ts";
import { createRecorder } from "../../core/history/mod.ts";
import { natsServerAvailable, NO_NATS_SERVER, startNatsServer } from "./nats_server.ts";
import type { TestNatsServer } from "./nats_server.ts";

const skip = !natsServerAvailable();
if (skip) console.log(`tests/scale/edge.test.ts: NATS tests skipped: ${NO_NATS_SERVER}`);

const GROUP = "edge-test";
const EX = "binance";

/** The test's ingest: one seq counter, `prev` per subject, like the leading ingest node. */
interface Ingest {
  nc: NatsConnection;
  epoch: string;
  /** The next envelope of `subject` (numbered, not published). */
  next(subject: string, item: MdEnvelope["item"]): MdEnvelope;
  /** A status or instruments envelope: at the last seq given out, prev 0 (not published). */
  rollup(subject: string, item: MdEnvelope["item"], exchange?: string): MdEnvelope;
  /** Core-publishes envelopes and waits until the stream holds them. */
  publish(...items: { subject: string; env: MdEnvelope; rollup?: boolean }[]): Promise<void>;
}

interface Rig {
  server: TestNatsServer;
  ingest: Ingest;
  edge: EdgeNode;
}

const feedInfo: FeedInfo = newFeedInfo(EX, {
  state: "connected",
  emulator: true,
  hosts: ["127.0.0.1"],
});

const instruments: InstrumentsEvent = {
  type: "instruments",
  exchange: EX,
  instruments: [
    {
      symbol: "BTCUSDT",
      base: "BTC",
      quote: "USDT",
      unified: "BTC/USDT",
      tickSize: 0.01,
      stepSize: 0.00001,
      minQuantity: 0.00001,
      maxQuantity: 9000,
      minNotional: 5,
    },
    { symbol: "ETHUSDT", base: "ETH", quote: "USDT", unified: "ETH/USDT" },
  ],
  streamed: ["BTCUSDT", "ETHUSDT"],
};

function trade(symbol: string, tradeId: number): TradeEvent {
  const now = Date.now();
  return {
    type: "trade",
    exchange: EX,
    symbol,
    price: 100 + tradeId,
    quantity: 1,
    timestamp: new Date(now).toISOString(),
    tradeId,
    side: "buy",
    eventTime: now,
    receiveTime: now,
  };
}

function book(snapshot: boolean, bids: [number, number][], asks: [number, number][]): BookUpdate {
  const now = Date.now();
  return {
    type: "book",
    exchange: EX,
    symbol: "BTCUSDT",
    snapshot,
    bids,
    asks,
    timestamp: new Date(now).toISOString(),
    eventTime: now,
    receiveTime: now,
  };
}

const tradeSubject = (symbol: string) => subjectOf(EX, "trade", symbol);
const bookSubject = subjectOf(EX, "book", "BTCUSDT");

/** Runs `fn` with a private server, the test's ingest (feed state and instruments published) and an edge. */
async function withEdge(
  fn: (rig: Rig) => Promise<void>,
  options: {
    repairTimeoutMs?: number;
    before?: (ingest: Ingest) => Promise<void>;
    replayDir?: string;
  } = {},
): Promise<void> {
  const server = await startNatsServer();
  const nc = await connectNats({ servers: server.url });
  let edge: EdgeNode | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await ensureLog(jsm, { stream: "MD", maxAgeSeconds: 600, maxBytes: 64 << 20, storage: "file" });
    const epoch = await newEpoch(nc, GROUP);
    let seq = 0;
    const last = new Map<string, number>();
    const ingest: Ingest = {
      nc,
      epoch,
      next(subject, item) {
        seq++;
        const prev = last.get(subject) ?? 0;
        last.set(subject, seq);
        return { v: 1, epoch, seq, prev, exchange: EX, item };
      },
      rollup: (_subject, item, exchange = EX) => ({ v: 1, epoch, seq, prev: 0, exchange, item }),
      async publish(...items) {
        const before = (await jsm.streams.info("MD")).state.messages;
        const rolled = items.filter((i) => i.rollup).length;
        for (const i of items) publishEnvelope(nc, i.subject, i.env, { rollup: i.rollup });
        await nc.flush();
        await waitFor(
          async () =>
            (await jsm.streams.info("MD")).state.last_seq >= before + items.length - rolled,
          5000,
          `the stream to store ${items.length} published messages`,
        );
      },
    };
    const status = subjectOf(EX, "status");
    const list = subjectOf(EX, "instruments");
    await ingest.publish(
      {
        subject: status,
        env: ingest.rollup(status, { type: "feed_info", info: feedInfo }),
        rollup: true,
      },
      { subject: list, env: ingest.rollup(list, instruments), rollup: true },
    );
    await options.before?.(ingest);
    edge = await startEdgeNode({
      config: testConfig({
        role: "edge",
        natsUrl: server.url,
        natsStream: "MD",
        ingestGroup: GROUP,
        edgeLingerSeconds: 0,
        replayDir: options.replayDir,
      }),
      follower: { repairTimeoutMs: options.repairTimeoutMs, retryMs: 50 },
    });
    await fn({ server, ingest, edge });
  } finally {
    await edge?.close();
    await nc.close();
    await server.stop();
  }
}

/** Waits until the edge follows `subject`, caught up and subscribed on NATS. */
function followed(edge: EdgeNode, subject: string): Promise<void> {
  return waitFor(
    () => edge.health().followed.some((f) => f.subject === subject && f.ready),
    5000,
    `the edge to follow ${subject}`,
  );
}

/** Numbers and publishes trades `ids` of `symbol` on its subject; resolves with their envelopes. */
async function publishTrades(ingest: Ingest, symbol: string, ids: number[]): Promise<MdEnvelope[]> {
  const subject = tradeSubject(symbol);
  const envs = ids.map((id) => ingest.next(subject, trade(symbol, id)));
  await ingest.publish(...envs.map((env) => ({ subject, env })));
  return envs;
}

/** A client subscribed to `symbol`'s trades, once the edge follows that subject (caught up). */
async function watching(edge: EdgeNode, symbol: string): Promise<TestClient> {
  const client = await connect(edge.gateway);
  client.send({ action: "subscribe", symbols: [symbol], exchanges: [EX] });
  await followed(edge, tradeSubject(symbol));
  return client;
}

const isTrade = (id: number) => (f: Record<string, unknown>) =>
  f.type === "trade" && f.tradeId === id;

/** The trade frames a client got, as [tradeId, pos, prev]. */
const tradeFrames = (client: TestClient) =>
  client.frames.filter((f) => f.type === "trade").map((f) => [f.tradeId, f.pos, f.prev]);

Deno.test({
  name:
    "edge: a client gets trades with pos/prev = the envelope seq/prev and a book from the booksnap",
  ignore: skip,
  async fn() {
    let before: MdEnvelope;
    const snap: [number, number][][] = [[[100, 5], [99, 2]], [[101, 1], [102, 2]]];
    await withEdge(async ({ ingest, edge }) => {
      const client = await connect(edge.gateway);
      client.send({
        action: "subscribe",
        symbols: ["BTCUSDT"],
        exchanges: [EX],
        channels: ["trade", "book"],
        depth: 10,
      });
      await client.next((f) => f.type === "subscribed", 5000, 0);
      const feed = await client.next(
        (f) => f.type === "status" && f.exchange === EX && f.channel === undefined,
        5000,
        0,
      );
      assert.equal(feed.state, "connected");
      assert.equal(feed.emulator, true, "the ingest's emulator flag is kept");
      assert.equal(feed.epoch, ingest.epoch);
      // The book: the booksnap (seq of the last delta it includes), then live deltas.
      const first = await client.next((f) => f.type === "book", 5000, 0);
      assert.equal(first.snapshot, true);
      assert.deepEqual([first.bids, first.asks], snap);
      await followed(edge, tradeSubject("BTCUSDT"));
      await followed(edge, bookSubject);

      const t1 = ingest.next(tradeSubject("BTCUSDT"), trade("BTCUSDT", 11));
      const t2 = ingest.next(tradeSubject("BTCUSDT"), trade("BTCUSDT", 12));
      const delta = ingest.next(bookSubject, book(false, [[99, 0]], [[101, 3]]));
      await ingest.publish(
        { subject: tradeSubject("BTCUSDT"), env: t1 },
        { subject: bookSubject, env: delta },
        { subject: tradeSubject("BTCUSDT"), env: t2 },
      );
      await client.next(isTrade(12), 5000, 0);
      assert.deepEqual(tradeFrames(client), [
        [11, t1.seq, t1.prev],
        [12, t2.seq, t2.prev],
      ]);
      assert.equal(t1.prev, before.seq, "prev is the trade before, which this client never saw");
      const update = await client.next((f) => f.type === "book" && f.snapshot === false, 5000, 0);
      assert.deepEqual([update.bids, update.asks], [[[99, 0]], [[101, 3]]]);

      const health = (await getJson(edge.gateway, "/health")).body as unknown as {
        role: string;
        scale: EdgeHealth;
        feeds: FeedInfo[];
      };
      assert.equal(health.role, "edge");
      assert.equal(health.scale.nats.connected, true);
      assert.deepEqual(
        health.scale.followed.map((f) => f.subject).sort(),
        [bookSubject, tradeSubject("BTCUSDT")],
      );
      assert.equal(health.feeds[0].emulator, true);
      // The instruments crossed NATS whole: the trading rules included.
      const symbols = (await getJson(edge.gateway, "/api/symbols")).body as unknown as {
        exchanges: { instruments: unknown[] }[];
      };
      assert.deepEqual(symbols.exchanges[0].instruments, instruments.instruments);

      // Status messages take no position: several sit at the last seq given out. The newest
      // wins — a later one at the same seq too; one at an older seq is dropped.
      const status = subjectOf(EX, "status");
      const feedOf = async (exchange: string) =>
        ((await getJson(edge.gateway, "/health")).body as unknown as { feeds: FeedInfo[] }).feeds
          .find((f) => f.exchange === exchange);
      const stateIs = (state: string, restarts: number) => async () => {
        const f = await feedOf(EX);
        return f?.state === state && f.restarts === restarts;
      };
      const reconnecting = ingest.rollup(status, {
        type: "feed_info",
        info: { ...feedInfo, state: "reconnecting" },
      });
      assert.equal(reconnecting.seq, delta.seq, "the status sits at the last data message's seq");
      await ingest.publish({ subject: status, env: reconnecting, rollup: true });
      await waitFor(stateIs("reconnecting", 0), 5000, "the edge to show the status");
      const again = ingest.rollup(status, {
        type: "feed_info",
        info: { ...feedInfo, restarts: 7 },
      });
      await ingest.publish({ subject: status, env: again, rollup: true });
      await waitFor(stateIs("connected", 7), 5000, "a later status at the same seq to replace it");
      const older: MdEnvelope = {
        ...reconnecting,
        seq: delta.seq - 1,
        item: { type: "feed_info", info: { ...feedInfo, state: "reconnecting", restarts: 8 } },
      };
      const marker = ingest.rollup(
        subjectOf("kraken", "status"),
        { type: "feed_info", info: newFeedInfo("kraken", { state: "connected" }) },
        "kraken",
      );
      await ingest.publish(
        { subject: status, env: older, rollup: true },
        { subject: subjectOf("kraken", "status"), env: marker, rollup: true },
      );
      await waitFor(async () => (await feedOf("kraken")) !== undefined, 5000, "the marker status");
      assert.ok(await stateIs("connected", 7)(), "a status at an older seq is dropped");
      await client.close();
    }, {
      async before(ingest) {
        // Published before the edge existed: an older trade, a plugin snapshot, a delta and
        // the ingest's booksnap that includes that delta.
        before = ingest.next(tradeSubject("BTCUSDT"), trade("BTCUSDT", 10));
        const b1 = ingest.next(bookSubject, book(true, [[100, 1], [99, 2]], [[101, 1], [102, 2]]));
        const b2 = ingest.next(bookSubject, book(false, [[100, 5]], []));
        const booksnap: MdEnvelope = {
          ...b2,
          prev: 0,
          item: book(true, snap[0], snap[1]),
        };
        await ingest.publish(
          { subject: tradeSubject("BTCUSDT"), env: before },
          { subject: bookSubject, env: b1 },
          { subject: bookSubject, env: b2 },
          { subject: subjectOf(EX, "booksnap", "BTCUSDT"), env: booksnap, rollup: true },
        );
      },
    });
  },
});

Deno.test({
  name:
    "edge: a client resubscribing with since gets the trades it missed from JetStream, though the edge never followed that symbol",
  ignore: skip,
  async fn() {
    const sent: MdEnvelope[] = [];
    await withEdge(async ({ ingest, edge }) => {
      assert.equal(edge.health().followed.length, 0, "no client, nothing followed");
      const client = await connect(edge.gateway);
      client.send({
        action: "subscribe",
        id: 7,
        symbols: ["ETHUSDT"],
        exchanges: [EX],
        channels: ["trade"],
        since: sent[1].seq,
        epoch: ingest.epoch,
      });
      const recovered = await client.next((f) => f.type === "recovered", 5000, 0);
      assert.deepEqual(
        tradeFrames(client),
        sent.slice(2).map((e) => [
          (e.item as TradeEvent).tradeId,
          e.seq,
          e.prev,
        ]),
      );
      assert.equal(recovered.since, sent[1].seq);
      assert.equal(recovered.epoch, ingest.epoch);
      assert.deepEqual(recovered.streams, [
        { exchange: EX, channel: "trade", symbol: "ETHUSDT", frames: 3, complete: true },
      ]);
      // Then live, continuing the chain.
      await followed(edge, tradeSubject("ETHUSDT"));
      const live = ingest.next(tradeSubject("ETHUSDT"), trade("ETHUSDT", 6));
      await ingest.publish({ subject: tradeSubject("ETHUSDT"), env: live });
      const frame = await client.next(isTrade(6), 5000, 0);
      assert.deepEqual([frame.pos, frame.prev], [live.seq, sent[4].seq]);
      assert.equal(client.frames.filter((f) => f.type === "gap").length, 0);
      await client.close();
    }, {
      async before(ingest) {
        sent.push(...await publishTrades(ingest, "ETHUSDT", [1, 2, 3, 4, 5]));
      },
    });
  },
});

Deno.test({
  name:
    "edge: a since older than what the edge followed live is completed from JetStream before the live trades",
  ignore: skip,
  async fn() {
    const early: MdEnvelope[] = [];
    await withEdge(async ({ ingest, edge }) => {
      const subject = tradeSubject("BTCUSDT");
      // Another client makes the edge follow the subject from now on.
      const other = await watching(edge, "BTCUSDT");
      const live = [4, 5].map((id) => ingest.next(subject, trade("BTCUSDT", id)));
      await ingest.publish(...live.map((env) => ({ subject, env })));
      await other.next(isTrade(5), 5000, 0);

      const client = await connect(edge.gateway);
      client.send({
        action: "subscribe",
        symbols: ["BTCUSDT"],
        exchanges: [EX],
        since: early[0].seq,
        epoch: ingest.epoch,
      });
      const recovered = await client.next((f) => f.type === "recovered", 5000, 0);
      const expected = [...early.slice(1), ...live];
      assert.deepEqual(
        tradeFrames(client),
        expected.map((e) => [(e.item as TradeEvent).tradeId, e.seq, e.prev]),
      );
      assert.deepEqual(recovered.streams, [
        { exchange: EX, channel: "trade", symbol: "BTCUSDT", frames: 4, complete: true },
      ]);
      await other.close();
      await client.close();
    }, {
      async before(ingest) {
        early.push(...await publishTrades(ingest, "BTCUSDT", [1, 2, 3]));
      },
    });
  },
});

Deno.test({
  name:
    "edge: twenty clients recovering the same stream at once (their edge died) share one JetStream read",
  ignore: skip,
  async fn() {
    const early: MdEnvelope[] = [];
    await withEdge(async ({ ingest, edge }) => {
      const subject = tradeSubject("BTCUSDT");
      const other = await watching(edge, "BTCUSDT");
      const live = ingest.next(subject, trade("BTCUSDT", 4));
      await ingest.publish({ subject, env: live });
      await other.next(isTrade(4), 5000, 0);

      const clients = await Promise.all(
        Array.from({ length: 20 }, () => connect(edge.gateway)),
      );
      for (const client of clients) {
        client.send({
          action: "subscribe",
          symbols: ["BTCUSDT"],
          exchanges: [EX],
          since: early[0].seq,
          epoch: ingest.epoch,
        });
      }
      const expected = [...early.slice(1), live].map((e) => [
        (e.item as TradeEvent).tradeId,
        e.seq,
        e.prev,
      ]);
      for (const client of clients) {
        const recovered = await client.next((f) => f.type === "recovered", 5000, 0);
        assert.deepEqual(tradeFrames(client), expected, "every client got trades 2..4 once");
        assert.equal((recovered.streams as Array<{ complete: boolean }>)[0].complete, true);
      }
      assert.equal(edge.health().backfills, 1, "one read of the subject served all twenty");
      for (const client of [other, ...clients]) await client.close();
    }, {
      async before(ingest) {
        early.push(...await publishTrades(ingest, "BTCUSDT", [1, 2, 3]));
      },
    });
  },
});

Deno.test({
  name:
    "edge: a hole in the published seqs that the ingest fills shortly after is repaired, with no gap frame",
  ignore: skip,
  async fn() {
    await withEdge(async ({ ingest, edge }) => {
      const client = await connect(edge.gateway);
      client.send({ action: "subscribe", symbols: ["BTCUSDT"], exchanges: [EX] });
      await client.next((f) => f.type === "subscribed", 5000, 0);
      await followed(edge, tradeSubject("BTCUSDT"));
      const subject = tradeSubject("BTCUSDT");
      const t1 = ingest.next(subject, trade("BTCUSDT", 1));
      const t2 = ingest.next(subject, trade("BTCUSDT", 2)); // lost on the way (NATS restart)
      const t3 = ingest.next(subject, trade("BTCUSDT", 3));
      await ingest.publish({ subject, env: t1 }, { subject, env: t3 });
      await client.next(isTrade(1), 5000, 0);
      await waitFor(
        () => edge.health().followed.some((f) => f.holes === 1),
        5000,
        "the edge to see the hole before t3",
      );
      assert.deepEqual(tradeFrames(client).map(([id]) => id), [1], "t3 waits behind the hole");
      await ingest.publish({ subject, env: t2 }); // the ingest republishes it
      await client.next(isTrade(3), 5000, 0);
      assert.deepEqual(tradeFrames(client), [
        [1, t1.seq, t1.prev],
        [2, t2.seq, t2.prev],
        [3, t3.seq, t3.prev],
      ]);
      assert.equal(client.frames.filter((f) => f.type === "gap").length, 0);
      const health = edge.health();
      assert.equal(health.repairs, 1);
      assert.equal(health.gaps, 0);
      await client.close();
    });
  },
});

Deno.test({
  name: "edge: a hole no one fills becomes a gap frame with the exact missing trade ids",
  ignore: skip,
  async fn() {
    await withEdge(async ({ ingest, edge }) => {
      const client = await connect(edge.gateway);
      client.send({ action: "subscribe", symbols: ["BTCUSDT"], exchanges: [EX] });
      await client.next((f) => f.type === "subscribed", 5000, 0);
      await followed(edge, tradeSubject("BTCUSDT"));
      const subject = tradeSubject("BTCUSDT");
      const t1 = ingest.next(subject, trade("BTCUSDT", 500));
      const lost = [501, 502, 503].map((id) => ingest.next(subject, trade("BTCUSDT", id)));
      const t5 = ingest.next(subject, trade("BTCUSDT", 504));
      await ingest.publish({ subject, env: t1 }, { subject, env: t5 });
      const gap = await client.next((f) => f.type === "gap", 5000, 0);
      assert.deepEqual(
        [gap.fromId, gap.toId, gap.reason, gap.pos, gap.prev],
        [501, 503, "nats_gap", lost[2].seq, t1.seq],
      );
      const after = await client.next(isTrade(504), 5000, 0);
      assert.equal(after.prev, gap.pos, "the next trade continues after the gap");
      assert.equal(edge.health().gaps, 1);
      await client.close();
    }, { repairTimeoutMs: 300 });
  },
});

Deno.test({
  name:
    "edge: while NATS is down every feed shows reconnecting (NATS disconnected); after the restart trades continue with nothing lost",
  ignore: skip,
  async fn() {
    await withEdge(async ({ server, ingest, edge }) => {
      const feeds = async () =>
        ((await getJson(edge.gateway, "/health")).body as unknown as { feeds: FeedInfo[] }).feeds;
      assert.equal((await feeds())[0].state, "connected");
      const client = await connect(edge.gateway);
      client.send({ action: "subscribe", symbols: ["BTCUSDT"], exchanges: [EX] });
      const subject = tradeSubject("BTCUSDT");
      await followed(edge, subject);
      const t1 = ingest.next(subject, trade("BTCUSDT", 1));
      await ingest.publish({ subject, env: t1 });
      await client.next(isTrade(1), 5000, 0);

      await server.kill();
      const down = await client.next(
        (f) => f.type === "status" && f.exchange === EX && f.reason === "NATS disconnected",
        5000,
        0,
      );
      assert.equal(down.state, "reconnecting");
      assert.equal((await feeds())[0].state, "reconnecting");
      assert.equal(edge.health().nats.connected, false);

      await server.restart();
      // The ingest publishes as soon as it is back, whether or not the edge is yet.
      await waitFor(
        () =>
          jetstreamManager(ingest.nc, { timeout: 300 }).then((m) => m.streams.info("MD")).then(
            () => true,
            () => false,
          ),
        10_000,
        "the test's connection to reach JetStream again",
      );
      const t2 = ingest.next(subject, trade("BTCUSDT", 2));
      const t3 = ingest.next(subject, trade("BTCUSDT", 3));
      await ingest.publish({ subject, env: t2 }, { subject, env: t3 });
      await client.next(isTrade(3), 10_000, 0);
      assert.deepEqual(tradeFrames(client), [
        [1, t1.seq, t1.prev],
        [2, t2.seq, t2.prev],
        [3, t3.seq, t3.prev],
      ]);
      assert.equal(client.frames.filter((f) => f.type === "gap").length, 0);
      await waitFor(
        async () => (await feeds())[0]?.state === "connected",
        10_000,
        "the feed to show connected again",
      );
      await client.close();
    });
  },
});

Deno.test({
  name:
    "edge: consolidated follows the quote and book subjects of the unified name; leaving unfollows after the linger",
  ignore: skip,
  async fn() {
    await withEdge(async ({ ingest, edge }) => {
      const client = await connect(edge.gateway);
      client.send({ action: "subscribe", symbols: ["BTC/USDT"], channels: ["consolidated"] });
      await client.next((f) => f.type === "subscribed", 5000, 0);
      const quoteSubject = subjectOf(EX, "quote", "BTCUSDT");
      await followed(edge, quoteSubject);
      await followed(edge, bookSubject);
      const now = Date.now();
      const quote = ingest.next(quoteSubject, {
        type: "quote",
        exchange: EX,
        symbol: "BTCUSDT",
        bidPrice: 100,
        bidQuantity: 2,
        askPrice: 101,
        askQuantity: 3,
        timestamp: new Date(now).toISOString(),
        eventTime: now,
        receiveTime: now,
      });
      await ingest.publish({ subject: quoteSubject, env: quote });
      const frame = await client.next((f) => f.type === "consolidated", 5000, 0);
      assert.deepEqual(
        [frame.symbol, frame.bidPrice, frame.askPrice, frame.bidExchange],
        ["BTC/USDT", 100, 101, EX],
      );
      client.send({ action: "unsubscribe", symbols: ["BTC/USDT"], channels: ["consolidated"] });
      await waitFor(
        () => edge.health().followed.length === 0,
        5000,
        "the edge to leave both subjects (EDGE_LINGER_SECONDS=0)",
      );
      await client.close();
    });
  },
});

Deno.test({
  name:
    "edge: /replay and /api/history read the recorder node's folder (REPLAY_DIR) and leave the recording as it was",
  ignore: skip,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "edge-replay-" });
    try {
      // What a recorder node wrote: trades under their envelope seqs.
      const recorder = createRecorder({ dir, worker: false });
      const past = Date.now() - 60_000;
      const trades = [1, 2, 3].map((id) => ({
        ...trade("BTCUSDT", id),
        eventTime: past + id,
        receiveTime: past + id,
      }));
      trades.forEach((t, i) =>
        recorder.record({ exchange: EX, item: t, seq: 10 + i, receiveTime: t.receiveTime })
      );
      await recorder.close();
      const files = async () => {
        const out: string[] = [];
        for await (const e of Deno.readDir(dir)) {
          const stat = await Deno.stat(`${dir}/${e.name}`);
          out.push(`${e.name}:${stat.size}:${stat.mtime?.getTime()}`);
        }
        return out.sort();
      };
      const before = await files();
      await withEdge(async ({ edge }) => {
        const from = trades[0].receiveTime - 1000;
        const to = trades[2].receiveTime + 1000;
        const replay = await connect(edge.gateway, `/replay?from=${from}&to=${to}&speed=max`);
        replay.send({ action: "subscribe", id: 1, symbols: ["BTCUSDT"], exchanges: [EX] });
        await replay.until(
          (fs) => fs.some((f) => f.type === "status" && f.state === "replay_end"),
          10_000,
          "replay_end",
        );
        assert.deepEqual(
          replay.frames.filter((f) => f.type === "trade").map((f) => f.tradeId),
          [1, 2, 3],
        );
        await replay.close();
        // The history endpoints read the same folder.
        const res = await fetch(
          `${edge.gateway.url}/api/history/trades?exchange=${EX}&symbol=BTCUSDT&from=${from}&to=${to}`,
        );
        assert.equal(res.status, 200);
        const body = await res.json() as { trades: Array<{ tradeId: number }> };
        assert.deepEqual(body.trades.map((t) => t.tradeId), [1, 2, 3], "/api/history/trades");
      }, { replayDir: dir });
      // SQLite's reader may add its WAL sidecar files (-wal, -shm); the day files stay as written.
      assert.deepEqual(
        (await files()).filter((f) => !/-(wal|shm):/.test(f)),
        before,
        "the recording is unchanged",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

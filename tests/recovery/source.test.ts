/**
 * The gateway's seams for scale-out (core/server/gateway.ts): a `source` replacing the
 * plugin feeds (an edge's NATS source) whose items keep the positions it gives, its
 * `prepareRecovery` awaited before a `since` subscribe is answered (that client's later
 * frames wait, other clients do not), its `interest` told when a stream gets its first
 * subscriber and loses its last, and `serveClients: false` for ingest and recorder nodes.
 */
import assert from "node:assert/strict";
import {
  connect,
  getJson,
  scriptedFeed,
  type TestClient,
  testConfig,
  waitFor,
} from "../helpers.ts";
import {
  type Gateway,
  type GatewayOptions,
  type ItemSource,
  type SourceHandlers,
  startGateway,
} from "../../core/server/gateway.ts";
import type { RecentEntry, RecentLog } from "../../core/recovery/recent_log.ts";
import type { StreamKey } from "../../core/delivery/subscriptions.ts";
import { type FeedInfo, newFeedInfo } from "../../core/ingest/supervisor.ts";
import type { BookUpdate, TradeEvent } from "../../core/events.ts";

type Frame = Record<string, unknown>;

const EPOCH = "epoch-from-the-log";
const TRADES = "trade|scripted|BTCUSDT";
const T0 = Date.now();

/** Trade `tradeId` of scripted BTCUSDT. */
function trade(tradeId: number): TradeEvent {
  return {
    type: "trade",
    exchange: "scripted",
    symbol: "BTCUSDT",
    price: 100 + tradeId / 100,
    quantity: 1,
    timestamp: new Date(T0 + tradeId).toISOString(),
    tradeId,
    side: "buy",
    eventTime: T0 + tradeId,
    receiveTime: T0 + tradeId,
  };
}

/** A book snapshot of scripted BTCUSDT. */
function bookSnapshot(): BookUpdate {
  return {
    type: "book",
    exchange: "scripted",
    symbol: "BTCUSDT",
    snapshot: true,
    bids: [[99, 1]],
    asks: [[101, 2]],
    updateId: 1,
    timestamp: new Date(T0).toISOString(),
    eventTime: T0,
    receiveTime: T0,
  };
}

/** A scripted source driven by the test, as an edge's source is driven by NATS. */
interface TestSource {
  factory: NonNullable<GatewayOptions["source"]>;
  /** `interest` calls: `open trade|scripted|BTCUSDT`, `close ...`. */
  interest: string[];
  /** `prepareRecovery` calls. */
  prepared: { streams: StreamKey[]; since: number }[];
  emit(item: Parameters<SourceHandlers["onItem"]>[1], at?: { seq: number; prev: number }): void;
  recent(): RecentLog;
}

function testSource(
  prepare?: (streams: StreamKey[], since: number, recent: RecentLog) => Promise<void>,
): TestSource {
  let handlers: SourceHandlers | undefined;
  let log: RecentLog | undefined;
  const interest: string[] = [];
  const prepared: { streams: StreamKey[]; since: number }[] = [];
  const info: FeedInfo = newFeedInfo("scripted", { state: "connected", since: T0 });
  return {
    factory(h, recent): ItemSource {
      handlers = h;
      log = recent;
      h.onState(info);
      return {
        info: () => [info],
        get: (exchange) => exchange === "scripted" ? info : undefined,
        stop: () => Promise.resolve(),
        epoch: () => EPOCH,
        interest: (s, open) => interest.push(`${open ? "open" : "close"} ${idOf(s)}`),
        prepareRecovery: prepare
          ? (streams, since) => {
            prepared.push({ streams, since });
            return prepare(streams, since, recent);
          }
          : undefined,
      };
    },
    interest,
    prepared,
    emit: (item, at) => handlers!.onItem("scripted", item, at),
    recent: () => log!,
  };
}

const idOf = (s: StreamKey) => `${s.channel}|${s.exchange}|${s.symbol}`;

function startWith(source: TestSource, options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  return startGateway({
    config: testConfig(),
    feeds: [scriptedFeed(["BTCUSDT"])],
    source: source.factory,
    ...options,
  });
}

const trades = (fs: Frame[]) => fs.filter((f) => f.type === "trade");

/** Client frames the gateway has taken in so far (`socket.onmessage` counts each). */
async function framesIn(gateway: Gateway): Promise<number> {
  return (await gateway.metrics.clientFrames.get()).values[0]?.value ?? 0;
}

async function subscribed(client: TestClient, frame: Frame): Promise<Frame> {
  client.send({ action: "subscribe", ...frame });
  return await client.next((f) => f.type === "subscribed", 5000, 0);
}

Deno.test("source: items keep the positions the source gives; the taps see them", async () => {
  const source = testSource();
  const gateway = await startWith(source);
  const seen: number[] = [];
  const stop = gateway.taps.add(({ seq }) => seen.push(seq));
  const client = await connect(gateway);
  try {
    const ack = await subscribed(client, { symbols: ["BTCUSDT"], channels: ["trade"] });
    assert.equal(ack.epoch, EPOCH, "the source's epoch");
    assert.equal(client.frames.find((f) => f.type === "status")?.epoch, EPOCH);
    source.emit(trade(1), { seq: 1000, prev: 0 });
    source.emit(trade(2), { seq: 1003, prev: 1000 });
    // Without `at` (a plugin's item) the number continues from the last one.
    source.emit(trade(3));
    await client.until((fs) => trades(fs).length === 3, 5000, "3 trades");
    assert.deepEqual(
      trades(client.frames).map((f) => [f.tradeId, f.pos, f.prev]),
      [[1, 1000, 0], [2, 1003, 1000], [3, 1004, 1003]],
    );
    assert.deepEqual(seen, [1000, 1003, 1004]);
    assert.deepEqual(
      gateway.recent.since(TRADES, 0).entries.map((e) => [e.seq, e.prev]),
      [[1000, 0], [1003, 1000], [1004, 1003]],
    );
  } finally {
    stop();
    await client.close();
    await gateway.close();
  }
});

Deno.test("source: prepareRecovery runs before the answer; that client's later frames wait, others do not", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  const older: RecentEntry[] = [6, 7, 8, 9].map((n, i) => ({
    seq: n,
    prev: i === 0 ? 0 : n - 1,
    item: trade(n),
  }));
  const source = testSource(async (streams, _since, recent) => {
    await released;
    // The edge's backfill from JetStream: the items before the first held one.
    for (const s of streams) recent.prepend(idOf(s), older.filter((e) => e.seq < 10));
  });
  const gateway = await startWith(source);
  const other = await connect(gateway);
  const client = await connect(gateway);
  try {
    await subscribed(other, { symbols: ["BTCUSDT"], channels: ["trade"] });
    for (const n of [10, 11, 12]) source.emit(trade(n), { seq: n, prev: n === 10 ? 9 : n - 1 });
    await other.until((fs) => trades(fs).length === 3, 5000, "3 trades");

    const before = await framesIn(gateway);
    await subscribed(client, { id: "r", symbols: ["BTCUSDT"], channels: ["trade"], since: 5 });
    client.send({ action: "ping", id: "p" });
    await waitFor(async () => await framesIn(gateway) >= before + 2, 5000, "subscribe and ping in");
    assert.deepEqual(source.prepared.map((p) => [p.streams.map(idOf), p.since]), [[[TRADES], 5]]);

    // While the source prepares, the other client's stream goes on.
    source.emit(trade(13), { seq: 13, prev: 12 });
    await other.until((fs) => trades(fs).length === 4, 5000, "the other client's 4th trade");
    assert.ok(!client.frames.some((f) => f.type === "pong"), "the ping waits for the recovery");
    assert.equal(trades(client.frames).length, 0, "nothing before the recovery");

    release();
    const recoveredAt = await client.indexOf((f) => f.type === "recovered", 5000, 0);
    const pongAt = await client.indexOf((f) => f.type === "pong", 5000, 0);
    assert.ok(pongAt > recoveredAt, "the ping is answered after the recovery");
    assert.deepEqual(
      trades(client.frames).map((f) => [f.tradeId, f.pos, f.prev]),
      [[6, 6, 0], [7, 7, 6], [8, 8, 7], [9, 9, 8], [10, 10, 9], [11, 11, 10], [12, 12, 11], [
        13,
        13,
        12,
      ]],
    );
    assert.deepEqual(client.frames[recoveredAt], {
      type: "recovered",
      id: "r",
      since: 5,
      epoch: EPOCH,
      pos: 13,
      streams: [{
        exchange: "scripted",
        channel: "trade",
        symbol: "BTCUSDT",
        frames: 8,
        complete: true,
      }],
    });
    source.emit(trade(14), { seq: 14, prev: 13 });
    await client.until((fs) => trades(fs).length === 9, 5000, "live trade 14");
    assert.equal(trades(client.frames).at(-1)!.pos, 14);
  } finally {
    release();
    await client.close();
    await other.close();
    await gateway.close();
  }
});

Deno.test("source: a since subscribe to a book gets a fresh snapshot; only data streams are recovered", async () => {
  const source = testSource();
  const gateway = await startWith(source);
  const client = await connect(gateway);
  try {
    source.emit(bookSnapshot(), { seq: 1, prev: 0 });
    source.emit(trade(1), { seq: 2, prev: 0 });
    await subscribed(client, {
      id: 1,
      symbols: ["BTCUSDT"],
      channels: ["trade", "book"],
      depth: 5,
      since: 1,
      epoch: EPOCH,
    });
    const recoveredAt = await client.indexOf((f) => f.type === "recovered", 5000, 0);
    const before = client.frames.slice(0, recoveredAt);
    assert.deepEqual(before.map((f) => f.type), ["subscribed", "status", "trade", "book"]);
    assert.equal(before[3].snapshot, true, "the book's recovery is its snapshot");
    assert.deepEqual(before[3].bids, [[99, 1]]);
    assert.deepEqual(
      (client.frames[recoveredAt].streams as Frame[]).map((s) => s.channel),
      ["trade"],
    );
  } finally {
    await client.close();
    await gateway.close();
  }
});

Deno.test("source: interest opens with a stream's first subscriber and closes with its last", async () => {
  const source = testSource();
  const gateway = await startWith(source);
  source.emit({
    type: "instruments",
    exchange: "scripted",
    instruments: [{ symbol: "BTCUSDT", base: "BTC", quote: "USDT", unified: "BTC/USDT" }],
    streamed: ["BTCUSDT"],
  });
  const a = await connect(gateway);
  const b = await connect(gateway);
  try {
    const all = { symbols: ["BTC/USDT"], channels: ["trade", "book", "consolidated"] };
    await subscribed(a, all);
    assert.deepEqual(source.interest, [
      "open trade|scripted|BTCUSDT",
      "open book|scripted|BTCUSDT",
      "open consolidated|*|BTC/USDT",
    ]);
    await subscribed(b, all);
    assert.equal(source.interest.length, 3, "a second subscriber opens nothing");
    a.send({ action: "unsubscribe", id: "u", ...all });
    await a.next((f) => f.type === "unsubscribed");
    assert.equal(source.interest.length, 3, "b still follows every stream");
    await b.close();
    await waitFor(() => source.interest.length === 6, 5000, "three closes");
    assert.deepEqual(source.interest.slice(3).sort(), [
      "close book|scripted|BTCUSDT",
      "close consolidated|*|BTC/USDT",
      "close trade|scripted|BTCUSDT",
    ]);
  } finally {
    await a.close();
    await b.close();
    await gateway.close();
  }
});

Deno.test("source: a node without clients answers /ws and /replay 404 not_served, REST and its state still served", async () => {
  const source = testSource();
  const states: string[] = [];
  const gateway = await startWith(source, {
    config: testConfig({ role: "ingest" }),
    serveClients: false,
    health: () => ({ leading: true }),
  });
  const stop = gateway.onFeedState((info) => states.push(info.state));
  try {
    for (const path of ["/ws", "/replay"]) {
      const { status, body } = await getJson(gateway, path);
      assert.equal(status, 404, path);
      assert.deepEqual(body, {
        error: "not_served",
        message: "this is an ingest node: connect to an edge",
      });
    }
    const health = await getJson(gateway, "/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.role, "ingest");
    assert.deepEqual(health.body.scale, { leading: true });

    source.emit(bookSnapshot(), { seq: 1, prev: 0 });
    assert.deepEqual(gateway.books.snapshot("scripted", "BTCUSDT", 5)?.asks, [[101, 2]]);
    assert.equal(gateway.feeds.get("scripted")?.state, "connected");
    assert.deepEqual(gateway.feeds.info().map((f) => f.exchange), ["scripted"]);
    assert.equal(gateway.epoch(), EPOCH);
  } finally {
    stop();
    await gateway.close();
  }
  assert.deepEqual(states, [], "no state change after start");
});

Deno.test("source: a failed prepareRecovery still answers from what the log holds, saying what is lost", async () => {
  const source = testSource(() => Promise.reject(new Error("JetStream unreachable")));
  const gateway = await startWith(source);
  const client = await connect(gateway);
  try {
    for (const n of [10, 11]) source.emit(trade(n), { seq: n, prev: n - 1 });
    await subscribed(client, { id: 1, symbols: ["BTCUSDT"], channels: ["trade"], since: 5 });
    const recoveredAt = await client.indexOf((f) => f.type === "recovered", 5000, 0);
    const before = client.frames.slice(0, recoveredAt);
    assert.deepEqual(before.find((f) => f.type === "gap"), {
      type: "gap",
      exchange: "scripted",
      symbol: "BTCUSDT",
      channel: "trade",
      reason: "recovery_window",
      fromPos: 6,
      toPos: 9,
      toId: 9,
    });
    assert.deepEqual(trades(before).map((f) => f.pos), [10, 11]);
    assert.equal((client.frames[recoveredAt].streams as Frame[])[0].complete, false);
    client.send({ action: "ping", id: "p" });
    await client.next((f) => f.type === "pong");
  } finally {
    await client.close();
    await gateway.close();
  }
});

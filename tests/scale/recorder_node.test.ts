import assert, { deepStrictEqual, equal } from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { openHistory } from "../../core/history/mod.ts";
import type { RecordedItem } from "../../core/history/mod.ts";
import type { BookUpdate, InstrumentsEvent, TradeEvent } from "../../core/events.ts";
import { ConfigError } from "../../core/server/config.ts";
import { ensureLog, publishEnvelope } from "../../core/scale/log.ts";
import { mergeDelta, startRecorderNode } from "../../core/scale/recorder_node.ts";
import { subjectOf } from "../../core/scale/subjects.ts";
import type { MdEnvelope } from "../../core/scale/envelope.ts";
import { testConfig, waitFor } from "../helpers.ts";
import { book, envelopeWriter, quote, T0, trade } from "./fixtures.ts";
import { natsServerAvailable, NO_NATS_SERVER, startNatsServer } from "./nats_server.ts";

const skip = !natsServerAvailable();
if (skip) console.log(`tests/scale/recorder_node.test.ts: NATS tests skipped: ${NO_NATS_SERVER}`);

const EX = "binance";
const SYM = "BTCUSDT";
const TRADES = subjectOf(EX, "trade", SYM);
const QUOTES = subjectOf(EX, "quote", SYM);
const BOOK = subjectOf(EX, "book", SYM);
const BOOKSNAP = subjectOf(EX, "booksnap", SYM);
const STATUS = subjectOf(EX, "status");

/** Everything a recording holds, in hub order. */
async function readBack(dir: string): Promise<RecordedItem[]> {
  const history = openHistory(dir);
  try {
    const out: RecordedItem[] = [];
    for await (const r of history.events({ from: 0, to: Infinity, raw: false })) out.push(r);
    return out;
  } finally {
    history.close();
  }
}

Deno.test("recorder node: without RECORD_DIR it refuses to start with a ConfigError", async () => {
  let error: unknown;
  try {
    await startRecorderNode({ config: testConfig({ role: "recorder" }) });
  } catch (err) {
    error = err;
  }
  assert(error instanceof ConfigError, "a ConfigError");
  assert(/RECORD_DIR/.test(error.message), error.message);
});

Deno.test({
  name:
    "recorder node: records every trade once under its envelope seq, seeds the book from the booksnap, resumes without duplicates",
  ignore: skip,
  fn: async () => {
    const server = await startNatsServer();
    const nc: NatsConnection = await connect({ servers: server.url });
    const dir = await Deno.makeTempDir({ prefix: "recorder-node-test-" });
    const config = testConfig({ role: "recorder", recordDir: dir, ingestGroup: "g1" });
    const w = envelopeWriter("ep1");
    const published: { subject: string; env: MdEnvelope }[] = [];
    const publish = (subject: string, item: MdEnvelope["item"], rollup = false) => {
      const env = rollup ? w.rollup(EX, item) : w.next(subject, EX, item);
      publishEnvelope(nc, subject, env, { rollup });
      published.push({ subject, env });
      return env;
    };
    const jsm = await jetstreamManager(nc);
    const stored = async () => (await jsm.streams.info("MD")).state.last_seq;
    try {
      await ensureLog(jsm, {
        stream: "MD",
        maxAgeSeconds: 600,
        maxBytes: 64 * 1024 * 1024,
        storage: "file",
      });
      // The log as a recorder meets it late: book deltas whose snapshot is long rolled up,
      // then the ingest's booksnap that includes them, then more deltas.
      publish(STATUS, {
        type: "feed_info",
        info: { exchange: EX, state: "connected" } as never,
      }, true);
      let tradeId = 0;
      for (let i = 0; i < 5; i++) publish(TRADES, trade(EX, SYM, ++tradeId));
      const d1 = publish(BOOK, book(EX, SYM, 1, false));
      publish(TRADES, trade(EX, SYM, ++tradeId));
      const d2 = publish(BOOK, book(EX, SYM, 2, false));
      publish(QUOTES, quote(EX, SYM, 3));
      // The ingest's full book after d2 (the booksnap carries the seq of its last book message).
      const full: BookUpdate = { ...book(EX, SYM, 2, true), bids: [[100, 2], [99, 2]] };
      const snapEnv: MdEnvelope = {
        v: 1,
        epoch: "ep1",
        seq: d2.seq,
        prev: 0,
        exchange: EX,
        item: full,
      };
      publishEnvelope(nc, BOOKSNAP, snapEnv, { rollup: true });
      const d3 = publish(BOOK, book(EX, SYM, 4, false));
      for (let i = 0; i < 5; i++) publish(TRADES, trade(EX, SYM, ++tradeId));
      const d4 = publish(BOOK, book(EX, SYM, 5, false));
      nc.publish(TRADES, new TextEncoder().encode("not an envelope"));
      await nc.flush();
      await waitFor(async () => await stored() === published.length + 2, 5000, "all stored");

      let node = await startRecorderNode({ config, nc, ackEveryMs: 50 });
      await waitFor(
        () => node.health().lastSeq === w.lastSeq(),
        10_000,
        "the recorder to catch up",
      );
      equal(node.health().bad, 1, "the undecodable message was skipped");
      equal(node.health().unseededBookDeltas, 2, "d1 and d2 are in the booksnap: not recorded");
      await node.close();

      // While the recorder is down: more trades, and a republished one it already has.
      const again = published.find((p) => p.subject === TRADES)!;
      publishEnvelope(nc, TRADES, again.env);
      for (let i = 0; i < 5; i++) publish(TRADES, trade(EX, SYM, ++tradeId));
      const d5 = publish(BOOK, book(EX, SYM, 6, false));
      await nc.flush();
      await waitFor(async () => await stored() === published.length + 3, 5000, "all stored");

      node = await startRecorderNode({ config, nc, ackEveryMs: 50 });
      await waitFor(() => node.health().lastSeq === w.lastSeq(), 10_000, "the recorder to resume");
      equal(
        node.health().duplicates,
        1,
        "only the republished trade is seen again: the durable consumer resumed after what was acked",
      );
      await node.close();

      const items = await readBack(dir);
      const trades = items.filter((r) => r.item.type === "trade");
      const expected = published.filter((p) => p.subject === TRADES);
      deepStrictEqual(
        trades.map((r) => [(r.item as TradeEvent).tradeId, r.seq]),
        expected.map((p) => [(p.env.item as TradeEvent).tradeId, p.env.seq]),
        "every trade once, under its envelope seq",
      );
      equal(tradeId, 16);
      equal(
        items.filter((r) => (r.item.type as string) === "feed_info").length,
        0,
        "status is not recorded",
      );
      equal(items.filter((r) => r.item.type === "quote").length, 1);

      // Book: the booksnap merged with d3 as a snapshot at d3's seq, then d4 and d5.
      const books = items.filter((r) => r.item.type === "book");
      deepStrictEqual(books.map((r) => r.seq), [d3.seq, d4.seq, d5.seq]);
      const seeded = books[0].item as BookUpdate;
      equal(seeded.snapshot, true);
      deepStrictEqual(seeded.bids, mergeDelta(full, d3.item as BookUpdate).bids);
      assert(!books.some((r) => r.seq === d1.seq || r.seq === d2.seq));
      const history = openHistory(dir);
      try {
        const at = await history.bookAt(EX, SYM, T0 + 3_600_000);
        equal(at?.synced, true, "the recorded book is usable");
        equal(at?.seq, d5.seq);
        deepStrictEqual(at?.bids[0], [100, 6], "the last delta's best bid");
      } finally {
        history.close();
      }
    } finally {
      await nc.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("mergeDelta: a delta's levels replace, add and remove levels of the snapshot", () => {
  const snap = { ...book(EX, SYM, 1, true), bids: [[100, 1], [99, 2]], asks: [[101, 1], [102, 2]] };
  const delta = { ...book(EX, SYM, 2, false), bids: [[100, 0], [98, 5]], asks: [[101, 3]] };
  const merged = mergeDelta(snap as BookUpdate, delta as BookUpdate);
  equal(merged.snapshot, true);
  deepStrictEqual(merged.bids, [[99, 2], [98, 5]]);
  deepStrictEqual(merged.asks, [[101, 3], [102, 2]]);
});

/** A private NATS server with the MD stream, a recorder's config, and a trade publisher. */
async function orderSetup() {
  const server = await startNatsServer();
  const nc: NatsConnection = await connect({ servers: server.url });
  const dir = await Deno.makeTempDir({ prefix: "recorder-order-test-" });
  const jsm = await jetstreamManager(nc);
  await ensureLog(jsm, {
    stream: "MD",
    maxAgeSeconds: 600,
    maxBytes: 64 * 1024 * 1024,
    storage: "file",
  });
  const w = envelopeWriter("ep1");
  /** Trades with seqs 1..n (trade id = seq), numbered like the ingest does. */
  const envelopes = (n: number) =>
    Array.from({ length: n }, (_, i) => w.next(TRADES, EX, trade(EX, SYM, i + 1)));
  const publish = async (envs: MdEnvelope[]) => {
    for (const env of envs) publishEnvelope(nc, TRADES, env);
    await nc.flush();
  };
  const consumerState = async () => {
    const info = await jsm.consumers.info("MD", "recorder_g1");
    return { unacked: info.num_ack_pending, undelivered: info.num_pending };
  };
  return {
    nc,
    dir,
    config: testConfig({ role: "recorder", recordDir: dir, ingestGroup: "g1" }),
    envelopes,
    publish,
    consumerState,
    async close() {
      await nc.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test({
  name:
    "recorder node: seqs JetStream holds out of order (after a NATS restart) are recorded in seq order, each once; a true duplicate is acked and skipped",
  ignore: skip,
  fn: async () => {
    const s = await orderSetup();
    try {
      const node = await startRecorderNode({ config: s.config, nc: s.nc, ackEveryMs: 50 });
      const env = s.envelopes(12);
      await s.publish(env.slice(0, 5)); // 1..5
      await waitFor(() => node.health().lastSeq === 5, 5000, "seqs 1..5 recorded");
      // The client's buffered messages come first after the restart, then the ingest
      // republishes the seqs the server lost.
      await s.publish(env.slice(8)); // 9..12
      await waitFor(() => node.health().heldForOrder === 4, 5000, "9..12 held for 6..8");
      equal(node.health().lastSeq, 5, "nothing after the hole is recorded yet");
      await waitFor(
        async () => (await s.consumerState()).unacked === 4,
        5000,
        "1..5 acknowledged once written; the held 9..12 stay unacknowledged",
      );
      equal(node.health().lastSeq, 5);
      await s.publish(env.slice(5, 8)); // 6..8
      await waitFor(() => node.health().lastSeq === 12, 5000, "seqs 6..12 recorded");
      equal(node.health().heldForOrder, 0);
      equal(node.health().holes, 0);
      equal(node.health().duplicates, 0, "an early seq is not a duplicate");

      await s.publish([env[2]]); // seq 3 again
      await waitFor(() => node.health().duplicates === 1, 5000, "the duplicate seen");
      await waitFor(
        async () => (await s.consumerState()).unacked === 0,
        5000,
        "every message acknowledged (the duplicate at once, the rest once written)",
      );
      await node.close();

      const items = await readBack(s.dir);
      deepStrictEqual(
        items.map((r) => [r.seq, (r.item as TradeEvent).tradeId]),
        env.map((e) => [e.seq, (e.item as TradeEvent).tradeId]),
        "seqs 1..12 in order, each once",
      );
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name:
    "recorder node: seqs that never arrive become a recording_gap after the reorder wait; the rest is recorded",
  ignore: skip,
  fn: async () => {
    const s = await orderSetup();
    try {
      const node = await startRecorderNode({
        config: s.config,
        nc: s.nc,
        ackEveryMs: 50,
        reorderWaitMs: 300,
      });
      const env = s.envelopes(12);
      await s.publish(env.slice(0, 5)); // 1..5
      await waitFor(() => node.health().lastSeq === 5, 5000, "seqs 1..5 recorded");
      await s.publish(env.slice(8)); // 9..12; 6..8 are lost for good
      await waitFor(() => node.health().lastSeq === 12, 5000, "the hole given up, 9..12 recorded");
      equal(node.health().holes, 1);
      equal(node.health().heldForOrder, 0);
      await waitFor(
        async () => (await s.consumerState()).unacked === 0,
        5000,
        "every message acknowledged",
      );
      // 7 turns up late: already given up, so a duplicate.
      await s.publish([env[6]]);
      await waitFor(() => node.health().duplicates === 1, 5000, "the late seq skipped");
      await node.close();

      const items = await readBack(s.dir);
      deepStrictEqual(
        items.map((r) =>
          r.item.type === "recording_gap"
            ? [r.seq, "gap", r.item.fromSeq, r.item.toSeq]
            : [r.seq, (r.item as TradeEvent).tradeId]
        ),
        [
          [1, 1],
          [2, 2],
          [3, 3],
          [4, 4],
          [5, 5],
          [6, "gap", 6, 8],
          [9, 9],
          [10, 10],
          [11, 11],
          [12, 12],
        ],
        "1..5, a recording_gap for exactly 6..8, then 9..12",
      );
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name:
    "recorder node: started after several status and instruments messages were rolled up, it records every data seq at once with no recording gap",
  ignore: skip,
  fn: async () => {
    const s = await orderSetup();
    const INSTRUMENTS = subjectOf(EX, "instruments");
    const w = envelopeWriter("ep1");
    const jsm = await jetstreamManager(s.nc);
    const status = (state: string): MdEnvelope["item"] => ({
      type: "feed_info",
      info: { exchange: EX, state } as never,
    });
    const listed = (streamed: string[]): InstrumentsEvent => ({
      type: "instruments",
      exchange: EX,
      instruments: streamed.map((symbol) => ({
        symbol,
        base: symbol.slice(0, 3),
        quote: "USDT",
        unified: `${symbol.slice(0, 3)}/USDT`,
      })),
      streamed,
    });
    let tradeId = 0;
    const trades = (n: number) => {
      for (let i = 0; i < n; i++) {
        publishEnvelope(s.nc, TRADES, w.next(TRADES, EX, trade(EX, SYM, ++tradeId)));
      }
    };
    const rolledUp = (subject: string, item: MdEnvelope["item"]) => {
      const env = w.rollup(EX, item);
      publishEnvelope(s.nc, subject, env, { rollup: true });
      return env;
    };
    try {
      // The log as the ingest leaves it: status at every state change and every 5 s, the
      // instrument list when it changes, each at the last seq given out — and the stream
      // keeps only the newest of each.
      rolledUp(STATUS, status("connecting")); // seq 0: nothing given out yet
      rolledUp(INSTRUMENTS, listed(["BTCUSDT"])); // seq 0
      trades(3); // 1..3
      rolledUp(STATUS, status("connected")); // 3
      rolledUp(STATUS, status("connected")); // 3 again: 5 s later, no data in between
      trades(3); // 4..6
      const current = rolledUp(INSTRUMENTS, listed(["BTCUSDT", "ETHUSDT"])); // 6
      rolledUp(STATUS, status("connected")); // 6
      trades(2); // 7, 8
      rolledUp(STATUS, status("connected")); // 8
      await s.nc.flush();
      await waitFor(
        async () => (await jsm.streams.info("MD")).state.messages === 10,
        5000,
        "the stream to hold 8 trades, the newest status and the newest instruments",
      );
      equal(current.seq, 6, "the instruments sit at the last trade's seq");

      const node = await startRecorderNode({
        config: s.config,
        nc: s.nc,
        ackEveryMs: 50,
        reorderWaitMs: 30_000, // longer than this test: waiting for any seq would show
      });
      await waitFor(
        () => node.health().lastSeq === 8,
        5000,
        "seqs 1..8 recorded without waiting for seqs of the rolled-up messages",
      );
      equal(node.health().holes, 0, "no hole: status and instruments take no seq");
      equal(node.health().heldForOrder, 0);

      // Live: a trade and a rollup right behind it at its seq (nats-server 2.9.10 may move the
      // durable consumer past both: nats-server#3838), then the next trade.
      trades(1); // 9
      rolledUp(INSTRUMENTS, listed(["ETHUSDT"])); // 9
      rolledUp(STATUS, status("connected")); // 9
      await s.nc.flush();
      trades(1); // 10
      await waitFor(() => node.health().lastSeq === 10, 5000, "seqs 9 and 10 recorded");
      equal(node.health().holes, 0, "seq 9 is the trade's, never the instruments'");
      await waitFor(
        async () => (await s.consumerState()).unacked === 0,
        5000,
        "every message acknowledged",
      );
      await node.close();

      const items = await readBack(s.dir);
      deepStrictEqual(
        items.filter((r) => r.item.type === "recording_gap"),
        [],
        "no recording_gap marker at all",
      );
      deepStrictEqual(
        items.map((r) => [r.seq, r.item.type, (r.item as TradeEvent).tradeId]),
        Array.from({ length: 10 }, (_, i) => [i + 1, "trade", i + 1]),
        "trades 1..10, each under its seq; status and instruments are not recorded",
      );
    } finally {
      await s.close();
    }
  },
});

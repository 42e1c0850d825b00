import assert, { deepStrictEqual, equal, throws } from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  decodeEnvelope,
  encodeEnvelope,
  ensureLog,
  EnvelopeError,
  lastOfSubject,
  lastPerSubject,
  publishEnvelope,
  readSubject,
  streamSeqAfter,
} from "../../core/scale/log.ts";
import type { MdEnvelope } from "../../core/scale/envelope.ts";
import { subjectOf } from "../../core/scale/subjects.ts";
import { waitFor } from "../helpers.ts";
import { book, envelopeWriter, quote, trade, tradeSubject } from "./fixtures.ts";
import { natsServerAvailable, NO_NATS_SERVER, startNatsServer } from "./nats_server.ts";

const skip = !natsServerAvailable();
if (skip) console.log(`tests/scale/log.test.ts: NATS tests skipped: ${NO_NATS_SERVER}`);
const LOG = {
  stream: "MD",
  maxAgeSeconds: 600,
  maxBytes: 64 * 1024 * 1024,
  storage: "file",
} as const;
const encoder = new TextEncoder();

/** Runs `fn` with a connection to a private JetStream server holding an `MD` stream. */
async function withLog(fn: (nc: NatsConnection) => Promise<void>): Promise<void> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  try {
    await ensureLog(await jetstreamManager(nc), LOG);
    await fn(nc);
  } finally {
    await nc.close();
    await server.stop();
  }
}

/** Publishes and waits until the stream holds `count` messages in all. */
async function publishAll(
  nc: NatsConnection,
  messages: { subject: string; env: MdEnvelope; rollup?: boolean }[],
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const before = (await jsm.streams.info("MD")).state.last_seq;
  for (const m of messages) publishEnvelope(nc, m.subject, m.env, { rollup: m.rollup });
  await nc.flush();
  await waitFor(
    async () => (await jsm.streams.info("MD")).state.last_seq >= before + messages.length,
    5000,
    `the stream to capture ${messages.length} published messages`,
  );
}

const sample: MdEnvelope = {
  v: 1,
  epoch: "e1",
  seq: 7,
  prev: 3,
  exchange: "binance",
  item: trade("binance", "BTCUSDT", 42),
};

Deno.test("envelope codec: what is encoded decodes to an equal envelope", () => {
  deepStrictEqual(decodeEnvelope(encodeEnvelope(sample)), sample);
  const snap: MdEnvelope = { ...sample, item: book("binance", "BTCUSDT", 1, true) };
  deepStrictEqual(decodeEnvelope(encodeEnvelope(snap)), snap);
  const info: MdEnvelope = {
    ...sample,
    item: { type: "feed_info", info: { exchange: "binance", state: "connected" } as never },
  };
  deepStrictEqual(decodeEnvelope(encodeEnvelope(info)), info);
});

Deno.test("envelope codec: status and instruments sit at a position with prev 0 (seq 0 on a fresh log)", () => {
  const info = { type: "feed_info", info: { exchange: "binance", state: "connected" } } as const;
  const instruments = { type: "instruments", instruments: [], streamed: [] } as const;
  for (const item of [info, instruments]) {
    for (const seq of [0, 7]) {
      const env = { ...sample, seq, prev: 0, item } as unknown as MdEnvelope;
      deepStrictEqual(decodeEnvelope(encodeEnvelope(env)), env, `${item.type} at seq ${seq}`);
    }
  }
  for (
    const [what, env] of [
      ["a trade at seq 0", { ...sample, seq: 0, prev: 0 }],
      ["a trade with prev = seq", { ...sample, prev: 7 }],
      ["a status with prev = seq", { ...sample, prev: 7, item: info }],
    ] as const
  ) {
    throws(
      () => decodeEnvelope(encoder.encode(JSON.stringify(env))),
      /prev must be below seq/,
      what,
    );
  }
});

Deno.test("envelope codec: bad data is an EnvelopeError that says what is wrong, never a crash", () => {
  const bad: [string, unknown, RegExp][] = [
    ["not JSON", "{", /not JSON/],
    ["wrong version", { ...sample, v: 2 }, /^v:/],
    ["long epoch", { ...sample, epoch: "x".repeat(65) }, /^epoch:/],
    ["negative seq", { ...sample, seq: -1 }, /^seq:/],
    ["fractional prev", { ...sample, prev: 1.5 }, /^prev:/],
    ["unsafe seq", { ...sample, seq: 2 ** 53 }, /^seq:/],
    ["prev not below seq", { ...sample, prev: 7 }, /^prev: prev must be below seq/],
    ["exchange not a token", { ...sample, exchange: "bin.ance" }, /^exchange:/],
    ["item not an object", { ...sample, item: "trade" }, /^item:/],
    ["unknown item type", { ...sample, item: { type: "weather" } }, /^item/],
    [
      "trade without tradeId",
      { ...sample, item: { ...sample.item, tradeId: undefined } },
      /tradeId/,
    ],
    ["array", [1, 2], /envelope/],
  ];
  for (const [what, value, reason] of bad) {
    const data = encoder.encode(typeof value === "string" ? value : JSON.stringify(value));
    throws(() => decodeEnvelope(data), (err: unknown) => {
      assert(err instanceof EnvelopeError, `${what}: an EnvelopeError`);
      assert(reason.test(err.reason), `${what}: reason "${err.reason}" matches ${reason}`);
      return true;
    });
  }
});

Deno.test({
  name: "ensureLog creates the MD stream as designed and updates its limits later",
  ignore: skip,
  fn: () =>
    withLog(async (nc) => {
      const jsm = await jetstreamManager(nc);
      const c = (await jsm.streams.info("MD")).config;
      deepStrictEqual(c.subjects, ["md.>"]);
      equal(c.storage, "file");
      equal(c.max_age, 600 * 1e9);
      equal(c.max_bytes, 64 * 1024 * 1024);
      equal(c.discard, "old");
      equal(c.allow_direct, true);
      equal(c.allow_rollup_hdrs, true);
      equal(c.duplicate_window, 120 * 1e9);
      await ensureLog(jsm, { ...LOG, maxAgeSeconds: 60, maxBytes: 1024 * 1024 });
      const u = (await jsm.streams.info("MD")).config;
      equal(u.max_age, 60 * 1e9);
      equal(u.max_bytes, 1024 * 1024);
      equal(u.duplicate_window, 60 * 1e9, "the duplicate window never exceeds max_age");
      await ensureLog(jsm, { ...LOG, maxAgeSeconds: 60, maxBytes: 1024 * 1024 });
    }),
});

Deno.test({
  name: "lastOfSubject and lastPerSubject: the newest message of a subject, of every subject",
  ignore: skip,
  fn: () =>
    withLog(async (nc) => {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      equal(await lastOfSubject(jsm, "MD", tradeSubject("binance", "BTCUSDT")), undefined);
      equal((await lastPerSubject(js, "MD", "md.>")).size, 0, "an empty stream has no subjects");
      const w = envelopeWriter("e1");
      const msgs: { subject: string; env: MdEnvelope; rollup?: boolean }[] = [];
      const quotes = subjectOf("binance", "quote", "BTCUSDT");
      const snaps = subjectOf("binance", "booksnap", "BTCUSDT");
      for (let i = 1; i <= 20; i++) {
        const t = tradeSubject("binance", i % 2 ? "BTCUSDT" : "ETHUSDT");
        msgs.push({ subject: t, env: w.next(t, "binance", trade("binance", "X", i)) });
        msgs.push({ subject: quotes, env: w.next(quotes, "binance", quote("binance", "X", i)) });
        if (i % 5 === 0) {
          msgs.push({
            subject: snaps,
            env: w.next(snaps, "binance", book("binance", "BTCUSDT", i, true)),
            rollup: true,
          });
        }
      }
      await publishAll(nc, msgs);
      const last = await lastOfSubject(jsm, "MD", tradeSubject("binance", "ETHUSDT"));
      equal(last?.envelope.item.type, "trade");
      equal((last?.envelope.item as { tradeId: number }).tradeId, 20);
      const all = await lastPerSubject(js, "MD", "md.>");
      deepStrictEqual([...all.keys()].sort(), [
        "md.binance.booksnap.BTCUSDT",
        "md.binance.quote.BTCUSDT",
        "md.binance.trade.BTCUSDT",
        "md.binance.trade.ETHUSDT",
      ]);
      equal(all.get(snaps)?.envelope.seq, w.lastSeq(), "the last message was a booksnap");
      equal(all.get(quotes)?.envelope.seq, w.lastSeq() - 1, "the quote came just before it");
      equal(
        (all.get(tradeSubject("binance", "BTCUSDT"))?.envelope.item as { tradeId: number })
          .tradeId,
        19,
      );
      const one = await lastPerSubject(js, "MD", snaps);
      deepStrictEqual([...one.keys()], [snaps]);
      const snapCount = (await jsm.streams.info("MD", { subjects_filter: snaps })).state.subjects;
      deepStrictEqual(snapCount, { [snaps]: 1 }, "a rollup keeps only the newest booksnap");
      equal((await jsm.consumers.list("MD").next()).length, 0, "no consumer is left behind");
    }),
});

Deno.test({
  name: "streamSeqAfter finds the first stored message past a hub seq, over deleted messages",
  ignore: skip,
  fn: () =>
    withLog(async (nc) => {
      const jsm = await jetstreamManager(nc);
      equal(await streamSeqAfter(jsm, "MD", 0), undefined, "an empty stream has none");
      const w = envelopeWriter("e1");
      const subjects = ["a", "b", "c"].map((s) => tradeSubject("kraken", s));
      const msgs = [];
      for (let i = 1; i <= 200; i++) {
        const subject = subjects[i % 3];
        msgs.push({ subject, env: w.next(subject, "kraken", trade("kraken", "X", i)) });
      }
      await publishAll(nc, msgs);
      // Stream seq i holds hub seq i.
      for (const after of [0, 1, 57, 100, 199]) {
        equal(await streamSeqAfter(jsm, "MD", after), after + 1, `after ${after}`);
      }
      equal(await streamSeqAfter(jsm, "MD", 200), undefined, "nothing after the last seq");
      // Holes in the stream (deleted, expired or rolled up): the next readable message counts.
      for (let s = 40; s <= 60; s++) await jsm.streams.deleteMessage("MD", s, false);
      equal(await streamSeqAfter(jsm, "MD", 41), 61);
      equal(await streamSeqAfter(jsm, "MD", 38), 39);
      equal(await streamSeqAfter(jsm, "MD", 39), 61);
      await jsm.streams.purge("MD", { keep: 10 } as never);
      equal(await streamSeqAfter(jsm, "MD", 5), 191, "older than the stream: its first message");
    }),
});

Deno.test({
  name: "readSubject reads one subject in order from a stream seq, until a hub seq, or to the end",
  ignore: skip,
  fn: () =>
    withLog(async (nc) => {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      const w = envelopeWriter("e1");
      const btc = tradeSubject("binance", "BTCUSDT");
      const eth = tradeSubject("binance", "ETHUSDT");
      const msgs = [];
      for (let i = 1; i <= 300; i++) {
        const subject = i % 3 === 0 ? eth : btc;
        msgs.push({ subject, env: w.next(subject, "binance", trade("binance", "X", i)) });
      }
      await publishAll(nc, msgs);
      // Garbage on the subject is skipped (and logged), not a crash.
      nc.publish(btc, encoder.encode("{not an envelope"));
      await nc.flush();
      await waitFor(async () => (await jsm.streams.info("MD")).state.last_seq === 301);

      const read = async (from: number, opts?: Parameters<typeof readSubject>[4]) => {
        const out: number[] = [];
        for await (const s of readSubject(js, "MD", eth, from, opts)) {
          equal(s.subject, eth);
          equal(s.streamSeq, s.envelope.seq, "stream seq i holds hub seq i here");
          out.push(s.envelope.seq);
        }
        return out;
      };
      const all = await read(1);
      equal(all.length, 100);
      deepStrictEqual(all.slice(0, 3), [3, 6, 9]);
      deepStrictEqual(await read(250), [
        252,
        255,
        258,
        261,
        264,
        267,
        270,
        273,
        276,
        279,
        282,
        285,
        288,
        291,
        294,
        297,
        300,
      ]);
      deepStrictEqual(await read(250, { untilSeq: 262 }), [252, 255, 258, 261]);
      deepStrictEqual(await read(301), [], "nothing after the subject's last message");
      const btcSeqs: number[] = [];
      for await (const s of readSubject(js, "MD", btc, 290)) btcSeqs.push(s.envelope.seq);
      deepStrictEqual(btcSeqs, [290, 292, 293, 295, 296, 298, 299], "the bad message is skipped");

      const abort = new AbortController();
      const got: number[] = [];
      for await (const s of readSubject(js, "MD", eth, 1, { signal: abort.signal })) {
        got.push(s.envelope.seq);
        if (got.length === 5) abort.abort();
      }
      equal(got.length, 5, "an abort ends the read");
      equal((await jsm.consumers.list("MD").next()).length, 0, "no consumer is left behind");
    }),
});

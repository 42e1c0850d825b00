/**
 * The ingest publisher as a state machine, with a fake log (what JetStream would hold) and
 * a fake publish: seq/prev continuity, takeover by a standby with and without a hole, and the
 * resume after a NATS restart that lost messages.
 */
import assert from "node:assert/strict";
import {
  createPublisher,
  type LogState,
  type Publisher,
  type PublisherOptions,
} from "../../core/scale/publisher.ts";
import type { MdEnvelope } from "../../core/scale/envelope.ts";
import type { FeedItem } from "../../core/feed/messages.ts";
import type { BookUpdate, GapEvent, TradeEvent } from "../../core/events.ts";
import { type FeedInfo, newFeedInfo } from "../../core/ingest/supervisor.ts";

const TRADE = "md.binance.trade.BTCUSDT";
const ETH_TRADE = "md.binance.trade.ETHUSDT";
const QUOTE = "md.binance.quote.BTCUSDT";
const BOOK = "md.binance.book.BTCUSDT";
const BOOKSNAP = "md.binance.booksnap.BTCUSDT";
const STATUS = "md.binance.status._";
const INSTRUMENTS = "md.binance.instruments._";

/** Status and instruments take no position of their own (they sit at the last one given out). */
const positioned = (subject: string) => subject !== STATUS && subject !== INSTRUMENTS;

const trade = (id: number, symbol = "BTCUSDT"): TradeEvent => ({
  type: "trade",
  exchange: "binance",
  symbol,
  price: 100 + id,
  quantity: 1,
  timestamp: new Date(1_000 + id).toISOString(),
  tradeId: id,
  side: "buy",
  eventTime: 1_000 + id,
  receiveTime: 1_000 + id,
});

const quote = (eventTime: number) => ({
  type: "quote" as const,
  exchange: "binance",
  symbol: "BTCUSDT",
  bidPrice: 1,
  bidQuantity: 1,
  askPrice: 2,
  askQuantity: 1,
  timestamp: new Date(eventTime).toISOString(),
  eventTime,
  receiveTime: eventTime,
});

const book = (snapshot: boolean, updateId: number): BookUpdate => ({
  type: "book",
  exchange: "binance",
  symbol: "BTCUSDT",
  snapshot,
  bids: [[100, updateId]],
  asks: [[101, 1]],
  updateId,
  timestamp: new Date(updateId).toISOString(),
  eventTime: updateId,
  receiveTime: updateId,
});

const feedInfo: FeedInfo = newFeedInfo("binance", {
  state: "connected",
  emulator: true,
  since: 0,
});

/** What the stream holds, per subject; `losing` drops what is published meanwhile (NATS down). */
function fakeLog() {
  const subjects = new Map<string, MdEnvelope[]>();
  let epoch: string | undefined;
  let epochs = 0;
  const log = {
    subjects,
    losing: false,
    store(subject: string, envelope: MdEnvelope, rollup: boolean) {
      if (log.losing) return;
      const list = rollup ? [] : subjects.get(subject) ?? [];
      list.push(structuredClone(envelope));
      subjects.set(subject, list);
    },
    state(): LogState {
      const last = new Map<string, MdEnvelope>();
      let lastSeq = 0;
      for (const [subject, list] of subjects) {
        if (list.length === 0) continue;
        last.set(subject, list[list.length - 1]);
        lastSeq = Math.max(lastSeq, list[list.length - 1].seq);
      }
      const fresh = epoch === undefined || last.size === 0;
      if (fresh) epoch = `epoch-${++epochs}`;
      return { epoch: epoch!, newEpoch: fresh, lastSeq, last };
    },
    /** The items stored on a subject. */
    items: (subject: string) => (subjects.get(subject) ?? []).map((e) => e.item),
    /** Every seq stored on a subject with its prev. */
    chain: (subject: string) => (subjects.get(subject) ?? []).map((e) => [e.seq, e.prev]),
  };
  return log;
}

type FakeLog = ReturnType<typeof fakeLog>;

/** A publisher writing into `log`; `books` holds the "local" books a snapshot is taken from. */
function node(log: FakeLog, options: Partial<PublisherOptions> = {}) {
  const sent: { subject: string; envelope: MdEnvelope; rollup: boolean }[] = [];
  const books = new Map<string, BookUpdate>();
  let hubSeq = 0;
  let clock = 10_000;
  const publisher: Publisher = createPublisher({
    publish(subject, envelope, { rollup }) {
      sent.push({ subject, envelope: structuredClone(envelope), rollup });
      log.store(subject, envelope, rollup);
    },
    readLogState: () => Promise.resolve(log.state()),
    bookSnapshot: (exchange, symbol) => books.get(`${exchange}|${symbol}`),
    feeds: () => [feedInfo],
    recoverySeconds: 300,
    maxPerStream: 20_000,
    now: () => clock,
    log: { info() {}, warning() {}, error() {} },
    ...options,
  });
  return {
    publisher,
    sent,
    books,
    /** Hands items to the publisher as the hub would (local hub seqs, not the published ones). */
    feed(...items: FeedItem[]) {
      for (const item of items) {
        if (item.type === "book") {
          books.set(`binance|${item.symbol}`, { ...item, snapshot: true });
        }
        publisher.tap({ seq: ++hubSeq, exchange: "binance", item, receiveTime: clock });
      }
    },
    advance(ms: number) {
      clock += ms;
    },
    /** Envelopes sent on one subject. */
    on: (subject: string) => sent.filter((s) => s.subject === subject).map((s) => s.envelope),
  };
}

const tradeIds = (items: MdEnvelope["item"][]) =>
  items.map((i) =>
    i.type === "trade" ? i.tradeId : `gap ${(i as GapEvent).fromId}..${(i as GapEvent).toId}`
  );

/** Every seq stored on subjects that have positions (status and instruments aside). */
const storedSeqs = (log: FakeLog) =>
  [...log.subjects].filter(([subject]) => positioned(subject)).flatMap(([, list]) =>
    list.map((e) => e.seq)
  );

/** True when every envelope's prev is the seq of the one before it (0 for the first). */
function assertChained(log: FakeLog, subject: string) {
  const chain = log.chain(subject);
  chain.forEach(([seq, prev], i) => {
    assert.equal(prev, i === 0 ? 0 : chain[i - 1][0], `prev of seq ${seq} on ${subject}`);
  });
}

Deno.test("a leader numbers every item with its own seq, prev = the last seq on the same subject", async () => {
  const log = fakeLog();
  const a = node(log);
  a.feed(trade(1)); // held: not leading yet
  assert.equal(a.sent.length, 0, "a standby publishes nothing");
  const summary = await a.publisher.resume("test");
  assert.equal(summary?.newEpoch, true, "an empty log gets a new epoch");
  assert.equal(a.publisher.state().mode, "leading");

  a.feed(
    trade(2),
    trade(7, "ETHUSDT"),
    quote(5_000),
    { type: "malformed", reason: "bad" },
    { type: "log", level: "info", message: "hello" },
    { type: "status", state: "connected" },
    trade(3),
  );
  const seqs = a.sent.filter((s) => positioned(s.subject)).map((s) => s.envelope.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "seqs count 1, 2, 3, ... over all subjects");
  assert.deepEqual(tradeIds(log.items(TRADE)), [1, 2, 3]);
  assertChained(log, TRADE);
  assert.equal(log.chain(ETH_TRADE)[0][1], 0, "first item of a subject: prev 0");
  assert.equal(log.items(QUOTE).length, 1);
  assert.equal(
    a.sent.filter((s) => ["malformed", "log"].includes(s.envelope.item.type)).length,
    0,
    "malformed and log items are not published",
  );
  assert.deepEqual(
    a.sent.filter((s) => s.envelope.item.type === "status").map((s) => s.subject).at(-1),
    "md.binance.feed._",
    "the feed's own status events go in order on its feed subject",
  );
  const status = a.on(STATUS);
  assert.equal(status.length, 1, "the feed state is published once on resume");
  assert.equal(status[0].item.type, "feed_info");
  assert.deepEqual(
    [status[0].seq, status[0].prev],
    [2, 0],
    "the status takes no position: it sits at the last seq given out (the held trade 1, then the feed event 2), prev 0",
  );
  assert.ok(a.sent.find((s) => s.subject === STATUS)?.rollup, "status is rolled up");
  assert.ok(a.sent.every((s) => s.envelope.epoch === summary?.epoch));

  const lastSeq = a.publisher.state().lastSeq;
  a.publisher.feedState({ ...feedInfo, state: "reconnecting" });
  assert.equal(a.on(STATUS).length, 2, "a feed state change is published at once");
  assert.deepEqual([a.on(STATUS)[1].seq, a.on(STATUS)[1].prev], [lastSeq, 0]);
  assert.equal(a.publisher.state().lastSeq, lastSeq, "a status does not move the counter");
  a.feed(trade(4));
  assert.equal(a.on(TRADE).at(-1)?.seq, lastSeq + 1, "the next item takes the next seq");
});

Deno.test("a new leader continues the log's seq and each subject's prev", async () => {
  const log = fakeLog();
  const a = node(log);
  await a.publisher.resume("first leader");
  a.feed(trade(1), trade(2));
  const lastOfA = a.publisher.state().lastSeq;
  a.publisher.standby("lease lost");
  a.feed(trade(3));
  assert.equal(log.items(TRADE).length, 2, "nothing is published once the lease is lost");

  const b = node(log);
  b.feed(trade(1), trade(2), trade(3));
  const summary = await b.publisher.resume("lease acquired");
  assert.equal(summary?.newEpoch, false, "the log's epoch is kept");
  assert.deepEqual(tradeIds(log.items(TRADE)), [1, 2, 3], "no duplicates: trades 1, 2 are stored");
  const stored = log.subjects.get(TRADE)!;
  assert.ok(stored[2].seq > lastOfA, "seq continues after the old leader's last");
  assertChained(log, TRADE);
  assert.equal(summary?.skipped, 2, "the two trades the log had are skipped");
});

Deno.test("takeover: held trades overlapping the log's last trade id are published once each", async () => {
  const log = fakeLog();
  const a = node(log);
  const b = node(log);
  await a.publisher.resume("lease acquired");
  // Both nodes see the same exchange stream; only the leader publishes.
  for (let id = 1; id <= 10; id++) {
    a.feed(trade(id));
    b.feed(trade(id));
  }
  // The leader dies; the standby keeps receiving.
  for (let id = 11; id <= 14; id++) b.feed(trade(id));
  const summary = await b.publisher.resume("lease acquired");
  assert.deepEqual(tradeIds(log.items(TRADE)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  assertChained(log, TRADE);
  assert.equal(summary?.gaps, 0);
  b.feed(trade(15));
  assert.deepEqual(tradeIds(log.items(TRADE)).slice(-2), [14, 15], "then live");
  assertChained(log, TRADE);
});

Deno.test("takeover with a hole: a gap item with the exact missing trade ids comes first", async () => {
  const log = fakeLog();
  const a = node(log);
  await a.publisher.resume("lease acquired");
  for (let id = 1; id <= 10; id++) a.feed(trade(id));
  // The standby started late (or its held ring was bounded): it holds 15.. only.
  const b = node(log);
  for (let id = 15; id <= 17; id++) b.feed(trade(id));
  const summary = await b.publisher.resume("lease acquired");
  assert.equal(summary?.gaps, 1);
  assert.deepEqual(tradeIds(log.items(TRADE)).slice(10), ["gap 11..14", 15, 16, 17]);
  assertChained(log, TRADE);
  const gap = log.items(TRADE)[10] as GapEvent;
  assert.equal(gap.channel, "trade");
  assert.equal(gap.symbol, "BTCUSDT");
});

Deno.test("a plugin's own gap held by the standby is clipped to what the log lacks", async () => {
  const log = fakeLog();
  const a = node(log);
  await a.publisher.resume("lease acquired");
  for (let id = 1; id <= 10; id++) a.feed(trade(id));
  const b = node(log);
  b.feed({
    type: "gap",
    exchange: "binance",
    symbol: "BTCUSDT",
    channel: "trade",
    fromId: 8,
    toId: 12,
    reason: "backfill unavailable",
    receiveTime: 1,
  }, trade(13));
  await b.publisher.resume("lease acquired");
  assert.deepEqual(tradeIds(log.items(TRADE)).slice(10), ["gap 11..12", 13]);
});

Deno.test("NATS restart: the resume republishes exactly the items the log lacks, then the held ones", async () => {
  const log = fakeLog();
  const a = node(log);
  await a.publisher.resume("lease acquired");
  for (let id = 1; id <= 5; id++) a.feed(trade(id));
  a.feed(quote(2_000));
  // The server dies: what is core-published now is lost (it never reaches the stream).
  log.losing = true;
  for (let id = 6; id <= 8; id++) a.feed(trade(id));
  a.feed(quote(2_001));
  const lost = a.sent.slice(-4).map((s) => s.envelope);
  a.publisher.pause("NATS disconnected");
  for (let id = 9; id <= 10; id++) a.feed(trade(id)); // held while NATS is down
  assert.equal(a.publisher.state().pending, 2);
  log.losing = false;

  const before = a.sent.length;
  const summary = await a.publisher.resume("NATS reconnected");
  assert.equal(summary?.republished, 4, "the four lost messages are republished");
  const republished = a.sent.slice(before, before + 4).map((s) => s.envelope);
  assert.deepEqual(republished, lost, "with the same seq and prev, in seq order");
  assert.deepEqual(tradeIds(log.items(TRADE)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assertChained(log, TRADE);
  assertChained(log, QUOTE);
  const seqs = storedSeqs(log);
  assert.equal(new Set(seqs).size, seqs.length, "no seq is used twice");
  assert.equal(
    log.subjects.get(STATUS)?.[0].seq,
    a.publisher.state().lastSeq,
    "the current status is published at the position the resume reached",
  );
  assert.equal(a.publisher.state().pending, 0);
});

Deno.test("held quotes older than the log's last quote are not published", async () => {
  const log = fakeLog();
  const a = node(log);
  const b = node(log);
  await a.publisher.resume("lease acquired");
  a.feed(quote(5_000));
  b.feed(quote(4_000), quote(5_000), quote(6_000));
  const summary = await b.publisher.resume("lease acquired");
  assert.deepEqual(log.items(QUOTE).map((q) => (q as { eventTime: number }).eventTime), [
    5_000,
    6_000,
  ]);
  assert.equal(summary?.skipped, 2);
});

Deno.test("books: a booksnap after each snapshot and every N deltas; a takeover sends one fresh snapshot", async () => {
  const log = fakeLog();
  const a = node(log, { bookSnapDeltas: 3 });
  const b = node(log, { bookSnapDeltas: 3 });
  await a.publisher.resume("lease acquired");
  a.feed(book(true, 1));
  b.feed(book(true, 1));
  let snaps = a.on(BOOKSNAP);
  assert.equal(snaps.length, 1, "a booksnap follows the book snapshot");
  assert.equal(snaps[0].seq, a.on(BOOK)[0].seq, "its seq is that of the last book message");
  assert.ok(a.sent.find((s) => s.subject === BOOKSNAP)?.rollup, "booksnap is rolled up");
  for (let u = 2; u <= 4; u++) {
    a.feed(book(false, u));
    b.feed(book(false, u));
  }
  snaps = a.on(BOOKSNAP);
  assert.equal(snaps.length, 2, "and another after 3 deltas");
  assert.equal(snaps[1].seq, a.on(BOOK).at(-1)?.seq);
  assert.equal((snaps[1].item as BookUpdate).updateId, 4);

  // Quiet book: the time cadence sends a booksnap for deltas since the last one.
  a.feed(book(false, 5));
  b.feed(book(false, 5));
  a.advance(5_000);
  a.publisher.tick();
  assert.equal(a.on(BOOKSNAP).length, 3, "a booksnap 5 s after deltas with no snapshot");

  // Takeover: the standby's held deltas are replaced by one snapshot of its local book.
  b.feed(book(false, 6), book(false, 7));
  const summary = await b.publisher.resume("lease acquired");
  assert.equal(summary?.snapshots, 1);
  const published = b.on(BOOK);
  assert.equal(published.length, 1, "one book message: the fresh snapshot");
  const fresh = published[0].item as BookUpdate;
  assert.equal(fresh.snapshot, true);
  assert.equal(fresh.updateId, 7, "the local book as it is now");
  assert.equal(published[0].prev, a.on(BOOK).at(-1)?.seq, "chained to the old leader's last");
  assert.equal(b.on(BOOKSNAP).at(-1)?.seq, published[0].seq, "and a booksnap of it");
  b.feed(book(false, 8));
  assert.equal((b.on(BOOK).at(-1)?.item as BookUpdate).updateId, 8, "then deltas live");
});

Deno.test("the held ring is bounded: a standby holding too little reports the hole as a gap", async () => {
  const log = fakeLog();
  const a = node(log);
  await a.publisher.resume("lease acquired");
  for (let id = 1; id <= 3; id++) a.feed(trade(id));
  const b = node(log, { maxPerStream: 2 });
  for (let id = 1; id <= 6; id++) b.feed(trade(id));
  assert.equal(b.publisher.state().pending, 2, "only the newest 2 are held");
  await b.publisher.resume("lease acquired");
  assert.deepEqual(tradeIds(log.items(TRADE)), [1, 2, 3, "gap 4..4", 5, 6]);
});

Deno.test("a log that does not answer is retried; a standby during the wait cancels the resume", async () => {
  const log = fakeLog();
  let failures = 2;
  const a = node(log, {
    retryMs: 5,
    readLogState: () =>
      failures-- > 0 ? Promise.reject(new Error("no responders")) : Promise.resolve(log.state()),
  });
  a.feed(trade(1));
  const summary = await a.publisher.resume("lease acquired");
  assert.equal(summary?.lastSeq, a.publisher.state().lastSeq);
  assert.deepEqual(tradeIds(log.items(TRADE)), [1]);

  const b = node(log, { retryMs: 5, readLogState: () => Promise.reject(new Error("down")) });
  const pending = b.publisher.resume("lease acquired");
  b.publisher.standby("lease lost");
  assert.equal(await pending, undefined);
  assert.equal(b.publisher.state().mode, "standby");
});

Deno.test("a publish that throws pauses the publisher; the next resume republishes that item", async () => {
  const log = fakeLog();
  let broken = false;
  const sent: MdEnvelope[] = [];
  const pub = createPublisher({
    publish(subject, envelope, { rollup }) {
      if (broken) throw new Error("connection closed");
      sent.push(envelope);
      log.store(subject, envelope, rollup);
    },
    readLogState: () => Promise.resolve(log.state()),
    bookSnapshot: () => undefined,
    feeds: () => [],
    recoverySeconds: 300,
    maxPerStream: 100,
    log: { info() {}, warning() {}, error() {} },
  });
  await pub.resume("lease acquired");
  pub.tap({ seq: 1, exchange: "binance", item: trade(1), receiveTime: 1 });
  broken = true;
  pub.tap({ seq: 2, exchange: "binance", item: trade(2), receiveTime: 2 });
  assert.equal(pub.state().mode, "paused");
  pub.tap({ seq: 3, exchange: "binance", item: trade(3), receiveTime: 3 });
  broken = false;
  await pub.resume("NATS reconnected");
  assert.deepEqual(tradeIds(log.items(TRADE)), [1, 2, 3]);
  assertChained(log, TRADE);
});

Deno.test("a node that lost the lease and regains it, nobody else having published, repairs its own lost tail", async () => {
  const log = fakeLog();
  const a = node(log);
  await a.publisher.resume("lease acquired");
  for (let id = 1; id <= 3; id++) a.feed(trade(id));
  log.losing = true;
  for (let id = 4; id <= 5; id++) a.feed(trade(id));
  log.losing = false;
  a.publisher.standby("lease lost (renewal failed)");
  a.feed(trade(6));
  const summary = await a.publisher.resume("lease acquired");
  assert.equal(summary?.republished, 2, "trades 4 and 5 are republished with their seqs");
  assert.deepEqual(tradeIds(log.items(TRADE)), [1, 2, 3, 4, 5, 6]);
  assertChained(log, TRADE);
});

Deno.test("a node regaining the lease after another leader published never reuses its old seqs", async () => {
  const log = fakeLog();
  const a = node(log);
  const b = node(log);
  await a.publisher.resume("lease acquired");
  for (let id = 1; id <= 3; id++) {
    a.feed(trade(id));
    b.feed(trade(id));
  }
  log.losing = true;
  a.feed(trade(4)); // lost: its seq is free for the next leader to give out
  log.losing = false;
  b.feed(trade(4), trade(5));
  a.publisher.standby("lease lost");
  a.feed(trade(5));
  await b.publisher.resume("lease acquired"); // publishes 4 and 5 with new seqs
  b.publisher.standby("lease lost");
  a.feed(trade(6));
  const summary = await a.publisher.resume("lease acquired");
  assert.equal(summary?.republished, 0, "its lost trade 4 is not republished: b published it");
  assert.deepEqual(tradeIds(log.items(TRADE)), [1, 2, 3, 4, 5, 6]);
  assertChained(log, TRADE);
  const seqs = storedSeqs(log);
  assert.equal(new Set(seqs).size, seqs.length, "no seq is used twice");
});

Deno.test("instruments and status: the current ones on takeover (rolled up), status again every 5 s", async () => {
  const log = fakeLog();
  const b = node(log);
  const listed = (symbols: string[]): FeedItem => ({
    type: "instruments",
    exchange: "binance",
    instruments: symbols.map((symbol) => ({
      symbol,
      base: "BTC",
      quote: "USDT",
      unified: "BTC/USDT",
    })),
    streamed: symbols,
  });
  b.feed(listed(["BTCUSDT"]), listed(["BTCUSDT", "ETHUSDT"]));
  await b.publisher.resume("lease acquired");
  const published = b.sent.filter((s) => s.subject === INSTRUMENTS);
  assert.equal(published.length, 1, "only the current instrument list");
  assert.ok(published[0].rollup);
  assert.deepEqual((published[0].envelope.item as { streamed: string[] }).streamed, [
    "BTCUSDT",
    "ETHUSDT",
  ]);
  assert.deepEqual(
    [published[0].envelope.seq, published[0].envelope.prev, b.on(STATUS)[0].seq],
    [1, 0, 1],
    "on a fresh log, the feed event takes position 1; instruments and status sit there",
  );
  assert.equal(b.publisher.state().lastSeq, 1, "they take no position: only the feed event does");
  b.feed(trade(1));
  assert.equal(b.on(TRADE)[0].seq, 2, "the first item follows the feed event: seq 2");
  b.advance(4_000);
  b.publisher.tick();
  assert.equal(b.on(STATUS).length, 1, "not before 5 s");
  b.advance(1_000);
  b.publisher.tick();
  assert.equal(b.on(STATUS).length, 2, "every 5 s");
  b.advance(5_000);
  b.publisher.tick();
  assert.deepEqual(
    b.on(STATUS).slice(1).map((e) => [e.seq, e.prev]),
    [[2, 0], [2, 0]],
    "each at the current position (the trade's), prev 0, as often as it is sent",
  );
  assert.equal(log.subjects.get(STATUS)?.length, 1, "the log keeps the newest status only");
  b.feed(listed(["BTCUSDT"]));
  assert.deepEqual(
    [b.on(INSTRUMENTS).at(-1)?.seq, b.on(INSTRUMENTS).at(-1)?.prev, b.publisher.state().lastSeq],
    [2, 0, 2],
    "a new instrument list live: at the current position too",
  );
});

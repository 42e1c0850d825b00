/**
 * Kraken's v2 book checksum, tested against Kraken's own worked examples (not
 * against our emulator): the BTC/USD snapshot of the checksum guide
 * (3310070434), the MATIC/USD snapshot and update of the `book` channel page
 * (2439117997, then 2114181697), and the v1 guide's checksum string (974947235).
 * The levels are the docs' examples as published (also reproduced verbatim in
 * several independent client test suites).
 */
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import type { BookStatusUpdate, BookUpdate, Level } from "../../../core/events.ts";
import { applySnapshot, createBook } from "../../../core/books/book.ts";
import {
  bookChecksum,
  checksumDigits,
  checksumString,
  levelsChecksum,
} from "../../../plugins/kraken/checksum.ts";
import { createBookSync } from "../../../plugins/kraken/book_sync.ts";
import { mapKrakenFrame } from "../../../plugins/kraken/mapper.ts";
import { unitsChecksum } from "../../../plugins/kraken/emulator/checksum.ts";
import type { FeedLogger } from "../../../core/feed/plugin.ts";

const QUIET: FeedLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** docs.kraken.com guides/spot-ws-book-v2: BTC/USD, price_precision 1, qty_precision 8. */
const BTC_BIDS: Level[] = [
  [45283.5, 0.10000000],
  [45283.4, 1.54582015],
  [45282.1, 0.10000000],
  [45281.0, 0.10000000],
  [45280.3, 1.54592586],
  [45279.0, 0.07990000],
  [45277.6, 0.03310103],
  [45277.5, 0.30000000],
  [45277.3, 1.54602737],
  [45276.6, 0.15445238],
];
const BTC_ASKS: Level[] = [
  [45285.2, 0.00100000],
  [45286.4, 1.54571953],
  [45286.6, 1.54571109],
  [45289.6, 1.54560911],
  [45290.2, 0.15890660],
  [45291.8, 1.54553491],
  [45294.7, 0.04454749],
  [45296.1, 0.35380000],
  [45297.5, 0.09945542],
  [45299.5, 0.18772827],
];

/** docs.kraken.com websocket-v2/book: the MATIC/USD snapshot example (JSON text as published). */
const MATIC_SNAPSHOT = `{"channel":"book","type":"snapshot","data":[{"symbol":"MATIC/USD",
"bids":[{"price":0.5666,"qty":4831.75496356},{"price":0.5665,"qty":6658.22734739},
{"price":0.5664,"qty":18724.91513344},{"price":0.5663,"qty":11563.92544914},
{"price":0.5662,"qty":14006.65365711},{"price":0.5661,"qty":17454.85679807},
{"price":0.566,"qty":18097.1547},{"price":0.5659,"qty":33644.89175666},
{"price":0.5658,"qty":148.3464},{"price":0.5657,"qty":606.70854372}],
"asks":[{"price":0.5668,"qty":4410.79769741},{"price":0.5669,"qty":4655.40412487},
{"price":0.567,"qty":49844.89424998},{"price":0.5671,"qty":24306.41678},
{"price":0.5672,"qty":29783.25223475},{"price":0.5673,"qty":57234.71239278},
{"price":0.5674,"qty":45065.04744},{"price":0.5675,"qty":5912.76380354},
{"price":0.5676,"qty":42514.92434778},{"price":0.5677,"qty":36304.0847022}],
"checksum":2439117997,"timestamp":"2023-10-06T17:35:55.440295Z"}]}`;

/** The docs' update example that follows it. */
const MATIC_UPDATE =
  `{"channel":"book","type":"update","data":[{"symbol":"MATIC/USD","bids":[{"price":0.5657,"qty":1098.3947558}],"asks":[],"checksum":2114181697,"timestamp":"2023-10-06T17:35:55.440295Z"}]}`;

/** The v1 guide's worked example: the concatenated string and its checksum. */
const V1_STRING =
  "50055005010500501550050205005025500503050050355005040500504550050505005000500499550049905004980500497550049705004965500496050049555004950500";

Deno.test("checksum formatting rule", async (t) => {
  await t.step(
    "the docs' example: 45285.2 → 452852 and 0.00100000 → 100000, concatenated",
    () => {
      assert.equal(checksumDigits(45285.2, 1), "452852");
      assert.equal(checksumDigits(0.001, 8), "100000");
      assert.equal(checksumString([[45285.2, 0.001]], [], 1, 8), "452852100000");
    },
  );

  await t.step("numbers are padded to the pair's precision before the dot is removed", () => {
    assert.equal(checksumDigits(0.566, 4), "5660", "0.566 is 0.5660 at price_precision 4");
    assert.equal(checksumDigits(18097.1547, 8), "1809715470000");
    assert.equal(checksumDigits(45281, 1), "452810");
    assert.equal(checksumDigits(1, 0), "1");
  });

  await t.step("agrees with toFixed-then-strip for any value of at most p decimals", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (p, units) => {
          const value = Number((units / 10 ** p).toFixed(p));
          const expected = value.toFixed(p).replace(".", "").replace(/^0+/, "");
          return checksumDigits(value, p) === expected;
        },
      ),
      { numRuns: 2000 },
    );
  });
});

Deno.test("Kraken's worked checksum examples", async (t) => {
  await t.step("BTC/USD snapshot of the checksum guide → 3310070434", () => {
    const s = checksumString(BTC_ASKS, BTC_BIDS, 1, 8);
    assert.ok(s.startsWith("452852100000452864154571953"), "asks string as in the guide");
    assert.ok(
      s.includes("45283510000000452834154582015"),
      "bids string follows, best bid first",
    );
    assert.equal(levelsChecksum(BTC_ASKS, BTC_BIDS, 1, 8), 3310070434);
  });

  await t.step("the same book held in a core OrderBook gives the same checksum", () => {
    const book = createBook();
    applySnapshot(book, [...BTC_BIDS].reverse(), BTC_ASKS);
    assert.equal(bookChecksum(book, 1, 8), 3310070434);
  });

  await t.step("MATIC/USD snapshot → 2439117997 only with precision padding", () => {
    const frame = mapKrakenFrame(MATIC_SNAPSHOT, 0, new Set(["MATIC/USD"]));
    assert.equal(frame.kind, "book");
    const { bids, asks, checksum } = frame.kind === "book" ? frame.books[0] : assert.fail();
    assert.equal(checksum, 2439117997);
    assert.equal(levelsChecksum(asks, bids, 4, 8), 2439117997);
    // Concatenating the numbers as the JSON text shows them (0.566, 18097.1547) is wrong.
    const strip = (n: number) => String(n).replace(".", "").replace(/^0+/, "");
    const naive = crc32([...asks, ...bids].map(([p, q]) => strip(p) + strip(q)).join(""));
    assert.equal(naive, 3830085102);
    assert.notEqual(naive, checksum);
  });

  await t.step("v1 guide string → 974947235, and the same from its levels", () => {
    assert.equal(crc32(V1_STRING), 974947235);
    const asks: Level[] = Array.from({ length: 10 }, (_, i) => [0.05005 + i * 0.00005, 0.000005]);
    const bids: Level[] = [
      0.05,
      0.04995,
      0.0499,
      0.0498,
      0.04975,
      0.0497,
      0.04965,
      0.0496,
      0.04955,
      0.0495,
    ]
      .map((p) => [p, 0.000005]);
    assert.equal(checksumString(asks, bids, 5, 8), V1_STRING);
    assert.equal(levelsChecksum(asks, bids, 5, 8), 974947235);
  });

  await t.step("only the top 10 levels per side count", () => {
    const deeperAsks: Level[] = [...BTC_ASKS, [45300.1, 2], [45301, 3]];
    const deeperBids: Level[] = [...BTC_BIDS, [45270, 1]];
    assert.equal(levelsChecksum(deeperAsks, deeperBids, 1, 8), 3310070434);
  });
});

Deno.test("the book sync verifies the docs' snapshot and update, and rejects a wrong checksum", async (t) => {
  const symbols = new Set(["MATIC/USD"]);
  const run = (frames: string[]) => {
    const emitted: BookUpdate[] = [];
    const statuses: BookStatusUpdate[] = [];
    const resyncs: string[] = [];
    const sync = createBookSync({
      symbol: "MATIC/USD",
      depth: 10,
      precision: () => ({ price: 4, qty: 8 }),
      emit: (e) => emitted.push(e),
      bookStatus: (s) => statuses.push(s),
      resync: (reason) => resyncs.push(reason),
      log: QUIET,
    });
    for (const text of frames) {
      const f = mapKrakenFrame(text, 1_700_000_000_000, symbols);
      if (f.kind !== "book") assert.fail(`not a book frame: ${JSON.stringify(f)}`);
      for (const m of f.books) sync.onMessage(m);
    }
    return { sync, emitted, statuses, resyncs };
  };

  await t.step("snapshot 2439117997, then update 2114181697: both verified and emitted", () => {
    const { sync, emitted, statuses, resyncs } = run([MATIC_SNAPSHOT, MATIC_UPDATE]);
    assert.deepEqual(resyncs, []);
    assert.deepEqual(statuses.map((s) => s.state), ["syncing", "synced"]);
    assert.equal(emitted.length, 2);
    assert.equal(emitted[0].snapshot, true);
    assert.deepEqual(emitted[0].bids[9], [0.5657, 606.70854372]);
    assert.equal(emitted[1].snapshot, false);
    assert.deepEqual(emitted[1].bids, [[0.5657, 1098.3947558]]);
    assert.equal(emitted[1].timestamp, "2023-10-06T17:35:55.440Z");
    assert.equal(sync.state(), "synced");
    assert.equal(bookChecksum(sync.book(), 4, 8), 2114181697);
  });

  await t.step("an update whose checksum does not match is not emitted and starts a resync", () => {
    const bad = MATIC_UPDATE.replace("2114181697", "2114181698");
    const { sync, emitted, statuses, resyncs } = run([MATIC_SNAPSHOT, bad]);
    assert.equal(emitted.length, 1, "only the snapshot was emitted");
    assert.equal(resyncs.length, 1);
    assert.match(resyncs[0], /update checksum mismatch: expected 2114181698, computed 2114181697/);
    assert.deepEqual(statuses.map((s) => s.state), ["syncing", "synced", "resyncing"]);
    assert.equal(sync.state(), "resyncing");
    assert.equal(sync.mismatches(), 1);
  });

  await t.step(
    "updates that arrive before the fresh snapshot are ignored; the snapshot restores sync",
    () => {
      const bad = MATIC_UPDATE.replace("2114181697", "1");
      const { sync, emitted, statuses, resyncs } = run([
        MATIC_SNAPSHOT,
        bad,
        MATIC_UPDATE,
        MATIC_SNAPSHOT,
      ]);
      assert.equal(resyncs.length, 1, "the stray update did not trigger a second resync");
      assert.deepEqual(emitted.map((e) => e.snapshot), [true, true]);
      assert.deepEqual(statuses.map((s) => s.state), ["syncing", "synced", "resyncing", "synced"]);
      assert.equal(sync.state(), "synced");
    },
  );

  await t.step("a snapshot with a wrong checksum is never emitted", () => {
    const { emitted, statuses, resyncs } = run([MATIC_SNAPSHOT.replace("2439117997", "7")]);
    assert.equal(emitted.length, 0);
    assert.equal(resyncs.length, 1);
    assert.match(resyncs[0], /snapshot checksum mismatch/);
    assert.deepEqual(statuses.map((s) => s.state), ["syncing", "resyncing"]);
  });
});

Deno.test("the emulator's integer checksum agrees with the plugin's on Kraken's own example", () => {
  const units = (levels: Level[]) =>
    levels.map(([p, q]) => [Math.round(p * 10), Math.round(q * 1e8)] as const);
  assert.equal(unitsChecksum(units(BTC_ASKS), units(BTC_BIDS)), 3310070434);
});

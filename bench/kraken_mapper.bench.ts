/**
 * `deno bench -A bench/kraken_mapper.bench.ts`
 *
 * Cost of turning Kraken v2 frames (text, as received) into normalized events:
 * trades through the mapper, and book updates through the whole verified path
 * (map, apply, truncate to depth 100, CRC32 checksum over the top 10, emit).
 * Each iteration handles a batch of {@link BATCH} distinct frames, so
 * time/iter ÷ BATCH is the cost of one frame.
 * @module
 */
import { crc32 } from "node:zlib";
import type { BookUpdate, Level } from "../core/events.ts";
import { applySnapshot, applyUpdate, createBook, topN } from "../core/books/book.ts";
import type { FeedLogger } from "../core/feed/plugin.ts";
import { createBookSync } from "../plugins/kraken/book_sync.ts";
import { bookChecksum, levelsChecksum } from "../plugins/kraken/checksum.ts";
import { type KrakenFrame, mapKrakenFrame } from "../plugins/kraken/mapper.ts";

/** Frames per bench iteration. */
const BATCH = 256;
const DEPTH = 100;
const SYMBOL = "BTC/USD";
const SYMBOLS: ReadonlySet<string> = new Set([SYMBOL, "ETH/USD"]);
const T0 = 1_767_225_600_000;
const QUIET: FeedLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Deterministic PRNG (mulberry32) so every run handles the same frames. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = prng(11);
const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "123Z");
const px = (ticks: number) => Math.round(ticks) / 10; // price_precision 1
const qty = () => Math.round(rnd() * 2e8) / 1e8 + 1e-8; // qty_precision 8

/** Recorded-style trade frames: what `wss://ws.kraken.com/v2` sends on `trade`. */
const tradeFrames = Array.from({ length: BATCH }, (_, i) =>
  JSON.stringify({
    channel: "trade",
    type: "update",
    data: Array.from({ length: 1 + (i % 3) }, (_, j) => ({
      symbol: SYMBOL,
      side: rnd() < 0.5 ? "buy" : "sell",
      price: px(870_000 + (rnd() - 0.5) * 200),
      qty: qty(),
      ord_type: rnd() < 0.7 ? "market" : "limit",
      trade_id: 90_000_000 + i * 3 + j,
      timestamp: iso(T0 + i * 7),
    })),
  }));

/**
 * A depth-100 book session: one snapshot, then {@link BATCH} updates as Kraken
 * sends them (changes inside the top 100 only, inserts for levels moving into
 * range, no removals for levels falling out), each with its checksum.
 */
function bookSession(): { snapshot: string; updates: string[] } {
  const full = createBook();
  const bids: Level[] = [], asks: Level[] = [];
  for (let i = 0; i < 300; i++) {
    bids.push([px(869_990 - i * 3), qty()]);
    asks.push([px(870_010 + i * 3), qty()]);
  }
  applySnapshot(full, bids, asks);
  const level = (l: Level) => ({ price: l[0], qty: l[1] });
  const frame = (type: string, b: Level[], a: Level[], ms: number) => {
    const top = topN(full, DEPTH);
    return JSON.stringify({
      channel: "book",
      type,
      data: [{
        symbol: SYMBOL,
        bids: b.map(level),
        asks: a.map(level),
        checksum: levelsChecksum(top.asks, top.bids, 1, 8),
        timestamp: iso(ms),
      }],
    });
  };
  const start = topN(full, DEPTH);
  const snapshot = frame("snapshot", start.bids, start.asks, T0);
  const updates: string[] = [];
  for (let i = 0; i < BATCH; i++) {
    const before = topN(full, DEPTH);
    const changes = { bids: [] as Level[], asks: [] as Level[] };
    for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
      const side = rnd() < 0.5 ? "bids" : "asks";
      const top = topN(full, 30)[side];
      const [price] = top[Math.floor(rnd() * top.length)];
      const r = rnd();
      if (r < 0.5) changes[side].push([price, qty()]);
      else if (r < 0.75) changes[side].push([price, 0]);
      else {
        const inside = side === "bids" ? price + 0.1 : price - 0.1;
        if (topN(full, 1).bids[0][0] < inside && inside < topN(full, 1).asks[0][0]) continue;
        changes[side].push([inside, qty()]);
      }
    }
    applyUpdate(full, changes);
    const after = topN(full, DEPTH);
    // What a depth-100 subscriber is sent: changes within its range only.
    const diff = (old: Level[], now: Level[], side: "bids" | "asks") => {
      const was = new Map(old), is = new Map(now);
      const out: Level[] = [];
      for (const [p] of old) {
        const deleted = changes[side].some(([cp, cq]) => cp === p && cq === 0);
        if (!is.has(p) && deleted) out.push([p, 0]); // a level merely pushed out gets nothing
      }
      for (const [p, q] of now) if (was.get(p) !== q) out.push([p, q]);
      return out;
    };
    updates.push(
      frame(
        "update",
        diff(before.bids, after.bids, "bids"),
        diff(before.asks, after.asks, "asks"),
        T0 + i,
      ),
    );
  }
  return { snapshot, updates };
}

const session = bookSession();

/** Runs the verified book path over one session; throws if any checksum fails. */
function runBookPath(): number {
  let emitted = 0;
  const sync = createBookSync({
    symbol: SYMBOL,
    depth: DEPTH,
    precision: () => ({ price: 1, qty: 8 }),
    emit: (_e: BookUpdate) => emitted++,
    bookStatus: () => {},
    resync: (reason) => {
      throw new Error(reason);
    },
    log: QUIET,
  });
  const feed = (text: string, t: number) => {
    const f: KrakenFrame = mapKrakenFrame(text, t, SYMBOLS);
    if (f.kind !== "book") throw new Error(f.kind === "malformed" ? f.reason : f.kind);
    for (const m of f.books) sync.onMessage(m);
  };
  feed(session.snapshot, T0);
  for (let i = 0; i < session.updates.length; i++) feed(session.updates[i], T0 + i);
  return emitted;
}

// Sanity: the generated session verifies end to end.
if (runBookPath() < BATCH / 2) throw new Error("book session did not verify");

let sink = 0;

Deno.bench({
  name: "JSON.parse only (trade frames)",
  group: "trade",
  baseline: true,
  fn() {
    for (const f of tradeFrames) sink += JSON.parse(f).data.length;
  },
});

Deno.bench({
  name: "mapKrakenFrame: trade → TradeEvent[] (validated)",
  group: "trade",
  fn() {
    for (const f of tradeFrames) {
      const r = mapKrakenFrame(f, T0, SYMBOLS);
      if (r.kind !== "trades") throw new Error(r.kind);
      sink += r.events.length;
    }
  },
});

Deno.bench({
  name: "mapKrakenFrame: book update (mapping only)",
  group: "book",
  baseline: true,
  fn() {
    for (const f of session.updates) sink += mapKrakenFrame(f, T0, SYMBOLS).kind.length;
  },
});

Deno.bench({
  name:
    "book update, full path: map + apply + truncate(100) + CRC32 verify + emit (1 snapshot + 256 updates)",
  group: "book",
  fn() {
    sink += runBookPath();
  },
});

const held = createBook();
{
  const f = mapKrakenFrame(session.snapshot, T0, SYMBOLS);
  if (f.kind === "book") applySnapshot(held, f.books[0].bids, f.books[0].asks);
}
const top = topN(held, 10);

Deno.bench({
  name: "bookChecksum (top 10 of a depth-100 core book) ×256",
  group: "checksum",
  baseline: true,
  fn() {
    for (let i = 0; i < BATCH; i++) sink += bookChecksum(held, 1, 8);
  },
});

Deno.bench({
  name: "naive checksum (toFixed + replace + regex per number) ×256",
  group: "checksum",
  fn() {
    const fmt = (v: number, p: number) => v.toFixed(p).replace(".", "").replace(/^0+/, "");
    for (let i = 0; i < BATCH; i++) {
      let s = "";
      for (const [p, q] of top.asks) s += fmt(p, 1) + fmt(q, 8);
      for (const [p, q] of top.bids) s += fmt(p, 1) + fmt(q, 8);
      sink += crc32(s);
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === 42) console.log(sink);
});

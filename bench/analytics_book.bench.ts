/**
 * Order-flow analytics on book updates: the cost per `onBook` of the rolling OFI (1 s, 10 s,
 * 60 s windows; 1, 5 and 10 levels) and per `bookMetrics` call, on 10-level books.
 * Run with `deno bench --config deno.dev.json -A bench/analytics_book.bench.ts`.
 * @module
 */
import type { Level } from "../core/events.ts";
import { createOfi } from "../core/analytics/ofi.ts";
import { bookMetrics } from "../core/analytics/book_metrics.ts";
import type { BookTop } from "../core/analytics/types.ts";
import { createRng } from "../testing.ts";

/** Levels per side of every book top. */
const DEPTH = 10;
/** Distinct pre-generated tops, replayed in a cycle (times keep increasing). */
const TOP_COUNT = 4096;
/** Gap between updates, ms (1 000 updates/s: 60 000 in the 60 s window, a busy symbol). */
const GAP_MS = 1;

/** Deterministic PRNG (the SDK's mulberry32) so every run replays the same data. */
const makeRandom = (seed: number): () => number => createRng(seed).next;

/** 10-level tops of a random-walk book: the touch moves a tick in one update of five. */
function makeTops(): BookTop[] {
  const random = makeRandom(14);
  let bestBid = 3_000_000;
  const tops: BookTop[] = [];
  for (let i = 0; i < TOP_COUNT; i++) {
    const r = random();
    if (r < 0.1) bestBid--;
    else if (r < 0.2) bestBid++;
    const side = (sign: number, from: number): Level[] =>
      Array.from(
        { length: DEPTH },
        (_, k) => [(from + sign * k) / 100, 0.01 + Math.round(random() * 1000) / 100] as Level,
      );
    tops.push({ bids: side(-1, bestBid), asks: side(1, bestBid + 1), time: 0 });
  }
  return tops;
}

const TOPS = makeTops();

/** A bench body feeding 100k tops to one OFI of `levels` levels (state kept across runs). */
function feed(levels: number): (b: Deno.BenchContext) => void {
  const ofi = createOfi({ levels });
  let time = 1_700_000_000_000;
  let i = 0;
  return (b: Deno.BenchContext) => {
    b.start();
    for (let n = 0; n < 100_000; n++) {
      const top = TOPS[i];
      i = (i + 1) & (TOP_COUNT - 1);
      time += GAP_MS;
      ofi.onBook({ bids: top.bids, asks: top.asks, time });
    }
    b.end();
  };
}

for (const levels of [1, 5, 10]) {
  const run = feed(levels);
  Deno.bench({
    name: `ofi onBook ×100k, 3 windows, ${levels} level(s), 10-level books`,
    group: "ofi",
    baseline: levels === 5,
    fn: run,
  });
}

{
  const ofi = createOfi();
  let time = 0;
  for (let i = 0; i < 100_000; i++) {
    time += GAP_MS;
    const top = TOPS[i & (TOP_COUNT - 1)];
    ofi.onBook({ bids: top.bids, asks: top.asks, time });
  }
  let now = time;
  Deno.bench({
    name: "ofi value(now), 3 windows, 5 levels, now advancing 1 ms",
    group: "ofi-value",
    fn: () => {
      now += 1;
      ofi.value(now);
    },
  });
}

Deno.bench({
  name: "bookMetrics ×100k, 10-level books, 2 depth bands",
  group: "metrics",
  fn: (b) => {
    b.start();
    let sink = 0;
    for (let n = 0; n < 100_000; n++) {
      const m = bookMetrics(TOPS[n & (TOP_COUNT - 1)]);
      sink += m.mid ?? 0;
    }
    b.end();
    if (sink === 42) console.log(sink);
  },
});

/**
 * Order-book benchmarks: a typical 10-level diff near the top of a deep book,
 * and the per-client cost of turning the new top N into a delta.
 * Run with `deno bench bench/book.bench.ts`.
 * @module
 */
import type { Level } from "../core/events.ts";
import {
  applySnapshot,
  applyUpdate,
  createBook,
  type LevelUpdate,
  type OrderBook,
} from "../core/books/book.ts";
import { advanceView, createBookView } from "../core/books/view.ts";
import { createRng } from "../testing.ts";

/** Levels per update, and how far from the top they land. */
const LEVELS_PER_UPDATE = 10;
const TOUCHED_DEPTH = 60;
/** Distinct pre-generated updates, replayed in a cycle. */
const UPDATE_COUNT = 4096;

/** Deterministic PRNG (the SDK's mulberry32) so every run replays the same data. */
const makeRandom = (seed: number): () => number => createRng(seed).next;

/** Price of the k-th tick away from the touch (tick 0.01 around 30000). */
function tickPrice(side: "bid" | "ask", k: number): number {
  return side === "bid" ? (3_000_000 - k) / 100 : (3_000_001 + k) / 100;
}

/** A book with `depth` contiguous levels per side. */
function deepBook(depth: number, random: () => number): OrderBook {
  const side = (name: "bid" | "ask"): Level[] =>
    Array.from(
      { length: depth },
      (_, k) => [tickPrice(name, k), 1 + Math.round(random() * 1000) / 100],
    );
  const book = createBook();
  applySnapshot(book, side("bid"), side("ask"), 1);
  return book;
}

/**
 * Updates of 10 levels each, mostly within the best 10 ticks: about three in
 * four replace a quantity, the rest remove or insert, so book depth stays level.
 */
function typicalUpdates(random: () => number): LevelUpdate[] {
  const present = {
    bid: new Array(TOUCHED_DEPTH).fill(true),
    ask: new Array(TOUCHED_DEPTH).fill(true),
  };
  const updates: LevelUpdate[] = [];
  for (let u = 0; u < UPDATE_COUNT; u++) {
    const update = {
      bids: [] as Level[],
      asks: [] as Level[],
      updateId: u + 2,
    };
    for (let n = 0; n < LEVELS_PER_UPDATE; n++) {
      const side = random() < 0.5 ? "bid" : "ask";
      const k = Math.floor(random() ** 2 * TOUCHED_DEPTH);
      const remove = present[side][k] && random() < 0.25;
      const qty = remove ? 0 : 0.01 + Math.round(random() * 1000) / 100;
      present[side][k] = !remove;
      (side === "bid" ? update.bids : update.asks).push([
        tickPrice(side, k),
        qty,
      ]);
    }
    updates.push(update);
  }
  return updates;
}

/** Endless replay of `updates`, one per call. */
function replay(updates: LevelUpdate[]): () => LevelUpdate {
  let i = 0;
  return () => updates[i++ % updates.length];
}

for (const depth of [1000, 5000]) {
  const random = makeRandom(depth);
  const book = deepBook(depth, random);
  const next = replay(typicalUpdates(random));
  Deno.bench({
    name: `applyUpdate 10 levels, ${depth}-level book`,
    group: "applyUpdate",
    baseline: depth === 1000,
    fn: () => {
      applyUpdate(book, next());
    },
  });
}

/** Independent copy of a book (to keep consecutive states side by side). */
function cloneBook(book: OrderBook): OrderBook {
  return {
    bids: {
      prices: [...book.bids.prices],
      quantities: [...book.bids.quantities],
    },
    asks: {
      prices: [...book.asks.prices],
      quantities: [...book.asks.quantities],
    },
    sequence: book.sequence,
    updateId: book.updateId,
  };
}

/**
 * Consecutive states of a 5000-level book, each one typical update apart,
 * visited forth and back (0, 1, ..., 63, 62, ..., 1, 0, ...) so every step
 * is one typical update and only `advanceView` is timed.
 */
function pingPongStates(random: () => number): () => OrderBook {
  const book = deepBook(5000, random);
  const states = [cloneBook(book)];
  for (const update of typicalUpdates(random).slice(0, 63)) {
    applyUpdate(book, update);
    states.push(cloneBook(book));
  }
  const period = 2 * (states.length - 1);
  let step = 0;
  return () => {
    const k = step++ % period;
    return states[k < states.length ? k : period - k];
  };
}

for (const n of [20, 1000]) {
  const next = pingPongStates(makeRandom(n));
  const view = createBookView(next(), n);
  Deno.bench({
    name: `advanceView N=${n}, one 10-level update, 5000-level book`,
    group: "advanceView",
    baseline: n === 20,
    fn: () => {
      advanceView(view, next());
    },
  });
}

{
  const random = makeRandom(7);
  const book = deepBook(5000, random);
  const next = replay(typicalUpdates(random));
  const views = Array.from({ length: 100 }, () => createBookView(book, 20));
  Deno.bench({
    name: "applyUpdate + advanceView for 100 views N=20, 5000-level book",
    group: "fan-out",
    fn: () => {
      applyUpdate(book, next());
      for (const view of views) advanceView(view, book);
    },
  });
}

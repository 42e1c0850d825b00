/**
 * Top-N views of an {@link OrderBook} for clients. A client gets
 * {@link viewSnapshot}, then the deltas {@link advanceView} returns: absolute
 * quantities, 0 removes. After applying each delta the client's book equals
 * the gateway's top N exactly — a level that moves into the top N (because a
 * better one left) arrives as an insert, and one pushed out (because a better
 * one arrived) arrives with quantity 0. Each view numbers its deltas 1, 2, 3,
 * ...; an update that leaves the top N unchanged emits nothing.
 *
 * A delta costs O(N): the view's previous top N and the book's current top N
 * are both sorted best-first, so they are diffed by a single merge.
 * @module
 */
import type { Level } from "../events.ts";
import { BookError, type BookSide, type OrderBook } from "./book.ts";

/** Depth a client gets when it does not ask for one. */
export const DEFAULT_VIEW_DEPTH = 20;

/** Largest depth a client may ask for. */
export const MAX_VIEW_DEPTH = 1000;

/** Levels a view holds for one side, best first, as parallel arrays. */
export interface ViewSide {
  prices: number[];
  quantities: number[];
}

/** What one client has been sent of a book: its top `depth` levels per side. */
export interface BookView {
  /** Levels per side the client follows. */
  readonly depth: number;
  /** Sequence of the last delta emitted (0 before the first). */
  seq: number;
  /** The bids the client holds, best first (at most `depth`). */
  bids: ViewSide;
  /** The asks the client holds, best first (at most `depth`). */
  asks: ViewSide;
}

/** A client's full top-N image: what it holds after `seq` deltas. */
export interface ViewSnapshot {
  bids: Level[];
  asks: Level[];
  seq: number;
}

/** Changed levels, best first per side, absolute quantity (0 removes). */
export interface ViewDelta {
  bids: Level[];
  asks: Level[];
  /** The view's previous `seq` + 1. */
  seq: number;
}

/**
 * A view of the best `depth` levels of `book` (integer 1..{@link MAX_VIEW_DEPTH}),
 * holding the book's current top N, with `seq` 0.
 */
export function createBookView(
  book: OrderBook,
  depth: number = DEFAULT_VIEW_DEPTH,
): BookView {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_VIEW_DEPTH) {
    const allowed = `an integer 1..${MAX_VIEW_DEPTH}`;
    throw new BookError(`view depth must be ${allowed}, got ${String(depth)}`);
  }
  return {
    depth,
    seq: 0,
    bids: copyTop(book.bids, depth),
    asks: copyTop(book.asks, depth),
  };
}

/** The levels the view holds and its current `seq`, as fresh arrays. */
export function viewSnapshot(view: BookView): ViewSnapshot {
  return {
    bids: viewLevels(view.bids),
    asks: viewLevels(view.asks),
    seq: view.seq,
  };
}

/**
 * Brings the view up to the book's current top N. Returns the delta that takes
 * a client from the view's previous state to the new one (and advances `seq` by
 * 1), or `null` when the top N did not change. O(depth), whatever the book size.
 */
export function advanceView(view: BookView, book: OrderBook): ViewDelta | null {
  const bids = diffSide(view.bids, book.bids, view.depth, true);
  const asks = diffSide(view.asks, book.asks, view.depth, false);
  if (bids.length === 0 && asks.length === 0) return null;
  if (bids.length > 0) copyTopInto(view.bids, book.bids, view.depth);
  if (asks.length > 0) copyTopInto(view.asks, book.asks, view.depth);
  view.seq += 1;
  return { bids, asks, seq: view.seq };
}

/**
 * Re-captures the book's top N without emitting a delta (after a resnapshot,
 * when the client is sent a fresh snapshot instead). `seq` is kept, so the
 * returned snapshot carries the `seq` the next delta builds on.
 */
export function resetView(view: BookView, book: OrderBook): ViewSnapshot {
  copyTopInto(view.bids, book.bids, view.depth);
  copyTopInto(view.asks, book.asks, view.depth);
  return viewSnapshot(view);
}

/**
 * Levels that differ between `prev` (all of it, best first) and the best
 * `depth` levels of `cur` (worst-first book storage): removed levels with
 * quantity 0, new or changed ones with their current quantity, best first.
 */
function diffSide(
  prev: ViewSide,
  cur: BookSide,
  depth: number,
  isBid: boolean,
): Level[] {
  const out: Level[] = [];
  const pp = prev.prices;
  const pq = prev.quantities;
  const cp = cur.prices;
  const cq = cur.quantities;
  const np = pp.length;
  // Walk the book from its best level (the last index) downwards.
  const stop = cp.length - 1 - Math.min(depth, cp.length);
  let i = 0;
  let j = cp.length - 1;
  while (i < np && j > stop) {
    const a = pp[i];
    const b = cp[j];
    if (a === b) {
      if (pq[i] !== cq[j]) out.push([b, cq[j]]);
      i++;
      j--;
    } else if (isBid ? a > b : a < b) {
      out.push([a, 0]);
      i++;
    } else {
      out.push([b, cq[j]]);
      j--;
    }
  }
  for (; i < np; i++) out.push([pp[i], 0]);
  for (; j > stop; j--) out.push([cp[j], cq[j]]);
  return out;
}

/** The best `depth` levels of a book side, best first. */
function copyTop(side: BookSide, depth: number): ViewSide {
  const top: ViewSide = { prices: [], quantities: [] };
  copyTopInto(top, side, depth);
  return top;
}

/** Overwrites `into` with the best `depth` levels of `side` (no allocation). */
function copyTopInto(into: ViewSide, side: BookSide, depth: number): void {
  const { prices, quantities } = into;
  const count = Math.min(depth, side.prices.length);
  const reuse = Math.min(count, prices.length);
  let i = side.prices.length - 1;
  for (let r = 0; r < reuse; r++, i--) {
    prices[r] = side.prices[i];
    quantities[r] = side.quantities[i];
  }
  for (let r = reuse; r < count; r++, i--) {
    prices.push(side.prices[i]);
    quantities.push(side.quantities[i]);
  }
  prices.length = count;
  quantities.length = count;
}

function viewLevels(side: ViewSide): Level[] {
  return side.prices.map((price, r): Level => [price, side.quantities[r]]);
}

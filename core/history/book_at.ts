/**
 * The book of one exchange + symbol as the gateway had it at a past instant:
 * the nearest stored snapshot at or before that time, then the recorded book
 * items after it, applied with the hub's rules ({@link applyItemToBook}).
 * @module
 */
import { applySnapshot, topN } from "../books/book.ts";
import type { Level } from "../events.ts";
import { decodeBook } from "./block.ts";
import { applyItemToBook, createMirroredBook } from "./book_mirror.ts";
import type { DayReader } from "./day_reader.ts";
import { mergedBatches } from "./merge.ts";
import { dayStart } from "./types.ts";

/** A book at a past instant. */
export interface HistoricalBook {
  exchange: string;
  symbol: string;
  /** The instant asked for, epoch ms. */
  at: number;
  /** False when the gateway had no valid book then (before the first snapshot, during a resync or a recording gap). */
  synced: boolean;
  /** Exchange update id of the last change applied. */
  updateId?: number;
  /** Hub sequence number and receive time of the last item applied (0 when none). */
  seq: number;
  time: number;
  /** Best first, at most `depth` levels per side. */
  bids: Level[];
  asks: Level[];
}

/** How far back to look for a snapshot or the start of a book (days). */
const LOOKBACK_DAYS = 2;

interface Start {
  seq: number;
  t: number;
  bids: Level[];
  asks: Level[];
  updateId?: number;
}

function findSnapshot(
  reader: DayReader,
  exchange: string,
  symbol: string,
  at: number,
): Start | undefined {
  const days = reader.days(at - LOOKBACK_DAYS * 86_400_000, at).reverse();
  for (const day of days) {
    const db = reader.db(day);
    if (!db) continue;
    try {
      const rows = db.prepare(
        `SELECT t, seq, data FROM snapshots WHERE exchange = ? AND symbol = ? AND t <= ?
         ORDER BY t DESC, seq DESC LIMIT 4`,
      ).all(exchange, symbol, at) as { t: number; seq: number; data: Uint8Array }[];
      for (const row of rows) {
        try {
          const book = decodeBook(row.data);
          return { seq: Number(row.seq), t: Number(row.t), ...book };
        } catch {
          reader.problems.corruptBlocks++;
        }
      }
    } catch {
      reader.problems.unreadableDays++;
    }
  }
  return undefined;
}

/**
 * Rebuilds the book at `at` (epoch ms, inclusive). `undefined` when nothing of that
 * book was recorded in the two days before `at`.
 */
export async function bookAt(
  reader: DayReader,
  exchange: string,
  symbol: string,
  at: number,
  depth = Infinity,
): Promise<HistoricalBook | undefined> {
  const entry = createMirroredBook();
  const snap = findSnapshot(reader, exchange, symbol, at);
  let from: number;
  let afterSeq = 0;
  let seq = 0, time = 0;
  let seen = false;
  if (snap) {
    applySnapshot(entry.book, snap.bids, snap.asks, snap.updateId);
    entry.synced = true;
    from = snap.t;
    afterSeq = snap.seq;
    seq = snap.seq;
    time = snap.t;
    seen = true;
  } else {
    const days = reader.days(at - LOOKBACK_DAYS * 86_400_000, at);
    if (days.length === 0) return undefined;
    from = dayStart(days[0]);
  }
  const batches = mergedBatches(reader, {
    from,
    to: at,
    exchanges: [exchange],
    symbols: [symbol],
    channels: ["book"],
    raw: false,
  });
  for await (const batch of batches) {
    for (const rec of batch) {
      if (rec.seq <= afterSeq) continue;
      const item = rec.item;
      if (item.type === "status" || item.type === "instruments") continue;
      if ((item.type === "book" || item.type === "book_status") && item.symbol !== symbol) continue;
      if (item.type === "book") seen = true;
      applyItemToBook(entry, item);
      seq = rec.seq;
      time = rec.receiveTime;
    }
  }
  if (!seen) return undefined;
  const levels = topN(entry.book, depth);
  return {
    exchange,
    symbol,
    at,
    synced: entry.synced,
    updateId: entry.book.updateId,
    seq,
    time,
    bids: levels.bids,
    asks: levels.asks,
  };
}

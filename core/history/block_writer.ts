/**
 * Writes batches of recorded items to the day databases, synchronously: groups
 * them by day and stream, cuts blocks of at most `maxBlockMs` / `maxBlockItems`,
 * encodes and compresses them, adds due book snapshots, and commits each day's
 * part of a batch in one transaction. The recorder calls it off the hub's path.
 *
 * Small blocks compress poorly (each carries its own key names and dictionaries),
 * so once a stream has `compactMs` of them they are merged into one block in one
 * transaction: a crash loses at most the last flush, and settled data is dense.
 * @module
 */
import { topN } from "../books/book.ts";
import { CODEC_COLUMNS_ZSTD, encodeBlock, encodeBook } from "./block.ts";
import { createBookMirror, type MirroredBook } from "./book_mirror.ts";
import { type DayStore, listDays, openDayStore } from "./day_store.ts";
import {
  dayOf,
  dayStart,
  kindOf,
  type RecordedItem,
  type SnapshotInput,
  symbolOf,
} from "./types.ts";

/** Settings of {@link createBlockWriter}. */
export interface BlockWriterOptions {
  dir: string;
  /** zstd level (default 3). */
  level?: number;
  /** Longest receive-time span of one block, ms (default 1000). */
  maxBlockMs?: number;
  /** Most items in one block (default 8192). */
  maxBlockItems?: number;
  /** Book updates between stored snapshots (default 1000). */
  snapshotEvery?: number;
  /** Longest time between stored snapshots of a changing book, ms (default 60000). */
  snapshotIntervalMs?: number;
  /** Span of small blocks merged into one, ms (default 60000; 0 turns merging off). */
  compactMs?: number;
}

/** Writes batches; every method may throw (disk full, unwritable folder). */
export interface BlockWriter {
  /**
   * Writes items of one UTC day (ascending `seq`) in one transaction. Returns how many
   * items could not be encoded (values that are not JSON-like) and were left out.
   */
  writeDay(
    day: string,
    items: readonly RecordedItem[],
    snapshots?: readonly SnapshotInput[],
  ): number;
  /** Highest sequence number recorded in `dir` before this writer started, or 0. */
  lastSeq(): number;
  /**
   * Problems since the last call that lost no item (a finished day file left unmerged or
   * not vacuumed, e.g. disk full while merging); the call empties the list.
   */
  warnings?(): string[];
  close(): void;
}

/** Longest receive-time span of a fresh block, ms. */
export const MAX_BLOCK_MS = 1000;
/** Longest span of a merged block, ms. */
export const MAX_COMPACT_MS = 60_000;
/** Longest receive-time span of any stored block (readers look back this far), ms. */
export const MAX_BLOCK_SPAN_MS = MAX_BLOCK_MS + MAX_COMPACT_MS;

/** Creates a writer over `options.dir` (created when missing). */
export function createBlockWriter(options: BlockWriterOptions): BlockWriter {
  const dir = options.dir;
  const level = options.level ?? 3;
  const maxBlockMs = Math.min(options.maxBlockMs ?? 1000, MAX_BLOCK_MS);
  const maxBlockItems = options.maxBlockItems ?? 8192;
  const compactMs = Math.min(options.compactMs ?? 60_000, MAX_COMPACT_MS);
  /** Small blocks of each stream of the open day not merged yet, with their items (no re-decoding). */
  const small = new Map<string, Pending>();
  /** Pending groups closed because the next block did not fit; merged after the current write. */
  let ready: Pending[] = [];
  const mirror = createBookMirror({
    every: options.snapshotEvery ?? 1000,
    intervalMs: options.snapshotIntervalMs ?? 60_000,
  });
  Deno.mkdirSync(dir, { recursive: true });
  let store: DayStore | undefined;
  let lastItem: RecordedItem | undefined;

  const startSeq = lastRecordedSeq(dir);

  const snapshot = (
    s: DayStore,
    exchange: string,
    symbol: string,
    b: MirroredBook,
    t: number,
    seq: number,
  ) => {
    const levels = topN(b.book, Infinity);
    const enc = encodeBook(
      { bids: levels.bids, asks: levels.asks, updateId: b.book.updateId },
      level,
    );
    s.insertSnapshot({
      exchange,
      symbol,
      t,
      seq,
      codec: CODEC_COLUMNS_ZSTD,
      data: enc.data,
    });
    mirror.stored(exchange, symbol, t);
  };

  /** Problems that lost nothing (see {@link BlockWriter.warnings}). */
  let warnings: string[] = [];

  /**
   * Closes a day store after merging what is pending. A day that is over gives its free
   * pages back (merging deletes the small blocks): `PRAGMA incremental_vacuum`, not `VACUUM`,
   * which attaches a temporary database and so fails under Deno unless run with `-A`
   * (`node:sqlite` then allows no attached database). Never throws: the items are committed
   * already, a failed merge or vacuum only leaves a larger file, and is kept as a warning.
   * The day's merge state is dropped either way: its row ids mean nothing in the next file.
   */
  const finish = (s: DayStore) => {
    try {
      compact(s, true);
      // Each step of this pragma frees one page: `all()` runs it to the end (`exec` would not).
      if (s.day < dayOf(Date.now())) s.db.prepare("PRAGMA incremental_vacuum").all();
    } catch (err) {
      warnings.push(`finishing the day file of ${s.day}: ${messageOf(err)}`);
    } finally {
      small.clear();
      ready = [];
      try {
        s.close();
      } catch (err) {
        warnings.push(`closing the day file of ${s.day}: ${messageOf(err)}`);
      }
    }
  };

  const storeFor = (day: string): DayStore => {
    if (store?.day === day) return store;
    // Forget the previous day before finishing it, so nothing can write to it afterwards.
    const previous = store;
    store = undefined;
    if (previous) finish(previous);
    const next = openDayStore(dir, day);
    store = next;
    // A new day file opens with a snapshot of every synced book, so each day stands alone.
    if (lastItem) {
      const t = Math.max(dayStart(day), lastItem.receiveTime);
      next.transaction(() => {
        for (const [exchange, symbol, b] of mirror.synced()) {
          snapshot(next, exchange, symbol, b, t, lastItem!.seq);
        }
      });
    }
    return next;
  };

  /** Encodes and inserts one block (uncompressed when `plain`); returns its row id and time range. */
  const insert = (s: DayStore, items: readonly RecordedItem[], plain = false) => {
    const first = items[0];
    let t0 = first.receiveTime, t1 = first.receiveTime;
    for (const it of items) {
      if (it.receiveTime < t0) t0 = it.receiveTime;
      if (it.receiveTime > t1) t1 = it.receiveTime;
    }
    const enc = encodeBlock(items, plain ? 0 : level);
    const id = s.insertBlock({
      exchange: first.exchange,
      symbol: symbolOf(first.item),
      kind: kindOf(first.item),
      t0,
      t1,
      s0: first.seq,
      s1: items[items.length - 1].seq,
      n: items.length,
      codec: enc.codec,
      rawSize: enc.rawSize,
      data: enc.data,
    });
    return { id, t0, t1 };
  };

  let rejected = 0;
  /** Inserts a fresh block and remembers it for merging; an item that cannot be encoded is left out. */
  const flushBlock = (s: DayStore, block: RecordedItem[]) => {
    let items = block;
    let stored: { id: number; t0: number; t1: number };
    // Fresh blocks are merged within compactMs: store them uncompressed until then.
    const plain = compactMs > 0;
    try {
      stored = insert(s, items, plain);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      items = block.filter(encodes);
      rejected += block.length - items.length;
      if (items.length === 0) return;
      stored = insert(s, items, plain);
    }
    const { id, t0, t1 } = stored;
    if (compactMs <= 0) return;
    const key = streamKey(items[0]);
    let pending = small.get(key);
    if (
      pending &&
      (t1 - pending.t0 > compactMs || pending.items.length + items.length > maxBlockItems)
    ) {
      // This block would overfill the pending minute: that minute is merged as it is.
      ready.push(pending);
      small.delete(key);
      pending = undefined;
    }
    if (pending) {
      pending.ids.push(id);
      for (const it of items) pending.items.push(it);
      pending.t1 = Math.max(pending.t1, t1);
    } else small.set(key, { ids: [id], items: [...items], t0, t1 });
  };

  /** Merges the small blocks of each stream that has `compactMs` of them (all, when `all`). */
  const compact = (s: DayStore, all: boolean) => {
    const due = [...small].filter(([, p]) =>
      all || p.t1 - p.t0 >= compactMs || p.items.length >= maxBlockItems
    );
    for (const [key] of due) small.delete(key);
    const batches = [...ready, ...due.map(([, p]) => p)];
    ready = [];
    if (batches.length === 0) return;
    s.transaction(() => {
      for (const p of batches) {
        const merged = p.items;
        s.deleteBlocks(p.ids);
        // Cut by count and by span: readers look back at most MAX_BLOCK_SPAN_MS for a block.
        let start = 0;
        for (let i = 1; i <= merged.length; i++) {
          if (
            i === merged.length || i - start >= maxBlockItems ||
            merged[i].receiveTime - merged[start].receiveTime >= compactMs ||
            merged[i].receiveTime < merged[start].receiveTime
          ) {
            insert(s, merged.slice(start, i));
            start = i;
          }
        }
      }
    });
  };

  return {
    writeDay(day, items, snapshots = []) {
      if (items.length === 0) return 0;
      rejected = 0;
      const s = storeFor(day);
      s.transaction(() => {
        const open = new Map<string, RecordedItem[]>();
        for (const it of items) {
          const key = streamKey(it);
          let block = open.get(key);
          if (
            block &&
            (block.length >= maxBlockItems || it.receiveTime - block[0].receiveTime >= maxBlockMs ||
              it.receiveTime < block[0].receiveTime)
          ) {
            flushBlock(s, block);
            block = undefined;
          }
          if (!block) open.set(key, block = []);
          block.push(it);
          const due = mirror.apply(it.exchange, it.item, it.receiveTime);
          if (due) snapshot(s, it.exchange, symbolOf(it.item), due, it.receiveTime, it.seq);
        }
        for (const block of open.values()) flushBlock(s, block);
        // Books taken from the hub (after a recording gap): stored, and the mirror re-anchored.
        for (const snap of snapshots) {
          const enc = encodeBook(snap.book, level);
          s.insertSnapshot({
            exchange: snap.exchange,
            symbol: snap.symbol,
            t: snap.t,
            seq: snap.seq,
            codec: CODEC_COLUMNS_ZSTD,
            data: enc.data,
          });
          mirror.reset(snap.exchange, snap.symbol, snap.book, snap.t);
        }
      });
      lastItem = items[items.length - 1];
      try {
        compact(s, false);
      } catch {
        // The items are committed; merging is retried after the next write.
      }
      return rejected;
    },
    lastSeq: () => startSeq,
    warnings() {
      const out = warnings;
      warnings = [];
      return out;
    },
    close() {
      const previous = store;
      store = undefined;
      if (previous) finish(previous);
    },
  };
}

/** Fresh blocks of one stream waiting to be merged, with their items (no re-decoding). */
interface Pending {
  ids: number[];
  items: RecordedItem[];
  t0: number;
  t1: number;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function streamKey(it: RecordedItem): string {
  return `${it.exchange}\u0000${symbolOf(it.item)}\u0000${kindOf(it.item)}`;
}

/** Whether one item encodes (its values are JSON-like: no bigint, function, class instance). */
function encodes(item: RecordedItem): boolean {
  try {
    encodeBlock([item], 0);
    return true;
  } catch {
    return false;
  }
}

/** Highest sequence number recorded in `dir` (newest readable day first), or 0. */
export function lastRecordedSeq(dir: string): number {
  const days = listDays(dir);
  for (let i = days.length - 1; i >= 0; i--) {
    let s: DayStore | undefined;
    try {
      s = openDayStore(dir, days[i]);
      const seq = s.maxSeq();
      if (seq > 0) return seq;
    } catch {
      // A damaged or foreign file: look at the day before.
    } finally {
      s?.close();
    }
  }
  return 0;
}

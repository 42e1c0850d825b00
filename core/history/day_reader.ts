/**
 * Read access to the day databases: opens each day once (read-only), finds the
 * blocks of a query in sequence order and decodes them, skipping (and counting)
 * anything damaged so a crashed recording still reads.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { decodeBlock, type DecodedBlock } from "./block.ts";
import { MAX_BLOCK_SPAN_MS } from "./block_writer.ts";
import { listDays, openDayReader } from "./day_store.ts";
import { dayOf, type StreamKind } from "./types.ts";

/** Which blocks to read. Times are receive times, epoch ms, inclusive. */
export interface BlockQuery {
  from: number;
  to: number;
  exchanges?: readonly string[];
  /** Symbols; exchange-wide blocks (symbol `""`) always match. */
  symbols?: readonly string[];
  kinds?: readonly StreamKind[];
}

/** A block found by a query, not decoded yet. */
export interface FoundBlock {
  exchange: string;
  symbol: string;
  kind: StreamKind;
  s0: number;
  codec: number;
  data: Uint8Array;
}

/** What went wrong while reading, counted instead of thrown. */
export interface ReadProblems {
  /** Blocks that did not decompress (zstd checksum) or decode (skipped). */
  corruptBlocks: number;
  /** Day files that could not be opened or read to the end. */
  unreadableDays: number;
}

/** Shared read access to one recording folder. */
export interface DayReader {
  readonly dir: string;
  readonly problems: ReadProblems;
  /** Days holding receive times in [from, to], oldest first. */
  days(from: number, to: number): string[];
  /** The open database of a day, or `undefined` when it cannot be read. */
  db(day: string): DatabaseSync | undefined;
  /** Blocks of one day matching `query`, ascending first sequence number. */
  blocks(day: string, query: BlockQuery): Iterable<FoundBlock>;
  /** Decodes a block (without `raw` payloads when `withRaw` is false); `undefined` (and counted) when damaged. */
  decode(block: FoundBlock, withRaw?: boolean): DecodedBlock | undefined;
  close(): void;
}

/** Latest time a day file can be named after (9999-12-31). */
const LAST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const clampTime = (t: number) => Number.isNaN(t) ? 0 : Math.min(Math.max(t, 0), LAST_TIME);

const placeholders = (n: number) => new Array(n).fill("?").join(",");

/** Creates read access to `dir`. */
export function createDayReader(dir: string): DayReader {
  const open = new Map<string, DatabaseSync | undefined>();
  const problems: ReadProblems = { corruptBlocks: 0, unreadableDays: 0 };
  const db = (day: string) => {
    if (!open.has(day)) {
      const handle = openDayReader(dir, day);
      if (!handle) problems.unreadableDays++;
      open.set(day, handle);
    }
    return open.get(day);
  };
  return {
    dir,
    problems,
    days(from, to) {
      const first = dayOf(clampTime(from)), last = dayOf(clampTime(to));
      return listDays(dir).filter((d) => d >= first && d <= last);
    },
    db,
    *blocks(day, q) {
      const handle = db(day);
      if (!handle) return;
      const where = ["t0 >= ?", "t0 <= ?", "t1 >= ?"];
      const args: (string | number)[] = [q.from - MAX_BLOCK_SPAN_MS, q.to, q.from];
      if (q.exchanges) {
        where.push(`exchange IN (${placeholders(q.exchanges.length)})`);
        args.push(...q.exchanges);
      }
      if (q.symbols) {
        where.push(`(symbol = '' OR symbol IN (${placeholders(q.symbols.length)}))`);
        args.push(...q.symbols);
      }
      if (q.kinds) {
        where.push(`kind IN (${placeholders(q.kinds.length)})`);
        args.push(...q.kinds);
      }
      const sql = `SELECT exchange, symbol, kind, s0, codec, data FROM blocks WHERE ${
        where.join(" AND ")
      } ORDER BY s0`;
      try {
        const rows = handle.prepare(sql).iterate(...args) as Iterable<FoundBlock>;
        for (const row of rows) yield row;
      } catch {
        // A damaged database: what was read stays valid; the rest of the day is skipped.
        problems.unreadableDays++;
      }
    },
    decode(block, withRaw = true) {
      try {
        return decodeBlock(block.data, withRaw, Number(block.codec));
      } catch {
        problems.corruptBlocks++;
        return undefined;
      }
    },
    close() {
      for (const handle of open.values()) {
        try {
          handle?.close();
        } catch { /* already closed */ }
      }
      open.clear();
    },
  };
}

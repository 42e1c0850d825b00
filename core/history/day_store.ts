/**
 * One SQLite database per UTC day (`<dir>/YYYY-MM-DD.sqlite`, WAL mode): the
 * table `blocks` holds compressed blocks of one stream each, `snapshots` holds
 * periodic book snapshots. This module owns the schema and the statements.
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { StreamKind } from "./types.ts";

const DAY_FILE = /^(\d{4}-\d\d-\d\d)\.sqlite$/;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blocks (
  id INTEGER PRIMARY KEY,
  exchange TEXT NOT NULL, symbol TEXT NOT NULL, kind TEXT NOT NULL,
  t0 INTEGER NOT NULL, t1 INTEGER NOT NULL, s0 INTEGER NOT NULL, s1 INTEGER NOT NULL,
  n INTEGER NOT NULL, codec INTEGER NOT NULL, raw_size INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS blocks_stream ON blocks (exchange, symbol, kind, t0);
CREATE INDEX IF NOT EXISTS blocks_seq ON blocks (s0);
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY,
  exchange TEXT NOT NULL, symbol TEXT NOT NULL, t INTEGER NOT NULL, seq INTEGER NOT NULL,
  codec INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS snapshots_at ON snapshots (exchange, symbol, t);
`;

/** A block row as stored. */
export interface BlockRow {
  exchange: string;
  symbol: string;
  kind: StreamKind;
  /** First/last receive time (min/max), epoch ms. */
  t0: number;
  t1: number;
  /** First/last hub sequence number. */
  s0: number;
  s1: number;
  n: number;
  codec: number;
  rawSize: number;
  data: Uint8Array;
}

/** A snapshot row as stored. */
export interface SnapshotRow {
  exchange: string;
  symbol: string;
  /** Receive time of the item after which the book had this state. */
  t: number;
  /** Hub sequence number of that item. */
  seq: number;
  codec: number;
  data: Uint8Array;
}

/** An open day database for writing. */
export interface DayStore {
  readonly day: string;
  readonly db: DatabaseSync;
  /** Inserts a block; returns its row id. */
  insertBlock(row: BlockRow): number;
  /** Deletes blocks by id. */
  deleteBlocks(ids: readonly number[]): void;
  insertSnapshot(row: SnapshotRow): void;
  /** Runs `fn` in one transaction (all or nothing). */
  transaction(fn: () => void): void;
  /** Highest recorded sequence number, or 0. */
  maxSeq(): number;
  close(): void;
}

/** Path of a day's database. */
export function dayPath(dir: string, day: string): string {
  return `${dir}/${day}.sqlite`;
}

/** The recorded days in `dir`, oldest first (empty when `dir` does not exist). */
export function listDays(dir: string): string[] {
  const days: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      const m = DAY_FILE.exec(entry.name);
      if (m && entry.isFile) days.push(m[1]);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return days.sort();
}

/** Opens (creating when needed) a day database for writing. */
export function openDayStore(dir: string, day: string): DayStore {
  const db = new DatabaseSync(dayPath(dir, day));
  try {
    // auto_vacuum must be chosen before the first table exists (files made earlier keep NONE).
    db.exec("PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    db.exec(SCHEMA);
  } catch (err) {
    db.close();
    throw err;
  }
  const insertBlock: StatementSync = db.prepare(
    `INSERT INTO blocks (exchange, symbol, kind, t0, t1, s0, s1, n, codec, raw_size, data)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertSnapshot: StatementSync = db.prepare(
    `INSERT INTO snapshots (exchange, symbol, t, seq, codec, data) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  return {
    day,
    db,
    insertBlock(r) {
      return Number(
        insertBlock.run(
          r.exchange,
          r.symbol,
          r.kind,
          r.t0,
          r.t1,
          r.s0,
          r.s1,
          r.n,
          r.codec,
          r.rawSize,
          r.data,
        ).lastInsertRowid,
      );
    },
    deleteBlocks(ids) {
      db.prepare(`DELETE FROM blocks WHERE id IN (${ids.map(() => "?").join(",")})`).run(...ids);
    },
    insertSnapshot(r) {
      insertSnapshot.run(r.exchange, r.symbol, r.t, r.seq, r.codec, r.data);
    },
    transaction(fn) {
      db.exec("BEGIN");
      try {
        fn();
        db.exec("COMMIT");
      } catch (err) {
        try {
          db.exec("ROLLBACK");
        } catch { /* the failed statement may have rolled back already */ }
        throw err;
      }
    },
    maxSeq: () => maxSeqOf(db),
    close: () => db.close(),
  };
}

/** Highest sequence number in an open day database (blocks and snapshots), or 0. */
function maxSeqOf(db: DatabaseSync): number {
  const row = db.prepare(
    "SELECT max(coalesce((SELECT max(s1) FROM blocks), 0), coalesce((SELECT max(seq) FROM snapshots), 0)) AS m",
  ).get() as { m: number } | undefined;
  return Number(row?.m ?? 0);
}

/** Opens a day database for reading; `undefined` when it does not exist or is not a database. */
export function openDayReader(dir: string, day: string): DatabaseSync | undefined {
  try {
    const db = new DatabaseSync(dayPath(dir, day), { readOnly: true });
    db.prepare("SELECT 1 FROM blocks LIMIT 1").get();
    return db;
  } catch {
    return undefined;
  }
}

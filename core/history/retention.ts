/**
 * Retention: deletes whole day files, oldest first, older than `retentionDays`
 * or while the recording is larger than `maxBytes`. Today's file is never deleted.
 * @module
 */
import { dayPath, listDays } from "./day_store.ts";
import { dayStart } from "./types.ts";

/** Retention limits; both optional. */
export interface RetentionOptions {
  /** Days kept, counting today (1 = only today). */
  retentionDays?: number;
  /** Most bytes on disk for the whole recording (the current day always stays). */
  maxBytes?: number;
}

/** Bytes one day takes on disk (database, WAL and shared-memory files). */
export function dayBytes(dir: string, day: string): number {
  let total = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      total += Deno.statSync(dayPath(dir, day) + suffix).size;
    } catch { /* absent */ }
  }
  return total;
}

function removeDay(dir: string, day: string): void {
  for (const suffix of ["-wal", "-shm", ""]) {
    try {
      Deno.removeSync(dayPath(dir, day) + suffix);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
}

/**
 * Applies the limits at time `now`; `keep` (today, being written) always stays.
 * Returns the days deleted, oldest first.
 */
export function applyRetention(
  dir: string,
  limits: RetentionOptions,
  now: number,
  keep: string,
): string[] {
  const deleted: string[] = [];
  let days = listDays(dir);
  if (limits.retentionDays !== undefined) {
    const keepDays = Math.max(1, Math.floor(limits.retentionDays));
    const cutoff = dayStart(new Date(now).toISOString().slice(0, 10)) -
      (keepDays - 1) * 86_400_000;
    for (const day of days) {
      if (day !== keep && dayStart(day) < cutoff) {
        removeDay(dir, day);
        deleted.push(day);
      }
    }
    days = days.filter((d) => !deleted.includes(d));
  }
  if (limits.maxBytes !== undefined) {
    const sizes = new Map(days.map((d) => [d, dayBytes(dir, d)]));
    let total = [...sizes.values()].reduce((a, b) => a + b, 0);
    for (const day of days) {
      if (total <= limits.maxBytes) break;
      if (day === keep) continue;
      removeDay(dir, day);
      deleted.push(day);
      total -= sizes.get(day)!;
    }
  }
  return deleted;
}

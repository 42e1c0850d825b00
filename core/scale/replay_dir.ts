/**
 * `/replay` on an edge: the recording a recorder node writes (REPLAY_DIR), read-only.
 * The edge never writes there; what it has recorded so far is the highest sequence number
 * in the folder's newest day file (the recorder numbers items with the envelope `seq`, the
 * same number the edge's hub gives them, so a replay continues into live without a gap).
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { openHistory } from "../history/mod.ts";
import { dayPath, listDays } from "../history/day_store.ts";
import type { ReplaySource } from "../replay/session.ts";

/** How long `flush()` waits for the recorder node to reach the edge's live position, ms. */
export const REPLAY_DIR_FLUSH_WAIT_MS = 3_000;

const POLL_MS = 100;

/**
 * A replay source reading the recording folder `dir` without writing to it. `liveSeq` is
 * the edge's last live sequence number: `flush()` waits (up to `waitMs`) until the folder
 * holds everything up to it, since the recorder node writes on its own schedule.
 */
export function openReplayDir(
  dir: string,
  liveSeq: () => number,
  waitMs: number = REPLAY_DIR_FLUSH_WAIT_MS,
): ReplaySource {
  return {
    history: () => openHistory(dir),
    flushedSeq: () => recordedSeq(dir),
    async flush() {
      const target = liveSeq();
      const deadline = Date.now() + waitMs;
      while (recordedSeq(dir) < target && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
  };
}

/** Highest sequence number recorded in `dir` (read-only), or 0. */
export function recordedSeq(dir: string): number {
  const days = listDays(dir);
  for (let i = days.length - 1; i >= 0; i--) {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(dayPath(dir, days[i]), { readOnly: true });
      const row = db.prepare(
        "SELECT max(coalesce((SELECT max(s1) FROM blocks), 0), coalesce((SELECT max(seq) FROM snapshots), 0)) AS m",
      ).get() as { m: number } | undefined;
      const seq = Number(row?.m ?? 0);
      if (seq > 0) return seq;
    } catch {
      // A day file being created or not a recording: look at the day before.
    } finally {
      db?.close();
    }
  }
  return 0;
}

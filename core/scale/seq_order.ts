/**
 * Puts hub sequence numbers back in order: JetStream does not store the log in
 * envelope-seq order after a NATS restart (the client's buffered messages, newer seqs,
 * are flushed first; the ingest republishes the seqs the server lost afterwards), yet
 * the ingest's seqs are consecutive, so whoever needs every seq in order (the recorder
 * node) holds what comes early until the seqs before it arrive.
 *
 * Rules: the expected seq is released, then whatever held seqs follow it; a later seq is
 * held (bounded by count); an earlier or already held one is a duplicate. When the seqs a
 * hole misses have not come `maxWaitMs` after the hole appeared (the oldest held message
 * arrived; a missing seq arriving restarts the wait), or the hold is full, they become a
 * gap and ordering continues from the lowest held seq. Messages without a position of
 * their own (rolled-up `status`, `instruments`, `booksnap`) are never offered.
 * @module
 */

/** Settings of {@link createSeqOrder}. */
export interface SeqOrderOptions {
  /**
   * Seqs at or below this are duplicates (the recording's last seq). Ordering starts at
   * the lowest seq seen above it: at once when it is `floor + 1`, else when `start`
   * says the reader caught up, or after `maxWaitMs`, or when the hold is full.
   */
  floor: number;
  /** Most seqs held (default 200,000). */
  maxHeld?: number;
  /** Longest wait for a missing seq while later ones are held, ms (default 10,000). */
  maxWaitMs?: number;
}

/** What {@link SeqOrder.release} hands out, in seq order. */
export type Released<T> =
  | { seq: number; value: T }
  | { gap: { fromSeq: number; toSeq: number; reason: "timeout" | "full" } };

/** Result of {@link SeqOrder.offer}. */
export type Offered = "held" | "duplicate" | "replaced";

/** An ordering of seqs (see the module doc). */
export interface SeqOrder<T> {
  /**
   * Takes a seq: `held` (to be released in order), `duplicate` (at or below the released
   * seqs, or held already and `same` says it is another message), `replaced` (held already,
   * and `same` says it is the same message delivered again: the new value replaces it).
   */
  offer(seq: number, value: T, same?: (held: T) => boolean, now?: number): Offered;
  /**
   * Everything releasable now, in seq order, gaps included. `caughtUp`: nothing older is
   * waiting to be delivered (lets the first release start without waiting).
   */
  release(now: number, caughtUp: boolean): Released<T>[];
  /** The next seq expected; undefined before the start. */
  expected(): number | undefined;
  /** Highest seq offered so far (or the floor). */
  highest(): number;
  /** Seqs held. */
  held(): number;
  /** The missing seqs the ordering waits for now, and since when; undefined when none. */
  hole(): { fromSeq: number; toSeq: number; since: number } | undefined;
  /** Seqs missing between the expected one and the highest held (at most `limit`). */
  missing(limit: number): number[];
  /** Held values. */
  values(): IterableIterator<T>;
  /** Starts over after `floor` (a new lineage); returns what was held, as a final release. */
  restart(floor: number, now: number): Released<T>[];
}

/** Creates a {@link SeqOrder}. */
export function createSeqOrder<T>(o: SeqOrderOptions): SeqOrder<T> {
  const maxHeld = o.maxHeld ?? 200_000;
  const maxWaitMs = o.maxWaitMs ?? 10_000;
  let floor = o.floor;
  let next: number | undefined;
  let top = floor;
  const held = new Map<number, T>();
  /** Held seqs in arrival order, with their arrival time (entries no longer held are passed over). */
  let arrivals: Array<[number, number]> = [];
  let head = 0;
  /** When a seq arrived that the ordering was waiting for. */
  let filledAt = -Infinity;
  /**
   * Since when the current hole is waited for: when the oldest message still held arrived
   * (the hole was there then), or the last time a missing seq arrived (progress).
   */
  const waitingSince = (): number => {
    while (head < arrivals.length && !held.has(arrivals[head][0])) head++;
    if (head > 1024 && head * 2 > arrivals.length) {
      arrivals = arrivals.slice(head);
      head = 0;
    }
    const oldest = head < arrivals.length ? arrivals[head][1] : Infinity;
    return Math.max(oldest, filledAt);
  };

  const lowestPending = (): number => {
    let low = Infinity;
    for (const s of held.keys()) if (s < low) low = s;
    return low;
  };

  const release = (now: number, caughtUp: boolean, force = false): Released<T>[] => {
    const out: Released<T>[] = [];
    if (held.size === 0) return out;
    if (next === undefined) {
      const low = lowestPending();
      if (
        !force && low !== floor + 1 && !caughtUp && now - waitingSince() < maxWaitMs &&
        held.size < maxHeld
      ) return out;
      next = low;
    }
    for (;;) {
      for (;;) {
        const value = held.get(next);
        if (value === undefined) break;
        held.delete(next);
        out.push({ seq: next, value });
        next++;
      }
      if (held.size === 0) break;
      const full = held.size >= maxHeld;
      if (!force && !full && now - waitingSince() < maxWaitMs) break;
      const low = lowestPending();
      out.push({
        gap: { fromSeq: next, toSeq: low - 1, reason: full && !force ? "full" : "timeout" },
      });
      next = low;
    }
    return out;
  };

  return {
    offer(seq, value, same, now = Date.now()) {
      if (seq <= floor || (next !== undefined && seq < next)) return "duplicate";
      const there = held.get(seq);
      if (there !== undefined) {
        if (same?.(there)) {
          held.set(seq, value);
          return "replaced";
        }
        return "duplicate";
      }
      held.set(seq, value);
      arrivals.push([seq, now]);
      if (seq === next && held.size > 1) filledAt = now;
      if (seq > top) top = seq;
      return "held";
    },
    release: (now, caughtUp) => release(now, caughtUp),
    expected: () => next,
    highest: () => top,
    held: () => held.size,
    hole() {
      if (next === undefined || held.size === 0) return undefined;
      return { fromSeq: next, toSeq: lowestPending() - 1, since: waitingSince() };
    },
    values: () => held.values(),
    missing(limit) {
      const out: number[] = [];
      if (next === undefined || held.size === 0) return out;
      for (let s = next; s < top && out.length < limit; s++) {
        if (!held.has(s)) out.push(s);
      }
      return out;
    },
    restart(newFloor, now) {
      const out = release(now, true, true);
      floor = newFloor;
      top = newFloor;
      next = undefined;
      arrivals = [];
      head = 0;
      filledAt = -Infinity;
      return out;
    },
  };
}

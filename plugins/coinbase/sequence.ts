/**
 * The per-connection `sequence_num` check. Coinbase numbers every message of a
 * connection, across all channels: the next number is the last + 1; a jump of
 * more than one means messages were dropped; a lower (or repeated) number is a
 * late arrival and is ignored.
 * @module
 */

/** How a message's sequence number relates to the ones before it. */
export type SequenceVerdict =
  /** The first number seen on this connection (the baseline). */
  | { kind: "first" }
  | { kind: "next" }
  /** `missed` messages were skipped. */
  | { kind: "gap"; expected: number; missed: number }
  /** Not newer than the last one: ignore the message. */
  | { kind: "old"; last: number };

/** Sequence state of one connection. */
export interface SequenceTracker {
  /** Checks `seq` and, unless it is old, makes it the last one. */
  check(seq: number): SequenceVerdict;
  /** The last accepted number, if any. */
  last(): number | undefined;
}

const NEXT: SequenceVerdict = { kind: "next" };
const FIRST: SequenceVerdict = { kind: "first" };

/** A tracker for a fresh connection. */
export function createSequenceTracker(): SequenceTracker {
  let last: number | undefined;
  return {
    check(seq) {
      if (last === undefined) {
        last = seq;
        return FIRST;
      }
      if (seq === last + 1) {
        last = seq;
        return NEXT;
      }
      if (seq <= last) return { kind: "old", last };
      const expected = last + 1;
      last = seq;
      return { kind: "gap", expected, missed: seq - expected };
    },
    last: () => last,
  };
}

/**
 * The simulated venue's in-flight actions (orders, cancels, amends sent but not yet arrived),
 * ordered by arrival time, ties in the order they were pushed. A sorted array with a moving
 * head: with a constant latency every push lands at the end. Private to `core/paper/`.
 * @module
 */

/**
 * One action in flight.
 *
 * @example
 * ```ts
 * import type { InFlight } from "./_action_queue.ts";
 *
 * const entry: InFlight<string> = { arrival: 1_025, item: "cancel P-1" };
 * ```
 */
export interface InFlight<T> {
  /** Venue time (ms) it reaches the venue. */
  arrival: number;
  item: T;
}

/**
 * Actions in flight, earliest arrival first.
 *
 * @example
 * ```ts
 * import { createActionQueue } from "./_action_queue.ts";
 *
 * const queue = createActionQueue<string>();
 * queue.push(1_025, "order");
 * queue.shiftUntil(1_030); // { arrival: 1025, item: "order" }
 * ```
 */
export interface ActionQueue<T> {
  /** Adds an action after every one arriving at or before `arrival`. */
  push(arrival: number, item: T): void;
  /** Removes and returns the earliest action if it arrives at or before `time`. */
  shiftUntil(time: number): InFlight<T> | undefined;
  /** Drops every action `drop` says yes to. */
  remove(drop: (item: T) => boolean): void;
  /** Number of actions in flight. */
  size(): number;
}

/** Compact the array once this many handled entries sit before the head. */
const COMPACT_AFTER = 1_024;

/**
 * An empty {@link ActionQueue}.
 *
 * @example
 * ```ts
 * import { createActionQueue } from "./_action_queue.ts";
 *
 * const queue = createActionQueue<number>();
 * queue.push(10, 1);
 * queue.push(5, 2);
 * queue.push(10, 3);
 * queue.shiftUntil(10)?.item; // 2, then 1, then 3
 * ```
 */
export function createActionQueue<T>(): ActionQueue<T> {
  let entries: InFlight<T>[] = [];
  let head = 0;
  return {
    push(arrival, item) {
      let lo = head;
      let hi = entries.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (entries[mid].arrival <= arrival) lo = mid + 1;
        else hi = mid;
      }
      if (lo === entries.length) entries.push({ arrival, item });
      else entries.splice(lo, 0, { arrival, item });
    },
    shiftUntil(time) {
      if (head >= entries.length || entries[head].arrival > time) return undefined;
      const entry = entries[head++];
      if (head > COMPACT_AFTER && head * 2 > entries.length) {
        entries = entries.slice(head);
        head = 0;
      }
      return entry;
    },
    remove(drop) {
      entries = entries.slice(head).filter((entry) => !drop(entry.item));
      head = 0;
    },
    size: () => entries.length - head,
  };
}

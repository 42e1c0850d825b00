/**
 * A bounded FIFO: keeps at most `maxItems` values and none older than `maxAgeMs`
 * (by the time each was added). The ingest publisher keeps what it published and
 * what it holds unpublished in these, one per subject.
 * @module
 */

/** A bounded first-in first-out buffer. */
export interface BoundedRing<T> {
  /** Adds a value stamped `at` (ms) and drops what is now over the bounds. */
  push(value: T, at: number): void;
  /** Drops values older than `now - maxAgeMs`. */
  evict(now: number): void;
  /** The values held, oldest first (a copy). */
  values(): T[];
  /** The newest value, if any. */
  last(): T | undefined;
  /** Number of values held. */
  size(): number;
  clear(): void;
}

/** Creates a ring holding at most `maxItems` values of at most `maxAgeMs` age (0 holds nothing). */
export function createRing<T>(maxItems: number, maxAgeMs: number): BoundedRing<T> {
  let items: T[] = [];
  let stamps: number[] = [];
  let head = 0;
  const compact = () => {
    if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      stamps = stamps.slice(head);
      head = 0;
    }
  };
  const evict = (now: number) => {
    const oldest = now - maxAgeMs;
    while (head < items.length && (items.length - head > maxItems || stamps[head] < oldest)) {
      head++;
    }
    if (head === items.length) {
      items = [];
      stamps = [];
      head = 0;
    } else compact();
  };
  return {
    push(value, at) {
      if (maxItems <= 0 || maxAgeMs <= 0) return;
      items.push(value);
      stamps.push(at);
      evict(at);
    },
    evict,
    values: () => items.slice(head),
    last: () => head < items.length ? items[items.length - 1] : undefined,
    size: () => items.length - head,
    clear() {
      items = [];
      stamps = [];
      head = 0;
    },
  };
}

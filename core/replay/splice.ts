/**
 * The live side of a replay that continues live: a hub tap added before the
 * recording is read, holding every live item (bounded) until the replay has
 * caught up; then the items after the last recorded one are drained and the tap
 * feeds the replay directly. An overflow is reported, never a silent gap.
 * @module
 */
import type { HubItem, HubTaps } from "../ingest/taps.ts";

/** A bounded buffer of live items fed by a hub tap. */
export interface SpliceBuffer {
  /** Oldest held item with `seq` above `afterSeq` (older ones are dropped), or undefined. */
  next(afterSeq: number): HubItem | undefined;
  /** From now on items go straight to `handler` (call once the buffer is empty). */
  direct(handler: (entry: HubItem) => void): void;
  /** Items held now. */
  size(): number;
  /** Removes the tap. */
  close(): void;
}

/**
 * Adds a tap to `taps` that holds up to `maxItems` items; past that the tap is removed
 * and `onOverflow` is called once (the replay then closes the connection).
 */
export function createSpliceBuffer(
  taps: HubTaps,
  maxItems: number,
  onOverflow: () => void,
): SpliceBuffer {
  let items: HubItem[] = [];
  let head = 0;
  let handler: ((entry: HubItem) => void) | undefined;
  let overflowed = false;
  const remove = taps.add((entry) => {
    if (handler) return handler(entry);
    if (overflowed) return;
    if (items.length - head >= maxItems) {
      overflowed = true;
      items = [];
      head = 0;
      remove();
      onOverflow();
      return;
    }
    items.push(entry);
  });
  return {
    next(afterSeq) {
      while (head < items.length) {
        const entry = items[head++];
        if (head > 4096 && head * 2 > items.length) {
          items = items.slice(head);
          head = 0;
        }
        if (entry.seq > afterSeq) return entry;
      }
      return undefined;
    },
    direct(h) {
      handler = h;
      items = [];
      head = 0;
    },
    size: () => items.length - head,
    close: remove,
  };
}

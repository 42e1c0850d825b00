/**
 * A bounded history of records with consecutive integer ids (trades, aggregate
 * trades), addressable by id, for REST backfill.
 * @module
 */

/** A bounded, id-addressable history. Ids must be pushed consecutively. */
export interface IdRing<T> {
  /** Appends the record with the next id. */
  push(id: number, item: T): void;
  /** Id of the newest record, 0 when empty. */
  lastId(): number;
  /** Id of the oldest record still served, or `lastId() + 1` when none is. */
  firstId(): number;
  /** Up to `limit` records from `fromId` upward (from the oldest kept one if `fromId` is older). */
  from(fromId: number, limit: number): T[];
  /** The newest `limit` records, oldest first. */
  recent(limit: number): T[];
  /** Stops serving every record with an id below `id`. */
  forgetBelow(id: number): void;
  /** Serves again whatever records are still retained. */
  unforget(): void;
}

/** Creates an id-addressable history that keeps the newest `capacity` records. */
export function createIdRing<T>(capacity: number): IdRing<T> {
  const cap = Math.max(1, capacity);
  const items: T[] = [];
  let last = 0;
  let floor = 0;
  const first = (): number => Math.max(last - Math.min(last, cap) + 1, floor, 1);
  const slice = (start: number, end: number): T[] => {
    const out: T[] = [];
    for (let id = start; id <= end; id++) out.push(items[(id - 1) % cap]);
    return out;
  };
  return {
    push(id, item) {
      if (id !== last + 1) throw new Error(`id ${id} is not consecutive to ${last}`);
      items[(id - 1) % cap] = item;
      last = id;
    },
    lastId: () => last,
    firstId: () => Math.min(first(), last + 1),
    from(fromId, limit) {
      const start = Math.max(fromId, first());
      return start > last ? [] : slice(start, Math.min(last, start + limit - 1));
    },
    recent(limit) {
      const start = Math.max(first(), last - limit + 1);
      return start > last ? [] : slice(start, last);
    },
    forgetBelow(id) {
      floor = Math.max(floor, id);
    },
    unforget() {
      floor = 0;
    },
  };
}

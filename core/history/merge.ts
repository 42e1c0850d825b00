/**
 * Reads recorded items in hub order: the blocks of a query (each one stream,
 * each in sequence order) are merged by sequence number with a small heap, so
 * the output reproduces the interleaving across exchanges and symbols a live
 * client saw. Memory holds only the blocks that overlap the current position.
 * @module
 */
import type { DayReader, FoundBlock } from "./day_reader.ts";
import type { EventFilter, RecordableItem, RecordedItem, StreamKind } from "./types.ts";

interface Cursor {
  seqs: number[];
  times: number[];
  items: RecordableItem[];
  exchange: string;
  i: number;
}

const head = (c: Cursor) => c.seqs[c.i];

function push(heap: Cursor[], c: Cursor): void {
  heap.push(c);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (head(heap[p]) <= head(heap[i])) break;
    [heap[p], heap[i]] = [heap[i], heap[p]];
    i = p;
  }
}

function siftDown(heap: Cursor[]): void {
  let i = 0;
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1, r = l + 1;
    let m = i;
    if (l < n && head(heap[l]) < head(heap[m])) m = l;
    if (r < n && head(heap[r]) < head(heap[m])) m = r;
    if (m === i) return;
    [heap[m], heap[i]] = [heap[i], heap[m]];
    i = m;
  }
}

/** Whether an item passes the filter's channel and marker rules. */
function itemFilter(filter: EventFilter): (item: RecordableItem) => boolean {
  const channels = filter.channels ? new Set<string>(filter.channels) : undefined;
  const markers = filter.markers ?? true;
  return (item) => {
    switch (item.type) {
      case "trade":
      case "quote":
      case "kline":
      case "book":
        return !channels || channels.has(item.type);
      case "gap":
        return !channels || channels.has("trade");
      case "book_status":
        return markers && (!channels || channels.has("book"));
      default:
        return markers;
    }
  };
}

/** The stream kinds that can hold items passing `filter`. */
function kindsOf(filter: EventFilter): StreamKind[] | undefined {
  if (!filter.channels) return undefined;
  return [...filter.channels, "event"];
}

/**
 * Recorded items passing `filter`, in hub sequence order, in batches of up to
 * `batchSize`. Damaged blocks are skipped and counted in `reader.problems`.
 */
export async function* mergedBatches(
  reader: DayReader,
  filter: EventFilter,
  batchSize = 4096,
): AsyncGenerator<RecordedItem[]> {
  const keep = itemFilter(filter);
  const exchanges = filter.exchanges && (filter.markers ?? true)
    ? [...filter.exchanges, ""]
    : filter.exchanges;
  const query = {
    from: filter.from,
    to: filter.to,
    exchanges,
    symbols: filter.symbols,
    kinds: kindsOf(filter),
  };
  let batch: RecordedItem[] = [];
  for (const day of reader.days(filter.from, filter.to)) {
    const rows = reader.blocks(day, query)[Symbol.iterator]();
    let pending: FoundBlock | undefined = rows.next().value ?? undefined;
    const heap: Cursor[] = [];
    const openNext = () => {
      const block = pending!;
      const next = rows.next();
      pending = next.done ? undefined : next.value;
      const decoded = reader.decode(block, filter.raw ?? true);
      if (decoded && decoded.seqs.length > 0) {
        push(heap, { ...decoded, exchange: block.exchange, i: 0 });
      }
    };
    for (;;) {
      while (pending && (heap.length === 0 || pending.s0 <= head(heap[0]))) openNext();
      if (heap.length === 0) break;
      const top = heap[0];
      let limit = pending ? pending.s0 : Infinity;
      if (heap.length > 1 && head(heap[1]) < limit) limit = head(heap[1]);
      if (heap.length > 2 && head(heap[2]) < limit) limit = head(heap[2]);
      const { seqs, times, items, exchange } = top;
      let i = top.i;
      const n = seqs.length;
      while (i < n && seqs[i] <= limit) {
        const t = times[i];
        if (t >= filter.from && t <= filter.to && keep(items[i])) {
          batch.push({ seq: seqs[i], exchange, receiveTime: t, item: items[i] });
          if (batch.length >= batchSize) {
            top.i = i + 1;
            yield batch;
            batch = [];
          }
        }
        i++;
      }
      top.i = i;
      if (i >= n) {
        const last = heap.pop()!;
        if (heap.length > 0 && last !== top) {
          heap[0] = last;
          siftDown(heap);
        }
      } else siftDown(heap);
    }
  }
  if (batch.length > 0) yield batch;
}

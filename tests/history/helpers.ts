/** Helpers shared by the history tests. */
import {
  createRecorder,
  type RecordedItem,
  type Recorder,
  type RecorderOptions,
} from "../../core/history/mod.ts";
import type { HubItem } from "./fixture_stream.ts";

/**
 * Records `items` in hub order into `dir` and closes the recorder; returns the
 * items as recorded (with their sequence numbers). Throws if anything was dropped.
 */
export async function recordAll(
  items: readonly HubItem[],
  dir: string,
  options: Partial<RecorderOptions> = {},
): Promise<RecordedItem[]> {
  const recorder = createRecorder({ dir, ...options });
  const recorded: RecordedItem[] = [];
  for (const it of items) {
    const seq = recorder.record(it);
    recorded.push({
      seq,
      exchange: it.exchange,
      receiveTime: it.receiveTime,
      item: it.item as RecordedItem["item"],
    });
  }
  await recorder.close();
  const stats = recorder.stats();
  if (stats.dropped !== 0 || stats.errors !== 0 || stats.written !== items.length) {
    throw new Error(`recording was not complete: ${JSON.stringify(stats)}`);
  }
  return recorded;
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "history-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Collects an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** One day in ms. */
export const DAY = 86_400_000;

/**
 * Queues 200 Kraken trades on each day `ages` days before `now` (one batch, nothing
 * flushed in between) into `recorder`.
 */
export function recordTradesOnDays(recorder: Recorder, now: number, ages: readonly number[]): void {
  for (const age of ages) {
    for (let i = 0; i < 200; i++) {
      const t = now - age * DAY + i;
      recorder.record({
        exchange: "kraken",
        item: {
          type: "trade",
          exchange: "kraken",
          symbol: "XBT/USD",
          eventTime: t,
          receiveTime: t,
          price: 61000 + i,
          quantity: 1,
          timestamp: new Date(t).toISOString(),
          tradeId: `${age}-${i}`,
          side: "sell",
        },
      });
    }
  }
}

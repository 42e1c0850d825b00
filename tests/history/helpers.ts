/** Helpers shared by the history tests. */
import { createRecorder, type RecordedItem, type RecorderOptions } from "../../core/history/mod.ts";
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

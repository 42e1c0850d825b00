/**
 * Where the recorder's batches go: straight into a {@link BlockWriter} on the
 * calling thread, or to a Worker that owns the writer, so encoding, compression
 * and a slow or failing disk never hold up the thread the hub runs on.
 * @module
 */
import type { BlockWriter, BlockWriterOptions } from "./block_writer.ts";
import type { RecordedItem, SnapshotInput } from "./types.ts";

/** The items of one UTC day, written in one transaction. */
export interface DayPart {
  day: string;
  items: RecordedItem[];
  /** Books to store after the items (re-anchoring after a recording gap). */
  snapshots?: SnapshotInput[];
}

/**
 * What became of one part, with the writer's warnings raised meanwhile (problems that
 * lost nothing, e.g. the previous day's file could not be merged or vacuumed).
 */
export type PartResult =
  & ({ ok: true; rejected: number } | { ok: false; error: string })
  & { warnings?: string[] };

/** Accepts batches; `onResult` gets each batch's results, in order. */
export interface WriteSink {
  write(parts: DayPart[], onResult: (results: PartResult[]) => void): void;
  /** Resolves once every batch written so far has its results. */
  idle(): Promise<void>;
  /** Closes the writer; resolves to its warnings raised while closing. */
  close(): Promise<string[]>;
}

/** Messages to the writer Worker. */
export type ToWriter =
  | { type: "open"; options: BlockWriterOptions }
  | { type: "write"; id: number; parts: DayPart[] }
  | { type: "close" };

/** Messages from the writer Worker. */
export type FromWriter =
  | { type: "opened"; error?: string }
  | { type: "written"; id: number; results: PartResult[] }
  | { type: "closed"; warnings: string[] };

/** Writes each part with `writer` (which may throw: the part then fails). */
export function writeParts(writer: BlockWriter, parts: readonly DayPart[]): PartResult[] {
  return parts.map((part): PartResult => {
    let result: PartResult;
    try {
      result = { ok: true, rejected: writer.writeDay(part.day, part.items, part.snapshots) };
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    const warnings = writer.warnings?.() ?? [];
    return warnings.length > 0 ? { ...result, warnings } : result;
  });
}

/** Closes `writer` (which may throw); returns its warnings raised while closing. */
export function closeWriter(writer: BlockWriter): string[] {
  writer.close();
  return writer.warnings?.() ?? [];
}

/** A sink writing synchronously on the calling thread. */
export function inlineSink(writer: BlockWriter): WriteSink {
  return {
    write(parts, onResult) {
      onResult(writeParts(writer, parts));
    },
    idle: () => Promise.resolve(),
    close() {
      return Promise.resolve(closeWriter(writer));
    },
  };
}

/**
 * A sink whose writer runs in a Worker (`writer_worker.ts`). `onFailure` hears about
 * a writer that could not open or a Worker that died; its batches then fail.
 */
export function workerSink(
  options: BlockWriterOptions,
  onFailure: (message: string) => void,
): WriteSink {
  const worker = new Worker(new URL("./writer_worker.ts", import.meta.url), { type: "module" });
  const pending = new Map<number, (results: PartResult[]) => void>();
  const partsOf = new Map<number, number>();
  let nextId = 1;
  let idleWaiters: (() => void)[] = [];
  let closed: ((warnings: string[]) => void) | undefined;
  let dead = false;
  const settleIdle = () => {
    if (pending.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };
  const failAll = (message: string) => {
    dead = true;
    for (const [id, done] of pending) {
      done(new Array(partsOf.get(id)!).fill({ ok: false, error: message }));
    }
    pending.clear();
    partsOf.clear();
    settleIdle();
  };
  worker.onmessage = (e: MessageEvent<FromWriter>) => {
    const msg = e.data;
    if (msg.type === "opened") {
      if (msg.error) onFailure(msg.error);
    } else if (msg.type === "written") {
      const done = pending.get(msg.id);
      pending.delete(msg.id);
      partsOf.delete(msg.id);
      done?.(msg.results);
      settleIdle();
    } else if (msg.type === "closed") closed?.(msg.warnings);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    const message = `recording writer stopped: ${e.message}`;
    onFailure(message);
    failAll(message);
    closed?.([]);
  };
  worker.postMessage({ type: "open", options } satisfies ToWriter);
  return {
    write(parts, onResult) {
      if (dead) {
        onResult(parts.map(() => ({ ok: false, error: "recording writer stopped" })));
        return;
      }
      const id = nextId++;
      pending.set(id, onResult);
      partsOf.set(id, parts.length);
      worker.postMessage({ type: "write", id, parts } satisfies ToWriter);
    },
    idle: () =>
      pending.size === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve)),
    async close() {
      let warnings: string[] = [];
      if (!dead) {
        warnings = await new Promise<string[]>((resolve) => {
          closed = resolve;
          worker.postMessage({ type: "close" } satisfies ToWriter);
        });
      }
      worker.terminate();
      failAll("recording closed");
      return warnings;
    },
  };
}

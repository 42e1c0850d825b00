/**
 * Fan-out of one time unit's streams: which downstream clients hold which
 * stream, upstream subscription on the first holder and release after the
 * last one left (after `releaseDelayMs`), and delivery of each upstream frame
 * to every holder in the form it asked for. Both forms are strings made once
 * per frame (the combined one is the frame as received, the raw one a slice
 * of it), never once per client.
 * @module
 */
import type { DepthBooks } from "./depth_books.ts";
import { parseStreamName, type StreamInfo } from "./stream_names.ts";
import {
  createUpstreamPool,
  type UpstreamPool,
  type UpstreamPoolOptions,
} from "./upstream_pool.ts";

/** A downstream connection as the hub sees it. */
export interface Subscriber {
  /** Wants `{"stream":..,"data":..}` envelopes rather than bare payloads. */
  readonly combined: boolean;
  /** Sends one text frame of `stream` (the subscriber applies its own backpressure policy). */
  deliver(text: string, stream: StreamInfo): void;
}

/** Options of {@link createStreamHub}. */
export interface StreamHubOptions {
  /** 1 for milliseconds, 1000 for microseconds (`timeUnit=MICROSECOND`). */
  timeMultiplier: 1 | 1000;
  books: DepthBooks;
  releaseDelayMs: number;
  /** Pool settings; the hub supplies the callbacks. */
  pool: Omit<UpstreamPoolOptions, "kindOf" | "onData" | "onInterrupted">;
}

/** The streams of one time unit. */
export interface StreamHub {
  subscribe(sub: Subscriber, stream: string): void;
  unsubscribe(sub: Subscriber, stream: string): void;
  /** Resolves `true` once `stream` is confirmed upstream (`false` on timeout). */
  whenActive(stream: string, timeoutMs: number): Promise<boolean>;
  /** Streams held upstream now (lingering ones included). */
  streamCount(): number;
  connectionCount(): number;
  readonly pool: UpstreamPool;
  close(): Promise<void>;
}

interface Entry {
  info: StreamInfo;
  subs: Set<Subscriber>;
  releaseTimer?: ReturnType<typeof setTimeout>;
  /** Book source key, for diff-depth streams. */
  bookKey?: string;
}

/** Creates a hub; upstream connections open with the first subscription. */
export function createStreamHub(o: StreamHubOptions): StreamHub {
  const entries = new Map<string, Entry>();
  const { books } = o;

  const pool = createUpstreamPool({
    ...o.pool,
    kindOf: (stream) => entries.get(stream)?.info.kind ?? "other",
    onData(stream, frame, receiveTime) {
      const entry = entries.get(stream);
      if (!entry) return;
      if (entry.bookKey !== undefined && !books.onDiff(entry.bookKey, frame.data, receiveTime)) {
        return;
      }
      for (const sub of entry.subs) {
        sub.deliver(sub.combined ? frame.combined : frame.data, entry.info);
      }
    },
    onInterrupted(stream, reason) {
      const key = entries.get(stream)?.bookKey;
      if (key !== undefined) books.interrupted(key, reason);
    },
  });

  const release = (stream: string, entry: Entry): void => {
    if (entries.get(stream) !== entry || entry.subs.size > 0) return;
    entries.delete(stream);
    pool.remove(stream);
    if (entry.bookKey !== undefined) books.removeSource(entry.bookKey);
  };

  return {
    subscribe(sub, stream) {
      let entry = entries.get(stream);
      if (!entry) {
        const info = parseStreamName(stream);
        if (!info) return;
        entry = { info, subs: new Set() };
        entries.set(stream, entry);
        if (info.kind === "depth") {
          entry.bookKey = `${o.timeMultiplier}|${stream}`;
          books.addSource({
            key: entry.bookKey,
            symbol: info.symbol!,
            rank: (o.timeMultiplier === 1 ? 0 : 2) + (info.speedMs === 100 ? 0 : 1),
          });
        }
        pool.add(stream);
      }
      clearTimeout(entry.releaseTimer);
      entry.releaseTimer = undefined;
      entry.subs.add(sub);
    },
    unsubscribe(sub, stream) {
      const entry = entries.get(stream);
      if (!entry || !entry.subs.delete(sub) || entry.subs.size > 0) return;
      if (o.releaseDelayMs <= 0) release(stream, entry);
      else entry.releaseTimer = setTimeout(() => release(stream, entry), o.releaseDelayMs);
    },
    whenActive: (stream, timeoutMs) => pool.whenActive(stream, timeoutMs),
    streamCount: () => entries.size,
    connectionCount: () => pool.connectionCount(),
    pool,
    async close() {
      for (const entry of entries.values()) clearTimeout(entry.releaseTimer);
      for (const entry of entries.values()) {
        if (entry.bookKey !== undefined) books.removeSource(entry.bookKey);
      }
      entries.clear();
      await pool.close();
    },
  };
}

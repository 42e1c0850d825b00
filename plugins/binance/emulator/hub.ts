/**
 * Subscription index and fan-out: which connections listen to which stream,
 * and delivery of one serialized payload to all of them (raw or wrapped in the
 * combined-stream envelope, in ms or µs), serializing each variant once.
 * @module
 */
import { combinedFrame, type TimeMultiplier } from "./payloads.ts";

/** What the hub needs from a connection. */
export interface Subscriber {
  /** Streams in subscription order. */
  readonly streams: Set<string>;
  /** Wrap payloads as `{"stream":...,"data":...}`. */
  readonly combined: boolean;
  /** 1 for ms timestamps, 1000 for µs. */
  readonly tm: TimeMultiplier;
  /** Sends one text frame. */
  send(text: string): void;
}

/** Subscription index with fan-out. */
export interface Hub<S extends Subscriber> {
  /** Subscribes `conn` to `stream` (no-op when already subscribed). */
  subscribe(conn: S, stream: string): void;
  /** Unsubscribes `conn` from `stream`. */
  unsubscribe(conn: S, stream: string): void;
  /** Unsubscribes `conn` from everything. */
  drop(conn: S): void;
  /** True when at least one connection listens to `stream`. */
  has(stream: string): boolean;
  /** Streams with at least one listener. */
  streams(): IterableIterator<string>;
  /** Sends the payload built by `build` to every listener of `stream`. */
  publish(stream: string, build: (tm: TimeMultiplier) => string): void;
}

/** Creates an empty hub. */
export function createHub<S extends Subscriber>(): Hub<S> {
  const listeners = new Map<string, Set<S>>();
  return {
    subscribe(conn, stream) {
      if (conn.streams.has(stream)) return;
      conn.streams.add(stream);
      let set = listeners.get(stream);
      if (!set) listeners.set(stream, set = new Set());
      set.add(conn);
    },
    unsubscribe(conn, stream) {
      if (!conn.streams.delete(stream)) return;
      const set = listeners.get(stream);
      if (!set) return;
      set.delete(conn);
      if (set.size === 0) listeners.delete(stream);
    },
    drop(conn) {
      for (const stream of [...conn.streams]) this.unsubscribe(conn, stream);
    },
    has: (stream) => listeners.has(stream),
    streams: () => listeners.keys(),
    publish(stream, build) {
      const set = listeners.get(stream);
      if (!set) return;
      let rawMs: string | undefined;
      let rawUs: string | undefined;
      let wrappedMs: string | undefined;
      let wrappedUs: string | undefined;
      for (const conn of set) {
        if (conn.tm === 1) {
          rawMs ??= build(1);
          conn.send(conn.combined ? (wrappedMs ??= combinedFrame(stream, rawMs)) : rawMs);
        } else {
          rawUs ??= build(1000);
          conn.send(conn.combined ? (wrappedUs ??= combinedFrame(stream, rawUs)) : rawUs);
        }
      }
    },
  };
}

/**
 * Lifecycle of one combined-stream connection (one "shard" of the streams):
 * connect, reconnect with capped exponential backoff and full jitter, declare
 * the connection `stale` when nothing at all arrives for `deadAfterMs`, and
 * replace it make-before-break on `serverShutdown` or after `rotateAfterMs`: the
 * replacement is opened first and the old one closed only once the replacement
 * delivers data. During the overlap both deliver; the feed dedupes. The
 * connection mechanics are the SDK's `createReconnectingSocket`; this module
 * adds Binance's subscription check, `serverShutdown` and the status wording.
 * @module
 */
import {
  type BackoffOptions,
  type Connection,
  createReconnectingSocket,
  type FeedLogger,
  type FeedState,
  type FeedStatusUpdate,
  type HandoverEvent,
} from "../../mod.ts";
import type { BinanceFrame } from "./mapper.ts";

/** Options of {@link createShard}. */
export interface ShardOptions {
  /** Prefix for status reasons and logs, e.g. `"connection 2/3: "` (empty with one connection). */
  label: string;
  url: string;
  streamCount: number;
  /** The connection is dead after this long without any frame. */
  deadAfterMs: number;
  backoff: BackoffOptions;
  connectTimeoutMs: number;
  controlMessagesPerSecond: number;
  rotateAfterMs: number;
  handoverTimeoutMs: number;
  emulator: boolean;
  now: () => number;
  random: () => number;
  log: FeedLogger;
  /** Maps and dispatches one frame; returns what it was. */
  onFrame(text: string, receiveTime: number): BinanceFrame;
  onStatus(update: FeedStatusUpdate): void;
  /** The shard has no delivering connection any more: data may have been missed. */
  onInterrupted(reason: string): void;
}

/** A running shard. */
export interface Shard {
  start(): void;
  /** Closes every socket and clears every timer. */
  stop(): Promise<void>;
  /** Reconnects so far (not counting make-before-break handovers). */
  reconnects(): number;
  /** Make-before-break handovers completed so far. */
  handovers(): number;
}

const DATA_KINDS: ReadonlySet<BinanceFrame["kind"]> = new Set(["trade", "quote", "kline", "depth"]);

/** Creates a shard; call `start()` to connect. */
export function createShard(o: ShardOptions): Shard {
  const { log, label } = o;
  let requestIds = 0;
  /** Id of each connection's LIST_SUBSCRIPTIONS request. */
  const listIds = new WeakMap<Connection, number>();
  /** Connections whose `connected` status was reported. */
  const announced = new WeakSet<Connection>();

  const status = (state: FeedState, reason?: string) =>
    o.onStatus({
      state,
      reason: reason === undefined ? undefined : label + reason,
      emulator: o.emulator,
    });

  const announce = (conn: Connection, reason: string) => {
    if (announced.has(conn) || conn !== socket.current()) return;
    announced.add(conn);
    status("connected", reason);
  };

  const onOpen = (conn: Connection) => {
    // Confirms the subscriptions; the reply is checked in onFrame.
    const listId = ++requestIds;
    listIds.set(conn, listId);
    conn.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: listId }));
    announce(conn, `${o.streamCount} streams`);
  };

  const onFrame = (conn: Connection, text: string, t: number) => {
    const frame = o.onFrame(text, t);
    if (DATA_KINDS.has(frame.kind)) {
      if (!conn.delivering) socket.delivering(conn);
      return;
    }
    if (frame.kind === "serverShutdown") {
      if (conn === socket.current()) socket.replace("serverShutdown");
    } else if (frame.kind === "reply" && frame.id === listIds.get(conn)) {
      const n = Array.isArray(frame.result) ? frame.result.length : -1;
      if (n !== o.streamCount) {
        log.warn(`${label}server lists ${n} subscriptions, expected ${o.streamCount}`);
      }
    } else if (frame.kind === "error") {
      log.warn(`${label}control request failed: ${frame.message}`, {
        code: frame.code,
        id: frame.id,
      });
    }
  };

  const onHandover = (e: HandoverEvent) => {
    switch (e.kind) {
      case "start":
        log.info(`${label}${e.reason}: opening a replacement connection before closing this one`);
        break;
      case "open":
        log.info(`${label}replacement connection open`);
        break;
      case "failed":
        log.warn(`${label}replacement connection failed: ${e.reason}`);
        break;
      case "timeout":
        log.warn(`${label}replacement delivered nothing within ${e.afterMs} ms`);
        break;
      case "done":
        log.info(`${label}switched to the replacement connection (${e.reason})`);
        announce(e.connection, `switched to a new connection (${e.reason})`);
        break;
      case "fallback":
        log.warn(`${label}${e.reason} before the replacement delivered; continuing on it`);
        o.onInterrupted(e.reason);
        if (e.connection.openedAt !== undefined) {
          announce(e.connection, `${e.reason}; continuing on the replacement`);
        } else status("reconnecting", `${e.reason}; continuing on the replacement connection`);
        break;
    }
  };

  const socket = createReconnectingSocket({
    url: o.url,
    connectTimeoutMs: o.connectTimeoutMs,
    deadAfterMs: o.deadAfterMs,
    backoff: o.backoff,
    sendLimit: { limit: o.controlMessagesPerSecond, windowMs: 1000 },
    rotateAfterMs: o.rotateAfterMs,
    handoverTimeoutMs: o.handoverTimeoutMs,
    now: o.now,
    random: o.random,
    onOpen,
    onFrame,
    onStale: (reason) => status("stale", reason),
    onReconnecting(reason, delay, reconnects) {
      o.onInterrupted(reason);
      log.warn(`${label}${reason}; reconnect #${reconnects} in ${delay} ms`, { reconnects, delay });
      status("reconnecting", `${reason}; reconnect #${reconnects} in ${delay} ms`);
    },
    onHandover,
  });

  return {
    start() {
      status("connecting", `${o.streamCount} streams`);
      socket.start();
    },
    stop: () => socket.stop(),
    reconnects: () => socket.reconnects(),
    handovers: () => socket.handovers(),
  };
}

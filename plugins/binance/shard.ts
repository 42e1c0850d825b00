/**
 * Lifecycle of one combined-stream connection (one "shard" of the streams):
 * connect, reconnect with capped exponential backoff and full jitter, declare
 * the connection `stale` when nothing at all arrives for `deadAfterMs`, and
 * replace it make-before-break on `serverShutdown` or after `rotateAfterMs`: the
 * replacement is opened first and the old one closed only once the replacement
 * delivers data. During the overlap both deliver; the feed dedupes.
 * @module
 */
import {
  backoffDelay,
  type BackoffOptions,
  type FeedLogger,
  type FeedState,
  type FeedStatusUpdate,
} from "../../mod.ts";
import { openStreamSocket, type StreamSocket } from "./connection.ts";
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

interface Conn {
  socket: StreamSocket;
  openedAt?: number;
  lastFrameAt?: number;
  delivering: boolean;
  announced: boolean;
  listId?: number;
  rotateTimer?: ReturnType<typeof setTimeout>;
}

const DATA_KINDS: ReadonlySet<BinanceFrame["kind"]> = new Set(["trade", "quote", "kline", "depth"]);

/** Creates a shard; call `start()` to connect. */
export function createShard(o: ShardOptions): Shard {
  const { log, label } = o;
  let current: Conn | undefined;
  let next: Conn | undefined;
  let handoverReason = "";
  let attempt = 0;
  let reconnects = 0;
  let handovers = 0;
  let requestIds = 0;
  let stopped = false;
  const sockets = new Set<StreamSocket>();
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let handoverTimer: ReturnType<typeof setTimeout> | undefined;
  let checkTimer: ReturnType<typeof setInterval> | undefined;

  const status = (state: FeedState, reason?: string) =>
    o.onStatus({
      state,
      reason: reason === undefined ? undefined : label + reason,
      emulator: o.emulator,
    });

  const announce = (conn: Conn, reason: string) => {
    if (conn.announced || conn !== current) return;
    conn.announced = true;
    status("connected", reason);
  };

  const open = (): Conn => {
    const conn: Conn = { delivering: false, announced: false } as Conn;
    conn.socket = openStreamSocket(o.url, {
      onOpen: () => onOpen(conn),
      onFrame: (text, t) => onFrame(conn, text, t),
      onClose: (reason) => lost(conn, reason),
    }, {
      connectTimeoutMs: o.connectTimeoutMs,
      controlMessagesPerSecond: o.controlMessagesPerSecond,
      now: o.now,
    });
    sockets.add(conn.socket);
    void conn.socket.closed.then(() => sockets.delete(conn.socket));
    return conn;
  };

  const retire = (conn: Conn, reason: string) => {
    clearTimeout(conn.rotateTimer);
    void conn.socket.close(reason);
  };

  const onOpen = (conn: Conn) => {
    conn.openedAt = o.now();
    conn.rotateTimer = setTimeout(
      () => conn === current && handover(`rotation after ${o.rotateAfterMs} ms`),
      o.rotateAfterMs,
    );
    // Confirms the subscriptions; the reply is checked in onFrame.
    conn.listId = ++requestIds;
    conn.socket.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: conn.listId }));
    if (conn === current) announce(conn, `${o.streamCount} streams`);
    else log.info(`${label}replacement connection open`);
  };

  const onFrame = (conn: Conn, text: string, t: number) => {
    conn.lastFrameAt = t;
    const frame = o.onFrame(text, t);
    if (DATA_KINDS.has(frame.kind)) {
      if (conn.delivering) return;
      conn.delivering = true;
      if (conn === current) attempt = 0;
      else if (conn === next) promote();
      return;
    }
    if (frame.kind === "serverShutdown") {
      if (conn === current) handover("serverShutdown");
    } else if (frame.kind === "reply" && frame.id === conn.listId) {
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

  /** The replacement delivers: it becomes current and the old connection closes. */
  const promote = () => {
    const old = current, fresh = next!;
    current = fresh;
    next = undefined;
    clearTimeout(handoverTimer);
    attempt = 0;
    handovers++;
    if (old) retire(old, "replaced");
    log.info(`${label}switched to the replacement connection (${handoverReason})`);
    announce(fresh, `switched to a new connection (${handoverReason})`);
  };

  /** A connection failed, closed or went stale. */
  const lost = (conn: Conn, reason: string) => {
    clearTimeout(conn.rotateTimer);
    if (stopped) return;
    if (conn === next) {
      next = undefined;
      clearTimeout(handoverTimer);
      log.warn(`${label}replacement connection failed: ${reason}`);
      if (current) retryHandover();
      return;
    }
    if (conn !== current) return;
    current = undefined;
    if (next) {
      current = next;
      next = undefined;
      clearTimeout(handoverTimer);
      log.warn(`${label}${reason} before the replacement delivered; continuing on it`);
      o.onInterrupted(reason);
      if (current.openedAt !== undefined) {
        announce(current, `${reason}; continuing on the replacement`);
      } else status("reconnecting", `${reason}; continuing on the replacement connection`);
      return;
    }
    clearTimeout(handoverTimer); // a pending handover retry is moot: a fresh connection follows
    o.onInterrupted(reason);
    const delay = backoffDelay(attempt, o.backoff, o.random);
    attempt++;
    reconnects++;
    log.warn(`${label}${reason}; reconnect #${reconnects} in ${delay} ms`, { reconnects, delay });
    status("reconnecting", `${reason}; reconnect #${reconnects} in ${delay} ms`);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (!stopped) current = open();
    }, delay);
  };

  const handover = (reason: string) => {
    if (stopped || next || !current) return;
    handoverReason = reason;
    log.info(`${label}${reason}: opening a replacement connection before closing this one`);
    next = open();
    const candidate = next;
    clearTimeout(handoverTimer);
    handoverTimer = setTimeout(() => {
      if (next !== candidate || candidate.delivering) return;
      next = undefined;
      retire(candidate, "handover timeout");
      log.warn(`${label}replacement delivered nothing within ${o.handoverTimeoutMs} ms`);
      retryHandover();
    }, o.handoverTimeoutMs);
  };

  const retryHandover = () => {
    clearTimeout(handoverTimer);
    handoverTimer = setTimeout(
      () => handover(handoverReason),
      backoffDelay(attempt++, o.backoff, o.random),
    );
  };

  const check = () => {
    const conn = current;
    if (!conn || conn.openedAt === undefined) return;
    const silent = o.now() - (conn.lastFrameAt ?? conn.openedAt);
    if (silent <= o.deadAfterMs) return;
    status("stale", `no data for ${silent} ms`);
    retire(conn, "stale");
    lost(conn, `stale: no data for ${silent} ms`);
  };

  return {
    start() {
      status("connecting", `${o.streamCount} streams`);
      current = open();
      const every = Math.min(1000, Math.max(10, Math.floor(o.deadAfterMs / 4)));
      checkTimer = setInterval(check, every);
    },
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearTimeout(handoverTimer);
      clearInterval(checkTimer);
      for (const conn of [current, next]) if (conn) clearTimeout(conn.rotateTimer);
      current = next = undefined;
      await Promise.all([...sockets].map((s) => s.close("stopping")));
    },
    reconnects: () => reconnects,
    handovers: () => handovers,
  };
}

/**
 * A feed's exchange connection that stays up: connect, reconnect with capped
 * exponential backoff and full jitter, declare the connection stale when
 * nothing at all arrives for `deadAfterMs` (or a further check of the plugin
 * fails, e.g. an unanswered ping), and optionally replace it
 * make-before-break (after `rotateAfterMs`, or on {@link ReconnectingSocket.replace}):
 * the replacement is opened first and the old connection closed only once the
 * replacement delivers data. During the overlap both deliver; the plugin dedupes.
 *
 * The plugin says what a connection is for (`onOpen`: subscribe), maps each
 * frame (`onFrame`), and reports when a connection proves it delivers data
 * ({@link ReconnectingSocket.delivering}), which resets the backoff and
 * completes a handover. Status and log wording stay with the plugin.
 * @module
 */
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { createSendLimiter, type SendLimit, type SendLimiter } from "./rate_limiter.ts";
import { type FeedSocket, openSocket } from "./socket.ts";
import { startStaleCheck } from "./stale.ts";

/**
 * One connection of a {@link ReconnectingSocket}.
 *
 * @example Subscribe on every new connection
 * ```ts
 * import type { Connection } from "@quant-saas/gateway";
 *
 * function onOpen(connection: Connection): void {
 *   connection.send(JSON.stringify({ method: "subscribe", channel: "trades" }));
 * }
 * ```
 */
export interface Connection {
  /**
   * Sends a text frame; false when the socket is not open. With a `sendLimit`
   * the frame waits for the window and the result is true while the
   * connection lives.
   */
  send(text: string): boolean;
  /** True while the socket is open. */
  isOpen(): boolean;
  /** When the socket opened (epoch ms); undefined while it is connecting. */
  readonly openedAt: number | undefined;
  /** True once {@link ReconnectingSocket.delivering} was called for it. */
  readonly delivering: boolean;
}

/**
 * What happens during a make-before-break replacement, for the plugin's logs
 * and status.
 *
 * @example
 * ```ts
 * import type { HandoverEvent } from "@quant-saas/gateway";
 *
 * const describe = (e: HandoverEvent): string =>
 *   e.kind === "done" ? `switched to a new connection (${e.reason})` : e.kind;
 * ```
 */
export type HandoverEvent =
  /** A replacement is being opened. */
  | { kind: "start"; reason: string }
  /** The replacement is open (it becomes current once it delivers). */
  | { kind: "open"; reason: string; connection: Connection }
  /** The replacement failed or closed; another is tried after a backoff delay. */
  | { kind: "failed"; reason: string }
  /** The replacement delivered nothing within `handoverTimeoutMs`; another is tried after a backoff delay. */
  | { kind: "timeout"; afterMs: number }
  /** The replacement delivers: it is current now and the old connection is closing. */
  | { kind: "done"; reason: string; connection: Connection }
  /**
   * The current connection was lost (`reason`) before the replacement delivered:
   * the replacement is current now; data may have been missed.
   */
  | { kind: "fallback"; reason: string; connection: Connection };

/**
 * Options of {@link createReconnectingSocket}.
 *
 * @example
 * ```ts
 * import type { ReconnectingSocketOptions } from "@quant-saas/gateway";
 *
 * const options: ReconnectingSocketOptions = {
 *   url: "ws://127.0.0.1:9/v1",
 *   connectTimeoutMs: 10_000,
 *   deadAfterMs: 30_000,
 *   describeSilence: (ms) => `no message for ${ms} ms`,
 *   backoff: { baseMs: 500, capMs: 30_000 },
 *   sendLimit: { limit: 5, windowMs: 1000 },
 *   onOpen: () => {},
 *   onFrame: () => {},
 *   onReconnecting: () => {},
 * };
 * ```
 */
export interface ReconnectingSocketOptions {
  /** WebSocket URL. */
  url: string;
  /** A connection that is not open after this long is given up (and retried). */
  connectTimeoutMs: number;
  /** The connection is stale after this long without any frame. */
  deadAfterMs: number;
  /** Period of the stale check; default from `deadAfterMs` (see `staleCheckEvery`). */
  staleCheckEveryMs?: number;
  /** Words for a silence of `ms` in stale reasons; default `no data for ${ms} ms`. */
  describeSilence?(ms: number): string;
  /** A further stale condition checked with the silence (e.g. an unanswered ping): its reason or undefined. */
  checkStale?(now: number): string | undefined;
  /** Reconnect backoff (full jitter). */
  backoff: BackoffOptions;
  /** Delay before reconnect number `attempt` (0 = first); default {@link backoffDelay} of `backoff`. */
  reconnectDelay?(attempt: number): number;
  /** Per-connection limit of sent frames (e.g. Binance: 5 control messages per second). */
  sendLimit?: SendLimit;
  /** Replace the connection make-before-break after it has been open this long. */
  rotateAfterMs?: number;
  /** A replacement that delivers nothing within this long is given up; default 10 s. */
  handoverTimeoutMs?: number;
  /** Wall clock, epoch ms; default `Date.now`. */
  now?: () => number;
  /** Uniform in [0, 1) for the jitter; default `Math.random`. */
  random?: () => number;
  /** A connection (current or replacement) opened: send its subscriptions. */
  onOpen(connection: Connection): void;
  /** One text frame of a live connection (hot path). */
  onFrame(connection: Connection, text: string, receiveTime: number): void;
  /** The current connection is stale (`reason` without the `stale: ` prefix); it is dropped next. */
  onStale?(reason: string): void;
  /**
   * The current connection is gone (`reason`) and reconnect number `reconnect`
   * follows in `delayMs`: data may have been missed. Not called after `stop()`.
   */
  onReconnecting(reason: string, delayMs: number, reconnect: number): void;
  /** Progress of a make-before-break replacement. */
  onHandover?(event: HandoverEvent): void;
}

/**
 * A running reconnecting socket.
 *
 * @example
 * ```ts
 * import type { ReconnectingSocket } from "@quant-saas/gateway";
 *
 * const ping = (socket: ReconnectingSocket) => socket.send('{"method":"ping"}');
 * ```
 */
export interface ReconnectingSocket {
  /** Opens the first connection and starts the stale check. */
  start(): void;
  /** Closes every socket and clears every timer; no callback follows. */
  stop(): Promise<void>;
  /** Sends a text frame on the current connection; false when none is open. */
  send(text: string): boolean;
  /** The current connection (open or connecting), if any. */
  current(): Connection | undefined;
  /**
   * `connection` delivers market data: resets the backoff (current connection)
   * or completes the handover (replacement). Cheap after the first call.
   */
  delivering(connection: Connection): void;
  /** Opens a replacement make-before-break (e.g. the exchange announced a shutdown). */
  replace(reason: string): void;
  /** Drops the current connection and reconnects after the backoff delay. */
  restart(reason: string): void;
  /** Reconnects so far (not counting handovers). */
  reconnects(): number;
  /** Make-before-break handovers completed so far. */
  handovers(): number;
}

interface Conn extends Connection {
  socket: FeedSocket;
  openedAt: number | undefined;
  lastFrameAt: number | undefined;
  delivering: boolean;
  limiter?: SendLimiter;
  rotateTimer?: ReturnType<typeof setTimeout>;
}

/**
 * Creates a reconnecting socket; call `start()` to connect.
 *
 * @example Trades from an exchange, reconnecting for as long as the feed runs
 * ```ts
 * import { createReconnectingSocket } from "@quant-saas/gateway";
 *
 * const socket = createReconnectingSocket({
 *   url: "ws://127.0.0.1:9/v1",
 *   connectTimeoutMs: 10_000,
 *   deadAfterMs: 30_000,
 *   backoff: { baseMs: 500, capMs: 30_000 },
 *   onOpen: (connection) => connection.send('{"subscribe":["trades"]}'),
 *   onFrame(connection, text, receiveTime) {
 *     // map `text`, emit events...
 *     socket.delivering(connection);
 *   },
 *   onReconnecting: (reason, delayMs) => console.warn(`${reason}; reconnect in ${delayMs} ms`),
 * });
 * socket.start();
 * await socket.stop();
 * ```
 */
export function createReconnectingSocket(o: ReconnectingSocketOptions): ReconnectingSocket {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const delayOf = o.reconnectDelay ??
    ((attempt: number) => backoffDelay(attempt, o.backoff, random));
  const handoverTimeoutMs = o.handoverTimeoutMs ?? 10_000;
  let current: Conn | undefined;
  let next: Conn | undefined;
  let handoverReason = "";
  let attempt = 0;
  let reconnects = 0;
  let handovers = 0;
  let stopped = false;
  const sockets = new Set<FeedSocket>();
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let handoverTimer: ReturnType<typeof setTimeout> | undefined;
  let stopStaleCheck: (() => void) | undefined;

  const open = (): Conn => {
    const conn = {
      openedAt: undefined,
      lastFrameAt: undefined,
      delivering: false,
      isOpen: () => conn.socket.isOpen(),
      send(text: string): boolean {
        if (conn.limiter === undefined) return conn.socket.send(text);
        conn.limiter.send(text);
        return true;
      },
    } as Conn;
    conn.socket = openSocket(o.url, {
      onOpen: () => onOpen(conn),
      onFrame(text, t) {
        if (conn !== current && conn !== next) return;
        conn.lastFrameAt = t;
        o.onFrame(conn, text, t);
      },
      onClose: (reason) => lost(conn, reason),
    }, { connectTimeoutMs: o.connectTimeoutMs, now });
    if (o.sendLimit) {
      conn.limiter = createSendLimiter((m) => void conn.socket.send(m), o.sendLimit, now);
    }
    sockets.add(conn.socket);
    void conn.socket.closed.then(() => sockets.delete(conn.socket));
    return conn;
  };

  const retire = (conn: Conn, reason: string) => {
    clearTimeout(conn.rotateTimer);
    conn.limiter?.close();
    void conn.socket.close(reason);
  };

  const onOpen = (conn: Conn) => {
    if (conn !== current && conn !== next) return;
    conn.openedAt = now();
    if (o.rotateAfterMs !== undefined) {
      const after = o.rotateAfterMs;
      conn.rotateTimer = setTimeout(
        () => conn === current && replace(`rotation after ${after} ms`),
        after,
      );
    }
    o.onOpen(conn);
    if (conn === next) o.onHandover?.({ kind: "open", reason: handoverReason, connection: conn });
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
    o.onHandover?.({ kind: "done", reason: handoverReason, connection: fresh });
  };

  /** A connection failed, closed, went stale or was dropped. */
  const lost = (conn: Conn, reason: string) => {
    clearTimeout(conn.rotateTimer);
    conn.limiter?.close();
    if (stopped) return;
    if (conn === next) {
      next = undefined;
      clearTimeout(handoverTimer);
      o.onHandover?.({ kind: "failed", reason });
      if (current) retryHandover();
      return;
    }
    if (conn !== current) return;
    current = undefined;
    if (next) {
      current = next;
      next = undefined;
      clearTimeout(handoverTimer);
      o.onHandover?.({ kind: "fallback", reason, connection: current });
      return;
    }
    clearTimeout(handoverTimer); // a pending handover retry is moot: a fresh connection follows
    const delay = delayOf(attempt);
    attempt++;
    reconnects++;
    o.onReconnecting(reason, delay, reconnects);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (!stopped) current = open();
    }, delay);
  };

  const replace = (reason: string) => {
    if (stopped || next || !current) return;
    handoverReason = reason;
    o.onHandover?.({ kind: "start", reason });
    next = open();
    const candidate = next;
    clearTimeout(handoverTimer);
    handoverTimer = setTimeout(() => {
      if (next !== candidate || candidate.delivering) return;
      next = undefined;
      retire(candidate, "handover timeout");
      o.onHandover?.({ kind: "timeout", afterMs: handoverTimeoutMs });
      retryHandover();
    }, handoverTimeoutMs);
  };

  const retryHandover = () => {
    clearTimeout(handoverTimer);
    handoverTimer = setTimeout(() => replace(handoverReason), delayOf(attempt++));
  };

  const lastActivity = (): number | undefined => {
    const conn = current;
    if (!conn || conn.openedAt === undefined) return undefined;
    return conn.lastFrameAt ?? conn.openedAt;
  };

  return {
    start() {
      current = open();
      stopStaleCheck = startStaleCheck({
        deadAfterMs: o.deadAfterMs,
        everyMs: o.staleCheckEveryMs,
        now,
        lastActivity,
        describe: o.describeSilence,
        check: o.checkStale,
        onStale(reason) {
          const conn = current!;
          o.onStale?.(reason);
          retire(conn, "stale");
          lost(conn, `stale: ${reason}`);
        },
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearTimeout(handoverTimer);
      stopStaleCheck?.();
      for (const conn of [current, next]) {
        if (!conn) continue;
        clearTimeout(conn.rotateTimer);
        conn.limiter?.close();
      }
      current = next = undefined;
      await Promise.all([...sockets].map((s) => s.close("stopping")));
    },
    send: (text) => current?.send(text) ?? false,
    current: () => current,
    delivering(connection) {
      const conn = connection as Conn;
      if (conn.delivering) return;
      conn.delivering = true;
      if (conn === current) attempt = 0;
      else if (conn === next) promote();
    },
    replace,
    restart(reason) {
      const conn = current;
      if (stopped || !conn) return;
      retire(conn, "lost");
      lost(conn, reason);
    },
    reconnects: () => reconnects,
    handovers: () => handovers,
  };
}

/**
 * One upstream WebSocket to Binance's raw `/ws` endpoint with a changing set
 * of streams: `SET_PROPERTY combined` first (so every payload names its
 * stream), then SUBSCRIBE / UNSUBSCRIBE computed from the difference between
 * the wanted and the requested streams at the moment a message may go out.
 * However many subscriptions change in between, one message per slot of the
 * per-connection rate limit carries them all.
 * @module
 */
import { openStreamSocket, type StreamSocket } from "../connection.ts";
import { createSendLimiter as createLimitedSender } from "../../../mod.ts";
import { type Envelope, splitEnvelope } from "./envelope.ts";

/** What an upstream connection reports. None is called after `close()`. */
export interface UpstreamConnHandlers {
  onOpen(conn: UpstreamConn): void;
  /** A data frame (the envelope names its stream). */
  onData(conn: UpstreamConn, frame: Envelope, receiveTime: number): void;
  /** Binance confirmed these streams: their data flows from now on. */
  onActive(conn: UpstreamConn, streams: readonly string[]): void;
  /** Binance refused a SUBSCRIBE (it will not be retried on this connection). */
  onRejected(conn: UpstreamConn, streams: readonly string[], reason: string): void;
  /** `serverShutdown` arrived: the server will close this connection soon. */
  onShutdown(conn: UpstreamConn): void;
  /** The connection failed or was closed by the peer; called once. */
  onClose(conn: UpstreamConn, reason: string): void;
}

/** Options of {@link openUpstreamConn}. */
export interface UpstreamConnOptions {
  /** Full URL, e.g. `wss://stream.binance.com:9443/ws`. */
  url: string;
  controlMessagesPerSecond: number;
  maxParamsPerRequest: number;
  connectTimeoutMs: number;
  now: () => number;
  log: { warn(message: string, props?: Record<string, unknown>): void };
}

/** A live upstream connection. */
export interface UpstreamConn {
  readonly id: number;
  /** Adds a stream to the wanted set. */
  want(stream: string): void;
  /** Removes a stream from the wanted set. */
  unwant(stream: string): void;
  /** True once Binance confirmed `stream` on this connection. */
  isActive(stream: string): boolean;
  /** Wanted streams Binance has answered for (confirmed or refused). */
  settledCount(): number;
  wantedCount(): number;
  isOpen(): boolean;
  /** Closes without calling `onClose`. */
  close(reason: string): Promise<void>;
}

type Pending = { kind: "property" } | { kind: "subscribe" | "unsubscribe"; streams: string[] };

/** Opens one upstream connection wanting `initial` streams. */
export function openUpstreamConn(
  id: number,
  initial: Iterable<string>,
  handlers: UpstreamConnHandlers,
  o: UpstreamConnOptions,
): UpstreamConn {
  const wanted = new Set<string>(initial);
  const requested = new Set<string>();
  const active = new Set<string>();
  const rejected = new Set<string>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let combinedSet = false;
  let tokenQueued = false;
  let live = true;
  let open = false;

  const sendNow = (message: Record<string, unknown>, what: Pending): void => {
    const requestId = nextId++;
    pending.set(requestId, what);
    socket.send(JSON.stringify({ ...message, id: requestId }));
  };

  /** Sends the one control message most needed now; queues another slot while work remains. */
  const flush = (): void => {
    tokenQueued = false;
    if (!live || !open) return;
    if (!combinedSet) {
      combinedSet = true;
      sendNow({ method: "SET_PROPERTY", params: ["combined", true] }, { kind: "property" });
    } else {
      const toSubscribe = take(wanted, (s) => !requested.has(s) && !rejected.has(s));
      if (toSubscribe.length > 0) {
        for (const s of toSubscribe) requested.add(s);
        sendNow({ method: "SUBSCRIBE", params: toSubscribe }, {
          kind: "subscribe",
          streams: toSubscribe,
        });
      } else {
        const toUnsubscribe = take(requested, (s) => !wanted.has(s));
        if (toUnsubscribe.length > 0) {
          for (const s of toUnsubscribe) {
            requested.delete(s);
            active.delete(s);
          }
          sendNow({ method: "UNSUBSCRIBE", params: toUnsubscribe }, {
            kind: "unsubscribe",
            streams: toUnsubscribe,
          });
        }
      }
    }
    schedule();
  };

  const take = (from: Set<string>, keep: (s: string) => boolean): string[] => {
    const out: string[] = [];
    for (const s of from) {
      if (keep(s)) out.push(s);
      if (out.length >= o.maxParamsPerRequest) break;
    }
    return out;
  };

  const hasWork = (): boolean => {
    if (!combinedSet) return true;
    for (const s of wanted) if (!requested.has(s) && !rejected.has(s)) return true;
    for (const s of requested) if (!wanted.has(s)) return true;
    return false;
  };

  const limiter = createLimitedSender(() => flush(), o.controlMessagesPerSecond, o.now);
  // Deferred: batches the changes of one tick, and keeps the limiter from re-entering itself.
  const schedule = (): void => {
    if (!live || !open || tokenQueued || !hasWork()) return;
    tokenQueued = true;
    queueMicrotask(() => live ? limiter.send("flush") : (tokenQueued = false));
  };

  const onReply = (text: string): void => {
    let msg: {
      id?: unknown;
      e?: unknown;
      result?: unknown;
      error?: { code?: unknown; msg?: unknown };
    };
    try {
      msg = JSON.parse(text);
    } catch {
      o.log.warn("upstream sent a frame that is not JSON", {
        connection: id,
        frame: text.slice(0, 200),
      });
      return;
    }
    if (typeof msg === "object" && msg !== null && msg.e === "serverShutdown") {
      handlers.onShutdown(conn); // unwrapped: sent before `combined` took effect
      return;
    }
    if (typeof msg !== "object" || msg === null || typeof msg.id !== "number") {
      o.log.warn("upstream sent an unexpected frame", {
        connection: id,
        frame: text.slice(0, 200),
      });
      return;
    }
    const what = pending.get(msg.id);
    pending.delete(msg.id);
    if (!what || what.kind !== "subscribe") {
      if (msg.error) {
        o.log.warn("upstream refused a control request", { connection: id, error: msg.error });
      }
      return;
    }
    const still = what.streams.filter((s) => requested.has(s));
    if (msg.error) {
      const reason = `${String(msg.error.code)} ${String(msg.error.msg)}`;
      for (const s of still) {
        requested.delete(s);
        rejected.add(s);
      }
      handlers.onRejected(conn, still, reason);
      return;
    }
    for (const s of still) active.add(s);
    if (still.length > 0) handlers.onActive(conn, still);
  };

  const socket: StreamSocket = openStreamSocket(o.url, {
    onOpen() {
      open = true;
      handlers.onOpen(conn);
      schedule();
    },
    onFrame(text, receiveTime) {
      const frame = text.startsWith('{"stream"') ? splitEnvelope(text) : undefined;
      if (frame) {
        if (frame.stream === "!serverShutdown") handlers.onShutdown(conn);
        else handlers.onData(conn, frame, receiveTime);
        return;
      }
      onReply(text);
    },
    onClose(reason) {
      if (!live) return;
      live = false;
      open = false;
      limiter.close();
      handlers.onClose(conn, reason);
    },
  }, {
    connectTimeoutMs: o.connectTimeoutMs,
    // The limiter above paces the messages; this is Binance's hard cap behind it.
    controlMessagesPerSecond: 5,
    now: o.now,
  });

  const conn: UpstreamConn = {
    id,
    want(stream) {
      if (wanted.has(stream)) return;
      wanted.add(stream);
      rejected.delete(stream);
      schedule();
    },
    unwant(stream) {
      if (!wanted.delete(stream)) return;
      schedule();
    },
    isActive: (stream) => active.has(stream) && wanted.has(stream),
    settledCount() {
      let n = 0;
      for (const s of wanted) if (active.has(s) || rejected.has(s)) n++;
      return n;
    },
    wantedCount: () => wanted.size,
    isOpen: () => live && open,
    close(reason) {
      live = false;
      open = false;
      limiter.close();
      return socket.close(reason);
    },
  };
  return conn;
}

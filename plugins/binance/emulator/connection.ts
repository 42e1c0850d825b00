/**
 * One client WebSocket: control messages, the incoming-message rate limit,
 * the stream cap, keepalive pings with a pong deadline, the connection lifetime
 * (serverShutdown then close), and abrupt or graceful drops.
 * @module
 */
// @ts-types="@types/ws"
import type { WebSocket } from "ws";
import { type ControlCommand, errorReply, parseControl, resultReply } from "../control.ts";
import { parseStream } from "./streams.ts";
import type { Hub, Subscriber } from "./hub.ts";
import { combinedFrame, serverShutdownFrame, type TimeMultiplier } from "./payloads.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Per-connection limits (Binance: 5 msg/s, 1024 streams, ping 20 s, pong 60 s, 24 h). */
export interface ConnectionLimits {
  maxMessagesPerSecond: number;
  maxStreams: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxConnectionMs: number;
}

/** A live client connection. */
export interface Connection extends Subscriber {
  readonly id: number;
  /** Sends `serverShutdown` now and closes after `closeAfterMs`. */
  shutdown(closeAfterMs: number): void;
  /** Closes with a close frame, or (abrupt) destroys the TCP socket without one. */
  drop(abrupt: boolean): void;
  /** True once closed or closing. */
  closing(): boolean;
}

/** What a connection is wired to. */
export interface ConnectionDeps {
  ws: WebSocket;
  id: number;
  /** Streams named in the URL. */
  streams: string[];
  combined: boolean;
  tm: TimeMultiplier;
  limits: ConnectionLimits;
  hub: Hub<Connection>;
  /** Slow-consumer cut-off: buffered bytes beyond which the socket is dropped. */
  maxBufferedBytes?: number;
  /** Called once when the socket has closed. */
  onClose(conn: Connection): void;
}

/** Wraps an accepted WebSocket into a {@link Connection}. */
export function attachConnection(deps: ConnectionDeps): Connection {
  const { ws, hub, limits } = deps;
  const maxBuffered = deps.maxBufferedBytes ?? 64 * 1024 * 1024;
  const streams = new Set<string>();
  const incoming: number[] = [];
  const pendingPings = new Set<string>();
  let combined = deps.combined;
  let closing = false;
  let pingSeq = 0;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  let shutdownTimer: ReturnType<typeof setTimeout> | undefined;

  const send = (text: string): void => {
    if (closing || ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > maxBuffered) {
      conn.drop(true);
      return;
    }
    ws.send(text);
  };

  const closeGracefully = (code: number, reason: string): void => {
    if (closing) return;
    closing = true;
    ws.close(code, reason);
    graceTimer = setTimeout(() => ws.terminate(), 1000);
  };

  const conn: Connection = {
    id: deps.id,
    streams,
    get combined() {
      return combined;
    },
    tm: deps.tm,
    send,
    shutdown(closeAfterMs) {
      if (closing) return;
      const raw = serverShutdownFrame(Date.now(), deps.tm);
      send(combined ? combinedFrame("!serverShutdown", raw) : raw);
      clearTimeout(shutdownTimer);
      shutdownTimer = setTimeout(() => closeGracefully(1000, "serverShutdown"), closeAfterMs);
    },
    drop(abrupt) {
      if (abrupt) {
        closing = true;
        stopTimers();
        ws.terminate();
      } else closeGracefully(1001, "going away");
    },
    closing: () => closing,
  };

  /** Counts one incoming message; false (and disconnects) when over the limit. */
  const countIncoming = (): boolean => {
    const now = Date.now();
    incoming.push(now);
    while (incoming.length > 0 && incoming[0] <= now - 1000) incoming.shift();
    if (incoming.length <= limits.maxMessagesPerSecond) return true;
    closeGracefully(1008, "Too many messages");
    return false;
  };

  const run = (command: ControlCommand): string => {
    switch (command.method) {
      case "SUBSCRIBE": {
        const fresh = command.streams.filter((s) => !streams.has(s));
        if (streams.size + fresh.length > limits.maxStreams) {
          return errorReply(
            2,
            `Invalid request: too many streams (maximum ${limits.maxStreams} per connection)`,
            command.id,
          );
        }
        for (const s of fresh) hub.subscribe(conn, s);
        return resultReply(null, command.id);
      }
      case "UNSUBSCRIBE":
        for (const s of command.streams) hub.unsubscribe(conn, s);
        return resultReply(null, command.id);
      case "LIST_SUBSCRIPTIONS":
        return resultReply([...streams], command.id);
      case "SET_PROPERTY":
        combined = command.combined;
        return resultReply(null, command.id);
      case "GET_PROPERTY":
        return resultReply(combined, command.id);
    }
  };

  ws.on("message", (data, isBinary) => {
    if (closing || !countIncoming()) return;
    const text = isBinary ? "" : String(data);
    const parsed = parseControl(text, (name) => parseStream(name) !== undefined);
    send(parsed.ok ? run(parsed.command) : parsed.reply);
  });
  ws.on("ping", () => {
    if (!closing) countIncoming();
  });
  ws.on("pong", (data) => {
    if (closing || !countIncoming()) return;
    if (pendingPings.has(String(data))) {
      pendingPings.clear();
      clearTimeout(pongTimer);
      pongTimer = undefined;
    }
  });
  ws.on("error", () => conn.drop(true));

  const pingTimer = setInterval(() => {
    if (closing || ws.readyState !== ws.OPEN) return;
    const payload = `${Date.now()}-${++pingSeq}`;
    pendingPings.add(payload);
    ws.ping(payload);
    pongTimer ??= setTimeout(
      () => closeGracefully(1008, "Pong timeout"),
      Math.min(limits.pongTimeoutMs, MAX_TIMER_MS),
    );
  }, Math.min(Math.max(1, limits.pingIntervalMs), MAX_TIMER_MS));
  // setTimeout overflows past 2^31-1 ms (~24.8 days): a longer lifetime means none.
  const lifetimeTimer = limits.maxConnectionMs <= MAX_TIMER_MS
    ? setTimeout(() => conn.shutdown(0), limits.maxConnectionMs)
    : undefined;
  function stopTimers(): void {
    clearInterval(pingTimer);
    clearTimeout(lifetimeTimer);
    clearTimeout(pongTimer);
    clearTimeout(graceTimer);
    clearTimeout(shutdownTimer);
  }

  ws.on("close", () => {
    closing = true;
    stopTimers();
    hub.drop(conn);
    deps.onClose(conn);
  });

  for (const s of deps.streams) hub.subscribe(conn, s);
  return conn;
}

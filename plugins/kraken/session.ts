/**
 * Lifecycle of the feed's one Kraken connection: connect, application pings
 * (`{"method":"ping","req_id":n}`, each pong matched by `req_id`), `stale` when
 * nothing at all arrives for `deadAfterMs` or a ping goes unanswered, reconnect
 * (a few immediate retries, then capped exponential backoff with full jitter,
 * never faster than `maintenanceDelayMs` around maintenance), and the engine
 * state from `status` messages (`maintenance` is reported as `stale`). The
 * connection itself (reconnect, silence check) is the SDK's `createReconnectingSocket`.
 * @module
 */
import {
  type Connection,
  createReconnectingSocket,
  type FeedLogger,
  type FeedState,
  type FeedStatusUpdate,
  staleCheckEvery,
} from "../../mod.ts";
import { type BackoffOptions, reconnectDelay } from "./backoff.ts";
import type { KrakenFrame } from "./mapper.ts";

/** Options of {@link createSession}. */
export interface SessionOptions {
  url: string;
  deadAfterMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  emulator: boolean;
  now: () => number;
  random: () => number;
  log: FeedLogger;
  /** A connection opened: send the first requests. */
  onOpen(): void;
  /** Maps and dispatches one frame; returns what it was. */
  onFrame(text: string, receiveTime: number): KrakenFrame;
  onStatus(update: FeedStatusUpdate): void;
  /** The connection is gone; data may have been missed. */
  onLost(reason: string): void;
}

/** The running connection lifecycle. */
export interface Session {
  start(): void;
  /** Closes the socket and clears every timer. */
  stop(): Promise<void>;
  /** Sends a request on the current connection; false when none is open. */
  send(message: Record<string, unknown>): boolean;
  /** A fresh request id (shared by pings and subscriptions). */
  nextReqId(): number;
  /** Drops the current connection and reconnects (e.g. a resync that went nowhere). */
  restart(reason: string): void;
  /** Reconnects so far. */
  reconnects(): number;
  /** Engine state from the last `status` message (`online`, `maintenance`, ...). */
  system(): string | undefined;
}

/** Frame kinds that prove the connection delivers (resetting the retry count). */
const DELIVERING: ReadonlySet<KrakenFrame["kind"]> = new Set([
  "trades",
  "quotes",
  "klines",
  "book",
  "instrument",
]);

/** Creates the session; call `start()` to connect. */
export function createSession(o: SessionOptions): Session {
  const { log } = o;
  let reqIds = 0;
  let system: string | undefined;
  let maintenance = false;
  const pings = new Map<number, number>();
  let pingTimer: ReturnType<typeof setInterval> | undefined;

  const status = (state: FeedState, reason?: string) =>
    o.onStatus({ state, reason, emulator: o.emulator });

  const send = (message: unknown): boolean => socket.send(JSON.stringify(message));

  const onFrame = (conn: Connection, text: string, t: number) => {
    const frame = o.onFrame(text, t);
    if (DELIVERING.has(frame.kind)) {
      socket.delivering(conn);
    } else if (frame.kind === "pong") {
      if (frame.reqId !== undefined && pings.has(frame.reqId)) {
        log.debug(`pong ${frame.reqId} after ${t - pings.get(frame.reqId)!} ms`);
        pings.delete(frame.reqId);
      }
    } else if (frame.kind === "status") {
      onSystem(frame.system, frame.connectionId);
    }
  };

  const onSystem = (next: string, connectionId?: string) => {
    const prev = system;
    system = next;
    if (next === prev) return;
    log.info(`Kraken engine status: ${next}`, { system: next, connectionId });
    if (next === "maintenance") {
      maintenance = true;
      status("stale", "exchange status: maintenance");
    } else if (prev === "maintenance" || maintenance) {
      maintenance = next !== "online";
      status("connected", `exchange status: ${next}`);
    } else if (next !== "online") {
      status("connected", `exchange status: ${next}`);
    }
  };

  /** A ping unanswered for longer than `pongTimeoutMs` makes the connection stale. */
  const unansweredPing = (t: number): string | undefined => {
    for (const [id, sentAt] of pings) {
      if (t - sentAt > o.pongTimeoutMs) return `ping ${id} unanswered for ${t - sentAt} ms`;
    }
    return undefined;
  };

  const socket = createReconnectingSocket({
    url: o.url,
    connectTimeoutMs: o.connectTimeoutMs,
    deadAfterMs: o.deadAfterMs,
    staleCheckEveryMs: staleCheckEvery(Math.min(o.deadAfterMs, o.pongTimeoutMs)),
    checkStale: unansweredPing,
    backoff: o.backoff,
    reconnectDelay: (attempt) => reconnectDelay(attempt, o.backoff, maintenance, o.random),
    now: o.now,
    random: o.random,
    onOpen() {
      pings.clear();
      const reconnects = socket.reconnects();
      status("connected", reconnects > 0 ? `reconnected (#${reconnects})` : "connection open");
      o.onOpen();
    },
    onFrame,
    onStale: (reason) => status("stale", reason),
    onReconnecting(reason, delay, reconnects) {
      pings.clear();
      o.onLost(reason);
      const why = maintenance
        ? " (maintenance: waiting at least " +
          `${o.backoff.maintenanceDelayMs} ms)`
        : "";
      log.warn(`${reason}; reconnect #${reconnects} in ${delay} ms${why}`, { reconnects, delay });
      status("reconnecting", `${reason}; reconnect #${reconnects} in ${delay} ms${why}`);
    },
  });

  const ping = () => {
    if (!socket.current()?.isOpen()) return;
    const id = ++reqIds;
    if (send({ method: "ping", req_id: id })) pings.set(id, o.now());
  };

  return {
    start() {
      status("connecting", o.url);
      socket.start();
      pingTimer = setInterval(ping, o.pingIntervalMs);
    },
    async stop() {
      clearInterval(pingTimer);
      await socket.stop();
    },
    send,
    nextReqId: () => ++reqIds,
    restart: (reason) => socket.restart(reason),
    reconnects: () => socket.reconnects(),
    system: () => system,
  };
}

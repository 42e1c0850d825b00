/**
 * Lifecycle of the feed's one Kraken connection: connect, application pings
 * (`{"method":"ping","req_id":n}`, each pong matched by `req_id`), `stale` when
 * nothing at all arrives for `deadAfterMs` or a ping goes unanswered, reconnect
 * (a few immediate retries, then capped exponential backoff with full jitter,
 * never faster than `maintenanceDelayMs` around maintenance), and the engine
 * state from `status` messages (`maintenance` is reported as `stale`).
 * @module
 */
import type { FeedLogger, FeedState, FeedStatusUpdate } from "../../mod.ts";
import { type BackoffOptions, reconnectDelay } from "./backoff.ts";
import { type KrakenSocket, openSocket } from "./connection.ts";
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
  let socket: KrakenSocket | undefined;
  let openedAt: number | undefined;
  let lastFrameAt = 0;
  let attempt = 0;
  let reconnects = 0;
  let reqIds = 0;
  let stopped = false;
  let system: string | undefined;
  let maintenance = false;
  const pings = new Map<number, number>();
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let checkTimer: ReturnType<typeof setInterval> | undefined;
  const closing = new Set<Promise<void>>();

  const status = (state: FeedState, reason?: string) =>
    o.onStatus({ state, reason, emulator: o.emulator });

  const open = () => {
    openedAt = undefined;
    pings.clear();
    const s: KrakenSocket = openSocket(o.url, {
      onOpen: () => {
        if (s !== socket) return;
        openedAt = lastFrameAt = o.now();
        status("connected", reconnects > 0 ? `reconnected (#${reconnects})` : "connection open");
        o.onOpen();
      },
      onFrame: (text, t) => {
        if (s === socket) onFrame(text, t);
      },
      onClose: (reason) => {
        if (s === socket) lost(reason);
      },
    }, { connectTimeoutMs: o.connectTimeoutMs, now: o.now });
    socket = s;
  };

  const retire = (s: KrakenSocket, reason: string) => {
    const p = s.close(reason);
    closing.add(p);
    void p.then(() => closing.delete(p));
  };

  const onFrame = (text: string, t: number) => {
    lastFrameAt = t;
    const frame = o.onFrame(text, t);
    if (DELIVERING.has(frame.kind)) {
      attempt = 0;
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

  /** The current connection failed, closed or went stale: schedule the next one. */
  const lost = (reason: string) => {
    const s = socket;
    socket = undefined;
    openedAt = undefined;
    pings.clear();
    if (s) retire(s, "lost");
    if (stopped) return;
    o.onLost(reason);
    const delay = reconnectDelay(attempt, o.backoff, maintenance, o.random);
    attempt++;
    reconnects++;
    const why = maintenance
      ? " (maintenance: waiting at least " +
        `${o.backoff.maintenanceDelayMs} ms)`
      : "";
    log.warn(`${reason}; reconnect #${reconnects} in ${delay} ms${why}`, { reconnects, delay });
    status("reconnecting", `${reason}; reconnect #${reconnects} in ${delay} ms${why}`);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (!stopped) open();
    }, delay);
  };

  const ping = () => {
    if (!socket?.isOpen()) return;
    const id = ++reqIds;
    if (socket.send({ method: "ping", req_id: id })) pings.set(id, o.now());
  };

  const check = () => {
    if (!socket || openedAt === undefined) return;
    const t = o.now();
    const silent = t - lastFrameAt;
    if (silent > o.deadAfterMs) {
      status("stale", `no data for ${silent} ms`);
      lost(`stale: no data for ${silent} ms`);
      return;
    }
    for (const [id, sentAt] of pings) {
      if (t - sentAt > o.pongTimeoutMs) {
        status("stale", `ping ${id} unanswered for ${t - sentAt} ms`);
        lost(`stale: ping ${id} unanswered for ${t - sentAt} ms`);
        return;
      }
    }
  };

  return {
    start() {
      status("connecting", o.url);
      open();
      const every = Math.max(
        10,
        Math.min(1000, Math.floor(Math.min(o.deadAfterMs, o.pongTimeoutMs) / 4)),
      );
      checkTimer = setInterval(check, every);
      pingTimer = setInterval(ping, o.pingIntervalMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearInterval(checkTimer);
      clearInterval(pingTimer);
      if (socket) retire(socket, "stopping");
      socket = undefined;
      await Promise.all([...closing]);
    },
    send: (message) => socket?.send(message) ?? false,
    nextReqId: () => ++reqIds,
    restart(reason) {
      if (stopped || !socket) return;
      lost(reason);
    },
    reconnects: () => reconnects,
    system: () => system,
  };
}

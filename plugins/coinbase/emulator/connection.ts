/**
 * One client WebSocket of the emulator, with Coinbase's connection rules: a
 * `subscribe` within the deadline (else close), one channel per
 * subscribe/unsubscribe (else error and close), known products only (else
 * `failure to subscribe`), at most N incoming messages per second (else close),
 * a `subscriptions` ack after every (un)subscribe followed by the snapshots of
 * new subscriptions, heartbeats while `heartbeats` is subscribed, idle channels
 * closed unless it is, and one `sequence_num` counter incremented on every
 * message it sends.
 * @module
 */
// @ts-types="@types/ws"
import type { WebSocket } from "ws";
import {
  type Envelope,
  envelopeText,
  errorText,
  heartbeatEvents,
  nanoTime,
  subscriptionsEvents,
} from "./wire.ts";

/** Channels a client can subscribe to. */
export const CHANNELS: ReadonlySet<string> = new Set([
  "heartbeats",
  "level2",
  "market_trades",
  "ticker",
  "candles",
]);

/** Subscription channel of a wire channel (`l2_data` → `level2`). */
const SUBSCRIPTION_OF: Readonly<Record<string, string>> = {
  l2_data: "level2",
  market_trades: "market_trades",
  ticker: "ticker",
  candles: "candles",
  heartbeats: "heartbeats",
};

/** Per-connection rules. */
export interface ConnectionLimits {
  subscribeDeadlineMs: number;
  idleCloseMs: number;
  maxMessagesPerSecond: number;
  heartbeatIntervalMs: number;
  heartbeatCounter: "string" | "number";
}

/** One incoming client message, as received. */
export interface ReceivedMessage {
  connection: number;
  time: number;
  text: string;
}

/** A live client connection. */
export interface ClientConnection {
  readonly id: number;
  /** True when subscribed to `channel` (subscription name) for `product`. */
  listens(channel: string, product: string): boolean;
  /** Current subscriptions as the ack lists them. */
  subscriptions(): Record<string, string[]>;
  /** Numbers and sends one message. */
  send(envelope: Envelope): void;
  /** Numbers and sends a message built from its sequence number (malformed frames). */
  sendBuilt(build: (seq: number) => string): void;
  /** Consumes the next sequence number without sending: the next `l2_data` message (or any, without level2). */
  skipNext(): void;
  /** Sends messages held back while the emulator was silent. */
  flushHeld(): void;
  /** Closes with a close frame, or (abrupt) destroys the TCP socket without one. */
  drop(abrupt: boolean): void;
}

/** What a connection is wired to. */
export interface ConnectionDeps {
  ws: WebSocket;
  id: number;
  products: ReadonlySet<string>;
  limits: ConnectionLimits;
  /** True while outgoing messages must be held back. */
  silenced(now: number): boolean;
  /** The snapshot message of `channel` (subscription name) for `product`. */
  snapshot(channel: string, product: string): Envelope | undefined;
  startedAt: number;
  /** Called for every incoming message. */
  record(message: ReceivedMessage): void;
  /** Called once when the socket has closed. */
  onClose(conn: ClientConnection): void;
}

const HEARTBEAT_KEY = "heartbeats";

/** Wraps an accepted WebSocket into a {@link ClientConnection}. */
export function attachConnection(deps: ConnectionDeps): ClientConnection {
  const { ws, limits } = deps;
  const subs = new Map<string, Set<string>>();
  const lastSent = new Map<string, number>();
  const incoming: number[] = [];
  const held: string[] = [];
  let seq = 0;
  let beats = 0;
  let skip = false;
  let closing = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  const write = (text: string): void => {
    if (closing || ws.readyState !== ws.OPEN) return;
    if (held.length > 0 || deps.silenced(Date.now())) held.push(text);
    else ws.send(text);
  };

  const closeGracefully = (code: number, reason: string): void => {
    if (closing) return;
    closing = true;
    ws.close(code, reason);
    graceTimer = setTimeout(() => ws.terminate(), 1000);
  };

  const send = (e: Envelope): void => {
    if (closing) return;
    const n = seq++;
    const sub = SUBSCRIPTION_OF[e.channel];
    if (sub !== undefined) lastSent.set(sub, Date.now());
    if (skip && (e.channel === "l2_data" || !subs.has("level2"))) {
      skip = false;
      return;
    }
    write(envelopeText(e, n));
  };

  const ack = (): void =>
    send({
      channel: "subscriptions",
      timestamp: nanoTime(Date.now()),
      events: subscriptionsEvents(conn.subscriptions()),
    });

  const error = (message: string): void => write(errorText(message));

  const startHeartbeats = (): void => {
    heartbeatTimer ??= setInterval(() => {
      const now = Date.now();
      send({
        channel: "heartbeats",
        timestamp: nanoTime(now),
        events: heartbeatEvents(++beats, limits.heartbeatCounter === "number", now, deps.startedAt),
      });
    }, limits.heartbeatIntervalMs);
  };
  const stopHeartbeats = (): void => {
    clearInterval(heartbeatTimer);
    heartbeatTimer = undefined;
  };

  const conn: ClientConnection = {
    id: deps.id,
    listens: (channel, product) => subs.get(channel)?.has(product) ?? false,
    subscriptions() {
      const out: Record<string, string[]> = {};
      for (const [channel, ids] of subs) out[channel] = [...ids];
      return out;
    },
    send,
    sendBuilt(build) {
      if (closing) return;
      write(build(seq++));
    },
    skipNext() {
      skip = true;
    },
    flushHeld() {
      if (closing || held.length === 0 || deps.silenced(Date.now())) return;
      for (const text of held.splice(0)) if (ws.readyState === ws.OPEN) ws.send(text);
    },
    drop(abrupt) {
      if (abrupt) {
        closing = true;
        stopTimers();
        ws.terminate();
      } else closeGracefully(1001, "going away");
    },
  };

  /** Counts one incoming message; false (and disconnects) when over the limit. */
  const countIncoming = (now: number): boolean => {
    incoming.push(now);
    while (incoming.length > 0 && incoming[0] <= now - 1000) incoming.shift();
    if (incoming.length <= limits.maxMessagesPerSecond) return true;
    error("rate limit exceeded");
    closeGracefully(1008, "rate limit exceeded");
    return false;
  };

  const handle = (text: string): void => {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return error("malformed JSON");
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      return error("message must be a JSON object");
    }
    const m = msg as Record<string, unknown>;
    if (m.type !== "subscribe" && m.type !== "unsubscribe") {
      return error(`unknown message type ${JSON.stringify(m.type)?.slice(0, 40)}`);
    }
    if ("channels" in m || typeof m.channel !== "string") {
      error("failure to subscribe: exactly one channel per message");
      return closeGracefully(1008, "one channel per message");
    }
    const channel = m.channel;
    if (!CHANNELS.has(channel)) return error("failure to subscribe");
    const ids = m.product_ids;
    if (
      ids !== undefined &&
      (!Array.isArray(ids) || !ids.every((p) => typeof p === "string" && deps.products.has(p)))
    ) return error("failure to subscribe");
    const products = (ids ?? []) as string[];
    if (m.type === "subscribe") subscribe(channel, products);
    else unsubscribe(channel, ids === undefined ? undefined : products);
  };

  const subscribe = (channel: string, products: string[]): void => {
    if (channel !== HEARTBEAT_KEY && products.length === 0) return error("failure to subscribe");
    clearTimeout(deadlineTimer);
    let set = subs.get(channel);
    if (!set) subs.set(channel, set = new Set());
    if (!lastSent.has(channel)) lastSent.set(channel, Date.now());
    const added: string[] = [];
    if (channel === HEARTBEAT_KEY) {
      set.add(HEARTBEAT_KEY);
      startHeartbeats();
    } else {
      for (const p of products) {
        if (set.has(p)) continue;
        set.add(p);
        added.push(p);
      }
    }
    ack();
    for (const p of added) {
      const snap = deps.snapshot(channel, p);
      if (snap) send(snap);
    }
  };

  const unsubscribe = (channel: string, products: string[] | undefined): void => {
    const set = subs.get(channel);
    if (set) {
      if (products === undefined || channel === HEARTBEAT_KEY) set.clear();
      else for (const p of products) set.delete(p);
      if (set.size === 0) {
        subs.delete(channel);
        lastSent.delete(channel);
        if (channel === HEARTBEAT_KEY) stopHeartbeats();
      }
    }
    ack();
  };

  ws.on("message", (data, isBinary) => {
    if (closing) return;
    const now = Date.now();
    const text = isBinary ? "" : String(data);
    deps.record({ connection: deps.id, time: now, text });
    if (!countIncoming(now)) return;
    handle(text);
  });
  ws.on("error", () => conn.drop(true));

  const deadlineTimer = setTimeout(
    () => closeGracefully(1008, `no subscribe within ${limits.subscribeDeadlineMs} ms`),
    limits.subscribeDeadlineMs,
  );
  const idleTimer = setInterval(() => {
    if (closing || subs.has(HEARTBEAT_KEY)) return;
    const now = Date.now();
    for (const [channel, at] of lastSent) {
      if (now - at > limits.idleCloseMs) {
        return closeGracefully(1000, `${channel} idle for ${now - at} ms`);
      }
    }
  }, Math.max(10, Math.min(1000, Math.floor(limits.idleCloseMs / 4))));

  function stopTimers(): void {
    clearTimeout(deadlineTimer);
    clearTimeout(graceTimer);
    clearInterval(idleTimer);
    stopHeartbeats();
  }

  ws.on("close", () => {
    closing = true;
    stopTimers();
    held.length = 0;
    deps.onClose(conn);
  });
  return conn;
}

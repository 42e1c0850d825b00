/**
 * Lifecycle of the feed's WebSocket connection: connect, subscribe every
 * planned channel at once (well inside Coinbase's 5 s deadline, one channel per
 * message, through the send limiter), check every message's `sequence_num`,
 * confirm the `subscriptions` acknowledgements, declare the connection `stale`
 * when nothing at all arrives for `deadAfterMs` (heartbeats come every second),
 * and reconnect with capped exponential backoff and full jitter.
 * @module
 */
import {
  backoffDelay,
  type BackoffOptions,
  createSendLimiter,
  type FeedLogger,
  type FeedSocket,
  type FeedState,
  type FeedStatusUpdate,
  openSocket,
  type SendLimit,
} from "../../mod.ts";
import { type ChannelSubscription, missingSubscriptions, subscriptionMessage } from "./channels.ts";
import type { CoinbaseFrame } from "./mapper.ts";
import { createSequenceTracker, type SequenceTracker } from "./sequence.ts";

/** Options of {@link createSession}. */
export interface SessionOptions {
  url: string;
  /** Subscriptions made on every new connection. */
  plan: readonly ChannelSubscription[];
  /** The connection is dead after this long without any message. */
  deadAfterMs: number;
  backoff: BackoffOptions;
  connectTimeoutMs: number;
  sendLimit: SendLimit;
  emulator: boolean;
  now: () => number;
  random: () => number;
  log: FeedLogger;
  /** Maps one text frame (the mapper, bound to the feed's products). */
  map(text: string, receiveTime: number): CoinbaseFrame;
  /** A new connection is open and its subscriptions are on their way. */
  onSubscribed(): void;
  /** A frame in sequence (including malformed ones; late arrivals are dropped before this). */
  onFrame(frame: CoinbaseFrame, text: string): void;
  /** `sequence_num` jumped: messages were lost on this connection. Called before the frame that showed it. */
  onGap(reason: string): void;
  /** The connection was lost: data may have been missed. */
  onInterrupted(reason: string): void;
  onStatus(update: FeedStatusUpdate): void;
}

/** A running session. */
export interface Session {
  start(): void;
  /** Closes the socket and clears every timer. */
  stop(): Promise<void>;
  /**
   * Unsubscribes and resubscribes `sub` on the open connection (for a fresh
   * snapshot); false when no connection is open. A resubscription of the same
   * channel that still waits for the send limiter is not queued twice.
   */
  resubscribe(sub: ChannelSubscription): boolean;
  /** Reconnects so far. */
  reconnects(): number;
  /** Messages dropped as late arrivals (sequence number not newer than the last). */
  lateMessages(): number;
}

interface Conn {
  socket: FeedSocket;
  sequence: SequenceTracker;
  openedAt?: number;
  lastFrameAt?: number;
  delivering: boolean;
  /** Subscribe / unsubscribe messages sent, each answered by a `subscriptions` ack or an error. */
  acksDue: number;
  answers: number;
  /** The latest acknowledged subscriptions. */
  acked?: Record<string, string[]>;
}

/** Creates a session; call `start()` to connect. */
export function createSession(o: SessionOptions): Session {
  const { log } = o;
  let conn: Conn | undefined;
  let attempt = 0;
  let reconnects = 0;
  let late = 0;
  let stopped = false;
  const sockets = new Set<FeedSocket>();
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let checkTimer: ReturnType<typeof setInterval> | undefined;
  const limiter = createSendLimiter((m) => conn?.socket.send(m), o.sendLimit, o.now);

  const status = (state: FeedState, reason?: string) =>
    o.onStatus({ state, reason, emulator: o.emulator });

  const control = (c: Conn, type: "subscribe" | "unsubscribe", sub: ChannelSubscription) => {
    c.acksDue++;
    limiter.send(subscriptionMessage(type, sub), sub.channel);
  };

  const open = () => {
    const c: Conn = {
      sequence: createSequenceTracker(),
      delivering: false,
      acksDue: 0,
      answers: 0,
    } as Conn;
    c.socket = openSocket(o.url, {
      onOpen: () => onOpen(c),
      onFrame: (text, t) => onFrame(c, text, t),
      onClose: (reason) => lost(c, reason),
    }, { connectTimeoutMs: o.connectTimeoutMs, now: o.now });
    sockets.add(c.socket);
    void c.socket.closed.then(() => sockets.delete(c.socket));
    conn = c;
  };

  const onOpen = (c: Conn) => {
    if (c !== conn) return;
    c.openedAt = o.now();
    limiter.clear();
    for (const sub of o.plan) control(c, "subscribe", sub);
    const what = o.plan.map((s) =>
      s.products ? `${s.channel} (${s.products.length} products)` : s.channel
    ).join(", ");
    status("connected", `subscribing to ${what}`);
    o.onSubscribed();
  };

  const onFrame = (c: Conn, text: string, t: number) => {
    if (c !== conn) return;
    c.lastFrameAt = t;
    const frame = o.map(text, t);
    const seq = frame.kind === "error" ? undefined : frame.seq;
    if (seq !== undefined) {
      const verdict = c.sequence.check(seq);
      if (verdict.kind === "old") {
        late++;
        log.debug(`late message dropped: sequence_num ${seq} after ${verdict.last}`);
        return;
      }
      if (verdict.kind === "gap") {
        const reason = `sequence_num jumped from ${verdict.expected - 1} to ${seq} ` +
          `(${verdict.missed} message${verdict.missed === 1 ? "" : "s"} missed)`;
        log.warn(reason, { missed: verdict.missed });
        o.onGap(reason);
      }
    }
    if (!c.delivering) {
      c.delivering = true;
      attempt = 0;
    }
    if (frame.kind === "error") {
      log.error(`Coinbase error: ${frame.message}`, { message: frame.message });
      answered(c);
    } else if (frame.kind === "subscriptions") {
      c.acked = frame.subscriptions;
      answered(c);
    }
    o.onFrame(frame, text);
  };

  /** One subscribe/unsubscribe was answered (ack or error); once all are, check the subscriptions. */
  const answered = (c: Conn) => {
    c.answers++;
    if (c.answers < c.acksDue) return;
    const missing = missingSubscriptions(o.plan, c.acked ?? {});
    if (missing.length > 0) {
      log.warn(`Coinbase did not confirm: ${missing.join(", ")}`, { missing });
    }
  };

  const lost = (c: Conn, reason: string) => {
    if (c !== conn) return;
    conn = undefined;
    limiter.clear();
    if (stopped) return;
    o.onInterrupted(reason);
    const delay = backoffDelay(attempt, o.backoff, o.random);
    attempt++;
    reconnects++;
    log.warn(`${reason}; reconnect #${reconnects} in ${delay} ms`, { reconnects, delay });
    status("reconnecting", `${reason}; reconnect #${reconnects} in ${delay} ms`);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (!stopped) open();
    }, delay);
  };

  const check = () => {
    const c = conn;
    if (!c || c.openedAt === undefined) return;
    const silent = o.now() - (c.lastFrameAt ?? c.openedAt);
    if (silent <= o.deadAfterMs) return;
    status("stale", `no message for ${silent} ms`);
    void c.socket.close("stale");
    lost(c, `stale: no message for ${silent} ms`);
  };

  return {
    start() {
      status("connecting", o.url);
      open();
      const every = Math.min(1000, Math.max(10, Math.floor(o.deadAfterMs / 4)));
      checkTimer = setInterval(check, every);
    },
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearInterval(checkTimer);
      limiter.close();
      conn = undefined;
      await Promise.all([...sockets].map((s) => s.close("stopping")));
    },
    resubscribe(sub) {
      const c = conn;
      if (!c || c.openedAt === undefined || !c.socket.isOpen()) return false;
      if (limiter.queued(sub.channel)) return true;
      control(c, "unsubscribe", sub);
      control(c, "subscribe", sub);
      return true;
    },
    reconnects: () => reconnects,
    lateMessages: () => late,
  };
}

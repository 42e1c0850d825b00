/**
 * Lifecycle of the feed's WebSocket connection: connect, subscribe every
 * planned channel at once (well inside Coinbase's 5 s deadline, one channel per
 * message, through the send limiter), check every message's `sequence_num`,
 * confirm the `subscriptions` acknowledgements, declare the connection `stale`
 * when nothing at all arrives for `deadAfterMs` (heartbeats come every second),
 * and reconnect with capped exponential backoff and full jitter (the last two
 * are the SDK's `createReconnectingSocket`).
 * @module
 */
import {
  type BackoffOptions,
  type Connection,
  createReconnectingSocket,
  createSendLimiter,
  type FeedLogger,
  type FeedState,
  type FeedStatusUpdate,
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

/** Per-connection state of the session. */
interface ConnState {
  sequence: SequenceTracker;
  /** Subscribe / unsubscribe messages sent, each answered by a `subscriptions` ack or an error. */
  acksDue: number;
  answers: number;
  /** The latest acknowledged subscriptions. */
  acked?: Record<string, string[]>;
}

/** Creates a session; call `start()` to connect. */
export function createSession(o: SessionOptions): Session {
  const { log } = o;
  let late = 0;
  const states = new WeakMap<Connection, ConnState>();
  const stateOf = (c: Connection): ConnState => {
    let state = states.get(c);
    if (!state) {
      state = { sequence: createSequenceTracker(), acksDue: 0, answers: 0 };
      states.set(c, state);
    }
    return state;
  };
  const limiter = createSendLimiter((m) => socket.send(m), o.sendLimit, o.now);

  const status = (state: FeedState, reason?: string) =>
    o.onStatus({ state, reason, emulator: o.emulator });

  const control = (c: ConnState, type: "subscribe" | "unsubscribe", sub: ChannelSubscription) => {
    c.acksDue++;
    limiter.send(subscriptionMessage(type, sub), sub.channel);
  };

  const onFrame = (conn: Connection, text: string, t: number) => {
    const c = stateOf(conn);
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
    socket.delivering(conn);
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
  const answered = (c: ConnState) => {
    c.answers++;
    if (c.answers < c.acksDue) return;
    const missing = missingSubscriptions(o.plan, c.acked ?? {});
    if (missing.length > 0) {
      log.warn(`Coinbase did not confirm: ${missing.join(", ")}`, { missing });
    }
  };

  const socket = createReconnectingSocket({
    url: o.url,
    connectTimeoutMs: o.connectTimeoutMs,
    deadAfterMs: o.deadAfterMs,
    describeSilence: (ms) => `no message for ${ms} ms`,
    backoff: o.backoff,
    now: o.now,
    random: o.random,
    onOpen(conn) {
      const c = stateOf(conn);
      limiter.clear();
      for (const sub of o.plan) control(c, "subscribe", sub);
      const what = o.plan.map((s) =>
        s.products ? `${s.channel} (${s.products.length} products)` : s.channel
      ).join(", ");
      status("connected", `subscribing to ${what}`);
      o.onSubscribed();
    },
    onFrame,
    onStale: (reason) => status("stale", reason),
    onReconnecting(reason, delay, reconnects) {
      limiter.clear();
      o.onInterrupted(reason);
      log.warn(`${reason}; reconnect #${reconnects} in ${delay} ms`, { reconnects, delay });
      status("reconnecting", `${reason}; reconnect #${reconnects} in ${delay} ms`);
    },
  });

  return {
    start() {
      status("connecting", o.url);
      socket.start();
    },
    async stop() {
      limiter.close();
      await socket.stop();
    },
    resubscribe(sub) {
      const conn = socket.current();
      if (!conn || conn.openedAt === undefined || !conn.isOpen()) return false;
      if (limiter.queued(sub.channel)) return true;
      const c = stateOf(conn);
      control(c, "unsubscribe", sub);
      control(c, "subscribe", sub);
      return true;
    },
    reconnects: () => socket.reconnects(),
    lateMessages: () => late,
  };
}

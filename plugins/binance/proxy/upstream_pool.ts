/**
 * Upstream connections for one time unit: streams are added and removed on
 * demand and packed onto connections of at most `maxStreamsPerConnection`
 * streams ("slots"); a lost connection is reopened with capped exponential
 * backoff and full jitter and resubscribes everything; on `serverShutdown` or
 * after `rotateAfterMs` a slot is handed over make-before-break: a replacement
 * subscribes the same streams, both deliver meanwhile (merged by each
 * payload's sequence number so nothing is delivered twice), and the old one is
 * closed once the replacement has confirmed every stream.
 * @module
 */
import { backoffDelay, type BackoffOptions } from "../../../mod.ts";
import type { Envelope } from "./envelope.ts";
import { sequenceOf, type StreamKind } from "./stream_names.ts";
import { openUpstreamConn, type UpstreamConn, type UpstreamConnHandlers } from "./upstream_conn.ts";

/** A logger as the pool uses it. */
export interface PoolLog {
  info(message: string, props?: Record<string, unknown>): void;
  warn(message: string, props?: Record<string, unknown>): void;
}

/** Options of {@link createUpstreamPool}. */
export interface UpstreamPoolOptions {
  /** Full connection URL, e.g. `wss://stream.binance.com:9443/ws`. */
  url: string;
  maxStreamsPerConnection: number;
  controlMessagesPerSecond: number;
  maxParamsPerRequest: number;
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  rotateAfterMs: number;
  handoverTimeoutMs: number;
  now: () => number;
  random: () => number;
  log: PoolLog;
  /** Kind of a stream, for the sequence merge during handovers. */
  kindOf(stream: string): StreamKind;
  /** A data frame of a stream in the pool (each upstream frame at most once). */
  onData(stream: string, frame: Envelope, receiveTime: number): void;
  /** The stream's connection was lost: data may have been missed. */
  onInterrupted(stream: string, reason: string): void;
}

/** The upstream streams of one time unit. */
export interface UpstreamPool {
  /** Subscribes `stream` upstream (no-op when already there). */
  add(stream: string): void;
  /** Unsubscribes `stream` upstream; an emptied connection is closed. */
  remove(stream: string): void;
  /** True while Binance has confirmed `stream` on a live connection. */
  isActive(stream: string): boolean;
  /** Resolves `true` once `stream` is confirmed upstream, `false` after `timeoutMs` or removal. */
  whenActive(stream: string, timeoutMs: number): Promise<boolean>;
  /** Upstream sockets open or opening. */
  connectionCount(): number;
  /** Reconnects and completed handovers so far. */
  stats(): { reconnects: number; handovers: number };
  close(): Promise<void>;
}

interface Slot {
  streams: Set<string>;
  conn?: UpstreamConn;
  next?: UpstreamConn;
  attempt: number;
  reconnectTimer?: ReturnType<typeof setTimeout>;
  rotateTimer?: ReturnType<typeof setTimeout>;
  handoverTimer?: ReturnType<typeof setTimeout>;
  handoverReason: string;
  /** Last sequence delivered per stream since a handover began (see onData). */
  lastSeq: Map<string, number>;
}

/** Creates an empty pool; connections open with the first stream. */
export function createUpstreamPool(o: UpstreamPoolOptions): UpstreamPool {
  const slots = new Set<Slot>();
  const slotOf = new Map<string, Slot>();
  const owner = new Map<UpstreamConn, Slot>();
  const waiters = new Map<string, Set<(ok: boolean) => void>>();
  let nextConnId = 1;
  let closed = false;
  let reconnects = 0;
  let handovers = 0;

  const resolveWaiters = (stream: string, ok: boolean): void => {
    const set = waiters.get(stream);
    if (!set) return;
    waiters.delete(stream);
    for (const resolve of set) resolve(ok);
  };

  const isActive = (stream: string): boolean => {
    const slot = slotOf.get(stream);
    return !!slot && (!!slot.conn?.isActive(stream) || !!slot.next?.isActive(stream));
  };

  const startRotation = (slot: Slot): void => {
    clearTimeout(slot.rotateTimer);
    slot.rotateTimer = setTimeout(
      () => handover(slot, `rotation after ${o.rotateAfterMs} ms`),
      o.rotateAfterMs,
    );
  };

  const handlers: UpstreamConnHandlers = {
    onOpen(conn) {
      const slot = owner.get(conn);
      if (slot && conn === slot.conn) startRotation(slot);
    },
    onData(conn, frame, receiveTime) {
      const slot = owner.get(conn);
      const stream = frame.stream;
      if (!slot || !slot.streams.has(stream)) return;
      const overlap = slot.next !== undefined;
      if (conn !== slot.conn && conn !== slot.next) return;
      if (overlap || slot.lastSeq.size > 0) {
        // Two connections may carry the stream: deliver each sequence number once.
        const seq = sequenceOf(o.kindOf(stream), frame.data);
        if (seq === undefined) {
          if (overlap && conn !== slot.conn) return; // the old connection leads until it goes
        } else {
          const last = slot.lastSeq.get(stream);
          if (last !== undefined && seq <= last) return;
          if (overlap) slot.lastSeq.set(stream, seq);
          else slot.lastSeq.delete(stream);
        }
      }
      o.onData(stream, frame, receiveTime);
    },
    onActive(conn, streams) {
      const slot = owner.get(conn);
      if (!slot) return;
      if (conn === slot.conn) slot.attempt = 0;
      for (const s of streams) resolveWaiters(s, true);
      if (conn === slot.next) maybePromote(slot);
    },
    onRejected(conn, streams, reason) {
      o.log.warn("Binance refused streams: {reason}", { reason, streams, connection: conn.id });
      const slot = owner.get(conn);
      if (slot && conn === slot.next) maybePromote(slot);
    },
    onShutdown(conn) {
      const slot = owner.get(conn);
      if (slot && conn === slot.conn) handover(slot, "serverShutdown");
    },
    onClose(conn, reason) {
      const slot = owner.get(conn);
      owner.delete(conn);
      if (!slot || closed) return;
      if (conn === slot.next) {
        slot.next = undefined;
        o.log.warn("replacement upstream connection failed: {reason}", { reason });
        retryHandover(slot);
        return;
      }
      if (conn !== slot.conn) return;
      clearTimeout(slot.rotateTimer);
      if (slot.next) {
        const fresh = slot.next;
        slot.conn = fresh;
        slot.next = undefined;
        clearTimeout(slot.handoverTimer);
        o.log.warn("upstream connection closed ({reason}) before its replacement was ready", {
          reason,
        });
        for (const s of slot.streams) if (!fresh.isActive(s)) o.onInterrupted(s, reason);
        if (fresh.isOpen()) startRotation(slot);
        return;
      }
      slot.conn = undefined;
      for (const s of slot.streams) o.onInterrupted(s, reason);
      const delay = backoffDelay(slot.attempt++, o.backoff, o.random);
      reconnects++;
      o.log.warn("upstream connection lost ({reason}); reconnecting in {delay} ms", {
        reason,
        delay,
        streams: slot.streams.size,
      });
      slot.reconnectTimer = setTimeout(() => {
        slot.reconnectTimer = undefined;
        if (!closed && slots.has(slot)) slot.conn = open(slot);
      }, delay);
    },
  };

  const open = (slot: Slot): UpstreamConn => {
    const conn = openUpstreamConn(nextConnId++, slot.streams, handlers, {
      url: o.url,
      controlMessagesPerSecond: o.controlMessagesPerSecond,
      maxParamsPerRequest: o.maxParamsPerRequest,
      connectTimeoutMs: o.connectTimeoutMs,
      now: o.now,
      log: o.log,
    });
    owner.set(conn, slot);
    return conn;
  };

  const pendingOn = (conn: UpstreamConn): number => conn.wantedCount() - conn.settledCount();

  const maybePromote = (slot: Slot): void => {
    const fresh = slot.next;
    if (!fresh || !fresh.isOpen() || pendingOn(fresh) > 0) return;
    const old = slot.conn;
    slot.conn = fresh;
    slot.next = undefined;
    clearTimeout(slot.handoverTimer);
    handovers++;
    if (old) {
      owner.delete(old);
      void old.close("replaced");
    }
    startRotation(slot);
    o.log.info("upstream connection replaced make-before-break ({reason})", {
      reason: slot.handoverReason,
      streams: slot.streams.size,
    });
  };

  const handover = (slot: Slot, reason: string): void => {
    if (closed || slot.next || !slot.conn || !slots.has(slot)) return;
    slot.handoverReason = reason;
    slot.lastSeq.clear();
    o.log.info("{reason}: opening a replacement upstream connection", { reason });
    const fresh = open(slot);
    slot.next = fresh;
    clearTimeout(slot.handoverTimer);
    slot.handoverTimer = setTimeout(() => {
      if (slot.next !== fresh) return;
      slot.next = undefined;
      owner.delete(fresh);
      void fresh.close("handover timeout");
      o.log.warn("replacement connection did not confirm its streams within {ms} ms", {
        ms: o.handoverTimeoutMs,
      });
      retryHandover(slot);
    }, o.handoverTimeoutMs);
  };

  const retryHandover = (slot: Slot): void => {
    clearTimeout(slot.handoverTimer);
    if (closed || !slot.conn) return;
    slot.handoverTimer = setTimeout(
      () => handover(slot, slot.handoverReason),
      backoffDelay(slot.attempt++, o.backoff, o.random),
    );
  };

  const retire = (slot: Slot): void => {
    slots.delete(slot);
    clearTimeout(slot.reconnectTimer);
    clearTimeout(slot.rotateTimer);
    clearTimeout(slot.handoverTimer);
    for (const conn of [slot.conn, slot.next]) {
      if (!conn) continue;
      owner.delete(conn);
      void conn.close("no streams left");
    }
    slot.conn = slot.next = undefined;
  };

  return {
    add(stream) {
      if (closed || slotOf.has(stream)) return;
      let slot: Slot | undefined;
      for (const s of slots) {
        if (s.streams.size < o.maxStreamsPerConnection) {
          slot = s;
          break;
        }
      }
      if (!slot) {
        slot = { streams: new Set(), attempt: 0, handoverReason: "", lastSeq: new Map() };
        slots.add(slot);
      }
      slot.streams.add(stream);
      slotOf.set(stream, slot);
      if (!slot.conn && slot.reconnectTimer === undefined) slot.conn = open(slot);
      else {
        slot.conn?.want(stream);
        slot.next?.want(stream);
      }
    },
    remove(stream) {
      const slot = slotOf.get(stream);
      if (!slot) return;
      slotOf.delete(stream);
      slot.streams.delete(stream);
      slot.lastSeq.delete(stream);
      slot.conn?.unwant(stream);
      slot.next?.unwant(stream);
      resolveWaiters(stream, false);
      if (slot.streams.size === 0) retire(slot);
    },
    isActive,
    whenActive(stream, timeoutMs) {
      if (isActive(stream)) return Promise.resolve(true);
      if (closed || !slotOf.has(stream)) return Promise.resolve(false);
      return new Promise((resolve) => {
        let set = waiters.get(stream);
        if (!set) waiters.set(stream, set = new Set());
        const done = (ok: boolean) => {
          clearTimeout(timer);
          set!.delete(done);
          resolve(ok);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        set.add(done);
      });
    },
    connectionCount: () => owner.size,
    stats: () => ({ reconnects, handovers }),
    async close() {
      closed = true;
      const conns = [...owner.keys()];
      for (const slot of [...slots]) retire(slot);
      for (const stream of [...waiters.keys()]) resolveWaiters(stream, false);
      slotOf.clear();
      await Promise.all(conns.map((c) => c.close("proxy closing")));
    },
  };
}

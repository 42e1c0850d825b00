/**
 * One connected WebSocket client and the slow-consumer policy applied when
 * sending to it.
 * @module
 */
import { batchFrame } from "../protocol/frames.ts";

/** A frame waiting in a slow client's backlog. */
interface QueuedFrame {
  /** Conflation key (quote/kline/book); undefined for trades, which are never conflated. */
  key?: string;
  text: string | (() => string);
  /** Trades this frame holds (a batched frame holds many); counted against the bound. */
  weight?: number;
  /** Bytes this entry is counted for in `Backlog.bytes`. */
  bytes: number;
}

/** What a slow client has waiting. */
export interface Backlog {
  queue: QueuedFrame[];
  byKey: Map<string, QueuedFrame>;
  /** Trades in `queue`. */
  trades: number;
  /** Estimated bytes the backlog holds (entries plus batched texts), for the memory budget. */
  bytes: number;
}

/** Most events one batched frame carries; a full batch is flushed at once. */
export const MAX_BATCH_EVENTS = 256;

/** Estimated cost of one backlog entry whose text is shared with other clients. */
const BACKLOG_ENTRY_BYTES = 64;

/** Per-connection limits from the client's plan (API key) or the per-IP defaults. */
export interface ClientAccess {
  /** Key label or `ip:<address>`, for logs. */
  principal: string;
  maxSubscriptions: number;
  messagesPerSecond: number;
  /** Exchanges allowed; null = all. */
  exchanges: readonly string[] | null;
  /** Channels allowed (including `consolidated`); null = all. */
  channels: readonly string[] | null;
  /** True when authenticated with an API key (its paper account is the key's, else the connection's). */
  keyed?: boolean;
  /** Paper-trading limits of the plan. */
  paperOrdersPerSecond?: number;
  paperOpenOrders?: number;
}

/** A connected client. */
export interface Client {
  readonly id: number;
  readonly socket: WebSocket;
  /** Remote address, for logs. */
  readonly remote: string;
  /** Frames waiting because the socket is above its high-water mark; null when none. */
  backlog: Backlog | null;
  /** Client frames counted in the current one-second window. */
  rate: { windowStart: number; count: number };
  /** Set once the client is being disconnected; nothing more is sent. */
  closing: boolean;
  /** Batched delivery (opt-in): frames collected this tick, sent as one JSON array. */
  batch: string[] | null;
  /** Plan limits; null = the gateway-wide limits only. */
  readonly access: ClientAccess | null;
  /** `performance.now()` when the client last went over its high-water mark; 0 while it keeps up. */
  slowSince: number;
  /** Frames and UTF-16 code units written to the socket (for the mean frame size). */
  sentFrames: number;
  sentBytes: number;
}

/** Creates the state of a newly connected client. */
export function createClient(
  id: number,
  socket: WebSocket,
  remote: string,
  batched = false,
  access: ClientAccess | null = null,
): Client {
  return {
    id,
    socket,
    remote,
    backlog: null,
    rate: { windowStart: 0, count: 0 },
    closing: false,
    batch: batched ? [] : null,
    access,
    slowSince: 0,
    sentFrames: 0,
    sentBytes: 0,
  };
}

/**
 * Memory one queued server-side message costs beyond its payload: Deno 2.9.6 keeps a
 * buffer and a write task per `send()` until the peer reads (measured ≈ 1 KiB each;
 * README "Slow consumers"). `bufferedAmount` counts only payload bytes.
 */
export const QUEUED_MESSAGE_OVERHEAD = 1024;

/**
 * Estimated memory the socket holds for `client`: buffered payload plus the per-message
 * overhead, the message count estimated from the client's mean frame size.
 */
export function bufferedCost(client: Client): number {
  let buffered: number;
  try {
    buffered = client.socket.bufferedAmount;
  } catch {
    return 0;
  }
  if (buffered === 0) return 0;
  const meanFrame = client.sentFrames > 0 ? client.sentBytes / client.sentFrames : 256;
  return buffered + Math.ceil(buffered / Math.max(1, meanFrame)) * QUEUED_MESSAGE_OVERHEAD;
}

/** Slow-consumer policy settings. */
export interface DeliveryPolicy {
  /** Estimated bytes held in a socket ({@link bufferedCost}) above which frames are held back. */
  highWaterMark: number;
  /**
   * Trades a slow client may have waiting before it is disconnected; for a batched client,
   * batched frames (each holds up to {@link MAX_BATCH_EVENTS} events; the memory budget
   * bounds their bytes).
   */
  maxQueuedTrades: number;
}

/** Counters the delivery path bumps (read by metrics at scrape time). */
export interface DeliveryStats {
  delivered: number;
  conflated: number;
  slowDisconnects: number;
}

/** Sends frames to clients, applying the slow-consumer policy. */
export interface Delivery {
  /**
   * Sends `text` to `client`. `key` marks a conflatable update (latest wins while
   * the client is slow); without a key the frame is a trade and is queued.
   */
  send(client: Client, text: string | (() => string), key?: string): void;
  /** Sends frames held back for slow clients whose sockets have drained. */
  drain(): void;
  /**
   * Lowers (or restores) the high-water mark in force; the memory budget tightens it
   * under pressure so more clients conflate instead of buffering. Never above the policy's.
   */
  setHighWaterMark(bytes: number): void;
  /** The high-water mark in force now. */
  highWaterMark(): number;
  /** Number of clients with a backlog. */
  backlogged(): number;
  /** Stops the drain timer. */
  close(): void;
  readonly stats: DeliveryStats;
}

/**
 * Creates the delivery path. A client whose socket holds more than the high-water
 * mark gets no further socket writes; its quote/book/kline updates are conflated
 * to the latest per key and its trades queued up to a bound; past the bound it
 * gets a `slow_consumer` error and is disconnected via `disconnect`.
 */
export function createDelivery(
  policy: DeliveryPolicy,
  disconnect: (client: Client, code: number, reason: string) => void,
): Delivery {
  const stats: DeliveryStats = { delivered: 0, conflated: 0, slowDisconnects: 0 };
  const slow = new Set<Client>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let hwm = policy.highWaterMark;
  /** Batched clients with frames collected since the last flush. */
  const batched = new Set<Client>();
  let flushScheduled = false;
  let batchTimer: ReturnType<typeof setTimeout> | undefined;

  const write = (client: Client, text: string | (() => string)) => {
    try {
      const frame = typeof text === "string" ? text : text();
      client.socket.send(frame);
      client.sentFrames++;
      client.sentBytes += frame.length;
      stats.delivered++;
    } catch {
      // socket already closed: its close handler cleans up
    }
  };

  /**
   * Queues a frame for a slow client. `textBytes`: bytes of text only this backlog holds
   * (0 when the text is shared with other clients and already counted).
   */
  const enqueue = (
    client: Client,
    text: string | (() => string),
    key?: string,
    weight = 1,
    textBytes = 0,
  ) => {
    const backlog: Backlog = client.backlog ??= {
      queue: [],
      byKey: new Map(),
      trades: 0,
      bytes: 0,
    };
    if (key !== undefined) {
      const existing = backlog.byKey.get(key);
      if (existing) {
        existing.text = text;
        stats.conflated++;
        return;
      }
      const frame = { key, text, bytes: BACKLOG_ENTRY_BYTES };
      backlog.byKey.set(key, frame);
      backlog.queue.push(frame);
      backlog.bytes += frame.bytes;
      return;
    }
    if (backlog.trades + weight > policy.maxQueuedTrades) {
      stats.slowDisconnects++;
      slow.delete(client);
      client.backlog = null;
      disconnect(client, 1008, "slow_consumer");
      return;
    }
    backlog.trades += weight;
    const bytes = BACKLOG_ENTRY_BYTES + textBytes;
    backlog.bytes += bytes;
    backlog.queue.push({ text, weight, bytes });
  };

  const drain = () => {
    for (const client of slow) {
      const backlog = client.backlog;
      if (!backlog || client.closing || client.socket.readyState !== WebSocket.OPEN) {
        slow.delete(client);
        client.backlog = null;
        continue;
      }
      let i = 0;
      const { queue } = backlog;
      while (i < queue.length && bufferedCost(client) < hwm / 2) {
        const frame = queue[i++];
        if (frame.key !== undefined) backlog.byKey.delete(frame.key);
        else backlog.trades -= frame.weight ?? 1;
        backlog.bytes -= frame.bytes;
        write(client, frame.text);
      }
      queue.splice(0, i);
      if (queue.length === 0) {
        client.backlog = null;
        client.slowSince = 0;
        slow.delete(client);
      }
    }
    if (slow.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  /** Writes or queues one frame; true when it was queued. `textBytes`: see {@link enqueue}. */
  const direct = (
    client: Client,
    text: string | (() => string),
    key?: string,
    weight = 1,
    textBytes = 0,
  ): boolean => {
    if (client.backlog !== null) {
      enqueue(client, text, key, weight, textBytes);
      return true;
    }
    if (bufferedCost(client) > hwm) {
      slow.add(client);
      client.slowSince = performance.now();
      enqueue(client, text, key, weight, textBytes);
      timer ??= setInterval(drain, 5);
      return true;
    }
    write(client, text);
    return false;
  };

  /** Sends each batched client's collected frames as one array frame. */
  const flushBatches = () => {
    flushScheduled = false;
    // Clients with the same subscriptions collected the very same frame strings: join each
    // distinct batch once and share the text (memory and CPU stay per batch, not per client).
    let lastFrames: string[] | undefined;
    let lastText = "";
    // A shared text is counted toward backlog bytes once, by the first client that queues it.
    let counted = false;
    for (const client of batched) {
      const frames = client.batch;
      if (!frames || frames.length === 0) continue;
      client.batch = [];
      if (client.closing) continue;
      if (!sameFrames(frames, lastFrames)) {
        lastFrames = frames;
        lastText = batchFrame(frames);
        counted = false;
      }
      // A batched frame counts once against the queue bound (it holds ≤ MAX_BATCH_EVENTS).
      if (direct(client, lastText, undefined, 1, counted ? 0 : lastText.length)) {
        counted = true;
      }
      stats.delivered += frames.length - 1;
    }
    batched.clear();
  };

  return {
    stats,
    send(client, text, key) {
      if (client.closing) return;
      if (client.batch !== null) {
        // Batched clients always get arrays; while slow, whole batches queue (one entry each).
        client.batch.push(typeof text === "string" ? text : text());
        batched.add(client);
        if (client.batch.length >= MAX_BATCH_EVENTS) {
          // A busy event loop runs the 1 ms timer late: flush now rather than let one
          // frame (and one socket write) grow without bound.
          flushBatches();
          return;
        }
        if (!flushScheduled) {
          // Collect for one millisecond: every frame then carries all events of that window.
          flushScheduled = true;
          batchTimer = setTimeout(flushBatches, 1);
        }
        return;
      }
      direct(client, text, key);
    },
    drain,
    setHighWaterMark(bytes) {
      hwm = Math.max(1, Math.min(policy.highWaterMark, bytes));
    },
    highWaterMark: () => hwm,
    backlogged: () => slow.size,
    close() {
      clearTimeout(batchTimer);
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      slow.clear();
    },
  };
}

/** True when both lists hold the same strings (by reference first, which is the common case). */
function sameFrames(a: readonly string[], b: readonly string[] | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A delivery that sends nothing, for a hub with no client: a recomputation from history, a
 * benchmark of the ingest path.
 * @example
 * ```ts
 * const delivery = silentDelivery();
 * delivery.backlogged(); // 0
 * ```
 */
export function silentDelivery(): Delivery {
  return {
    send() {},
    drain() {},
    setHighWaterMark() {},
    highWaterMark: () => Infinity,
    backlogged: () => 0,
    close() {},
    stats: { delivered: 0, conflated: 0, slowDisconnects: 0 },
  };
}

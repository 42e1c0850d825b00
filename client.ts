/**
 * The typed client of the gateway's WebSocket protocol (docs/protocol.md), for Deno, Node and
 * browsers: only web-standard APIs (WebSocket from `globalThis` or injected, timers), no
 * runtime-specific import.
 *
 * - typed frames: {@link ServerFrame} is the union of every frame the gateway sends, and
 *   `on("trade", …)` hands the listener a {@link TradeFrame};
 * - reconnects with jittered exponential backoff, and re-sends every remembered subscription
 *   with `since` (the highest `pos` received) and the `epoch` of the `subscribed` reply, so
 *   the gateway replays what was missed: no trade lost, none twice (frames at or below the
 *   last `pos` of their stream are dropped);
 * - local order books from `book` frames with the `seq` check; a break asks for a fresh
 *   snapshot by itself (unsubscribe + subscribe of that book), counted in `resnapshots`;
 * - `request()` correlates replies by `id` (made when absent) and rejects with a
 *   {@link ClientError} on an error frame with that id;
 * - batched delivery (`?batch=1`, arrays of frames) is unpacked.
 *
 * @example
 * ```ts
 * import { connect } from "@quant-saas/gateway/client";
 *
 * const client = connect({ url: "ws://localhost:3000/ws" });
 * client.on("trade", (t) => console.log(t.exchange, t.symbol, t.price, t.tradeId));
 * await client.subscribe({ symbols: ["BTCUSDT"], channels: ["trade", "book"], depth: 10 });
 * client.onBook((b) => b.synced && console.log(b.symbol, b.bids[0], b.asks[0]));
 * const reply = await client.request({ action: "ping" });
 * client.close();
 * ```
 * @module
 */
import { backoffDelay, type BackoffOptions } from "./core/client/_backoff.ts";
import {
  type BookFrame,
  type ErrorFrame,
  parseMessage,
  type RequestId,
  type ServerFrame,
  type SubscribedFrame,
  type SubscribeRequest,
} from "./core/client/_frames.ts";
import { type BookView, createLocalBooks, type LocalBook } from "./core/client/_local_book.ts";
import { createSubscriptions } from "./core/client/_subscriptions.ts";

export type * from "./core/client/_frames.ts";
export type { LocalBook } from "./core/client/_local_book.ts";
export { parseMessage } from "./core/client/_frames.ts";
export { backoffDelay, type BackoffOptions } from "./core/client/_backoff.ts";

/** Options of {@link connect}. */
export interface ClientOptions {
  /** `ws://host:3000/ws` (add `?batch=1` for batched delivery), or a `/replay?…` URL. */
  url: string;
  /** API key, sent as the subprotocols `["quant-saas", "bearer.<key>"]`. */
  token?: string;
  /** Reconnect backoff: default 250 ms base, 10 s cap, unlimited attempts; jittered. */
  reconnect?: BackoffOptions;
  /** The WebSocket constructor (default `globalThis.WebSocket`; inject e.g. `ws` on Node < 22). */
  WebSocket?: typeof WebSocket;
}

/** Connection state of a {@link QuantClient}. */
export type ClientState = "connecting" | "open" | "reconnecting" | "closed";

/** The client {@link connect} returns. */
export interface QuantClient {
  /** The state. */
  readonly state: ClientState;
  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onState(listener: (state: ClientState) => void): () => void;
  /** Resolves with the `subscribed` frame; remembered and re-sent after a reconnect with `since` (+ epoch). */
  subscribe(request: SubscribeRequest): Promise<SubscribedFrame>;
  /** Unsubscribes and forgets the subscription (and the local books it fed). */
  unsubscribe(request: SubscribeRequest): Promise<void>;
  /** Typed frames by type; returns the function that removes the listener. */
  on<T extends ServerFrame["type"]>(
    type: T,
    listener: (frame: Extract<ServerFrame, { type: T }>) => void,
  ): () => void;
  /** Every frame, whatever its type (after the per-stream duplicate check). */
  onFrame(listener: (frame: ServerFrame) => void): () => void;
  /**
   * Sends a request with an `id` (made when absent) and resolves with the first frame carrying
   * that id; rejects with a {@link ClientError}: the error frame's code, `timeout` after
   * `timeoutMs` (default 10 s), `disconnected` when the connection dropped after it was sent,
   * `closed` after {@link QuantClient.close}. Sent when the connection is open.
   */
  request(
    frame: { action: string; [k: string]: unknown },
    timeoutMs?: number,
  ): Promise<ServerFrame>;
  /** The local book of exchange + symbol (native or unified name; the deepest view). */
  book(exchange: string, symbol: string): LocalBook | undefined;
  /** Calls `listener` whenever a local book changes (applied frame, unsynced, resnapshot). */
  onBook(listener: (book: LocalBook) => void): () => void;
  /** Closes for good: no reconnect; pending requests reject with `closed`. */
  close(): void;
}

/** A refused or failed request: the error frame's `code`, or `timeout` / `disconnected` / `closed`. */
export class ClientError extends Error {
  /** The protocol's error code (docs/protocol.md "Errors") or the client's own. */
  readonly code: string;
  /** Paper `filter_failure`: the exchange's own error for the same mistake. */
  readonly exchangeError?: { code?: number | string; msg: string };
  /** The error frame, when the gateway sent one. */
  readonly frame?: ErrorFrame;

  /** A refused or failed request. */
  constructor(code: string, message: string, frame?: ErrorFrame) {
    super(message);
    this.name = "ClientError";
    this.code = code;
    this.exchangeError = frame?.exchangeError;
    this.frame = frame;
  }
}

interface Pending {
  frame: Record<string, unknown>;
  subscribe?: SubscribeRequest;
  sent: boolean;
  resolve(frame: ServerFrame): void;
  reject(error: ClientError): void;
  timer?: ReturnType<typeof setTimeout>;
}

type Listener = (frame: ServerFrame) => void;

/**
 * Opens a client; it connects at once and reconnects by itself until {@link QuantClient.close}.
 * @example
 * ```ts
 * const client = connect({ url: "ws://localhost:3000/ws", token: "qs_live_…" });
 * const order = await client.request({ action: "order", exchange: "binance", symbol: "BTCUSDT",
 *   side: "buy", type: "market", quantity: 0.01 });
 * ```
 */
export function connect(options: ClientOptions): QuantClient {
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  if (!WebSocketImpl) throw new Error("no WebSocket: pass options.WebSocket");
  const maxAttempts = options.reconnect?.maxAttempts ?? Infinity;
  const isReplay = new URL(options.url).pathname.startsWith("/replay");

  let state: ClientState = "connecting";
  let socket: WebSocket | undefined;
  let attempts = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let everOpened = false;
  let nextId = 0;
  const makeId = () => `c${++nextId}`;

  const stateListeners = new Set<(state: ClientState) => void>();
  const frameListeners = new Map<string, Set<Listener>>();
  const anyListeners = new Set<Listener>();
  const bookListeners = new Set<(book: LocalBook) => void>();
  const pending = new Map<string, Pending>();
  const subscriptions = createSubscriptions();
  const books = createLocalBooks();

  // Recovery: the epoch, the highest pos received, the last pos per stream (duplicate check),
  // and the since-subscribes whose `recovered` has not come yet.
  let epoch: string | undefined;
  let highest = 0;
  let resumeFrom = 0;
  const lastPos = new Map<string, number>();
  const recovering = new Set<string>();

  const setState = (next: ClientState) => {
    if (next === state) return;
    state = next;
    for (const l of [...stateListeners]) safely(() => l(next));
  };

  const sendNow = (frame: Record<string, unknown>): boolean => {
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(frame));
    return true;
  };

  const settle = (key: string) => {
    const p = pending.get(key);
    if (!p) return undefined;
    pending.delete(key);
    if (p.timer !== undefined) clearTimeout(p.timer);
    return p;
  };

  const track = (
    frame: Record<string, unknown> & { id: RequestId },
    timeoutMs: number | undefined,
    subscribe?: SubscribeRequest,
  ): Promise<ServerFrame> =>
    new Promise((resolve, reject) => {
      const key = String(frame.id);
      const entry: Pending = { frame, subscribe, sent: false, resolve, reject };
      if (timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          settle(key);
          reject(new ClientError("timeout", `no reply to ${frame.action} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      pending.set(key, entry);
      if (state === "open") entry.sent = sendNow(frame);
    });

  const recoveryFields = () =>
    !isReplay && epoch !== undefined && resumeFrom > 0 ? { since: resumeFrom, epoch } : {};

  const open = () => {
    let ws: WebSocket;
    try {
      ws = options.token
        ? new WebSocketImpl(options.url, ["quant-saas", `bearer.${options.token}`])
        : new WebSocketImpl(options.url);
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      const reconnected = everOpened;
      everOpened = true;
      attempts = 0;
      setState("open");
      const recovery = reconnected ? recoveryFields() : {};
      if (reconnected) {
        for (const request of subscriptions.requests()) {
          const id = makeId();
          if ("since" in recovery) recovering.add(id);
          sendNow({ action: "subscribe", ...request, ...recovery, id });
        }
      }
      for (const [key, p] of pending) {
        if (p.subscribe && p.sent && reconnected) {
          if ("since" in recovery) recovering.add(key);
          p.frame = { ...p.frame, ...recovery };
          sendNow(p.frame);
        } else if (!p.sent) {
          p.sent = sendNow(p.frame);
        }
      }
    };
    ws.onmessage = (event: MessageEvent) => {
      if (socket !== ws) return;
      for (const frame of parseMessage(event.data)) receive(frame);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      dropped();
    };
    ws.onerror = () => {};
  };

  const dropped = () => {
    if (state === "closed") return;
    // Resume from the highest pos, unless a recovery was still running (then some streams
    // may still lack frames below it): resume from where that recovery started.
    if (recovering.size === 0) resumeFrom = highest;
    recovering.clear();
    for (const [key, p] of [...pending]) {
      if (p.sent && !p.subscribe) {
        settle(key)?.reject(
          new ClientError("disconnected", `connection lost before the reply to ${p.frame.action}`),
        );
      }
    }
    for (const view of books.unsync(books.all())) notifyBook(view.book);
    scheduleReconnect();
  };

  const scheduleReconnect = () => {
    if (state === "closed") return;
    if (attempts >= maxAttempts) {
      shutdown("closed", "gave up reconnecting");
      return;
    }
    setState("reconnecting");
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (state !== "closed") open();
    }, backoffDelay(attempts++, options.reconnect));
  };

  const shutdown = (code: string, message: string) => {
    setState("closed");
    if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
    const ws = socket;
    socket = undefined;
    try {
      ws?.close(1000);
    } catch { /* already closing */ }
    for (const key of [...pending.keys()]) settle(key)?.reject(new ClientError(code, message));
  };

  const notifyBook = (book: LocalBook) => {
    for (const l of [...bookListeners]) safely(() => l(book));
  };

  const resnapshot = (view: BookView) => {
    view.book.resnapshots++;
    notifyBook(view.book);
    const request = {
      symbols: [view.book.symbol],
      exchanges: [view.book.exchange],
      channels: ["book"],
      depth: view.depth,
      raw: view.raw ?? true,
    };
    sendNow({ action: "unsubscribe", ...request, id: makeId() });
    sendNow({ action: "subscribe", ...request, id: makeId() });
  };

  const onBookFrame = (frame: BookFrame) => {
    const { result, view } = books.apply(frame);
    if (result === "applied") notifyBook(view.book);
    else if (result === "break") resnapshot(view);
  };

  /** False when the frame repeats a position already received on its stream. */
  const positionIsNew = (frame: ServerFrame): boolean => {
    const pos = (frame as { pos?: unknown }).pos;
    if (typeof pos !== "number") return true;
    const f = frame as { exchange: string; symbol: string; type: string };
    const stream = `${f.exchange}|${f.type === "gap" ? "trade" : f.type}|${f.symbol}`;
    const last = lastPos.get(stream);
    if (last !== undefined && pos <= last) return false;
    lastPos.set(stream, pos);
    if (pos > highest) highest = pos;
    return true;
  };

  const noteEpoch = (next: string | undefined) => {
    if (next === undefined || next === epoch) return;
    if (epoch !== undefined) {
      // Another lineage (a restarted gateway): positions start over.
      highest = 0;
      resumeFrom = 0;
      lastPos.clear();
    }
    epoch = next;
  };

  const receive = (frame: ServerFrame) => {
    switch (frame.type) {
      case "trade":
      case "quote":
      case "kline":
      case "gap":
        if (!positionIsNew(frame)) return;
        break;
      case "book":
        onBookFrame(frame);
        break;
      case "subscribed":
        noteEpoch(frame.epoch);
        break;
      case "status":
        if ("channel" in frame && frame.channel === "book" && frame.state === "resyncing") {
          for (const view of books.unsync(books.find(frame.exchange, frame.symbol))) {
            notifyBook(view.book);
          }
        } else if ("epoch" in frame) noteEpoch(frame.epoch);
        break;
      case "recovered":
        if (frame.id !== undefined) recovering.delete(String(frame.id));
        break;
    }
    const id = (frame as { id?: RequestId }).id;
    if (id !== undefined) {
      const key = String(id);
      if (frame.type === "error") recovering.delete(key);
      const p = frame.type === "recovered" ? undefined : settle(key);
      if (p) {
        if (frame.type === "error") {
          p.reject(new ClientError(frame.code, frame.message, frame));
        } else {
          if (p.subscribe && frame.type === "subscribed") subscriptions.add(p.subscribe);
          p.resolve(frame);
        }
      }
    }
    for (const l of [...(frameListeners.get(frame.type) ?? [])]) safely(() => l(frame));
    for (const l of [...anyListeners]) safely(() => l(frame));
  };

  open();

  return {
    get state() {
      return state;
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    async subscribe(request) {
      const { id = makeId(), ...rest } = request;
      const frame = await track({ action: "subscribe", ...rest, id }, undefined, rest);
      return frame as SubscribedFrame;
    },
    async unsubscribe(request) {
      const { id = makeId(), ...rest } = request;
      subscriptions.remove(rest);
      if ((rest.channels ?? ["trade"]).includes("book")) {
        for (const symbol of rest.symbols) {
          for (const exchange of rest.exchanges ?? [undefined]) {
            for (const view of books.find(exchange, symbol)) books.remove(view);
          }
        }
      }
      await track({ action: "unsubscribe", ...rest, id }, 10_000);
    },
    on(type, listener) {
      const set = frameListeners.get(type) ?? new Set();
      set.add(listener as Listener);
      frameListeners.set(type, set);
      return () => set.delete(listener as Listener);
    },
    onFrame(listener) {
      anyListeners.add(listener);
      return () => anyListeners.delete(listener);
    },
    request(frame, timeoutMs = 10_000) {
      const id = (frame.id as RequestId | undefined) ?? makeId();
      return track({ ...frame, id }, timeoutMs);
    },
    book(exchange, symbol) {
      return books.get(exchange, symbol)?.book;
    },
    onBook(listener) {
      bookListeners.add(listener);
      return () => bookListeners.delete(listener);
    },
    close() {
      if (state !== "closed") shutdown("closed", "client closed");
    },
  };
}

/** Runs a listener; an exception is rethrown asynchronously so one listener cannot break the client. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    setTimeout(() => {
      throw err;
    });
  }
}

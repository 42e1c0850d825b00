/**
 * The app's one door to the gateway's WebSocket protocol: exactly the `connect(...)` /
 * `QuantClient` contract of the repository's typed client module (`client.ts`, issue #16),
 * with a minimal implementation of its own so the app builds before that module lands.
 * Every use in the app goes through this file; at merge it becomes
 * `export * from "../../client.ts";`.
 *
 * @example
 * ```ts
 * const client = connect({ url: "ws://localhost:3000/ws" });
 * await client.subscribe({ symbols: ["BTC/USDT"], channels: ["trade"] });
 * client.on("trade", (t) => console.log(t.price));
 * ```
 */

/** A subscribe (or unsubscribe) request, as docs/protocol.md lists its fields. */
export interface SubscribeRequest {
  symbols: string[];
  channels?: string[];
  exchanges?: string[];
  raw?: boolean;
  depth?: number;
  metrics?: string[];
}

/** The gateway's reply to a subscribe. */
export interface SubscribedFrame {
  type: "subscribed";
  id?: number | string;
  symbols: string[];
  channels: string[];
  exchanges: string[];
  epoch?: string;
  [k: string]: unknown;
}

/** A frame of one `type` whose other fields are read loosely (docs/protocol.md lists them). */
export type LooseFrame<T extends string> = T extends string
  ? { type: T; id?: number | string; [k: string]: unknown }
  : never;

/** Any frame the gateway sends; `type` names it (fields per docs/protocol.md). */
export type ServerFrame =
  | SubscribedFrame
  | LooseFrame<
    | "unsubscribed"
    | "subscriptions"
    | "pong"
    | "trade"
    | "quote"
    | "kline"
    | "book"
    | "consolidated"
    | "analytics"
    | "status"
    | "gap"
    | "recovered"
    | "order"
    | "fill"
    | "account"
    | "route"
    | "ack"
    | "error"
  >;

/** Options of {@link connect}. */
export interface ClientOptions {
  url: string;
  token?: string;
  reconnect?: { baseMs?: number; capMs?: number; maxAttempts?: number };
  WebSocket?: typeof WebSocket;
}

/** A local order book kept from `book` frames with the `seq` check. */
export interface LocalBook {
  exchange: string;
  symbol: string;
  seq: number;
  bids: [number, number][];
  asks: [number, number][];
  synced: boolean;
  resnapshots: number;
  time: number;
}

/** A connection that reconnects, resubscribes and keeps local books. */
export interface QuantClient {
  readonly state: "connecting" | "open" | "reconnecting" | "closed";
  onState(listener: (state: QuantClient["state"]) => void): () => void;
  subscribe(request: SubscribeRequest): Promise<SubscribedFrame>;
  unsubscribe(request: SubscribeRequest): Promise<void>;
  on<T extends ServerFrame["type"]>(
    type: T,
    listener: (frame: Extract<ServerFrame, { type: T }>) => void,
  ): () => void;
  request(
    frame: { action: string; [k: string]: unknown },
    timeoutMs?: number,
  ): Promise<ServerFrame>;
  book(exchange: string, symbol: string): LocalBook | undefined;
  onBook(listener: (book: LocalBook) => void): () => void;
  close(): void;
}

/** An error frame answering a request, as a rejection. */
export interface RequestError extends Error {
  code: string;
  frame: ServerFrame;
}

type Listener = (frame: ServerFrame) => void;
type Pending = { resolve(f: ServerFrame): void; reject(e: Error): void; timer: number };

/** Applies absolute-quantity deltas to one side, kept sorted (bids descending, asks ascending). */
function applySide(side: [number, number][], deltas: [number, number][], desc: boolean): void {
  for (const [price, qty] of deltas) {
    const i = side.findIndex(([p]) => p === price);
    if (i >= 0) {
      if (qty === 0) side.splice(i, 1);
      else side[i] = [price, qty];
    } else if (qty !== 0) {
      let at = side.findIndex(([p]) => desc ? p < price : p > price);
      if (at < 0) at = side.length;
      side.splice(at, 0, [price, qty]);
    }
  }
}

/**
 * Opens a client. Reconnects with jittered exponential backoff and re-sends every
 * remembered subscription; books re-snapshot by themselves after a reconnect or a `seq` break.
 *
 * @example
 * ```ts
 * const client = connect({ url: "ws://localhost:3000/ws" });
 * const reply = await client.request({ action: "account" });
 * ```
 */
export function connect(options: ClientOptions): QuantClient {
  const WS = options.WebSocket ?? globalThis.WebSocket;
  const baseMs = options.reconnect?.baseMs ?? 250;
  const capMs = options.reconnect?.capMs ?? 10_000;
  const maxAttempts = options.reconnect?.maxAttempts ?? Infinity;
  const listeners = new Map<string, Set<Listener>>();
  const stateListeners = new Set<(s: QuantClient["state"]) => void>();
  const bookListeners = new Set<(b: LocalBook) => void>();
  const pending = new Map<string, Pending>();
  const subscriptions = new Map<string, SubscribeRequest>();
  const books = new Map<string, LocalBook>();
  let state: QuantClient["state"] = "connecting";
  let socket: WebSocket | undefined;
  let nextId = 1;
  let attempts = 0;
  let epoch: string | undefined;
  let lastPos: number | undefined;
  const queue: string[] = [];

  const setState = (s: QuantClient["state"]) => {
    if (state === s) return;
    state = s;
    for (const l of stateListeners) l(s);
  };
  const send = (frame: Record<string, unknown>) => {
    const text = JSON.stringify(frame);
    if (socket && socket.readyState === 1) socket.send(text);
    else queue.push(text);
  };
  const emit = (frame: ServerFrame) => {
    for (const l of listeners.get(frame.type) ?? []) l(frame);
    for (const l of listeners.get("*") ?? []) l(frame);
  };
  const resnapshot = (book: LocalBook, depth: number) => {
    book.synced = false;
    book.resnapshots++;
    const req = { symbols: [book.symbol], channels: ["book"], exchanges: [book.exchange], depth };
    void request({ action: "unsubscribe", ...req }).catch(() => {})
      .then(() => request({ action: "subscribe", ...req })).catch(() => {});
  };
  const onBookFrame = (f: Record<string, unknown>) => {
    const key = `${f.exchange}|${f.symbol}`;
    const bids = f.bids as [number, number][];
    const asks = f.asks as [number, number][];
    const seq = f.seq as number;
    let book = books.get(key);
    if (f.snapshot) {
      const resnapshots = book?.resnapshots ?? 0;
      book = {
        exchange: String(f.exchange),
        symbol: String(f.symbol),
        seq,
        bids: bids.map(([p, q]) => [p, q]),
        asks: asks.map(([p, q]) => [p, q]),
        synced: true,
        resnapshots,
        time: Number(f.eventTime ?? Date.now()),
      };
      books.set(key, book);
    } else {
      if (!book || !book.synced) return;
      if (seq !== book.seq + 1) {
        resnapshot(book, Number(f.depth ?? 20));
        for (const l of bookListeners) l(book);
        return;
      }
      book.seq = seq;
      applySide(book.bids, bids, true);
      applySide(book.asks, asks, false);
      book.time = Number(f.eventTime ?? Date.now());
    }
    for (const l of bookListeners) l(book);
  };
  const onFrame = (frame: ServerFrame) => {
    const f = frame as Record<string, unknown>;
    if (typeof f.pos === "number") lastPos = f.pos;
    if (typeof f.epoch === "string") epoch = f.epoch;
    if (f.type === "book") onBookFrame(f);
    if (f.type === "status" && f.channel === "book" && f.state === "resyncing") {
      const book = books.get(`${f.exchange}|${f.symbol}`);
      if (book) book.synced = false;
    }
    const id = f.id === undefined ? undefined : String(f.id);
    const waiter = id === undefined ? undefined : pending.get(id);
    if (waiter) {
      pending.delete(id!);
      clearTimeout(waiter.timer);
      if (f.type === "error") {
        const err = new Error(String(f.message ?? f.code)) as RequestError;
        err.code = String(f.code);
        err.frame = frame;
        waiter.reject(err);
      } else waiter.resolve(frame);
    }
    emit(frame);
  };
  const open = () => {
    const protocols = options.token ? ["quant-saas", `bearer.${options.token}`] : undefined;
    const ws = new WS(options.url, protocols);
    socket = ws;
    ws.onopen = () => {
      attempts = 0;
      const resumed = state === "reconnecting";
      setState("open");
      for (const b of books.values()) b.synced = false;
      for (const req of subscriptions.values()) {
        const recovery = resumed && lastPos !== undefined ? { since: lastPos, epoch } : {};
        ws.send(JSON.stringify({ action: "subscribe", ...req, ...recovery }));
      }
      for (const text of queue.splice(0)) ws.send(text);
    };
    ws.onmessage = (e) => {
      const data = JSON.parse(String(e.data)) as ServerFrame | ServerFrame[];
      for (const f of Array.isArray(data) ? data : [data]) onFrame(f);
    };
    ws.onclose = () => {
      if (socket !== ws || state === "closed") return;
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new Error("connection closed"));
        pending.delete(id);
      }
      if (++attempts > maxAttempts) return setState("closed");
      setState("reconnecting");
      const delay = Math.random() * Math.min(capMs, baseMs * 2 ** attempts);
      setTimeout(() => state !== "closed" && open(), delay);
    };
  };

  function request(
    frame: { action: string; [k: string]: unknown },
    timeoutMs = 10_000,
  ): Promise<ServerFrame> {
    const id = `c${nextId++}`;
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`no reply to ${frame.action} in ${timeoutMs} ms`));
      }, timeoutMs) as unknown as number;
      pending.set(id, { resolve, reject, timer });
      send({ ...frame, id });
    });
  }

  open();
  return {
    get state() {
      return state;
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    async subscribe(req) {
      subscriptions.set(JSON.stringify(req), req);
      return await request({ action: "subscribe", ...req }) as SubscribedFrame;
    },
    async unsubscribe(req) {
      subscriptions.delete(JSON.stringify(req));
      if (req.channels?.includes("book")) {
        for (const [key, b] of books) {
          if (req.symbols.some((s) => key.endsWith(`|${s}`)) || req.symbols.includes(b.symbol)) {
            books.delete(key);
          }
        }
      }
      await request({ action: "unsubscribe", ...req });
    },
    on(type, listener) {
      const set = listeners.get(type) ?? new Set<Listener>();
      listeners.set(type, set);
      set.add(listener as Listener);
      return () => set.delete(listener as Listener);
    },
    request,
    book: (exchange, symbol) => books.get(`${exchange}|${symbol}`),
    onBook(listener) {
      bookListeners.add(listener);
      return () => bookListeners.delete(listener);
    },
    close() {
      setState("closed");
      socket?.close();
    },
  };
}

/**
 * One client WebSocket: open with a deadline, hand each text frame on with its
 * receive time, and report an unrequested close once. The building block of
 * {@link createReconnectingSocket}; use it directly for a one-off connection.
 * @module
 */

/**
 * Callbacks of one socket. None is called after `close()`.
 *
 * @example
 * ```ts
 * import type { SocketHandlers } from "@quant-saas/gateway";
 *
 * const handlers: SocketHandlers = {
 *   onOpen: () => console.log("open"),
 *   onFrame: (text, receiveTime) => console.log(receiveTime, text.length),
 *   onClose: (reason) => console.log(reason),
 * };
 * ```
 */
export interface SocketHandlers {
  /** The socket is open. */
  onOpen(): void;
  /** One text frame and the time it was received (`now()` of the options). */
  onFrame(text: string, receiveTime: number): void;
  /** The socket failed to open or was closed by the peer / network; called once. */
  onClose(reason: string): void;
}

/**
 * An open (or opening) socket, as {@link openSocket} returns it.
 *
 * @example
 * ```ts
 * import { type FeedSocket, openSocket } from "@quant-saas/gateway";
 *
 * const socket: FeedSocket = openSocket("ws://127.0.0.1:9/ws", {
 *   onOpen: () => socket.send('{"method":"ping"}'),
 *   onFrame: () => {},
 *   onClose: () => {},
 * }, { connectTimeoutMs: 1000, now: Date.now });
 * await socket.close();
 * ```
 */
export interface FeedSocket {
  /** Sends a text frame if the socket is open; false otherwise. */
  send(message: string): boolean;
  /** Closes the socket without calling `onClose`; resolves once it is closed (at most ~1 s). */
  close(reason?: string): Promise<void>;
  /** True while the socket is open and not closed by `close()`. */
  isOpen(): boolean;
  /** Resolves once the underlying socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
}

/**
 * Opens a WebSocket to `url` (binary frames are decoded as UTF-8 text).
 *
 * @example Print every frame until the peer closes
 * ```ts
 * import { openSocket } from "@quant-saas/gateway";
 *
 * const socket = openSocket("ws://127.0.0.1:9/ws", {
 *   onOpen: () => console.log("connected"),
 *   onFrame: (text) => console.log(text),
 *   onClose: (reason) => console.log(reason), // e.g. "no connection within 1000 ms"
 * }, { connectTimeoutMs: 1000, now: Date.now });
 * await socket.closed;
 * ```
 */
export function openSocket(
  url: string,
  handlers: SocketHandlers,
  options: { connectTimeoutMs: number; now: () => number },
): FeedSocket {
  let live = true;
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => (closedResolve = resolve));
  const decoder = new TextDecoder();
  let ws: WebSocket;
  try {
    ws = new WebSocket(url);
  } catch (err) {
    queueMicrotask(() => handlers.onClose(`cannot open: ${String(err)}`));
    return {
      send: () => false,
      close: () => Promise.resolve(),
      isOpen: () => false,
      closed: Promise.resolve(),
    };
  }
  ws.binaryType = "arraybuffer";
  let lastError = "";

  const finish = (reason: string) => {
    if (!live) return;
    live = false;
    clearTimeout(deadline);
    handlers.onClose(reason);
  };

  const deadline = setTimeout(() => {
    finish(`no connection within ${options.connectTimeoutMs} ms`);
    try {
      ws.close();
    } catch { /* already closing */ }
  }, options.connectTimeoutMs);

  ws.onopen = () => {
    clearTimeout(deadline);
    if (live) handlers.onOpen();
  };
  ws.onmessage = (e: MessageEvent) => {
    if (!live) return;
    const receiveTime = options.now();
    const data = e.data;
    handlers.onFrame(
      typeof data === "string" ? data : decoder.decode(data as ArrayBuffer),
      receiveTime,
    );
  };
  ws.onerror = (e: Event) => {
    lastError = (e as ErrorEvent).message ?? "error";
  };
  ws.onclose = (e: CloseEvent) => {
    closedResolve();
    const detail = e.reason ? ` ${e.reason}` : lastError ? ` (${lastError})` : "";
    finish(`connection closed: code ${e.code}${detail}`);
  };

  return {
    send(message) {
      if (!live || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(message);
      return true;
    },
    async close(reason = "closing") {
      if (live) {
        live = false;
        clearTimeout(deadline);
      }
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
        try {
          ws.close(1000, reason.slice(0, 100));
        } catch { /* already closing */ }
      } else if (ws.readyState === WebSocket.CLOSED) {
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        closed,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000))),
      ]);
      clearTimeout(timer);
    },
    isOpen: () => live && ws.readyState === WebSocket.OPEN,
    closed,
  };
}

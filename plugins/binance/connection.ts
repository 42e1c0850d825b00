/**
 * One client WebSocket to a combined-stream URL: open with a deadline, hand each
 * text frame on with its receive time, report an unrequested close once, and
 * send control messages through the per-connection rate limit. Deno's client
 * WebSocket answers server pings by itself (JavaScript never sees them).
 * @module
 */
import { createLimitedSender } from "./rate_limiter.ts";

/** Callbacks of one socket. None is called after `close()`. */
export interface SocketHandlers {
  onOpen(): void;
  onFrame(text: string, receiveTime: number): void;
  /** The socket failed to open or was closed by the peer / network; called once. */
  onClose(reason: string): void;
}

/** Options of {@link openStreamSocket}. */
export interface SocketOptions {
  connectTimeoutMs: number;
  controlMessagesPerSecond: number;
  now: () => number;
}

/** An open (or opening) stream socket. */
export interface StreamSocket {
  /** Sends a control message, at most `controlMessagesPerSecond` per second. */
  send(message: string): void;
  /** Closes the socket without calling `onClose`; resolves once it is closed (at most ~1 s). */
  close(reason?: string): Promise<void>;
  isOpen(): boolean;
  /** Resolves once the underlying socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
}

/** Opens a WebSocket to `url`. */
export function openStreamSocket(
  url: string,
  handlers: SocketHandlers,
  options: SocketOptions,
): StreamSocket {
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
      send() {},
      close: () => Promise.resolve(),
      isOpen: () => false,
      closed: Promise.resolve(),
    };
  }
  ws.binaryType = "arraybuffer";
  const limiter = createLimitedSender(
    (m) => ws.readyState === WebSocket.OPEN && ws.send(m),
    options.controlMessagesPerSecond,
    options.now,
  );
  let lastError = "";

  const finish = (reason: string) => {
    if (!live) return;
    live = false;
    clearTimeout(deadline);
    limiter.close();
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
    send: (message) => live && limiter.send(message),
    async close(reason = "closing") {
      if (live) {
        live = false;
        clearTimeout(deadline);
        limiter.close();
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

/**
 * One client WebSocket: open with a deadline, hand each text frame on with its
 * receive time, and report an unrequested close once. Used by the Coinbase and
 * Kraken plugins.
 * @module
 */

/** Callbacks of one socket. None is called after `close()`. */
export interface SocketHandlers {
  onOpen(): void;
  onFrame(text: string, receiveTime: number): void;
  /** The socket failed to open or was closed by the peer / network; called once. */
  onClose(reason: string): void;
}

/** An open (or opening) socket. */
export interface FeedSocket {
  /** Sends a text frame if the socket is open; false otherwise. */
  send(message: string): boolean;
  /** Closes the socket without calling `onClose`; resolves once it is closed (at most ~1 s). */
  close(reason?: string): Promise<void>;
  isOpen(): boolean;
  /** Resolves once the underlying socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
}

/** Opens a WebSocket to `url`. */
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

/**
 * One client WebSocket to a combined-stream URL: open with a deadline, hand each
 * text frame on with its receive time, report an unrequested close once, and
 * send control messages through the per-connection rate limit. Deno's client
 * WebSocket answers server pings by itself (JavaScript never sees them). Used
 * by the Binance-compatible proxy's upstream connections; the feed's shards use
 * the SDK's `createReconnectingSocket`.
 * @module
 */
import { createSendLimiter, openSocket as openTextSocket, type SocketHandlers } from "../../mod.ts";

export type { SocketHandlers } from "../../mod.ts";

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

/** Opens a WebSocket to `url` (the shared socket wrapper plus the control-message limit). */
export function openStreamSocket(
  url: string,
  handlers: SocketHandlers,
  options: SocketOptions,
): StreamSocket {
  const socket = openTextSocket(url, {
    onOpen: () => handlers.onOpen(),
    onFrame: (text, receiveTime) => handlers.onFrame(text, receiveTime),
    onClose(reason) {
      sender.close(); // onClose is never called synchronously, so `sender` exists
      handlers.onClose(reason);
    },
  }, options);
  const sender = createSendLimiter(
    (m) => void socket.send(m),
    options.controlMessagesPerSecond,
    options.now,
  );
  return {
    send: (message) => sender.send(message),
    async close(reason) {
      sender.close();
      await socket.close(reason);
    },
    isOpen: () => socket.isOpen(),
    closed: socket.closed,
  };
}

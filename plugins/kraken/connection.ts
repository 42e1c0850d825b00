/**
 * Kraken's client socket: the shared WebSocket wrapper (deadline, receive time,
 * one close report), with every request sent as JSON.
 * @module
 */
import { openSocket as openTextSocket, type SocketHandlers } from "../../mod.ts";

export type { SocketHandlers } from "../../mod.ts";

/** An open (or opening) socket. */
export interface KrakenSocket {
  /** Sends one request as JSON; false when the socket is not open. */
  send(message: unknown): boolean;
  /** Closes the socket without calling `onClose`; resolves once it is closed (at most ~1 s). */
  close(reason?: string): Promise<void>;
  isOpen(): boolean;
}

/** Opens a WebSocket to `url`. */
export function openSocket(
  url: string,
  handlers: SocketHandlers,
  options: { connectTimeoutMs: number; now: () => number },
): KrakenSocket {
  const socket = openTextSocket(url, handlers, options);
  return {
    send: (message) => socket.send(JSON.stringify(message)),
    close: (reason) => socket.close(reason),
    isOpen: () => socket.isOpen(),
  };
}

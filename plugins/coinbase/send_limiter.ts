/**
 * Sliding-window limiter for the messages the feed sends (Coinbase: 8
 * unauthenticated messages per second per IP): at most `limit` sends in any
 * `windowMs`; the rest wait, in order. One limiter serves every connection of
 * a feed in turn, so a reconnect storm cannot exceed the limit either.
 * @module
 */

/** A rate-limited sender. */
export interface SendLimiter {
  /** Sends `message` now or as soon as the window allows; `key` groups messages for {@link SendLimiter.queued}. */
  send(message: string, key?: string): void;
  /** True while a message with `key` waits. */
  queued(key: string): boolean;
  /** Messages waiting for the window. */
  readonly pending: number;
  /** Drops waiting messages (the connection they were meant for is gone); the window is kept. */
  clear(): void;
  /** Drops waiting messages and clears the timer for good. */
  close(): void;
}

/** Window of a {@link SendLimiter}. */
export interface SendLimit {
  limit: number;
  windowMs: number;
}

/** Wraps `send` so that at most `limit` messages go out per `windowMs`. */
export function createSendLimiter(
  send: (message: string) => void,
  { limit, windowMs }: SendLimit,
  now: () => number = Date.now,
): SendLimiter {
  const sentAt: number[] = [];
  const queue: Array<{ message: string; key?: string }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && !closed) {
      const t = now();
      while (sentAt.length > 0 && t - sentAt[0] >= windowMs) sentAt.shift();
      if (sentAt.length >= limit) {
        timer = setTimeout(pump, windowMs - (t - sentAt[0]));
        return;
      }
      sentAt.push(t);
      send(queue.shift()!.message);
    }
  };

  return {
    send(message, key) {
      if (closed) return;
      queue.push({ message, key });
      if (timer === undefined) pump();
    },
    queued: (key) => queue.some((q) => q.key === key),
    get pending() {
      return queue.length;
    },
    clear() {
      queue.length = 0;
    },
    close() {
      closed = true;
      queue.length = 0;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * Sliding-window limiter for control messages on one connection: at most
 * `perSecond` sends in any 1000 ms; the rest wait in order.
 * @module
 */

/** A rate-limited sender. */
export interface LimitedSender {
  /** Sends `message` now or as soon as the window allows. */
  send(message: string): void;
  /** Messages waiting for the window. */
  readonly pending: number;
  /** Drops waiting messages and clears the timer. */
  close(): void;
}

/** Wraps `send` so that at most `perSecond` messages go out per 1000 ms. */
export function createLimitedSender(
  send: (message: string) => void,
  perSecond: number,
  now: () => number = Date.now,
): LimitedSender {
  const sentAt: number[] = [];
  const queue: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && !closed) {
      const t = now();
      while (sentAt.length > 0 && t - sentAt[0] >= 1000) sentAt.shift();
      if (sentAt.length >= perSecond) {
        timer = setTimeout(pump, 1000 - (t - sentAt[0]));
        return;
      }
      sentAt.push(t);
      send(queue.shift()!);
    }
  };

  return {
    send(message) {
      if (closed) return;
      queue.push(message);
      if (timer === undefined) pump();
    },
    get pending() {
      return queue.length;
    },
    close() {
      closed = true;
      queue.length = 0;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

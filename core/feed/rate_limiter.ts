/**
 * Sliding-window limiter for the messages a feed sends (exchanges cap control
 * messages: Binance 5 per second per connection, Coinbase 8 per second per IP):
 * at most `limit` sends in any `windowMs`; the rest wait, in order.
 * @module
 */

/**
 * A rate-limited sender.
 *
 * @example Skip a resubscription that is still waiting
 * ```ts
 * import { createSendLimiter, type SendLimiter } from "@quant-saas/gateway";
 *
 * const limiter: SendLimiter = createSendLimiter(() => {}, { limit: 8, windowMs: 1000 });
 * if (!limiter.queued("level2")) limiter.send('{"type":"subscribe","channel":"level2"}', "level2");
 * limiter.close();
 * ```
 */
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

/**
 * Window of a {@link SendLimiter}: at most `limit` messages in any `windowMs`.
 *
 * @example Coinbase: 8 messages per second
 * ```ts
 * import type { SendLimit } from "@quant-saas/gateway";
 *
 * const coinbase: SendLimit = { limit: 8, windowMs: 1000 };
 * ```
 */
export interface SendLimit {
  /** Messages allowed per window. */
  limit: number;
  /** Window length, ms. */
  windowMs: number;
}

/**
 * Wraps `send` so that at most `limit.limit` messages go out per `limit.windowMs`
 * (a plain number means that many per 1000 ms).
 *
 * @example Five subscribe messages per second
 * ```ts
 * import { createSendLimiter } from "@quant-saas/gateway";
 *
 * const sent: string[] = [];
 * const limiter = createSendLimiter((m) => sent.push(m), { limit: 5, windowMs: 1000 });
 * for (let i = 0; i < 7; i++) limiter.send(JSON.stringify({ method: "SUBSCRIBE", id: i }));
 * console.log(sent.length, limiter.pending); // 5 2: the last two go out a second later
 * limiter.close();
 * ```
 */
export function createSendLimiter(
  send: (message: string) => void,
  limit: SendLimit | number,
  now: () => number = Date.now,
): SendLimiter {
  const { limit: max, windowMs } = typeof limit === "number" ? { limit, windowMs: 1000 } : limit;
  const sentAt: number[] = [];
  const queue: Array<{ message: string; key?: string }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && !closed) {
      const t = now();
      while (sentAt.length > 0 && t - sentAt[0] >= windowMs) sentAt.shift();
      if (sentAt.length >= max) {
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

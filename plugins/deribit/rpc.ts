/**
 * JSON-RPC 2.0 requests over the feed's connection: ids, the answer (or error)
 * handed to the caller, an answer deadline, and Deribit's credit limits kept
 * locally (one bucket for ordinary requests, one for `public/subscribe`), so
 * the feed never sends a request Deribit would answer with `too_many_requests`.
 * Answers to `test_request` (`public/test`) jump the queue.
 * @module
 */
import { createCreditBucket, type CreditBucket, type CreditLimit } from "./credits.ts";

/** The answer to one request. */
export type RpcAnswer = { ok: true; result: unknown } | {
  ok: false;
  code: number;
  message: string;
};

/** Options of {@link createRpc}. */
export interface RpcOptions {
  /** Sends a text frame on the current connection; false when none is open. */
  send(text: string): boolean;
  now(): number;
  /** Ordinary (non-matching-engine) requests. */
  credits: CreditLimit;
  /** `public/subscribe` and `public/unsubscribe`. */
  subscribeCredits: CreditLimit;
  /** An answer later than this makes `onTimeout` fire. */
  timeoutMs: number;
  onTimeout(method: string, id: number): void;
}

/** The request side of the connection. */
export interface Rpc {
  /** Queues a request; `answer` gets its result or error. Returns its id. */
  call(method: string, params: Record<string, unknown>, answer?: (a: RpcAnswer) => void): number;
  /** Hands a response to its caller; false when the id is unknown. */
  answer(id: number, a: RpcAnswer): boolean;
  /** A new connection: drops the queue and every pending request (the credits are kept). */
  reset(): void;
  /** Requests sent so far, per method. */
  sent(): Record<string, number>;
  /** Requests waiting for credits. */
  queued(): number;
  stop(): void;
}

const SUBSCRIBE = new Set(["public/subscribe", "public/unsubscribe"]);

interface Queued {
  id: number;
  method: string;
  params: Record<string, unknown>;
}

/**
 * Creates the request queue.
 *
 * @example
 * ```ts
 * import { createRpc } from "./rpc.ts";
 *
 * const out: string[] = [];
 * const rpc = createRpc({
 *   send: (t) => out.push(t) > 0, now: Date.now, timeoutMs: 10_000, onTimeout: () => {},
 *   credits: { cost: 500, max: 50_000, refillPerSec: 10_000 },
 *   subscribeCredits: { cost: 3_000, max: 30_000, refillPerSec: 10_000 },
 * });
 * rpc.call("public/test", {});
 * console.log(JSON.parse(out[0]).method); // "public/test"
 * rpc.stop();
 * ```
 */
export function createRpc(o: RpcOptions): Rpc {
  let nextId = 0;
  const queue: Queued[] = [];
  const pending = new Map<
    number,
    { method: string; at: number; answer?: (a: RpcAnswer) => void }
  >();
  const answers = new Map<number, (a: RpcAnswer) => void>();
  const counts: Record<string, number> = {};
  // Headroom under Deribit's own limiter: a request sent just as credits come back can reach the
  // exchange a little before the previous one's refill there (network jitter), so the local pools
  // refill 10 % slower and keep one request in reserve.
  const general: CreditBucket = createCreditBucket(withHeadroom(o.credits), o.now());
  const subscribe: CreditBucket = createCreditBucket(withHeadroom(o.subscribeCredits), o.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const deadline = setInterval(() => {
    const t = o.now();
    for (const [id, p] of pending) {
      if (t - p.at > o.timeoutMs) {
        pending.delete(id);
        o.onTimeout(p.method, id);
        return; // the handler usually resets everything
      }
    }
  }, Math.max(50, Math.min(1000, o.timeoutMs / 4)));

  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && !stopped) {
      const q = queue[0];
      const t = o.now();
      // A subscribe costs both pools (it is a request, and it has its own limit).
      const buckets = SUBSCRIBE.has(q.method) ? [general, subscribe] : [general];
      const wait = Math.max(...buckets.map((b) => b.waitMs(t)));
      if (wait > 0) {
        timer = setTimeout(pump, wait);
        return;
      }
      for (const b of buckets) b.take(t);
      queue.shift();
      const text = JSON.stringify({ jsonrpc: "2.0", id: q.id, method: q.method, params: q.params });
      if (!o.send(text)) continue; // the connection is gone; reset() follows
      counts[q.method] = (counts[q.method] ?? 0) + 1;
      pending.set(q.id, { method: q.method, at: t, answer: answers.get(q.id) });
      answers.delete(q.id);
    }
  };

  return {
    call(method, params, answer) {
      const id = ++nextId;
      if (answer) answers.set(id, answer);
      const item = { id, method, params };
      // The answer to a test_request must not wait behind subscriptions.
      if (method === "public/test") {
        queue.unshift(item);
        clearTimeout(timer); // do not wait for the subscribe pool the queue head waited on
        pump();
      } else {
        queue.push(item);
        if (timer === undefined) pump();
      }
      return id;
    },
    answer(id, a) {
      const p = pending.get(id);
      if (!p) return false;
      pending.delete(id);
      p.answer?.(a);
      return true;
    },
    reset() {
      queue.length = 0;
      pending.clear();
      answers.clear();
      clearTimeout(timer);
      timer = undefined;
    },
    sent: () => ({ ...counts }),
    queued: () => queue.length,
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(deadline);
      queue.length = 0;
      pending.clear();
    },
  };
}

/**
 * A credit limit with headroom: refilled at 90 % of the rate, one request's cost kept in reserve.
 * @example
 * ```ts
 * withHeadroom({ cost: 500, max: 50_000, refillPerSec: 10_000 }); // { cost: 500, max: 49_500, refillPerSec: 9_000 }
 * ```
 */
export function withHeadroom(limit: CreditLimit): CreditLimit {
  return {
    cost: limit.cost,
    max: Math.max(limit.cost, limit.max - limit.cost),
    refillPerSec: limit.refillPerSec * 0.9,
  };
}

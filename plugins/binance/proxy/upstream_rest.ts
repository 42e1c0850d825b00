/**
 * The proxy's one REST client to Binance: concurrent requests under a
 * per-minute weight budget (tracked from `X-MBX-USED-WEIGHT-1M`), no request
 * at all while a 429/418 `Retry-After` runs (callers get Binance's own 429
 * shape instead, from the proxy, so the IP is never pushed into a ban), and a
 * short-lived cache with in-flight coalescing for answers that may be shared.
 * @module
 */

/** An answer as the proxy relays it. */
export interface RestAnswer {
  status: number;
  /** Body text exactly as received (or the proxy's own Binance-shaped error). */
  body: string;
  /** The headers worth relaying (content type, used weight, Retry-After, x-emulator). */
  headers: Record<string, string>;
  /** Where it came from. */
  source: "upstream" | "cache" | "proxy";
}

/** Options of {@link createUpstreamRest}. */
export interface UpstreamRestOptions {
  baseUrl: string;
  weightPerMinute: number;
  fetch: typeof fetch;
  now: () => number;
  /** Per-request deadline, ms. Default 10000. */
  timeoutMs?: number;
  /** Most cached answers kept. Default 500. */
  maxCacheEntries?: number;
}

/** The REST client. */
export interface UpstreamRest {
  /**
   * `GET <path>?<query>` costing `weight`. With `cacheMs > 0` an answer of the
   * same request that is in flight or younger than `cacheMs` is shared.
   */
  get(path: string, query: string, weight: number, cacheMs?: number): Promise<RestAnswer>;
  /** Weight used in the current minute, as last reported by Binance (or estimated). */
  usedWeight(): number;
  /** Aborts requests in flight and drops the cache. */
  close(): void;
}

const MINUTE = 60_000;
const RELAYED = [
  "content-type",
  "x-mbx-used-weight",
  "x-mbx-used-weight-1m",
  "retry-after",
  "x-emulator",
];
const JSON_TYPE = "application/json;charset=UTF-8";

/** Creates the client. */
export function createUpstreamRest(o: UpstreamRestOptions): UpstreamRest {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const maxEntries = o.maxCacheEntries ?? 500;
  const closer = new AbortController();
  const cache = new Map<string, { expires: number; answer: RestAnswer }>();
  const inflight = new Map<string, Promise<RestAnswer>>();
  let used = 0;
  let window = Math.floor(o.now() / MINUTE);
  let bannedUntil = 0;
  let banStatus = 429;

  const usedNow = (): number => {
    const w = Math.floor(o.now() / MINUTE);
    if (w !== window) {
      window = w;
      used = 0;
    }
    return used;
  };

  const own = (status: number, code: number, msg: string, retryAfterSec?: number): RestAnswer => {
    const headers: Record<string, string> = {
      "content-type": JSON_TYPE,
      "x-mbx-used-weight-1m": String(used),
    };
    if (retryAfterSec !== undefined) headers["retry-after"] = String(retryAfterSec);
    return { status, body: JSON.stringify({ code, msg }), headers, source: "proxy" };
  };

  const request = async (path: string, query: string, weight: number): Promise<RestAnswer> => {
    const now = o.now();
    if (bannedUntil > now) {
      const wait = Math.ceil((bannedUntil - now) / 1000);
      return own(
        banStatus,
        -1003,
        `Too much request weight used; the proxy holds upstream requests for ${wait} s (Retry-After from Binance).`,
        wait,
      );
    }
    if (usedNow() + weight > o.weightPerMinute) {
      const wait = Math.ceil(((window + 1) * MINUTE - now) / 1000);
      return own(
        429,
        -1003,
        `Too much request weight used; current limit of this proxy is ${o.weightPerMinute} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
        wait,
      );
    }
    used += weight;
    const controller = new AbortController();
    const onClose = () => controller.abort();
    closer.signal.addEventListener("abort", onClose, { once: true });
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const res = await o.fetch(`${o.baseUrl}${path}${query ? `?${query}` : ""}`, {
        signal: controller.signal,
      });
      const body = await res.text();
      const headers: Record<string, string> = {};
      for (const name of RELAYED) {
        const value = res.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      const reported = Number(res.headers.get("x-mbx-used-weight-1m"));
      if (res.headers.has("x-mbx-used-weight-1m") && Number.isFinite(reported)) {
        usedNow();
        used = reported;
      }
      if (res.status === 429 || res.status === 418) {
        const retryAfter = Number(res.headers.get("retry-after"));
        const waitMs = Number.isFinite(retryAfter) && retryAfter >= 0
          ? retryAfter * 1000
          : res.status === 418
          ? 120_000
          : (window + 1) * MINUTE - o.now();
        bannedUntil = Math.max(bannedUntil, o.now() + waitMs);
        banStatus = res.status;
      }
      return { status: res.status, body, headers, source: "upstream" };
    } catch {
      return own(503, -1001, "Internal error; unable to process your request. Please try again.");
    } finally {
      clearTimeout(timer);
      closer.signal.removeEventListener("abort", onClose);
    }
  };

  return {
    get(path, query, weight, cacheMs = 0) {
      if (cacheMs <= 0) return request(path, query, weight);
      const key = `${path}?${query}`;
      const hit = cache.get(key);
      if (hit && hit.expires > o.now()) return Promise.resolve({ ...hit.answer, source: "cache" });
      const running = inflight.get(key);
      if (running) return running;
      const promise = request(path, query, weight).then((answer) => {
        inflight.delete(key);
        if (answer.status === 200 && answer.source === "upstream") {
          cache.delete(key);
          cache.set(key, { expires: o.now() + cacheMs, answer });
          if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
        }
        return answer;
      });
      inflight.set(key, promise);
      return promise;
    },
    usedWeight: usedNow,
    close() {
      closer.abort();
      cache.clear();
    },
  };
}

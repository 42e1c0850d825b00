/**
 * Binance REST client for the feed: one request at a time, request weight kept
 * under the per-minute budget (tracked from `X-MBX-USED-WEIGHT-1M`), and after
 * a 429/418 no request at all until `Retry-After` has passed.
 * @module
 */
import { type FeedLogger, sleep } from "../../mod.ts";

/** Request weights of the endpoints the feed calls (Binance Spot docs). */
export const WEIGHT = {
  exchangeInfo: 20,
  historicalTrades: 25,
} as const;

/** Weight of `GET /api/v3/depth` for `limit`: 5, 25, 50 or 250. */
export function depthWeight(limit: number): number {
  return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

/** Outcome of one REST call. */
export type RestResponse =
  | { ok: true; status: number; headers: Headers; body: unknown }
  | {
    ok: false;
    /** HTTP status, absent for network errors and aborts. */
    status?: number;
    reason: string;
    /** Worth trying again later (network, 429/418, 5xx). */
    retryable: boolean;
  };

/** Options of {@link createRestClient}. */
export interface RestClientOptions {
  baseUrl: string;
  /** Request-weight budget per minute. */
  weightPerMinute: number;
  signal: AbortSignal;
  log: FeedLogger;
  fetch?: typeof fetch;
  now?: () => number;
}

/** A REST client bound to one base URL. */
export interface RestClient {
  /** `GET path?params`, costing `weight`; waits for bans and the weight budget first. */
  get(
    path: string,
    params: Record<string, string | number>,
    weight: number,
  ): Promise<RestResponse>;
  /** Weight used in the current minute, as last reported (or estimated). */
  usedWeight(): number;
  /** Epoch ms before which no request is sent (after 429/418), or 0. */
  bannedUntil(): number;
  /** Resolves once every request issued so far has settled. */
  idle(): Promise<void>;
}

const MINUTE = 60_000;

/** Creates a serialized, weight-aware REST client. */
export function createRestClient(options: RestClientOptions): RestClient {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const { log, signal } = options;
  const base = options.baseUrl.replace(/\/+$/, "");
  let used = 0;
  let window = Math.floor(now() / MINUTE);
  let banUntil = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const usedNow = () => {
    const w = Math.floor(now() / MINUTE);
    if (w !== window) {
      window = w;
      used = 0;
    }
    return used;
  };

  /** Waits out a ban and the weight budget; false if aborted. */
  const admit = async (weight: number): Promise<boolean> => {
    while (!signal.aborted) {
      const t = now();
      if (banUntil > t) {
        if (!await sleep(banUntil - t, signal)) return false;
        continue;
      }
      if (usedNow() + weight > options.weightPerMinute) {
        const wait = (window + 1) * MINUTE - t + 50;
        log.warn("REST weight budget reached; waiting for the next minute", {
          usedWeight: used,
          weight,
          budget: options.weightPerMinute,
          waitMs: wait,
        });
        if (!await sleep(wait, signal)) return false;
        continue;
      }
      return true;
    }
    return false;
  };

  const request = async (
    path: string,
    params: Record<string, string | number>,
    weight: number,
  ): Promise<RestResponse> => {
    if (!await admit(weight)) {
      return { ok: false, reason: "aborted", retryable: false };
    }
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) query.set(k, String(v));
    const qs = query.toString();
    const url = `${base}${path}${qs ? `?${qs}` : ""}`;
    used += weight;
    let res: Response;
    try {
      res = await doFetch(url, { signal });
    } catch (err) {
      const reason = signal.aborted ? "aborted" : `network error: ${errorText(err)}`;
      return { ok: false, reason, retryable: !signal.aborted };
    }
    const reported = Number(res.headers.get("x-mbx-used-weight-1m"));
    if (res.headers.has("x-mbx-used-weight-1m") && Number.isFinite(reported)) {
      usedNow();
      used = reported;
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    if (res.status === 429 || res.status === 418) {
      const retryAfterSec = Number(res.headers.get("retry-after"));
      const waitMs = Number.isFinite(retryAfterSec) && retryAfterSec >= 0
        ? retryAfterSec * 1000
        : res.status === 418
        ? 120_000
        : (window + 1) * MINUTE - now();
      banUntil = Math.max(banUntil, now() + waitMs);
      (res.status === 418 ? log.error : log.warn)(
        `REST ${res.status} from Binance: no REST request for ${waitMs} ms`,
        { status: res.status, path, retryAfterMs: waitMs, usedWeight: used },
      );
      return {
        ok: false,
        status: res.status,
        reason: `HTTP ${res.status} (retry after ${waitMs} ms)`,
        retryable: true,
      };
    }
    if (!res.ok) {
      const detail = typeof body === "object" && body !== null && "msg" in body
        ? `: ${String((body as { msg: unknown }).msg)}`
        : "";
      return {
        ok: false,
        status: res.status,
        reason: `HTTP ${res.status}${detail}`,
        retryable: res.status >= 500,
      };
    }
    if (body === undefined) {
      return { ok: false, status: res.status, reason: "invalid JSON body", retryable: true };
    }
    return { ok: true, status: res.status, headers: res.headers, body };
  };

  return {
    get(path, params, weight) {
      const result = queue.then(() => request(path, params, weight));
      queue = result.catch(() => undefined);
      return result;
    },
    usedWeight: () => usedNow(),
    bannedUntil: () => banUntil,
    idle: () => queue.then(() => undefined),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Start-up metadata: `GET /api/v3/exchangeInfo`, retried until it succeeds, and
 * emulator detection from the `x-emulator` response header.
 * @module
 */
import { type FeedContext, sleep } from "../../mod.ts";
import { type RestClient, WEIGHT } from "./rest.ts";
import { type ExchangeInfoResult, mapExchangeInfo } from "./rest_mapper.ts";

/** What the feed learns at start-up. */
export interface StartupInfo extends ExchangeInfoResult {
  /** The REST peer said it is an emulator (`x-emulator` header). */
  emulatorHeader: boolean;
}

/** True when an `x-emulator` header value means "yes". */
export function isEmulatorHeader(value: string | null): boolean {
  return value !== null && !/^(0|false|no)$/i.test(value.trim());
}

/**
 * Loads exchangeInfo, retrying with `retryDelayMs(attempt)` on failure;
 * `undefined` once `ctx.signal` aborts.
 */
export async function loadExchangeInfo(
  ctx: Pick<FeedContext, "log" | "signal" | "malformed">,
  rest: RestClient,
  wanted: readonly string[],
  retryDelayMs: (attempt: number) => number,
): Promise<StartupInfo | undefined> {
  for (let attempt = 0; !ctx.signal.aborted; attempt++) {
    if (attempt > 0 && !await sleep(retryDelayMs(attempt - 1), ctx.signal)) break;
    const res = await rest.get("/api/v3/exchangeInfo", {}, WEIGHT.exchangeInfo);
    if (!res.ok) {
      if (ctx.signal.aborted) break;
      ctx.log.warn(`exchangeInfo failed: ${res.reason}; retrying`, { attempt });
      continue;
    }
    const mapped = mapExchangeInfo(res.body, wanted);
    if (!mapped.ok) {
      ctx.malformed(mapped.reason, JSON.stringify(res.body)?.slice(0, 512));
      continue;
    }
    return {
      ...mapped.value,
      emulatorHeader: isEmulatorHeader(res.headers.get("x-emulator")),
    };
  }
  return undefined;
}

/**
 * Start-up metadata: the product list, retried until it loads, and emulator
 * detection from the `x-emulator` response header.
 * @module
 */
import { type FeedContext, type Instrument, sleep } from "../../mod.ts";
import { mapProducts, PRODUCTS_PATH } from "./products.ts";
import { restGet } from "./rest.ts";

/** What the feed learns at start-up. */
export interface StartupInfo {
  instruments: Instrument[];
  /** The REST peer said it is an emulator (`x-emulator` header). */
  emulatorHeader: boolean;
}

/** True when an `x-emulator` header value means "yes". */
export function isEmulatorHeader(value: string | null): boolean {
  return value !== null && !/^(0|false|no)$/i.test(value.trim());
}

/** Options of {@link loadInstruments}. */
export interface LoadOptions {
  restUrl: string;
  timeoutMs: number;
  retryDelayMs: (attempt: number) => number;
  fetch?: typeof fetch;
}

/** Loads the product list, retrying on failure; `undefined` once `ctx.signal` aborts. */
export async function loadInstruments(
  ctx: Pick<FeedContext, "log" | "signal" | "malformed">,
  options: LoadOptions,
): Promise<StartupInfo | undefined> {
  const { signal, log } = ctx;
  for (let attempt = 0; !signal.aborted; attempt++) {
    if (attempt > 0 && !await sleep(options.retryDelayMs(attempt - 1), signal)) break;
    const res = await restGet(options.restUrl, PRODUCTS_PATH, {
      signal,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
    });
    if (!res.ok) {
      if (signal.aborted) break;
      log.warn(`products request failed: ${res.reason}; retrying`, { attempt });
      continue;
    }
    const mapped = mapProducts(res.body);
    if (!mapped.ok) {
      ctx.malformed(mapped.reason, JSON.stringify(res.body)?.slice(0, 512));
      continue;
    }
    return {
      instruments: mapped.value,
      emulatorHeader: isEmulatorHeader(res.headers.get("x-emulator")),
    };
  }
  return undefined;
}

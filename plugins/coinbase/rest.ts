/**
 * Minimal REST client for Coinbase's public market endpoints: one GET with a
 * timeout, JSON body, and a result instead of an exception.
 * @module
 */

/** Outcome of one REST call. */
export type RestResponse =
  | { ok: true; status: number; headers: Headers; body: unknown }
  | { ok: false; status?: number; reason: string };

/** Options of {@link restGet}. */
export interface RestGetOptions {
  signal: AbortSignal;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** `GET base + path`; never throws. */
export async function restGet(
  baseUrl: string,
  path: string,
  options: RestGetOptions,
): Promise<RestResponse> {
  const url = baseUrl.replace(/\/+$/, "") + path;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { signal, headers: { accept: "application/json" } });
  } catch (err) {
    const reason = options.signal.aborted
      ? "aborted"
      : timeout.aborted
      ? `no answer within ${options.timeoutMs} ms`
      : `network error: ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, reason };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const detail = typeof body === "object" && body !== null && "message" in body
      ? `: ${String((body as { message: unknown }).message)}`
      : "";
    return { ok: false, status: res.status, reason: `HTTP ${res.status}${detail}` };
  }
  if (body === undefined) return { ok: false, status: res.status, reason: "invalid JSON body" };
  return { ok: true, status: res.status, headers: res.headers, body };
}

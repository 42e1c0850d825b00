/**
 * REST calls to the gateway (same origin): JSON in, JSON out, errors as {@link ApiError}
 * carrying the gateway's `{"error":{"code","message"}}`.
 *
 * @example
 * ```ts
 * const health = await getJson<Health>("/health");
 * ```
 */

/** A non-2xx answer: its status and the gateway's error code. */
export interface ApiError extends Error {
  status: number;
  code: string;
}

/** Builds an {@link ApiError}. */
function apiError(status: number, code: string, message: string): ApiError {
  const err = new Error(message) as ApiError;
  err.status = status;
  err.code = code;
  return err;
}

/**
 * Sends a request and parses the JSON answer; rejects with an {@link ApiError} on a non-2xx.
 *
 * @example
 * ```ts
 * await sendJson("/api/auth/keys", { method: "POST", body: { name: "desk" }, csrf });
 * ```
 */
export async function sendJson<T>(
  path: string,
  options: { method?: string; body?: unknown; csrf?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.csrf) headers["x-csrf-token"] = options.csrf;
  // With access control on, the data routes want the key this app was given (Accounts view);
  // the account routes go by the session cookie instead.
  const key = globalThis.localStorage?.getItem("qs_key");
  if (key && !/^\/api\/(auth|admin)(\/|$)/.test(path)) headers.authorization = `Bearer ${key}`;
  const res = await fetch(path, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
  });
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw apiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? res.statusText);
  }
  return body as T;
}

/**
 * GETs a JSON document.
 *
 * @example
 * ```ts
 * const symbols = await getJson<SymbolsAnswer>("/api/symbols");
 * ```
 */
export function getJson<T>(path: string): Promise<T> {
  return sendJson<T>(path);
}

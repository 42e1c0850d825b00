/**
 * Emulator detection: a plain HTTP GET on the WebSocket URL. The bundled
 * emulator answers every HTTP request with `x-emulator: quant-saas-kraken-emulator`;
 * Kraken does not send that header.
 * @module
 */

/** The header the emulator sets on every HTTP response. */
export const EMULATOR_HEADER = "x-emulator";

/** True when an `x-emulator` header value means "yes". */
export function isEmulatorHeader(value: string | null): boolean {
  return value !== null && !/^(0|false|no)$/i.test(value.trim());
}

/** `http(s)://` form of a `ws(s)://` URL. */
export function httpUrlOf(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === "wss:" ? "https:" : "http:";
  return u.href;
}

/** Asks the peer behind `wsUrl` whether it is an emulator; false on any failure or after `timeoutMs`. */
export async function probeEmulator(
  wsUrl: string,
  timeoutMs: number,
  signal: AbortSignal,
  fetchImpl: typeof fetch = fetch,
): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const onAbort = () => abort.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const res = await fetchImpl(httpUrlOf(wsUrl), { signal: abort.signal });
    await res.body?.cancel();
    return isEmulatorHeader(res.headers.get(EMULATOR_HEADER));
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

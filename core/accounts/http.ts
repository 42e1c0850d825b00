/**
 * Small HTTP pieces of the accounts routes: bounded JSON bodies validated with zod, and the
 * accounts' JSON answers (never cached).
 * @module
 */
import type { z } from "zod";
import { httpError, json } from "../server/rest.ts";

/** Largest request body the accounts routes read, bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

const NO_STORE = { "cache-control": "no-store" };

/** A JSON answer that is never cached. */
export function answer(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return json(body, status, { ...NO_STORE, ...headers });
}

/** A JSON error `{"error":{"code","message"}}` that is never cached. */
export function refuse(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return httpError(status, code, message, { ...NO_STORE, ...headers });
}

/**
 * Reads a request's JSON body (at most {@link MAX_BODY_BYTES}, `Content-Type: application/json`)
 * and validates it, or answers 413 `too_large`, 415 `unsupported_media_type`, 400 `bad_json`
 * or 400 `invalid_request`.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { readBody } from "./http.ts";
 *
 * const req = new Request("http://x/", { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"ci"}' });
 * const body = await readBody(req, z.strictObject({ name: z.string() }));
 * console.log(body instanceof Response ? body.status : body.name); // ci
 * ```
 */
export async function readBody<S extends z.ZodType>(
  req: Request,
  schema: S,
): Promise<z.infer<S> | Response> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    await req.body?.cancel();
    return refuse(415, "unsupported_media_type", "send JSON with Content-Type: application/json");
  }
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) {
    await req.body?.cancel();
    return refuse(413, "too_large", `bodies are at most ${MAX_BODY_BYTES} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        return refuse(413, "too_large", `bodies are at most ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return refuse(400, "bad_json", "the body is not valid JSON");
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    return refuse(
      400,
      "invalid_request",
      parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")
        .slice(0, 500),
    );
  }
  return parsed.data;
}

/**
 * Serves the built web application (`app/dist/`, made by `core/tools/build_app.ts`) at `/app`:
 * `/app` and `/app/` (and any path under it that is not a file: the app routes by hash) answer
 * `index.html` with `Cache-Control: no-cache`; `/app/assets/*` answer the content-hashed files with
 * `Cache-Control: public, max-age=31536000, immutable`. Only files under `app/dist/` can be read:
 * a path with `..`, a backslash, a NUL or an encoded slash is refused (404). Works in the compiled
 * binary too (`deno task compile` includes `app/dist/`).
 *
 * @example
 * ```ts
 * const app = createAppStatic();
 * const res = await app.handle(new URL("http://localhost:3000/app"));
 * ```
 */
import { json } from "./rest.ts";

/** The path prefix the app is served under. */
export const APP_PREFIX = "/app";

/** Content types by extension. */
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

/** Security headers of every answer: no framing, no sniffing, no third-party sources. */
const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

/** The static app handler. */
export interface AppStatic {
  /** True for `/app` and paths below it. */
  matches(pathname: string): boolean;
  /** Answers a GET/HEAD under `/app`. */
  handle(url: URL, method?: string): Promise<Response>;
}

/**
 * A handler reading from `dir` (default: `app/dist/` of this repository).
 *
 * @example
 * ```ts
 * const app = createAppStatic(new URL("../../app/dist/", import.meta.url));
 * app.matches("/app/assets/main-X.js"); // true
 * ```
 */
export function createAppStatic(dir: URL = new URL("../../app/dist/", import.meta.url)): AppStatic {
  const read = async (rel: string): Promise<Uint8Array | undefined> => {
    try {
      return await Deno.readFile(new URL(rel, dir));
    } catch {
      return undefined;
    }
  };
  const file = (body: Uint8Array | null, type: string, cache: string, method: string) =>
    new Response(method === "HEAD" ? null : body as BodyInit | null, {
      headers: { "content-type": type, "cache-control": cache, ...SECURITY_HEADERS },
    });
  const index = async (method: string) => {
    const body = await read("index.html");
    if (!body) {
      return json({
        error: {
          code: "app_not_built",
          message:
            "the web app is not built: run `deno task build:app` (deno task demo and start do it)",
        },
      }, 503);
    }
    return file(body, TYPES[".html"], "no-cache", method);
  };
  return {
    matches: (p) => p === APP_PREFIX || p.startsWith(APP_PREFIX + "/"),
    async handle(url, method = "GET") {
      if (method !== "GET" && method !== "HEAD") {
        return json({ error: { code: "method_not_allowed", message: "GET or HEAD" } }, 405);
      }
      const raw = url.pathname.slice(APP_PREFIX.length).replace(/^\/+/, "");
      if (raw === "" || raw === "index.html") return await index(method);
      let rel: string;
      try {
        rel = decodeURIComponent(raw);
      } catch {
        return notFound();
      }
      const unsafe = rel.includes("..") || rel.includes("\\") || rel.includes("\0") ||
        /%2f|%5c/i.test(raw) || rel.startsWith("/") || !/^[\w.\-/]+$/.test(rel);
      if (unsafe) return notFound();
      if (rel.startsWith("assets/")) {
        const body = await read(rel);
        if (!body) return notFound();
        const ext = rel.slice(rel.lastIndexOf("."));
        const type = TYPES[ext] ?? "application/octet-stream";
        const hashed = /-[A-Z0-9]{8,}\.(js|css)$/.test(rel);
        return file(
          body,
          type,
          hashed ? "public, max-age=31536000, immutable" : "no-cache",
          method,
        );
      }
      // Any other path below /app is a view of the app (it routes by hash).
      return await index(method);
    },
  };
}

function notFound(): Response {
  return json({ error: { code: "not_found", message: "no such file of the app" } }, 404);
}

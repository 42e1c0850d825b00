/**
 * Browser sessions: a random 32-byte token in the `qs_session` cookie (HttpOnly,
 * SameSite=Strict, Secure over https), stored only as its SHA-256; an idle expiry that moves on
 * with use and an absolute one that does not; a per-session CSRF token the client echoes in
 * `x-csrf-token` on every state-changing request.
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { hashKey } from "../access/keys.ts";
import type { AccountsStore, SessionRow } from "./store.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "qs_session";

/** Session lifetimes. */
export interface SessionOptions {
  /** A session unused this long ends, ms. */
  idleMs: number;
  /** A session ends this long after sign-in whatever its use, ms. */
  maxMs: number;
  now?: () => number;
}

/** A new session: the token goes in the cookie, the csrf to the client. */
export interface NewSession {
  token: string;
  csrf: string;
  expiresAt: number;
  /** The session's absolute lifetime (the cookie's Max-Age), ms. */
  maxAgeMs: number;
}

/** Sessions over the accounts store. */
export interface Sessions {
  create(username: string): Promise<NewSession>;
  /** The live session of a cookie token (idle expiry moved on), or undefined. */
  resolve(token: string): Promise<SessionRow | undefined>;
  destroy(token: string): Promise<void>;
  /** Ends every session of a user (password change, disabled). */
  destroyAll(username: string): void;
}

/** 32 random bytes, base64url. */
export function randomToken(bytes = 32): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

/**
 * Creates the sessions.
 *
 * @example
 * ```ts
 * import { openAccountsStore } from "./store.ts";
 * import { createSessions } from "./sessions.ts";
 *
 * const store = openAccountsStore(":memory:");
 * const sessions = createSessions(store, { idleMs: 3_600_000, maxMs: 43_200_000 });
 * // store.insertUser(...) first: a session belongs to an existing user.
 * ```
 */
export function createSessions(store: AccountsStore, options: SessionOptions): Sessions {
  const now = options.now ?? Date.now;
  /** The idle expiry is written at most this often per session. */
  const touchEveryMs = Math.min(60_000, options.idleMs / 10);
  return {
    async create(username) {
      const at = now();
      const token = randomToken();
      const csrf = randomToken();
      const expiresAt = at + options.maxMs;
      store.deleteExpiredSessions(at);
      store.insertSession({
        tokenHash: await hashKey(token),
        username,
        csrf,
        createdAt: at,
        expiresAt,
        idleExpiresAt: Math.min(expiresAt, at + options.idleMs),
      });
      return { token, csrf, expiresAt, maxAgeMs: options.maxMs };
    },
    async resolve(token) {
      if (token.length < 16 || token.length > 128) return undefined;
      const hash = await hashKey(token);
      const session = store.getSession(hash);
      if (!session) return undefined;
      const at = now();
      if (at >= session.expiresAt || at >= session.idleExpiresAt) {
        store.deleteSession(hash);
        return undefined;
      }
      const idle = Math.min(session.expiresAt, at + options.idleMs);
      if (idle - session.idleExpiresAt >= touchEveryMs) {
        store.touchSession(hash, idle);
        session.idleExpiresAt = idle;
      }
      return session;
    },
    async destroy(token) {
      store.deleteSession(await hashKey(token));
    },
    destroyAll: (username) => store.deleteSessionsOf(username),
  };
}

/** True when `presented` equals the session's CSRF token (constant time). */
export function csrfMatches(session: SessionRow, presented: string | null): boolean {
  if (presented === null) return false;
  const a = new TextEncoder().encode(presented);
  const b = new TextEncoder().encode(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The session token of a request's cookie, if any. */
export function sessionToken(req: Request): string | undefined {
  const header = req.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request arrived over https (directly or through a proxy that says so). */
export function isHttps(req: Request, url: URL): boolean {
  return url.protocol === "https:" || req.headers.get("x-forwarded-proto") === "https";
}

/** `Set-Cookie` for a session (`maxAgeMs` 0 clears it). */
export function sessionCookie(token: string, maxAgeMs: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${
    Math.max(0, Math.floor(maxAgeMs / 1000))
  }${secure ? "; Secure" : ""}`;
}

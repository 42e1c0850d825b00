/**
 * `/api/auth/*` (sign-in, the session, a user's own API keys) and `/api/admin/*` (users, every
 * key with its usage, revocation, plans). Browsers authenticate with the `qs_session` cookie;
 * every POST, PATCH and DELETE but sign-in must carry the session's CSRF token in
 * `x-csrf-token` (403 `csrf`), and one with an `Origin` must come from this host or an allowed
 * origin (403 `forbidden_origin`). Answers are JSON; errors `{"error":{"code","message"}}`.
 * @module
 */
import { z } from "zod";
import { hashKey, type KeyStore, type Plan } from "../access/keys.ts";
import { createRateLimiter } from "../access/limits.ts";
import { isLoopback } from "../access/gate.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { csrfMatches, isHttps, randomToken, sessionCookie, sessionToken } from "./sessions.ts";
import type { Sessions } from "./sessions.ts";
import type { Lockout } from "./lockout.ts";
import type { AccountsStore, KeyRow, UserRow } from "./store.ts";
import { accountKeyPrincipal } from "./keystore.ts";
import { answer, readBody, refuse } from "./http.ts";

/** What one key uses now, as the gateway counts it. */
export interface PrincipalUsage {
  /** WebSocket connections open now (every endpoint). */
  connections: number;
  /** REST requests in the current clock minute. */
  restThisMinute: number;
  /** Subscriptions over all its connections. */
  subscriptions: number;
  /** Open paper orders of its account. */
  paperOpenOrders: number;
}

/** Usage against the plan's limits, as `/api/admin/keys` and `/api/auth/keys` report it. */
export interface KeyUsage {
  connections: { now: number; max: number };
  restPerMinute: { now: number; max: number };
  subscriptions: { now: number; maxPerConnection: number };
  paperOpenOrders: { now: number; max: number };
}

/** What the routes are built on. */
export interface AccountRoutesDeps {
  store: AccountsStore;
  /** The composite key store (whether access control is on). */
  keys: Pick<KeyStore, "required">;
  plans: Readonly<Record<string, Plan>>;
  sessions: Sessions;
  lockout: Lockout;
  /** Usage of a principal id now. */
  usage(principal: string): PrincipalUsage;
  /** Closes the open connections of a principal id; returns how many. */
  closeConnections(principal: string): number;
  /** Browser origins allowed besides this host (`ALLOWED_ORIGINS`). */
  allowedOrigins: readonly string[];
  /** Requests per minute per IP on these routes (loopback exempt unless `limitLoopback`). */
  ipPerMinute: number;
  limitLoopback: boolean;
  log: { info(message: string, props?: Record<string, unknown>): void };
  now?: () => number;
}

/** Handles a request under `/api/auth` or `/api/admin`. */
export type AccountRoutes = (req: Request, url: URL, ip: string) => Response | Promise<Response>;

/** Most active keys one user may hold. */
export const MAX_KEYS_PER_USER = 20;

const username = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/,
  "3 to 32 letters, digits, '_', '.' or '-', starting with a letter or digit",
);
const password = z.string().min(8, "at least 8 characters").max(256);
const planName = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);
const keyName = z.string().min(1).max(64).regex(/^[^\p{Cc}]+$/u, "no control characters");
const idParam = /^[A-Za-z0-9_-]{1,32}$/;

const signinBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});
const newKeyBody = z.strictObject({ name: keyName });
const newUserBody = z.strictObject({
  username,
  password,
  admin: z.boolean().optional(),
  plan: planName.default("default"),
});
const userPatchBody = z.strictObject({
  plan: planName.optional(),
  admin: z.boolean().optional(),
  password: password.optional(),
  disabled: z.boolean().optional(),
});
const keyPatchBody = z.strictObject({ plan: planName.nullable() });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const publicUser = (u: UserRow) => ({ username: u.username, admin: u.admin, plan: u.plan });

/**
 * Creates the accounts routes.
 *
 * @example
 * ```ts ignore
 * const routes = createAccountRoutes({ store, keys, plans, sessions, lockout, usage, closeConnections, allowedOrigins: [], ipPerMinute: 1200, limitLoopback: false, log });
 * const res = await routes(req, new URL(req.url), "127.0.0.1");
 * ```
 */
export function createAccountRoutes(deps: AccountRoutesDeps): AccountRoutes {
  const { store, plans, sessions, lockout } = deps;
  const now = deps.now ?? Date.now;
  const perIp = createRateLimiter(60_000);
  /** Verified against for unknown usernames, so they take as long as a wrong password. */
  let dummy: Promise<string> | undefined;

  const planOf = (k: KeyRow, owner: UserRow | undefined) => k.plan ?? owner?.plan ?? "default";

  const usageOf = (k: KeyRow, planName: string): KeyUsage => {
    const u = deps.usage(accountKeyPrincipal(k.id));
    const plan = plans[planName];
    return {
      connections: { now: u.connections, max: plan?.maxConnections ?? 0 },
      restPerMinute: { now: u.restThisMinute, max: plan?.restPerMinute ?? 0 },
      subscriptions: { now: u.subscriptions, maxPerConnection: plan?.maxSubscriptions ?? 0 },
      paperOpenOrders: { now: u.paperOpenOrders, max: plan?.paperOpenOrders ?? 0 },
    };
  };

  const keyView = (k: KeyRow, owner: UserRow | undefined) => {
    const plan = planOf(k, owner);
    return {
      id: k.id,
      name: k.name,
      prefix: k.prefix,
      owner: k.owner,
      plan,
      planInherited: k.plan === null,
      createdAt: iso(k.createdAt),
      lastUsedAt: iso(k.lastUsedAt),
      usage: usageOf(k, plan),
    };
  };

  const userView = (u: UserRow) => ({
    ...publicUser(u),
    disabled: u.disabled,
    createdAt: iso(u.createdAt),
    keys: store.listKeys(u.username).length,
  });

  /** The signed-in user of a request, or a 401. */
  const signedIn = async (req: Request) => {
    const token = sessionToken(req);
    const session = token === undefined ? undefined : await sessions.resolve(token);
    const user = session && store.getUser(session.username);
    if (!session || !user || user.disabled) {
      return refuse(401, "unauthorized", "sign in first (POST /api/auth/signin)");
    }
    return { session, user, token: token! };
  };

  /** Signed in, and (for state-changing methods) the CSRF token presented. */
  const guarded = async (req: Request, admin: boolean) => {
    const who = await signedIn(req);
    if (who instanceof Response) return who;
    if (req.method !== "GET" && !csrfMatches(who.session, req.headers.get("x-csrf-token"))) {
      return refuse(403, "csrf", "missing or wrong x-csrf-token header");
    }
    if (admin && !who.user.admin) return refuse(403, "forbidden", "this needs an admin");
    return who;
  };

  const originAllowed = (req: Request) => {
    const origin = req.headers.get("origin");
    if (origin === null) return true;
    if (deps.allowedOrigins.includes("*") || deps.allowedOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.get("host");
    } catch {
      return false;
    }
  };

  const notAllowed = (allow: string) =>
    refuse(405, "method_not_allowed", `use ${allow}`, { allow });

  // --- /api/auth ---

  const signin = async (req: Request, url: URL, ip: string) => {
    const body = await readBody(req, signinBody);
    if (body instanceof Response) return body;
    // Loopback is exempt from the per-IP count like from every per-IP limit (IP_LIMIT_LOOPBACK):
    // behind a reverse proxy on the same host every client would share one lock.
    const wait = lockout.retryAfterMs(
      body.username,
      deps.limitLoopback || !isLoopback(ip) ? ip : undefined,
    );
    if (wait > 0) {
      return refuse(429, "locked", "too many failed sign-ins; try again later", {
        "retry-after": String(Math.ceil(wait / 1000)),
      });
    }
    // Counted as a failure before the (slow) check, so parallel guesses cannot overtake the lock.
    lockout.failed(body.username, ip);
    const user = store.getUser(body.username);
    const stored = user?.passwordHash ?? await (dummy ??= hashPassword(randomToken(18)));
    const ok = await verifyPassword(body.password, stored);
    if (!ok || !user || user.disabled) {
      deps.log.info("failed sign-in for {username} from {ip}", { username: body.username, ip });
      return refuse(401, "bad_credentials", "wrong username or password");
    }
    lockout.succeeded(user.username);
    const session = await sessions.create(user.username);
    deps.log.info("{username} signed in from {ip}", { username: user.username, ip });
    return answer({ user: publicUser(user), csrf: session.csrf }, 200, {
      "set-cookie": sessionCookie(session.token, session.maxAgeMs, isHttps(req, url)),
    });
  };

  const auth = async (req: Request, url: URL, ip: string, path: string[]) => {
    const [route, id, ...rest] = path;
    if (rest.length > 0) return refuse(404, "not_found", "no such route");
    if (route === "signin" && id === undefined) {
      return req.method === "POST" ? signin(req, url, ip) : notAllowed("POST");
    }
    if (route === "session" && id === undefined) {
      if (req.method !== "GET") return notAllowed("GET");
      if (!deps.keys.required) return answer({ user: null, access: "open" });
      const who = await signedIn(req);
      if (who instanceof Response) return who;
      return answer({ user: publicUser(who.user), csrf: who.session.csrf });
    }
    if (route === "signout" && id === undefined) {
      if (req.method !== "POST") return notAllowed("POST");
      const who = await guarded(req, false);
      if (who instanceof Response) return who;
      await sessions.destroy(who.token);
      return answer({ signedOut: true }, 200, {
        "set-cookie": sessionCookie("", 0, isHttps(req, url)),
      });
    }
    if (route === "keys" && id === undefined) {
      if (req.method !== "GET" && req.method !== "POST") return notAllowed("GET, POST");
      const who = await guarded(req, false);
      if (who instanceof Response) return who;
      if (req.method === "GET") {
        return answer({ keys: store.listKeys(who.user.username).map((k) => keyView(k, who.user)) });
      }
      const body = await readBody(req, newKeyBody);
      if (body instanceof Response) return body;
      if (store.listKeys(who.user.username).length >= MAX_KEYS_PER_USER) {
        return refuse(409, "too_many_keys", `at most ${MAX_KEYS_PER_USER} keys per user`);
      }
      const key = `qs_${randomToken(32)}`;
      const row: KeyRow = {
        id: randomToken(9),
        owner: who.user.username,
        name: body.name,
        hash: await hashKey(key),
        prefix: key.slice(0, 10),
        plan: null,
        createdAt: now(),
        lastUsedAt: null,
        revokedAt: null,
      };
      store.insertKey(row);
      deps.log.info("{username} created key {id}", { username: row.owner, id: row.id });
      // The only time the key is shown: the database holds its SHA-256.
      return answer({ ...keyView(row, who.user), key }, 201);
    }
    if (route === "keys" && id !== undefined) {
      if (req.method !== "DELETE") return notAllowed("DELETE");
      const who = await guarded(req, false);
      if (who instanceof Response) return who;
      const key = idParam.test(id) ? store.getKey(id) : undefined;
      if (!key || key.owner !== who.user.username || key.revokedAt !== null) {
        return refuse(404, "unknown_key", "no such key");
      }
      return revoke(key, who.user.username);
    }
    return refuse(404, "not_found", "no such route");
  };

  const revoke = (key: KeyRow, by: string) => {
    store.revokeKey(key.id, now());
    const closed = deps.closeConnections(accountKeyPrincipal(key.id));
    deps.log.info("{by} revoked key {id} of {owner} ({closed} connections closed)", {
      by,
      id: key.id,
      owner: key.owner,
      closed,
    });
    return answer({ id: key.id, revoked: true, closedConnections: closed });
  };

  // --- /api/admin ---

  const admin = async (req: Request, path: string[]) => {
    const [route, id, ...rest] = path;
    if (rest.length > 0) return refuse(404, "not_found", "no such route");
    if (route === "plans" && id === undefined) {
      if (req.method !== "GET") return notAllowed("GET");
      const who = await guarded(req, true);
      if (who instanceof Response) return who;
      return answer({ plans });
    }
    if (route === "users" && id === undefined) {
      if (req.method !== "GET" && req.method !== "POST") return notAllowed("GET, POST");
      const who = await guarded(req, true);
      if (who instanceof Response) return who;
      if (req.method === "GET") return answer({ users: store.listUsers().map(userView) });
      const body = await readBody(req, newUserBody);
      if (body instanceof Response) return body;
      if (!plans[body.plan]) return refuse(400, "unknown_plan", `no plan "${body.plan}"`);
      if (store.getUser(body.username)) {
        return refuse(409, "user_exists", `user ${body.username} exists`);
      }
      const user: UserRow = {
        username: body.username,
        passwordHash: await hashPassword(body.password),
        admin: body.admin ?? false,
        plan: body.plan,
        disabled: false,
        createdAt: now(),
      };
      store.insertUser(user);
      deps.log.info("{by} created user {username}", {
        by: who.user.username,
        username: user.username,
      });
      return answer({ user: userView(user) }, 201);
    }
    if (route === "users" && id !== undefined) {
      if (req.method !== "PATCH") return notAllowed("PATCH");
      const who = await guarded(req, true);
      if (who instanceof Response) return who;
      const body = await readBody(req, userPatchBody);
      if (body instanceof Response) return body;
      const user = store.getUser(decodeURIComponentSafe(id));
      if (!user) return refuse(404, "unknown_user", "no such user");
      if (body.plan !== undefined && !plans[body.plan]) {
        return refuse(400, "unknown_plan", `no plan "${body.plan}"`);
      }
      const losesAdmin = user.admin && !user.disabled &&
        (body.admin === false || body.disabled === true);
      if (losesAdmin && store.adminCount() <= 1) {
        return refuse(409, "last_admin", "the last admin cannot lose admin rights");
      }
      store.updateUser(user.username, {
        plan: body.plan,
        admin: body.admin,
        disabled: body.disabled,
        passwordHash: body.password === undefined ? undefined : await hashPassword(body.password),
      });
      let closed = 0;
      if (body.password !== undefined || body.disabled === true) {
        sessions.destroyAll(user.username);
      }
      if (body.disabled === true) {
        for (const key of store.listKeys(user.username)) {
          closed += deps.closeConnections(accountKeyPrincipal(key.id));
        }
      }
      deps.log.info("{by} changed user {username}: {fields}", {
        by: who.user.username,
        username: user.username,
        fields: Object.keys(body).join(", "),
      });
      return answer({ user: userView(store.getUser(user.username)!), closedConnections: closed });
    }
    if (route === "keys" && id === undefined) {
      if (req.method !== "GET") return notAllowed("GET");
      const who = await guarded(req, true);
      if (who instanceof Response) return who;
      const owners = new Map(store.listUsers().map((u) => [u.username, u]));
      return answer({ keys: store.listKeys().map((k) => keyView(k, owners.get(k.owner))) });
    }
    if (route === "keys" && id !== undefined) {
      if (req.method !== "DELETE" && req.method !== "PATCH") return notAllowed("DELETE, PATCH");
      const who = await guarded(req, true);
      if (who instanceof Response) return who;
      const key = idParam.test(id) ? store.getKey(id) : undefined;
      if (!key || key.revokedAt !== null) return refuse(404, "unknown_key", "no such key");
      if (req.method === "DELETE") return revoke(key, who.user.username);
      const body = await readBody(req, keyPatchBody);
      if (body instanceof Response) return body;
      if (body.plan !== null && !plans[body.plan]) {
        return refuse(400, "unknown_plan", `no plan "${body.plan}"`);
      }
      store.setKeyPlan(key.id, body.plan);
      const updated = store.getKey(key.id)!;
      return answer({ key: keyView(updated, store.getUser(updated.owner)) });
    }
    return refuse(404, "not_found", "no such route");
  };

  return (req, url, ip) => {
    if (!(deps.limitLoopback === false && isLoopback(ip))) {
      const taken = perIp.take(ip, deps.ipPerMinute, now());
      if (!taken.ok) {
        return refuse(429, "rate_limited", `more than ${deps.ipPerMinute} requests per minute`, {
          "retry-after": String(Math.ceil(taken.retryAfterMs / 1000)),
        });
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD" && !originAllowed(req)) {
      return refuse(403, "forbidden_origin", "this origin may not change accounts");
    }
    const parts = url.pathname.split("/").slice(1); // ["api", "auth" | "admin", ...]
    const path = parts.slice(2);
    if (path.length === 0 || path.some((p) => p === "")) {
      return refuse(404, "not_found", "no such route");
    }
    return parts[1] === "auth" ? auth(req, url, ip, path) : admin(req, path);
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The routes when accounts are off (no `ACCOUNTS_DB`): `/api/auth/session` says whether access
 * is open (`{"user":null,"access":"open"}`) or needs a key (401); everything else is 404
 * `accounts_off`.
 *
 * @example
 * ```ts
 * import { accountsOffRoutes } from "./routes.ts";
 *
 * const routes = accountsOffRoutes({ required: false });
 * const res = await routes(new Request("http://x/api/auth/session"), new URL("http://x/api/auth/session"), "127.0.0.1");
 * console.log(await res.json()); // { user: null, access: "open" }
 * ```
 */
export function accountsOffRoutes(keys: Pick<KeyStore, "required">): AccountRoutes {
  return (req, url) => {
    if (url.pathname === "/api/auth/session" && req.method === "GET") {
      return keys.required
        ? refuse(
          401,
          "accounts_off",
          "accounts are off on this gateway (set ACCOUNTS_DB); use an API key",
        )
        : answer({ user: null, access: "open" });
    }
    return refuse(404, "accounts_off", "accounts are off on this gateway (set ACCOUNTS_DB)");
  };
}

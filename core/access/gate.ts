/**
 * The gate in front of every request: who is asking (API key or IP), whether
 * they may (open routes, admin-only `/metrics`, `Origin` allow-list) and whether
 * they are within their plan (REST requests per minute, concurrent and new
 * WebSocket connections). Refusals are JSON with a stable code; 429s carry
 * `Retry-After`.
 * @module
 */
import type { CoreConfig } from "../server/config.ts";
import type { ClientAccess } from "../delivery/policy.ts";
import {
  BEARER_PROTOCOL_PREFIX,
  GATEWAY_PROTOCOL,
  type KeyStore,
  offeredProtocols,
  type Plan,
  presentedKey,
  type Principal,
} from "./keys.ts";
import { createConcurrencyLimiter, createMinuteCounter, createRateLimiter } from "./limits.ts";
import { httpError } from "../server/rest.ts";

/** Routes anyone may read, key or not. */
const OPEN_ROUTES = new Set(["/health", "/ready"]);

/** Settings the gate reads. */
export type AccessConfig = Pick<
  CoreConfig,
  | "ipMaxConnections"
  | "ipRestPerMinute"
  | "ipConnectsPerMinute"
  | "ipLimitLoopback"
  | "allowedOrigins"
  | "metricsAccess"
  | "maxSubscriptions"
  | "maxClientMessagesPerSecond"
  | "paperOrdersPerSecond"
  | "paperOpenOrders"
>;

/** An admitted WebSocket upgrade. */
export interface Admitted {
  principal: Principal;
  /** Per-connection limits for the session. */
  access: ClientAccess;
  /** Subprotocol to select in the handshake, if the client offered one; never a `bearer.<key>`. */
  protocol?: string;
  /** Gives back the connection slot; safe to call more than once. */
  release(): void;
}

/** The request gate. */
export interface AccessGate {
  /** Checks a REST request; a Response means "refused". */
  rest(req: Request, url: URL, ip: string): Promise<Response | undefined>;
  /** Who makes a request that {@link AccessGate.rest} let through. */
  principal(req: Request, url: URL, ip: string): Promise<Principal>;
  /** Checks a WebSocket upgrade. */
  websocket(req: Request, url: URL, ip: string): Promise<Admitted | Response>;
  /** Answers a CORS preflight, or undefined if `req` is not one. */
  preflight(req: Request): Response | undefined;
  /** Adds CORS headers to a response for an allowed `Origin`. */
  /** Adds CORS headers for `origin` (read before the request was handed on: an upgraded request can no longer be read). */
  cors(origin: string | null, res: Response): Response;
  /** What a keyed principal uses now: WebSocket connections held, REST requests this minute. */
  usage(id: string): { connections: number; restThisMinute: number };
}

/** True for 127.0.0.0/8 and ::1 (also IPv4-mapped). */
export function isLoopback(ip: string): boolean {
  return ip === "::1" || /^(::ffff:)?127\./.test(ip);
}

/** Creates the gate. */
export function createAccessGate(
  store: KeyStore,
  config: AccessConfig,
  now: () => number = Date.now,
): AccessGate {
  const restBuckets = createRateLimiter(60_000);
  const connectBuckets = createRateLimiter(60_000);
  const failBuckets = createRateLimiter(60_000);
  const connections = createConcurrencyLimiter();
  const restThisMinute = createMinuteCounter();
  const origins = config.allowedOrigins;

  const anonymousPlan: Plan = {
    maxConnections: config.ipMaxConnections,
    maxSubscriptions: config.maxSubscriptions,
    exchanges: ["*"],
    channels: ["*"],
    restPerMinute: config.ipRestPerMinute,
    messagesPerSecond: config.maxClientMessagesPerSecond,
    paperOrdersPerSecond: config.paperOrdersPerSecond,
    paperOpenOrders: config.paperOpenOrders,
  };
  const exempt = (p: Principal, ip: string) =>
    !p.keyed && !config.ipLimitLoopback && isLoopback(ip);

  const tooMany = (code: string, message: string, retryAfterMs: number) =>
    httpError(429, code, message, {
      "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    });

  /** Resolves the principal, or a 401/429 refusal. */
  const identify = async (
    req: Request,
    url: URL,
    ip: string,
    websocket: boolean,
    open: boolean,
  ): Promise<Principal | Response> => {
    const anonymous: Principal = {
      id: `ip:${ip}`,
      plan: anonymousPlan,
      admin: false,
      keyed: false,
    };
    if (!store.required) return anonymous;
    const presented = presentedKey(req, url, websocket);
    if (presented) {
      const principal = await store.lookup(presented.key);
      if (principal) return principal;
    }
    if (open) return anonymous;
    // Failed attempts are limited per IP so keys cannot be guessed at speed.
    const taken = failBuckets.take(ip, config.ipRestPerMinute, now());
    if (!taken.ok && !exempt(anonymous, ip)) {
      return tooMany("rate_limited", "too many failed authentications", taken.retryAfterMs);
    }
    return httpError(
      401,
      "unauthorized",
      presented
        ? "the API key is not valid"
        : websocket
        ? "present an API key: Authorization: Bearer <key>, a bearer.<key> subprotocol or ?token="
        : "present an API key: Authorization: Bearer <key>",
      { "www-authenticate": 'Bearer realm="quant-saas"' },
    );
  };

  const originAllowed = (origin: string) => origins.includes("*") || origins.includes(origin);

  return {
    async principal(req, url, ip) {
      const who = await identify(req, url, ip, false, true);
      return who instanceof Response
        ? { id: `ip:${ip}`, plan: anonymousPlan, admin: false, keyed: false }
        : who;
    },
    async rest(req, url, ip) {
      const open = OPEN_ROUTES.has(url.pathname);
      const metricsMode = config.metricsAccess === "auto"
        ? (store.hasAdmin ? "admin" : "route")
        : config.metricsAccess;
      const adminOnly = url.pathname === "/metrics" && metricsMode === "admin";
      const openRoute = open || (url.pathname === "/metrics" && metricsMode === "open");
      const who = await identify(req, url, ip, false, openRoute && !adminOnly);
      if (who instanceof Response) return who;
      if (adminOnly && !who.admin) {
        return who.keyed
          ? httpError(403, "forbidden", "this route needs an admin key")
          : httpError(401, "unauthorized", "this route needs an admin key", {
            "www-authenticate": 'Bearer realm="quant-saas"',
          });
      }
      if (who.keyed) restThisMinute.add(who.id, now());
      if (exempt(who, ip)) return undefined;
      const taken = restBuckets.take(who.id, who.plan.restPerMinute, now());
      if (!taken.ok) {
        return tooMany(
          "rate_limited",
          `more than ${who.plan.restPerMinute} requests per minute`,
          taken.retryAfterMs,
        );
      }
      return undefined;
    },

    async websocket(req, url, ip) {
      const origin = req.headers.get("origin");
      if (origins.length > 0 && origin !== null && !originAllowed(origin)) {
        return httpError(403, "forbidden_origin", `origin ${origin.slice(0, 100)} is not allowed`);
      }
      // The subprotocol to select. A `bearer.<key>` token carries a secret, and the
      // selected subprotocol is echoed in the response header: it is never selected.
      // A client that offers only `bearer.<key>` is refused (400 `protocol_required`)
      // rather than accepted with no subprotocol, because browsers and `ws` fail a
      // handshake that selects none of the offered ones, with an error that does not
      // say why; the refusal tells them to offer `quant-saas` alongside.
      const offered = offeredProtocols(req);
      const selectable = offered.filter((p) => !p.startsWith(BEARER_PROTOCOL_PREFIX));
      if (offered.length > 0 && selectable.length === 0) {
        return httpError(
          400,
          "protocol_required",
          `offer the "${GATEWAY_PROTOCOL}" subprotocol alongside bearer.<key>: ` +
            `new WebSocket(url, ["${GATEWAY_PROTOCOL}", "bearer.<key>"])`,
        );
      }
      const protocol = selectable.includes(GATEWAY_PROTOCOL) ? GATEWAY_PROTOCOL : selectable[0];
      const who = await identify(req, url, ip, true, false);
      if (who instanceof Response) return who;
      const limited = !exempt(who, ip);
      if (limited && !who.keyed) {
        const taken = connectBuckets.take(who.id, config.ipConnectsPerMinute, now());
        if (!taken.ok) {
          return tooMany(
            "rate_limited",
            `more than ${config.ipConnectsPerMinute} new connections per minute`,
            taken.retryAfterMs,
          );
        }
      }
      if (limited && !connections.acquire(who.id, who.plan.maxConnections)) {
        return tooMany(
          "connection_limit",
          `${who.plan.maxConnections} concurrent connections allowed`,
          5000,
        );
      }
      let held = limited;
      const plan = who.plan;
      return {
        principal: who,
        protocol,
        access: {
          principal: who.id,
          maxSubscriptions: Math.min(plan.maxSubscriptions, config.maxSubscriptions),
          messagesPerSecond: Math.min(plan.messagesPerSecond, config.maxClientMessagesPerSecond),
          exchanges: plan.exchanges.includes("*") ? null : plan.exchanges,
          channels: plan.channels.includes("*") ? null : plan.channels,
          keyed: who.keyed,
          paperOrdersPerSecond: plan.paperOrdersPerSecond,
          paperOpenOrders: plan.paperOpenOrders,
        },
        release() {
          if (!held) return;
          held = false;
          connections.release(who.id);
        },
      };
    },

    usage: (id) => ({
      connections: connections.held(id),
      restThisMinute: restThisMinute.get(id, now()),
    }),

    preflight(req) {
      if (req.method !== "OPTIONS" || !req.headers.has("access-control-request-method")) {
        return undefined;
      }
      const origin = req.headers.get("origin");
      if (origin === null || origins.length === 0 || !originAllowed(origin)) {
        return httpError(403, "forbidden_origin", "this origin is not allowed");
      }
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": origin,
          "access-control-allow-methods": "GET, HEAD",
          "access-control-allow-headers": "Authorization",
          "access-control-max-age": "600",
          "vary": "Origin",
        },
      });
    },

    cors(origin, res) {
      if (res.status === 101) return res;
      if (origin === null || origins.length === 0 || !originAllowed(origin)) return res;
      try {
        res.headers.set("access-control-allow-origin", origin);
        res.headers.set("access-control-expose-headers", "Retry-After");
        res.headers.append("vary", "Origin");
      } catch { /* immutable headers (e.g. an extension's proxied response) */ }
      return res;
    },
  };
}

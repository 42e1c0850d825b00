/**
 * One admission for every WebSocket endpoint (`/ws`, an extension's such as the
 * Binance-compatible proxy's `/binance/ws`, tomorrow `/replay`): the same checks in
 * the same order, the same accounting while connected, the same way out.
 *
 * Before the upgrade:
 * 1. the gateway is not shutting down (503 `shutting_down`);
 * 2. fewer than `MAX_CLIENTS` connections on all endpoints together (503 `server_busy`);
 * 3. the memory budget is not exceeded (503 `overloaded`, `Retry-After`);
 * 4. the access gate: Origin, API key or IP, new-connection rate, one of the plan's
 *    concurrent connection slots per key or IP (shared by every endpoint);
 * 5. the plan allows what the connection asks for at connect: its exchanges, its
 *    channels and its number of subscriptions (403 `forbidden_exchange`,
 *    `forbidden_channel`, `too_many_subscriptions`).
 *
 * While connected, every socket is a delivery {@link Client}: frames go through the
 * slow-consumer policy (conflation by key, a bounded queue, `slow_consumer` past it),
 * the socket counts toward the process-wide memory budget (payload plus ~1 KiB per
 * queued message) and may be shed by it. Closing gives the slot back once.
 *
 * Refusals are the gateway's JSON errors unless the endpoint passes its own shape
 * (`refuse`), so an extension keeps its wire format.
 * @module
 */
import type { AccessGate } from "../access/gate.ts";
import { type Client, type ClientAccess, createClient, type Delivery } from "../delivery/policy.ts";
import type { MemoryBudget } from "../delivery/budget.ts";
import { errorFrame } from "../protocol/frames.ts";
import type { Metrics } from "./metrics.ts";
import { httpError } from "./rest.ts";

/**
 * Why an upgrade was refused, before it is shaped into the endpoint's error format.
 *
 * @example
 * ```ts
 * import type { AdmissionRefusal } from "@quant-saas/gateway";
 *
 * // An extension that answers refusals in its own wire format (as the Binance proxy does).
 * const refuse = (r: AdmissionRefusal) =>
 *   Response.json({ code: -1, msg: `${r.code}: ${r.message}` }, { status: r.status, headers: r.headers });
 * ```
 */
export interface AdmissionRefusal {
  /** HTTP status of the refusal (400, 401, 403, 429, 503). */
  status: number;
  /** Stable code, e.g. `connection_limit`, `overloaded`, `forbidden_channel`. */
  code: string;
  /** Human-readable reason. */
  message: string;
  /** Headers to keep (`Retry-After`, `WWW-Authenticate`). */
  headers: Record<string, string>;
}

/**
 * What an endpoint asks of {@link Admission.admit}.
 *
 * @example
 * ```ts
 * import type { AdmitOptions } from "@quant-saas/gateway";
 *
 * const options: AdmitOptions = { exchanges: ["binance"], channels: ["trade", "book"], subscriptions: 2 };
 * ```
 */
export interface AdmitOptions {
  /** Exchanges the connection will receive at connect; each must be in the plan. */
  exchanges?: readonly string[];
  /** Channels (`trade`, `quote`, `book`, `kline`, `consolidated`) asked for at connect. */
  channels?: readonly string[];
  /** Subscriptions asked for at connect; at most the plan's `maxSubscriptions`. */
  subscriptions?: number;
  /** Batched delivery (one JSON array per tick). */
  batch?: boolean;
  /** `idleTimeout` of the socket, s; default the gateway's. */
  idleTimeout?: number;
  /** Shapes a refusal in the endpoint's wire format; default the gateway's JSON error. */
  refuse?(refusal: AdmissionRefusal): Response;
  /** The frame sent before a slow-consumer disconnect; default the gateway's error frame, `undefined` sends none. */
  slowConsumerFrame?: ((message: string) => string | undefined) | null;
  /** Called once when the connection is gone (closed by either side, shed, cut off). */
  onGone?(client: Client): void;
  /** Called on gateway shutdown instead of a plain close 1001 (e.g. to announce it first). */
  onShutdown?(): void;
}

/**
 * An admitted, upgraded connection.
 *
 * @example
 * ```ts
 * import type { AdmittedConnection } from "@quant-saas/gateway";
 *
 * function greet(conn: AdmittedConnection): Response {
 *   conn.socket.onopen = () => conn.send('{"type":"hello"}');
 *   return conn.response;
 * }
 * ```
 */
export interface AdmittedConnection {
  /** The upgraded socket (set its `onmessage`; send through {@link AdmittedConnection.send}). */
  readonly socket: WebSocket;
  /** The 101 response: return it from the request handler. */
  readonly response: Response;
  /** The delivery client (subscriptions of `/ws` sessions live on it). */
  readonly client: Client;
  /** Plan limits in force for this connection. */
  readonly access: ClientAccess;
  /** Sends through the slow-consumer policy; `key` marks a conflatable update (latest wins). */
  send(text: string | (() => string), key?: string): void;
  /** True when the plan allows `channel` (and `exchange`, if given). */
  allows(channel: string, exchange?: string): boolean;
  /** Closes the connection (logged as a disconnect by the gateway). */
  close(code: number, reason: string, detail?: string): void;
}

/** What the admission is built on. */
export interface AdmissionDeps {
  gate: AccessGate;
  delivery: Pick<Delivery, "send">;
  budget: Pick<MemoryBudget, "overloaded" | "clientsChanged">;
  metrics: Pick<Metrics, "clients" | "clientErrors">;
  maxClients: number;
  idleTimeout: number;
  /** Text of the slow-consumer error frame's message. */
  slowConsumerMessage: string;
  log: {
    info(message: string, props?: Record<string, unknown>): void;
    warning(message: string, props?: Record<string, unknown>): void;
  };
}

/** The admission of one gateway. */
export interface Admission {
  /** Admits and upgrades a WebSocket request, or refuses it. */
  admit(
    req: Request,
    url: URL,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    options?: AdmitOptions,
  ): Promise<AdmittedConnection | Response>;
  /** Connected clients on every endpoint (read by the hub and the memory budget). */
  readonly clients: ReadonlySet<Client>;
  /** Sockets the gateway closed whose close has not completed (a peer that does not read). */
  readonly lingering: ReadonlySet<Client>;
  /**
   * Disconnects a client: the endpoint's slow-consumer frame for `slow_consumer`, a log
   * line, close, `onGone`. Used by the delivery policy, the memory budget and sessions.
   */
  disconnect(client: Client, code: number, reason: string, detail?: string): void;
  /**
   * Closes every connection of a principal (its key was revoked or its owner disabled) with
   * `code` and `reason`; returns how many.
   */
  closePrincipal(id: string, code: number, reason: string, detail?: string): number;
  /** Refuses new connections from now on and closes every connection (1001 or `onShutdown`). */
  shutdown(): void;
  /** True for a 101 response made by {@link admit}. */
  madeUpgrade(res: Response): boolean;
}

/** Creates the admission. */
export function createAdmission(deps: AdmissionDeps): Admission {
  const { gate, delivery, budget, metrics } = deps;
  const clients = new Set<Client>();
  const lingering = new Set<Client>();
  const hooks = new Map<Client, AdmitOptions>();
  const upgrades = new WeakSet<Response>();
  let nextId = 1;
  let shuttingDown = false;

  /** Runs `onGone` once and forgets the client. */
  const gone = (client: Client) => {
    const h = hooks.get(client);
    if (!h) return;
    hooks.delete(client);
    clients.delete(client);
    metrics.clients.set(clients.size);
    budget.clientsChanged(clients.size);
    h.onGone?.(client);
  };

  const disconnect = (client: Client, code: number, reason: string, detail?: string) => {
    if (client.closing) return;
    client.closing = true;
    const message = detail ?? (reason === "slow_consumer" ? deps.slowConsumerMessage : undefined);
    if (reason === "slow_consumer" && client.socket.readyState === WebSocket.OPEN) {
      const h = hooks.get(client);
      const frame = h?.slowConsumerFrame === undefined
        ? errorFrame("slow_consumer", message!)
        : h.slowConsumerFrame?.(message!);
      // Best effort: the socket may be too full for this frame to leave.
      if (frame !== undefined) {
        try {
          client.socket.send(frame);
        } catch { /* closed */ }
      }
    }
    // A normal or going-away close (shutdown, the endpoint's own close) is routine.
    deps.log[code === 1000 || code === 1001 ? "info" : "warning"](
      "disconnecting client {id} ({remote}): {reason}{detail}",
      {
        id: client.id,
        remote: client.remote,
        reason,
        detail: message ? ` (${message})` : "",
      },
    );
    if (client.socket.readyState !== WebSocket.CLOSED) lingering.add(client);
    try {
      client.socket.close(code, reason);
    } catch { /* already closed */ }
    gone(client);
  };

  /** A refusal in the endpoint's shape; `counted` ones move `quant_client_errors_total`. */
  const refusal = (
    options: AdmitOptions,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
    counted = false,
  ): Response => {
    if (counted) metrics.clientErrors.inc({ code });
    return options.refuse
      ? options.refuse({ status, code, message, headers })
      : httpError(status, code, message, headers);
  };

  const channelAllowed = (access: ClientAccess, channel: string) =>
    access.channels === null || access.channels.includes(channel);
  const exchangeAllowed = (access: ClientAccess, exchange: string) =>
    access.exchanges === null || access.exchanges.includes(exchange);

  return {
    clients,
    lingering,
    disconnect,
    madeUpgrade: (res) => upgrades.has(res),

    async admit(req, url, info, options = {}) {
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return refusal(options, 426, "upgrade_required", "this endpoint takes a WebSocket upgrade");
      }
      if (shuttingDown) {
        return refusal(options, 503, "shutting_down", "the gateway is shutting down");
      }
      if (clients.size >= deps.maxClients) {
        return refusal(options, 503, "server_busy", `client limit ${deps.maxClients} reached`);
      }
      if (budget.overloaded()) {
        return refusal(
          options,
          503,
          "overloaded",
          "the gateway's memory budget for client buffers is exhausted; retry later",
          { "retry-after": "5" },
          true,
        );
      }
      const admitted = await gate.websocket(req, url, info.remoteAddr.hostname);
      if (admitted instanceof Response) {
        const body = await admitted.clone().json().catch(() => ({}));
        const headers: Record<string, string> = {};
        for (const name of ["retry-after", "www-authenticate"]) {
          const value = admitted.headers.get(name);
          if (value !== null) headers[name] = value;
        }
        metrics.clientErrors.inc({ code: body?.error?.code ?? "refused" });
        if (!options.refuse) return admitted;
        return options.refuse({
          status: admitted.status,
          code: body?.error?.code ?? "refused",
          message: body?.error?.message ?? "refused",
          headers,
        });
      }
      const { access } = admitted;
      const plan = (status: number, code: string, message: string) => {
        admitted.release();
        return refusal(options, status, code, message, {}, true);
      };
      const exchange = options.exchanges?.find((e) => !exchangeAllowed(access, e));
      if (exchange !== undefined) {
        return plan(403, "forbidden_exchange", `the plan does not include exchange ${exchange}`);
      }
      const channel = options.channels?.find((c) => !channelAllowed(access, c));
      if (channel !== undefined) {
        return plan(403, "forbidden_channel", `the plan does not include channel ${channel}`);
      }
      if ((options.subscriptions ?? 0) > access.maxSubscriptions) {
        return plan(
          403,
          "too_many_subscriptions",
          `${options.subscriptions} subscriptions asked for; the plan allows ${access.maxSubscriptions}`,
        );
      }
      const remote = `${info.remoteAddr.hostname}:${info.remoteAddr.port}`;
      let upgraded: ReturnType<typeof Deno.upgradeWebSocket>;
      try {
        // Deno's own `protocol` option splits the offer on ", " only and refuses
        // `quant-saas,bearer.…` (what Node's `ws` sends); the gate parsed the offer as
        // RFC 6455's token list, so the selected one is set on the response here.
        upgraded = Deno.upgradeWebSocket(req, {
          idleTimeout: options.idleTimeout ?? deps.idleTimeout,
        });
        if (admitted.protocol !== undefined) {
          upgraded.response.headers.set("sec-websocket-protocol", admitted.protocol);
        }
      } catch (err) {
        admitted.release();
        return refusal(
          options,
          400,
          "bad_upgrade",
          err instanceof Error ? err.message : String(err),
        );
      }
      const { socket, response } = upgraded;
      upgrades.add(response);
      const client = createClient(nextId++, socket, remote, options.batch ?? false, access);
      hooks.set(client, options);
      socket.addEventListener("open", () => {
        if (!hooks.has(client)) return; // disconnected before it opened
        clients.add(client);
        metrics.clients.set(clients.size);
        budget.clientsChanged(clients.size);
      });
      socket.addEventListener("close", () => {
        lingering.delete(client);
        admitted.release();
        client.closing = true;
        gone(client);
      });
      return {
        socket,
        response,
        client,
        access,
        send: (text, key) => delivery.send(client, text, key),
        allows: (channel, exchange) =>
          channelAllowed(access, channel) &&
          (exchange === undefined || exchangeAllowed(access, exchange)),
        close: (code, reason, detail) => disconnect(client, code, reason, detail),
      };
    },

    closePrincipal(id, code, reason, detail) {
      let n = 0;
      for (const client of [...hooks.keys()]) {
        if (client.access?.principal !== id || client.closing) continue;
        disconnect(client, code, reason, detail);
        n++;
      }
      return n;
    },

    shutdown() {
      shuttingDown = true;
      for (const client of [...hooks.keys()]) {
        const h = hooks.get(client)!;
        if (h.onShutdown) {
          h.onShutdown();
          continue;
        }
        client.closing = true;
        try {
          client.socket.close(1001, "shutting_down");
        } catch { /* closed */ }
      }
    },
  };
}

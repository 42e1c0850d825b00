/**
 * Paper trading over the gateway's interfaces: the `/ws` actions (`order`, `cancel`,
 * `cancel_all`, `amend`, `route`, `account`, `orders`, `fills`, `paper_reset`) and
 * `/api/paper/*`, over one desk (core/paper/desk.ts). An account belongs to an API key (every
 * connection and REST call with that key shares it) or, under open access, to one WebSocket
 * connection (reset when it closes); REST without a key uses the caller's IP.
 * @module
 */
import type { Client, Delivery } from "../delivery/policy.ts";
import type { PaperFrame } from "../protocol/messages.ts";
import type { Principal } from "../access/keys.ts";
import type { Desk, DeskResult, PaperLimits } from "../paper/desk.ts";
import type { PaperError } from "../paper/types.ts";
import {
  paperAccountFrame,
  paperAckFrame,
  paperErrorFrame,
  paperOrderFrame,
  paperRouteFrame,
} from "../protocol/frames.ts";
import { httpError, json } from "./rest.ts";
import type { Books } from "../books/books.ts";
import type { Catalog } from "../market/catalog.ts";
import type { CoreConfig } from "./config.ts";
import { createDesk } from "../paper/desk.ts";
import type { Metrics } from "./metrics.ts";

/** Paper trading as the gateway serves it. */
export interface PaperService {
  /** A paper action from a `/ws` client. */
  onFrame(client: Client, frame: PaperFrame): void;
  /** A client left: an open-access account goes with its connection. */
  onClose(client: Client): void;
  /** Sends a desk report to the owner's connections. */
  send(owner: string, text: string): void;
  /** `/api/paper/*`, or undefined for other paths. */
  rest(req: Request, url: URL, principal: Principal): Promise<Response> | undefined;
}

/** What the service is built on. */
export interface PaperServiceDeps {
  /** Set once the desk exists (the desk's `send` is this service's). */
  desk(): Desk;
  delivery: Delivery;
  /** Limits of clients without a plan (open access). */
  defaults: PaperLimits;
  /** True in a replay: orders may carry `at` (scheduled at that replay time). */
  scheduled?: boolean;
}

/** HTTP status of each paper error code. */
const STATUS: Record<PaperError["code"], number> = {
  invalid_order: 400,
  filter_failure: 400,
  would_take: 409,
  fok_unfillable: 409,
  insufficient_balance: 409,
  no_book: 409,
  unknown_order: 404,
  duplicate_client_order_id: 409,
  order_rate_limited: 429,
  too_many_open_orders: 429,
  no_route: 409,
};

const ownerOfClient = (client: Client) =>
  client.access?.keyed ? `key:${client.access.principal}` : `conn:${client.id}`;

const ownerOfPrincipal = (p: Principal) => p.keyed ? `key:${p.id}` : p.id;

/** A request body as JSON, or a 400. */
async function body(req: Request): Promise<unknown | Response> {
  try {
    const text = await req.text();
    if (text.length > 16_384) return httpError(413, "invalid_order", "body over 16 KiB");
    return text === "" ? {} : JSON.parse(text);
  } catch (err) {
    return httpError(400, "invalid_order", `body: invalid JSON (${(err as Error).message})`);
  }
}

/**
 * Creates the paper-trading service.
 * @example
 * ```ts ignore
 * const paper = createPaperService({ desk: () => desk, delivery, defaults: { ordersPerSecond: 10, openOrders: 200 } });
 * ```
 */
export function createPaperService(deps: PaperServiceDeps): PaperService {
  /** Connections of each owner (a key may hold several). */
  const connections = new Map<string, Set<Client>>();
  const limitsOf = (client: Client): PaperLimits => ({
    ordersPerSecond: client.access?.paperOrdersPerSecond ?? deps.defaults.ordersPerSecond,
    openOrders: client.access?.paperOpenOrders ?? deps.defaults.openOrders,
  });
  const limitsOfPrincipal = (p: Principal): PaperLimits => ({
    ordersPerSecond: p.plan.paperOrdersPerSecond ?? deps.defaults.ordersPerSecond,
    openOrders: p.plan.paperOpenOrders ?? deps.defaults.openOrders,
  });

  const track = (owner: string, client: Client) => {
    let set = connections.get(owner);
    if (!set) connections.set(owner, set = new Set());
    set.add(client);
  };

  const reply = <T>(
    client: Client,
    result: DeskResult<T>,
    id: string | number | undefined,
    ok: (value: T) => string,
  ) => deps.delivery.send(client, result.ok ? ok(result.value) : paperErrorFrame(result.error, id));

  return {
    send(owner, text) {
      for (const client of connections.get(owner) ?? []) deps.delivery.send(client, text);
    },
    onFrame(client, frame) {
      const owner = ownerOfClient(client);
      track(owner, client);
      const desk = deps.desk();
      const limits = limitsOf(client);
      const { id } = frame;
      switch (frame.action) {
        case "order":
          return reply(
            client,
            desk.order(owner, frame, limits, deps.scheduled),
            id,
            (v) =>
              "scheduled" in v
                ? paperAckFrame("order", { scheduled: v.scheduled }, id)
                : paperOrderFrame(v, undefined, id),
          );
        case "cancel":
          return reply(
            client,
            desk.cancel(owner, frame, limits),
            id,
            (v) => paperAckFrame("cancel", v, id),
          );
        case "cancel_all":
          return reply(
            client,
            desk.cancelAll(owner, frame, limits),
            id,
            (v) => paperAckFrame("cancel_all", v, id),
          );
        case "amend":
          return reply(
            client,
            desk.amend(owner, frame, limits),
            id,
            (v) => paperAckFrame("amend", v, id),
          );
        case "route":
          return reply(client, desk.route(owner, frame, limits), id, (v) => paperRouteFrame(v, id));
        case "account":
          return deps.delivery.send(client, paperAccountFrame(desk.account(owner), id));
        case "orders":
          return deps.delivery.send(
            client,
            paperAckFrame("orders", { orders: desk.orders(owner, frame.open === true) }, id),
          );
        case "fills":
          return deps.delivery.send(
            client,
            paperAckFrame("fills", { fills: desk.fills(owner) }, id),
          );
        case "paper_reset":
          return reply(client, desk.reset(owner, frame), id, (v) => paperAccountFrame(v, id));
      }
    },
    onClose(client) {
      const owner = ownerOfClient(client);
      const set = connections.get(owner);
      set?.delete(client);
      if (set && set.size === 0) connections.delete(owner);
      // Open access: the account was this connection's.
      if (!client.access?.keyed) deps.desk().remove(owner);
    },
    rest(req, url, principal) {
      if (!url.pathname.startsWith("/api/paper/")) return undefined;
      return handleRest(req, url, principal);
    },
  };

  async function handleRest(req: Request, url: URL, principal: Principal): Promise<Response> {
    const desk = deps.desk();
    const owner = ownerOfPrincipal(principal);
    const limits = limitsOfPrincipal(principal);
    const answer = <T>(result: DeskResult<T>, status = 200) =>
      result.ok ? json(result.value, status) : json(
        {
          error: {
            code: result.error.code,
            message: result.error.message,
            exchangeError: result.error.exchangeError,
          },
          simulated: true,
        },
        STATUS[result.error.code] ?? 400,
      );
    const path = url.pathname;
    const method = req.method;
    const orderId = /^\/api\/paper\/orders\/([A-Za-z0-9_\-:.]{1,64})$/.exec(path)?.[1];
    if (path === "/api/paper/orders" && method === "POST") {
      const input = await body(req);
      if (input instanceof Response) return input;
      return answer(desk.order(owner, input, limits), 201);
    }
    if (path === "/api/paper/orders" && method === "GET") {
      return json({
        orders: desk.orders(owner, url.searchParams.get("open") === "true"),
        simulated: true,
      });
    }
    if (path === "/api/paper/orders" && method === "DELETE") {
      return answer(desk.cancelAll(owner, Object.fromEntries(url.searchParams), limits));
    }
    if (orderId && method === "DELETE") {
      return answer(desk.cancel(owner, { orderId }, limits));
    }
    if (orderId && method === "PATCH") {
      const input = await body(req);
      if (input instanceof Response) return input;
      return answer(desk.amend(owner, { ...input as object, orderId }, limits));
    }
    if (orderId && method === "GET") {
      const order = desk.orders(owner).find((o) => o.id === orderId || o.clientOrderId === orderId);
      return order
        ? json(order)
        : httpError(404, "unknown_order", `no order "${orderId}" in this account`);
    }
    if (path === "/api/paper/fills" && method === "GET") {
      return json({ fills: desk.fills(owner), simulated: true });
    }
    if (path === "/api/paper/account" && method === "GET") {
      return json({ ...desk.account(owner), simulated: true });
    }
    if (path === "/api/paper/route" && method === "POST") {
      const input = await body(req);
      if (input instanceof Response) return input;
      return answer(desk.route(owner, input, limits), 201);
    }
    if (path === "/api/paper/reset" && method === "POST") {
      const input = await body(req);
      if (input instanceof Response) return input;
      return answer(desk.reset(owner, input));
    }
    return httpError(
      405,
      "method_not_allowed",
      `${method} ${path}: see docs/paper-trading.md (POST/GET /api/paper/orders, DELETE|PATCH|GET /api/paper/orders/{id}, GET /api/paper/fills, GET /api/paper/account, POST /api/paper/route, POST /api/paper/reset)`,
    );
  }
}

/** The paper settings of the core configuration. */
export type PaperConfig = Pick<
  CoreConfig,
  | "paperBalances"
  | "paperMarketDataLatencyMs"
  | "paperOrderLatencyMs"
  | "paperOrdersPerSecond"
  | "paperOpenOrders"
>;

/**
 * A desk and its service over a books store (the live gateway's, or a replay's private one).
 * @example
 * ```ts ignore
 * const { desk, service } = paperOver(config, catalog, books, delivery, Date.now);
 * ```
 */
export function paperOver(
  config: PaperConfig,
  catalog: Catalog,
  books: Books,
  delivery: Delivery,
  now: () => number,
  scheduled = false,
  metrics?: Pick<Metrics, "paperOrders" | "paperFills">,
): { desk: Desk; service: PaperService } {
  const service = createPaperService({
    desk: () => desk,
    delivery,
    defaults: { ordersPerSecond: config.paperOrdersPerSecond, openOrders: config.paperOpenOrders },
    scheduled,
  });
  const desk = createDesk({
    catalog,
    book(exchange, symbol) {
      const entry = books.get(exchange, symbol);
      return entry?.synced ? entry.book : undefined;
    },
    bookTime: (exchange, symbol) => books.get(exchange, symbol)?.lastReceiveTime,
    latency: {
      marketDataMs: config.paperMarketDataLatencyMs,
      orderEntryMs: config.paperOrderLatencyMs,
    },
    balances: config.paperBalances,
    send: service.send,
    now,
    observe: metrics && ((report) => {
      if (report.type === "fill") {
        metrics.paperFills.inc({
          exchange: report.fill.exchange,
          liquidity: report.fill.liquidity,
        });
      } else if (
        report.type === "order" && ["filled", "cancelled", "rejected"].includes(report.order.status)
      ) {
        metrics.paperOrders.inc({ exchange: report.order.exchange, status: report.order.status });
      }
    }),
  });
  return { desk, service };
}

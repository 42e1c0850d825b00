/**
 * The client protocol's inbound side: frames a client may send (validated with
 * zod) and the stable error codes. The frames the gateway sends are built in
 * frames.ts.
 * @module
 */
import { z } from "zod";
import { type Channel, CHANNELS } from "../events.ts";
import { type Metric, METRICS } from "../analytics/engine.ts";

/** Stable error codes of `{"type":"error","code":...}` frames. */
export const ERROR_CODES = {
  bad_json: "The frame is not valid JSON.",
  invalid_request: "The frame is JSON but not a valid request.",
  unknown_action:
    "The action is not one of subscribe, unsubscribe, list, ping, or the paper-trading actions (order, cancel, cancel_all, amend, route, account, orders, fills, paper_reset).",
  unknown_symbol: "No configured exchange lists this symbol.",
  unknown_channel:
    "The channel is not one of trade, quote, kline, book, consolidated, analytics, options.",
  unknown_exchange: "No such exchange is configured.",
  frame_too_large: "The frame exceeds the size limit.",
  binary_not_supported: "Binary frames are not accepted; send JSON text.",
  rate_limited:
    "Too many frames per second, new connections or REST requests (HTTP 429 with Retry-After).",
  too_many_subscriptions: "The subscription limit of this connection is reached.",
  slow_consumer: "The client reads too slowly; its backlog exceeded the limit.",
  server_busy: "The gateway has reached its client limit.",
  shutting_down: "The gateway is shutting down.",
  unauthorized: "No valid API key was presented (HTTP 401).",
  forbidden: "The key may not use this route, e.g. /metrics without an admin key (HTTP 403).",
  forbidden_origin: "The browser Origin is not on the allow-list (HTTP 403).",
  forbidden_exchange: "The key's plan does not include this exchange.",
  forbidden_channel: "The key's plan does not include this channel.",
  connection_limit: "The key (or IP) already holds its plan's concurrent connections (HTTP 429).",
  upgrade_required: "A WebSocket endpoint was requested without a WebSocket upgrade (HTTP 426).",
  bad_upgrade: "The WebSocket upgrade request is malformed (HTTP 400).",
  overloaded:
    "The memory budget for client buffers is exhausted; retry later (HTTP 503 with Retry-After).",
  protocol_required:
    "A key was offered as the only subprotocol; offer `quant-saas` beside `bearer.<key>` (HTTP 400).",
  replay_overrun:
    "A replay catching up with live fell too far behind: the live items it holds exceeded the bound; the connection is closed rather than gapped.",
  replay_selection_fixed:
    "/replay: a subscribe after the replay started; its streams were fixed then (open another replay).",
  replay_failed: "The recording could not be read for this replay; the connection is closed.",
  paper_off: "Paper trading is off on this gateway (PAPER_ENABLED=false).",
  invalid_order: "Paper trading: the order request is malformed (the message names the field).",
  filter_failure:
    "Paper trading: an exchange filter failed (tick, step, min/max quantity, min notional); `exchangeError` has the exchange's own error.",
  would_take: "Paper trading: a post-only order (or an amend) would have taken liquidity.",
  fok_unfillable: "Paper trading: a fill-or-kill order could not be filled in full at once.",
  insufficient_balance: "Paper trading: the account's free balance does not cover the order.",
  no_book: "Paper trading: no synced book (or no market data yet) for the symbol.",
  unknown_order: "Paper trading: no such open order in this account.",
  duplicate_client_order_id: "Paper trading: the clientOrderId is already used by an open order.",
  order_rate_limited: "Paper trading: more order actions per second than the plan allows.",
  too_many_open_orders: "Paper trading: more open orders than the plan allows.",
  no_route: "Paper trading: no venue can fill any of the routed order.",
  bad_credentials: "Accounts: wrong username or password (HTTP 401).",
  locked:
    "Accounts: too many failed sign-ins for this username or IP; retry after Retry-After (HTTP 429).",
  csrf: "Accounts: the x-csrf-token header is missing or wrong (HTTP 403).",
  accounts_off:
    "Accounts are off on this gateway (no ACCOUNTS_DB) (HTTP 404, or 401 for the session).",
  too_large: "The request body is over its size limit (HTTP 413).",
  unsupported_media_type:
    "The request body must be JSON with Content-Type: application/json (HTTP 415).",
  not_found: "No such route (HTTP 404).",
  method_not_allowed: "The route does not take this method; see Allow (HTTP 405).",
  user_exists: "Accounts: a user with this name exists (HTTP 409).",
  unknown_user: "Accounts: no such user (HTTP 404).",
  unknown_plan: "Accounts: no plan with this name is configured (HTTP 400).",
  unknown_key: "Accounts: no such active API key (HTTP 404).",
  too_many_keys: "Accounts: the user holds the most active keys allowed (HTTP 409).",
  last_admin: "Accounts: the last admin cannot lose admin rights or be disabled (HTTP 409).",
  revoked: "The connection's API key was revoked (WebSocket close 1008 with this reason).",
} as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Id a client may attach to a request; echoed in the reply. */
const requestId = z.union([z.string().max(64), z.number().finite()]).optional();

const symbolName = z.string().min(1).max(32).regex(
  /^[A-Za-z0-9]+([/-][A-Za-z0-9]+){0,3}$/,
  "symbol must look like BTCUSDT, BTC/USDT, BTC-USD or BTC-27DEC26-100000-C",
);

const SINCE_RULE = "must be a non-negative integer: the highest pos received";
const EPOCH_RULE = "must be a string of 1 to 64 characters: the epoch of the subscribed frame";

/** subscribe / unsubscribe frames. */
const subscriptionFrame = z.strictObject({
  action: z.enum(["subscribe", "unsubscribe"]),
  symbols: z.array(symbolName).min(1).max(1000),
  channels: z.array(z.string().min(1).max(32)).min(1).max(CHANNELS.length * 2)
    .optional(),
  exchanges: z.array(z.string().min(1).max(32)).min(1).max(64).optional(),
  raw: z.boolean().optional(),
  depth: z.number().int().min(1).max(1000).optional(),
  /** Analytics channel: the figures wanted (default all of METRICS); checked by {@link resolveMetrics}. */
  metrics: z.array(z.string().min(1).max(32)).min(1).max(METRICS.length * 2).optional(),
  /** Recovery: the highest `pos` the client received; the items after it are sent first. */
  since: z.number({ error: SINCE_RULE }).int(SINCE_RULE).min(0, SINCE_RULE)
    .max(Number.MAX_SAFE_INTEGER, SINCE_RULE).optional(),
  /** Recovery: the epoch `since` belongs to (from `subscribed` or a feed `status` frame). */
  epoch: z.string({ error: EPOCH_RULE }).min(1, EPOCH_RULE).max(64, EPOCH_RULE).optional(),
  id: requestId,
});

/** The paper-trading actions; their fields are checked by the desk (core/paper/desk.ts). */
export const PAPER_ACTIONS = [
  "order",
  "cancel",
  "cancel_all",
  "amend",
  "route",
  "account",
  "orders",
  "fills",
  "paper_reset",
] as const;

/** One of {@link PAPER_ACTIONS}. */
export type PaperAction = typeof PAPER_ACTIONS[number];

/** A paper-trading frame: the action and its id; the rest goes to the desk as is. */
const paperFrame = z.looseObject({
  action: z.enum(PAPER_ACTIONS),
  id: requestId,
});

/** list / ping frames. */
const simpleFrame = z.strictObject({
  action: z.enum(["list", "ping"]),
  id: requestId,
});

/** Every valid client frame. */
const clientFrame = z.discriminatedUnion("action", [
  subscriptionFrame,
  simpleFrame,
  paperFrame,
]);

/** A paper-trading frame. */
export type PaperFrame = z.infer<typeof paperFrame>;

/** A valid client frame. */
export type ClientFrame = z.infer<typeof clientFrame>;
/** A valid subscribe or unsubscribe frame. */
export type SubscriptionFrame = z.infer<typeof subscriptionFrame>;

/** Result of {@link parseClientFrame}. */
export type ParsedFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: ErrorCode; message: string; id?: string | number };

/** Parses and validates one text frame from a client. */
export function parseClientFrame(text: string): ParsedFrame {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      code: "bad_json",
      message: `invalid JSON: ${err instanceof Error ? err.message : err}`,
    };
  }
  const id = pickId(data);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, code: "invalid_request", message: "expected a JSON object", id };
  }
  const action = (data as { action?: unknown }).action;
  if (typeof action !== "string") {
    return {
      ok: false,
      code: "invalid_request",
      message: 'missing "action" (subscribe, unsubscribe, list or ping)',
      id,
    };
  }
  if (
    !["subscribe", "unsubscribe", "list", "ping"].includes(action) &&
    !(PAPER_ACTIONS as readonly string[]).includes(action)
  ) {
    return {
      ok: false,
      code: "unknown_action",
      message: `unknown action "${action.slice(0, 32)}"`,
      id,
    };
  }
  const result = clientFrame.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? issue.path.join(".") + ": " : "";
    return { ok: false, code: "invalid_request", message: where + issue.message, id };
  }
  return { ok: true, frame: result.data };
}

function pickId(data: unknown): string | number | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const id = (data as { id?: unknown }).id;
  if (typeof id === "string") return id.slice(0, 64);
  if (typeof id === "number" && Number.isFinite(id)) return id;
  return undefined;
}

/**
 * Channels a client may name: the per-exchange data channels, `consolidated`, `analytics`
 * (per exchange + symbol, computed by the gateway from trades and books) and `options` (per
 * option instrument: our implied volatility and greeks beside the venue's, from its quotes).
 */
export type ClientChannel = Channel | "consolidated" | "analytics" | "options";

/** The channels named in a frame, or `["trade"]`; unknown names are returned separately. */
export function resolveChannels(
  names: readonly string[] | undefined,
): {
  channels: Channel[];
  consolidated: boolean;
  analytics: boolean;
  options: boolean;
  unknown: string[];
} {
  const channels: Channel[] = [];
  const unknown: string[] = [];
  let consolidated = false;
  let analytics = false;
  let options = false;
  for (const name of names ?? ["trade"]) {
    if (name === "consolidated") consolidated = true;
    else if (name === "analytics") analytics = true;
    else if (name === "options") options = true;
    else if ((CHANNELS as readonly string[]).includes(name)) {
      if (!channels.includes(name as Channel)) channels.push(name as Channel);
    } else unknown.push(name);
  }
  return { channels, consolidated, analytics, options, unknown };
}

/**
 * The analytics figures named in a frame (default all of {@link METRICS}), deduplicated
 * and in the order of METRICS, so equal sets compare equal; unknown names are returned apart.
 * @example
 * ```ts
 * resolveMetrics(["vpin", "ofi", "ofi"]); // { metrics: ["ofi", "vpin"], unknown: [] }
 * ```
 */
export function resolveMetrics(
  names: readonly string[] | undefined,
): { metrics: Metric[]; unknown: string[] } {
  if (names === undefined) return { metrics: [...METRICS], unknown: [] };
  const unknown = names.filter((n) => !(METRICS as readonly string[]).includes(n));
  return { metrics: METRICS.filter((m) => names.includes(m)), unknown };
}

/**
 * A comma-separated list of figures (`?metrics=ofi,flow` on REST) as {@link resolveMetrics}
 * resolves it; `undefined` gives all of them, an unknown or empty list an error message.
 * @example
 * ```ts
 * metricsFromList("ofi, flow"); // { ok: true, metrics: ["ofi", "flow"] }
 * metricsFromList("magic"); // { ok: false, message: "metrics: unknown metric(s): magic; known: …" }
 * ```
 */
export function metricsFromList(
  list: string | undefined,
): { ok: true; metrics: Metric[] } | { ok: false; message: string } {
  const names = list?.split(",").map((m) => m.trim()).filter((m) => m !== "");
  const { metrics, unknown } = resolveMetrics(names);
  if (unknown.length === 0 && metrics.length > 0) return { ok: true, metrics };
  return {
    ok: false,
    message: `metrics: unknown metric(s): ${unknown.join(", ") || "(none named)"}; known: ${
      METRICS.join(", ")
    }`,
  };
}

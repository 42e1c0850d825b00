/**
 * Client requests (`ping`, `subscribe`, `unsubscribe`) parsed into commands,
 * and Kraken's replies: `pong`, one acknowledgement per symbol, failures with
 * an `error` string (no numeric codes).
 * @module
 */

/** Channels the emulator serves. */
export type EmuChannel =
  | "book"
  | "trade"
  | "ticker"
  | "ohlc"
  | "instrument"
  | "heartbeat"
  | "status";

const CHANNELS: ReadonlySet<string> = new Set([
  "book",
  "trade",
  "ticker",
  "ohlc",
  "instrument",
  "heartbeat",
  "status",
]);
/** Channels whose subscriptions are per symbol. */
export const SYMBOL_CHANNELS: ReadonlySet<string> = new Set(["book", "trade", "ticker", "ohlc"]);
const DEPTHS = [10, 25, 100, 500, 1000];
const INTERVALS = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];

/** A valid request. */
export type Command = { method: "ping"; reqId?: number } | SubscriptionCommand;

/** A valid subscribe / unsubscribe request. */
export interface SubscriptionCommand {
  method: "subscribe" | "unsubscribe";
  reqId?: number;
  channel: EmuChannel;
  symbols: string[];
  depth: number;
  snapshot?: boolean;
  interval: number;
  eventTrigger: "trades" | "bbo";
}

/** Either a command or the error reply to send. */
export type Parsed = { ok: true; command: Command } | { ok: false; reply: Record<string, unknown> };

/** RFC 3339 with microseconds, now. */
export function wireNow(): string {
  return new Date().toISOString().slice(0, 23) + "000Z";
}

/** A failure reply (`success:false` with an `error` string). */
export function failure(
  error: string,
  fields: { method?: string; symbol?: string; reqId?: number; timeIn: string },
): Record<string, unknown> {
  const reply: Record<string, unknown> = { error };
  if (fields.method !== undefined) reply.method = fields.method;
  reply.success = false;
  if (fields.symbol !== undefined) reply.symbol = fields.symbol;
  reply.time_in = fields.timeIn;
  reply.time_out = wireNow();
  if (fields.reqId !== undefined) reply.req_id = fields.reqId;
  return reply;
}

/** A success acknowledgement for one symbol (or a channel without symbols). */
export function acknowledgement(
  method: "subscribe" | "unsubscribe",
  result: Record<string, unknown>,
  reqId: number | undefined,
  timeIn: string,
): Record<string, unknown> {
  const reply: Record<string, unknown> = {
    method,
    result,
    success: true,
    time_in: timeIn,
    time_out: wireNow(),
  };
  if (reqId !== undefined) reply.req_id = reqId;
  return reply;
}

/** Parses one client text frame. */
export function parseRequest(text: string, timeIn: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reply: failure("Malformed request", { timeIn }) };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, reply: failure("Malformed request", { timeIn }) };
  }
  const msg = value as Record<string, unknown>;
  const rawId = msg.req_id;
  if (rawId !== undefined && !(typeof rawId === "number" && Number.isSafeInteger(rawId))) {
    return { ok: false, reply: failure("Invalid req_id", { timeIn }) };
  }
  const reqId = rawId as number | undefined;
  const method = msg.method;
  if (method === "ping") return { ok: true, command: { method, reqId } };
  if (method !== "subscribe" && method !== "unsubscribe") {
    return {
      ok: false,
      reply: failure("Method not found", {
        method: typeof method === "string" ? method : undefined,
        reqId,
        timeIn,
      }),
    };
  }
  const bad = (error: string): Parsed => ({
    ok: false,
    reply: failure(error, { method, reqId, timeIn }),
  });
  const params = msg.params;
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return bad("Missing params");
  }
  const p = params as Record<string, unknown>;
  const channel = p.channel;
  if (typeof channel !== "string" || !CHANNELS.has(channel)) {
    return bad(`Channel not supported ${String(channel)}`);
  }
  let symbols: string[] = [];
  if (SYMBOL_CHANNELS.has(channel)) {
    if (!Array.isArray(p.symbol) || p.symbol.length === 0) return bad("Must specify symbol");
    if (!p.symbol.every((s) => typeof s === "string")) return bad("Invalid symbol");
    symbols = [...new Set(p.symbol as string[])];
  }
  const depth = p.depth ?? 10;
  if (channel === "book" && !DEPTHS.includes(depth as number)) return bad("Invalid depth");
  const interval = p.interval ?? 1;
  if (channel === "ohlc" && !INTERVALS.includes(interval as number)) {
    return bad("Invalid interval");
  }
  const trigger = p.event_trigger ?? "trades";
  if (trigger !== "trades" && trigger !== "bbo") return bad("Invalid event_trigger");
  if (p.snapshot !== undefined && typeof p.snapshot !== "boolean") return bad("Invalid snapshot");
  return {
    ok: true,
    command: {
      method,
      reqId,
      channel: channel as EmuChannel,
      symbols,
      depth: depth as number,
      snapshot: p.snapshot as boolean | undefined,
      interval: interval as number,
      eventTrigger: trigger,
    },
  };
}

/**
 * One client connection of the Deribit emulator: JSON-RPC 2.0 requests
 * (`public/set_heartbeat`, `public/test`, `public/get_instruments`,
 * `public/get_index_price`, `public/subscribe`, `public/unsubscribe`) under
 * Deribit's credit limits (an overdraft is answered `too_many_requests` 10028
 * and the session closed), heartbeats with `test_request` (unanswered by the next
 * one: the connection is closed), and the notifications of its subscriptions.
 * @module
 */
// @ts-types="@types/ws"
import type { WebSocket } from "ws";
import type { CurrencyMarket, TickResult } from "./market.ts";
import type { EmulatorCreditLimit, RequestRecord } from "./types.ts";

/** What a connection needs from the emulator. */
export interface ClientDeps {
  ws: WebSocket;
  id: number;
  minHeartbeatSec: number;
  credits: EmulatorCreditLimit;
  subscribeCredits: EmulatorCreditLimit;
  /** The market of `BTC` / `ETH`, or of the currency of an instrument name. */
  market(currencyOrInstrument: string): CurrencyMarket | undefined;
  instrumentsPayload(currency: string, kind?: string): Record<string, unknown>[];
  silenced(): boolean;
  record(r: RequestRecord): void;
  heartbeat(event: "sent" | "answered" | "closedUnanswered"): void;
  rateLimited(): void;
  onClose(client: Client): void;
}

/**
 * Deribit's credit pool as the emulator keeps it (its own code, not the plugin's limiter, so
 * the test that the plugin respects the limit is not checking the limiter against itself).
 */
function creditPool(limit: EmulatorCreditLimit) {
  let credits = limit.max, at = Date.now();
  const refill = (now: number) => {
    credits = Math.min(limit.max, credits + Math.max(0, now - at) * limit.refillPerSec / 1000);
    at = Math.max(at, now);
  };
  return {
    /** Spends a request's credits; false when the pool cannot pay. */
    spend(now: number): boolean {
      refill(now);
      // A hair of tolerance: both clocks are ms, the client may round its wait down.
      if (credits + 1e-6 < limit.cost) return false;
      credits -= limit.cost;
      return true;
    },
    canPay(now: number): boolean {
      refill(now);
      return credits + 1e-6 >= limit.cost;
    },
  };
}

/** A live client connection. */
export interface Client {
  readonly id: number;
  /** Sends the notifications of one tick of `market` to this client's subscriptions. */
  publish(market: CurrencyMarket, tick: TickResult, now: number): void;
  send(text: string): void;
  drop(abrupt: boolean): void;
  subscriptions(): string[];
  /** Instruments with a trade subscription (the market concentrates trades on them). */
  traded(): string[];
}

const notification = (channel: string, data: unknown) =>
  JSON.stringify({ jsonrpc: "2.0", method: "subscription", params: { channel, data } });

/** Wraps an accepted WebSocket into a {@link Client}. */
export function attachClient(deps: ClientDeps): Client {
  const { ws } = deps;
  const subs = new Set<string>();
  let closing = false;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let awaitingTest = false;
  const general = creditPool(deps.credits);
  const subscribe = creditPool(deps.subscribeCredits);

  const send = (text: string) => {
    if (closing || ws.readyState !== ws.OPEN || deps.silenced()) return;
    ws.send(text);
  };
  const result = (id: unknown, value: unknown) =>
    send(JSON.stringify({ jsonrpc: "2.0", id, result: value, usIn: 0, usOut: 0, usDiff: 0 }));
  const error = (id: unknown, code: number, message: string) =>
    send(JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } }));

  const close = (code: number, reason: string) => {
    if (closing) return;
    closing = true;
    clearInterval(heartbeatTimer);
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), 1000);
  };

  const startHeartbeat = (intervalSec: number) => {
    clearInterval(heartbeatTimer);
    awaitingTest = false;
    heartbeatTimer = setInterval(() => {
      if (deps.silenced()) return;
      if (awaitingTest) {
        deps.heartbeat("closedUnanswered");
        close(1000, "test_request unanswered");
        return;
      }
      awaitingTest = true;
      deps.heartbeat("sent");
      send(
        JSON.stringify({ jsonrpc: "2.0", method: "heartbeat", params: { type: "test_request" } }),
      );
    }, intervalSec * 1000);
  };

  const sendBook = (market: CurrencyMarket, instrument: string, now: number) => {
    const s = market.snapshot(instrument);
    send(notification(`book.${instrument}.100ms`, {
      type: "snapshot",
      timestamp: now,
      instrument_name: instrument,
      change_id: s.changeId,
      bids: s.bids.map(([p, a]) => ["new", p, a]),
      asks: s.asks.map(([p, a]) => ["new", p, a]),
    }));
  };

  /** `book|trades|ticker.{instrument}.100ms` or `deribit_price_index.{cur}_usd`: valid? */
  const known = (channel: string): boolean => {
    const m = /^(book|trades|ticker)\.([A-Z0-9-]+)\.100ms$/.exec(channel);
    if (m) return deps.market(m[2])?.has(m[2]) ?? false;
    const idx = /^deribit_price_index\.([a-z]+)_usd$/.exec(channel);
    return idx !== null && deps.market(idx[1].toUpperCase()) !== undefined;
  };

  const onRequest = (text: string) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text);
    } catch {
      return error(null, -32700, "Parse error");
    }
    const { id, method } = msg;
    const params = (msg.params ?? {}) as Record<string, unknown>;
    if (typeof method !== "string") return error(id ?? null, -32600, "Invalid Request");
    const isSub = method === "public/subscribe" || method === "public/unsubscribe";
    const now = Date.now();
    deps.record({
      connection: deps.id,
      method,
      at: now,
      ...(isSub && Array.isArray(params.channels) ? { channels: params.channels.length } : {}),
    });
    // Deribit: no credits left → too_many_requests (10028) and the session is closed.
    const buckets = isSub ? [general, subscribe] : [general];
    if (!buckets.every((b) => b.canPay(now))) {
      deps.rateLimited();
      error(id, 10028, "too_many_requests");
      close(1000, "too_many_requests");
      return;
    }
    for (const b of buckets) b.spend(now);
    switch (method) {
      case "public/test":
        awaitingTest = false;
        deps.heartbeat("answered");
        return result(id, { version: "1.2.26" });
      case "public/set_heartbeat": {
        const interval = Number(params.interval);
        if (!Number.isFinite(interval) || interval < deps.minHeartbeatSec) {
          return error(
            id,
            -32602,
            `Invalid params: interval must be at least ${deps.minHeartbeatSec}`,
          );
        }
        startHeartbeat(interval);
        return result(id, "ok");
      }
      case "public/get_instruments": {
        const currency = String(params.currency ?? "").toUpperCase();
        if (!deps.market(currency)) return error(id, -32602, "Invalid params: currency");
        const kind = typeof params.kind === "string" ? params.kind : undefined;
        return result(id, deps.instrumentsPayload(currency, kind));
      }
      case "public/get_index_price": {
        const name = String(params.index_name ?? "");
        const market = deps.market(name.split("_")[0].toUpperCase());
        if (!market || !/_usd$/.test(name)) return error(id, -32602, "Invalid params: index_name");
        const price = Number(market.index().toFixed(2));
        return result(id, { index_price: price, estimated_delivery_price: price });
      }
      case "public/subscribe":
      case "public/unsubscribe": {
        const channels = Array.isArray(params.channels) ? params.channels.map(String) : [];
        const done: string[] = [];
        for (const c of channels) {
          if (!known(c)) continue;
          if (method === "public/subscribe") subs.add(c);
          else subs.delete(c);
          done.push(c);
        }
        result(id, done);
        if (method === "public/subscribe") {
          for (const c of done) {
            const [family, ...rest] = c.split(".");
            const instrument = rest.slice(0, -1).join(".");
            const market = deps.market(instrument);
            if (!market) continue;
            if (family === "book") sendBook(market, instrument, now);
            if (family === "ticker") send(notification(c, market.ticker(instrument, now)));
          }
        }
        return;
      }
      default:
        return error(id, -32601, "Method not found");
    }
  };

  ws.on("message", (data: unknown) => onRequest(String(data)));
  ws.on("close", () => {
    closing = true;
    clearInterval(heartbeatTimer);
    deps.onClose(client);
  });
  ws.on("error", () => {});

  const client: Client = {
    id: deps.id,
    publish(market, tick, now) {
      if (subs.size === 0) return;
      for (const c of tick.changes) {
        const channel = `book.${c.instrument}.100ms`;
        if (c.dropped || !subs.has(channel)) continue;
        send(notification(channel, {
          type: "change",
          timestamp: c.timestamp,
          instrument_name: c.instrument,
          change_id: c.changeId,
          prev_change_id: c.prevChangeId,
          bids: c.bids,
          asks: c.asks,
        }));
      }
      const byInstrument = new Map<string, unknown[]>();
      for (const t of tick.trades) {
        if (!subs.has(`trades.${t.instrument_name}.100ms`)) continue;
        const list = byInstrument.get(t.instrument_name) ?? [];
        list.push(t);
        byInstrument.set(t.instrument_name, list);
      }
      for (const [instrument, list] of byInstrument) {
        send(notification(`trades.${instrument}.100ms`, list));
      }
      for (const instrument of tick.tickers) {
        const channel = `ticker.${instrument}.100ms`;
        if (subs.has(channel)) send(notification(channel, market.ticker(instrument, now)));
      }
      const idx = `deribit_price_index.${tick.index.index_name}`;
      if (subs.has(idx)) send(notification(idx, tick.index));
    },
    send,
    drop(abrupt) {
      if (abrupt) {
        closing = true;
        ws.terminate();
      } else close(1000, "closed by the emulator");
    },
    subscriptions: () => [...subs],
    traded: () =>
      [...subs].filter((s) => s.startsWith("trades.") || s.startsWith("book.")).map((s) =>
        s.split(".").slice(1, -1).join(".")
      ),
  };
  return client;
}

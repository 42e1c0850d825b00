/**
 * The subscribe / unsubscribe requests the feed sends, one builder per
 * channel, with the parameters Kraken's v2 docs define.
 * @module
 */
import type { Channel } from "../../mod.ts";

/** A request body (before `req_id` is added). */
export interface KrakenRequest {
  method: "subscribe" | "unsubscribe";
  params: Record<string, unknown>;
}

/** What the data subscriptions need to know. */
export interface SubscriptionPlan {
  symbols: readonly string[];
  channels: readonly Channel[];
  bookDepth: number;
  /** Kraken `ohlc` interval, minutes. */
  klineMinutes: number;
  /** Ask for the last 50 trades (after a reconnect, to recover missed ones). */
  tradeSnapshot: boolean;
}

/** `instrument` channel: every pair with its precisions. */
export function instrumentRequest(): KrakenRequest {
  return { method: "subscribe", params: { channel: "instrument", snapshot: true } };
}

/** `book` for some symbols (a snapshot, then updates, with checksums). */
export function bookRequest(
  method: "subscribe" | "unsubscribe",
  symbols: readonly string[],
  depth: number,
): KrakenRequest {
  const params: Record<string, unknown> = { channel: "book", symbol: [...symbols], depth };
  if (method === "subscribe") params.snapshot = true;
  return { method, params };
}

/** The data subscriptions of `plan`, one request per channel. */
export function dataRequests(plan: SubscriptionPlan): KrakenRequest[] {
  const symbol = [...plan.symbols];
  const out: KrakenRequest[] = [];
  for (const channel of new Set(plan.channels)) {
    switch (channel) {
      case "trade":
        out.push({
          method: "subscribe",
          params: { channel: "trade", symbol, snapshot: plan.tradeSnapshot },
        });
        break;
      case "quote":
        out.push({
          method: "subscribe",
          params: { channel: "ticker", symbol, event_trigger: "bbo", snapshot: true },
        });
        break;
      case "kline":
        out.push({
          method: "subscribe",
          params: { channel: "ohlc", symbol, interval: plan.klineMinutes, snapshot: true },
        });
        break;
      case "book":
        out.push(bookRequest("subscribe", symbol, plan.bookDepth));
        break;
    }
  }
  return out;
}

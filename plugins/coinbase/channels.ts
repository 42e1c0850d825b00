/**
 * Which Coinbase channels a feed subscribes to, and the subscribe /
 * unsubscribe messages (one channel per message, as Coinbase requires).
 * @module
 */
import type { Channel } from "../../mod.ts";

/** Coinbase market-data channels this plugin uses. */
export type CoinbaseChannel = "heartbeats" | "level2" | "market_trades" | "ticker" | "candles";

/** One subscription: a channel and its products (none for `heartbeats`). */
export interface ChannelSubscription {
  channel: CoinbaseChannel;
  products?: readonly string[];
}

/** The channel name data messages of a subscription arrive with (`level2` → `l2_data`). */
export const DATA_CHANNEL: Readonly<Record<CoinbaseChannel, string>> = {
  heartbeats: "heartbeats",
  level2: "l2_data",
  market_trades: "market_trades",
  ticker: "ticker",
  candles: "candles",
};

/**
 * The subscriptions for the requested normalized channels: `heartbeats` first
 * (it keeps every other channel open), then `level2` (for `book`, and for
 * `quote` when quotes are derived from the book), `market_trades`, `ticker`, `candles`.
 */
export function planSubscriptions(
  channels: readonly Channel[],
  products: readonly string[],
  quoteSource: "ticker" | "book",
): ChannelSubscription[] {
  const has = new Set(channels);
  const plan: ChannelSubscription[] = [{ channel: "heartbeats" }];
  if (has.has("book") || (has.has("quote") && quoteSource === "book")) {
    plan.push({ channel: "level2", products });
  }
  if (has.has("trade")) plan.push({ channel: "market_trades", products });
  if (has.has("quote") && quoteSource === "ticker") plan.push({ channel: "ticker", products });
  if (has.has("kline")) plan.push({ channel: "candles", products });
  return plan;
}

/** A `subscribe` or `unsubscribe` message for one channel. */
export function subscriptionMessage(
  type: "subscribe" | "unsubscribe",
  sub: ChannelSubscription,
): string {
  return JSON.stringify(
    sub.products === undefined
      ? { type, channel: sub.channel }
      : { type, product_ids: sub.products, channel: sub.channel },
  );
}

/**
 * What an acknowledgement lacks of `plan`: `channel` or `channel:product`
 * entries (Coinbase acks `heartbeats` as `{"heartbeats":["heartbeats"]}`).
 */
export function missingSubscriptions(
  plan: readonly ChannelSubscription[],
  acked: Readonly<Record<string, readonly string[]>>,
): string[] {
  const missing: string[] = [];
  for (const sub of plan) {
    const ids = acked[sub.channel];
    if (ids === undefined) {
      missing.push(sub.channel);
      continue;
    }
    for (const p of sub.products ?? []) if (!ids.includes(p)) missing.push(`${sub.channel}:${p}`);
  }
  return missing;
}

/**
 * Analytics of a unified symbol (`BTC/USD`) across the exchanges that list it, where adding
 * up makes sense: the trade flow (volumes, counts, buy/sell split and VWAP over the same
 * windows, from each venue's own figures) and the microprice of the consolidated top of book
 * (best bid and best ask across venues with their sizes). Venues of one unified name share
 * its quote asset, so no currency conversion is involved. OFI, VPIN and volatility stay per
 * venue: summing them across books would mean nothing.
 * @module
 */
import type { FlowStats, FlowValue } from "./flow.ts";

/** One venue's part. */
export interface VenueFlow {
  exchange: string;
  flow: FlowValue;
}

/** The flow of one window across venues. */
export interface UnifiedFlowStats {
  windowMs: number;
  /** The latest window end among the venues, ms. */
  to: number;
  /** True when every venue followed trades over the whole window. */
  complete: boolean;
  trades: number;
  volume: number;
  buyVolume: number;
  sellVolume: number;
  /** buyVolume / volume; null when volume is 0. */
  buyShare: number | null;
  /** Σ over venues of VWAP·volume / Σ volume (= Σ p·q / Σ q over all their trades). */
  vwap: number | null;
  tradeRate: number | null;
  volumeRate: number | null;
  /** Volume per exchange. */
  venues: Record<string, number>;
}

/** Flow across venues: the rolling windows (in the venues' order) and the UTC day. */
export interface UnifiedFlow {
  windows: UnifiedFlowStats[];
  day: UnifiedFlowStats;
}

/**
 * Adds up one window of each venue.
 * @example
 * ```ts ignore
 * combineWindows([["binance", a.windows[0]], ["kraken", b.windows[0]]]).vwap;
 * ```
 */
export function combineWindows(parts: readonly (readonly [string, FlowStats])[]): UnifiedFlowStats {
  let trades = 0, volume = 0, buy = 0, sell = 0, notional = 0, tradeRate = 0, volumeRate = 0;
  let to = -Infinity;
  let complete = true;
  let rates = true;
  const venues: Record<string, number> = {};
  for (const [exchange, w] of parts) {
    trades += w.trades;
    volume += w.volume;
    buy += w.buyVolume;
    sell += w.sellVolume;
    if (w.vwap !== null) notional += w.vwap * w.volume;
    if (w.tradeRate === null || w.volumeRate === null) rates = false;
    else {
      tradeRate += w.tradeRate;
      volumeRate += w.volumeRate;
    }
    to = Math.max(to, w.to);
    complete &&= w.complete;
    venues[exchange] = w.volume;
  }
  return {
    windowMs: parts[0]?.[1].windowMs ?? 0,
    to,
    complete,
    trades,
    volume,
    buyVolume: buy,
    sellVolume: sell,
    buyShare: volume > 0 ? buy / volume : null,
    vwap: volume > 0 ? notional / volume : null,
    tradeRate: rates ? tradeRate : null,
    volumeRate: rates ? volumeRate : null,
    venues,
  };
}

/**
 * The trade flow of a unified symbol: each window summed across venues (windows are matched
 * by length; the venues run the same settings).
 * @example
 * ```ts
 * import { createFlow } from "./flow.ts";
 * import { unifiedFlow } from "./unified.ts";
 *
 * const a = createFlow({ windowsMs: [1_000] });
 * const b = createFlow({ windowsMs: [1_000] });
 * a.onTrade({ price: 100, quantity: 1, side: "buy", eventTime: 500 });
 * b.onTrade({ price: 103, quantity: 2, side: "sell", eventTime: 600 });
 * unifiedFlow([{ exchange: "a", flow: a.value(900) }, { exchange: "b", flow: b.value(900) }])
 *   .windows[0].vwap; // (100·1 + 103·2) / 3 = 102
 * ```
 */
export function unifiedFlow(venues: readonly VenueFlow[]): UnifiedFlow {
  const lengths = venues[0]?.flow.windows.map((w) => w.windowMs) ?? [];
  return {
    windows: lengths.map((length) =>
      combineWindows(
        venues.flatMap((v) => {
          const w = v.flow.windows.find((x) => x.windowMs === length);
          return w ? [[v.exchange, w] as const] : [];
        }),
      )
    ),
    day: combineWindows(venues.map((v) => [v.exchange, v.flow.day] as const)),
  };
}

/** The consolidated top of book and its microprice. */
export interface ConsolidatedMicroprice {
  bid: { price: number; quantity: number; exchange: string } | null;
  ask: { price: number; quantity: number; exchange: string } | null;
  /** (best bid + best ask) / 2; null without both sides or when the venues cross. */
  mid: number | null;
  /** I·ask + (1 − I)·bid with I = bid size / (bid size + ask size); null as `mid`. */
  weightedMid: number | null;
  /** True when the best bid of one venue is at or above the best ask of another. */
  crossed: boolean;
}

/**
 * Weighted mid (Stoikov's first-order microprice) of the best bid and best ask across venues.
 * @example
 * ```ts
 * import { consolidatedMicroprice } from "./unified.ts";
 *
 * consolidatedMicroprice([
 *   { exchange: "a", bid: [100, 1], ask: [102, 1] },
 *   { exchange: "b", bid: [99, 5], ask: [101, 3] },
 * ]).weightedMid; // bid 100×1 (a), ask 101×3 (b): 0.25·101 + 0.75·100 = 100.25
 * ```
 */
export function consolidatedMicroprice(
  venues: readonly { exchange: string; bid?: [number, number]; ask?: [number, number] }[],
): ConsolidatedMicroprice {
  let bid: ConsolidatedMicroprice["bid"] = null;
  let ask: ConsolidatedMicroprice["ask"] = null;
  for (const v of venues) {
    if (v.bid && v.bid[1] > 0 && (bid === null || v.bid[0] > bid.price)) {
      bid = { price: v.bid[0], quantity: v.bid[1], exchange: v.exchange };
    }
    if (v.ask && v.ask[1] > 0 && (ask === null || v.ask[0] < ask.price)) {
      ask = { price: v.ask[0], quantity: v.ask[1], exchange: v.exchange };
    }
  }
  const crossed = bid !== null && ask !== null && bid.price >= ask.price;
  if (bid === null || ask === null || crossed) {
    return { bid, ask, mid: null, weightedMid: null, crossed };
  }
  const imbalance = bid.quantity / (bid.quantity + ask.quantity);
  return {
    bid,
    ask,
    mid: (bid.price + ask.price) / 2,
    weightedMid: imbalance * ask.price + (1 - imbalance) * bid.price,
    crossed,
  };
}

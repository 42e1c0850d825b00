/**
 * Trade delivery per product: each trade once, in order. The `market_trades`
 * snapshot that follows every subscribe repeats recent trades: those already
 * delivered are dropped. Numeric trade ids (Coinbase's are consecutive per
 * product) that jump are reported as a `gap` event, never hidden.
 * @module
 */
import type { GapEvent, TradeEvent } from "../../mod.ts";
import { EXCHANGE, numericTradeId } from "./mapper.ts";

/** Non-numeric trade ids remembered per product for duplicate checks. */
const RECENT_IDS = 4096;

/** What the trade tracker needs. */
export interface TradeTrackerDeps {
  emit(event: TradeEvent | GapEvent): void;
  /** Report jumps of numeric trade ids as `gap` events. */
  reportGaps: boolean;
  now(): number;
}

/** Per-product trade continuity. */
export interface TradeTracker {
  /** Trades of one message, oldest first (as the mapper returns them). */
  onTrades(trades: readonly TradeEvent[]): void;
  /** Last numeric trade id delivered for `product`. */
  lastId(product: string): number | undefined;
  /** Trades dropped as already delivered. */
  duplicates(): number;
}

interface ProductTrades {
  last?: number;
  recent: Set<string>;
  order: string[];
}

/** Creates the tracker. */
export function createTradeTracker(deps: TradeTrackerDeps): TradeTracker {
  const products = new Map<string, ProductTrades>();
  let duplicates = 0;

  const stateOf = (product: string): ProductTrades => {
    let s = products.get(product);
    if (!s) products.set(product, s = { recent: new Set(), order: [] });
    return s;
  };

  const seenText = (s: ProductTrades, id: string): boolean => {
    if (s.recent.has(id)) return true;
    s.recent.add(id);
    s.order.push(id);
    if (s.order.length > RECENT_IDS) s.recent.delete(s.order.shift()!);
    return false;
  };

  return {
    onTrades(trades) {
      for (const t of trades) {
        const s = stateOf(t.symbol);
        const id = numericTradeId(t.tradeId);
        if (Number.isNaN(id)) {
          if (seenText(s, String(t.tradeId))) duplicates++;
          else deps.emit(t);
          continue;
        }
        if (s.last !== undefined) {
          if (id <= s.last) {
            duplicates++;
            continue;
          }
          if (id > s.last + 1 && deps.reportGaps) {
            deps.emit({
              type: "gap",
              exchange: EXCHANGE,
              symbol: t.symbol,
              channel: "trade",
              fromId: s.last + 1,
              toId: id - 1,
              reason: `trade ids jumped from ${s.last} to ${id}`,
              receiveTime: deps.now(),
            });
          }
        }
        s.last = id;
        deps.emit(t);
      }
    },
    lastId: (product) => products.get(product)?.last,
    duplicates: () => duplicates,
  };
}

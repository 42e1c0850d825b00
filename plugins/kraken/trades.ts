/**
 * Trade continuity per symbol. Kraken's `trade_id` is a sequence number per
 * pair, so a trade already delivered (an id at or below the last one, e.g. from
 * the 50-trade snapshot requested after a reconnect) is dropped, and a hole in
 * the ids that nothing filled is reported as a `gap` event, never hidden.
 * @module
 */
import type { GapEvent, TradeEvent } from "../../mod.ts";
import { EXCHANGE } from "./mapper.ts";

/** Trade continuity of all symbols. */
export interface TradeTracker {
  /** Delivers the trades of one message (ascending ids) that are new, reporting holes first. */
  onTrades(events: readonly TradeEvent[], receiveTime: number): void;
  /** Last delivered trade id of `symbol`. */
  lastId(symbol: string): number | undefined;
}

/** Creates the tracker; `emit` receives trades and gap events in order. */
export function createTradeTracker(emit: (event: TradeEvent | GapEvent) => void): TradeTracker {
  const last = new Map<string, number>();
  return {
    onTrades(events, receiveTime) {
      for (const e of events) {
        const id = e.tradeId as number;
        const prev = last.get(e.symbol);
        if (prev !== undefined) {
          if (id <= prev) continue;
          if (id > prev + 1) {
            emit({
              type: "gap",
              exchange: EXCHANGE,
              symbol: e.symbol,
              channel: "trade",
              fromId: prev + 1,
              toId: id - 1,
              reason: "trades missed (connection interrupted) and not in Kraken's trade snapshot",
              receiveTime,
            });
          }
        }
        last.set(e.symbol, id);
        emit(e);
      }
    },
    lastId: (symbol) => last.get(symbol),
  };
}

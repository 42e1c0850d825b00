/**
 * Candle bookkeeping per symbol. Kraken's `ohlc` updates carry no "closed"
 * flag: a candle is final once a later interval begins, so the last version of
 * the previous candle is emitted again with `closed: true`. Candles already
 * superseded (e.g. repeated in the snapshot after a reconnect) are dropped.
 * @module
 */
import type { KlineEvent } from "../../mod.ts";

/** Candle bookkeeping of all symbols. */
export interface KlineTracker {
  /** Delivers the candles of one message in order. */
  onKlines(events: readonly KlineEvent[]): void;
}

/** Creates the tracker; `emit` receives the candles to publish. */
export function createKlineTracker(emit: (event: KlineEvent) => void): KlineTracker {
  const last = new Map<string, KlineEvent>();
  return {
    onKlines(events) {
      for (const e of [...events].sort((a, b) => a.openTime - b.openTime)) {
        const prev = last.get(e.symbol);
        if (prev !== undefined) {
          if (e.openTime < prev.openTime) continue;
          if (e.openTime === prev.openTime && prev.closed) continue;
          if (e.openTime > prev.openTime && !prev.closed) {
            emit({
              ...prev,
              closed: true,
              eventTime: e.eventTime,
              receiveTime: e.receiveTime,
              timestamp: e.timestamp,
            });
          }
        }
        last.set(e.symbol, e);
        emit(e);
      }
    },
  };
}

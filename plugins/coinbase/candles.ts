/**
 * Candle delivery per product. Coinbase resends the open 5-minute candle every
 * second; a candle is final once a later one starts, so it is then emitted
 * once more with `closed: true`. Unchanged repeats and older candles are dropped.
 * @module
 */
import type { KlineEvent } from "../../mod.ts";

/** Per-product candle state. */
export interface CandleTracker {
  /** Candles of one message. */
  onCandles(candles: readonly KlineEvent[]): void;
}

/** Creates the tracker; `emit` receives the candles to publish. */
export function createCandleTracker(emit: (k: KlineEvent) => void): CandleTracker {
  const last = new Map<string, KlineEvent>();
  const same = (a: KlineEvent, b: KlineEvent) =>
    a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close &&
    a.volume === b.volume;
  return {
    onCandles(candles) {
      for (const c of candles) {
        const prev = last.get(c.symbol);
        if (prev !== undefined) {
          if (c.openTime < prev.openTime) continue;
          if (c.openTime === prev.openTime && same(c, prev)) continue;
          if (c.openTime > prev.openTime) {
            emit({
              ...prev,
              closed: true,
              eventTime: c.eventTime,
              receiveTime: c.receiveTime,
              timestamp: c.timestamp,
            });
          }
        }
        last.set(c.symbol, c);
        emit(c);
      }
    },
  };
}

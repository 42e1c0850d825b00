/**
 * One UTC day of Binance BTCUSDT trades recorded into a folder, for the history benchmarks:
 * a seeded random walk at `rate` trades/s, each trade the raw payload Binance sends and the
 * normalized event the real mapper makes of it.
 * @module
 */
import { createRecorder, type RecorderStats } from "../core/history/mod.ts";
import { mapBinanceMessage } from "../plugins/binance/mapper.ts";
import { createRng } from "../testing.ts";

/** Records the day starting at `day` (epoch ms, UTC midnight) into `dir`; returns the count and stats. */
export async function recordTradeDay(
  dir: string,
  day: number,
  rate: number,
): Promise<{ trades: number; stats: RecorderStats }> {
  const rng = createRng(11);
  const symbols = new Set(["BTCUSDT"]);
  let ticks = 6_000_000; // price in cents
  let id = 0;
  const recorder = createRecorder({ dir, flushMs: 1000, maxQueueItems: 2_000_000, worker: false });
  for (let s = 0; s < 86_400; s++) {
    for (let i = 0; i < rate; i++) {
      ticks += Math.round((rng.next() - 0.5) * 40);
      const T = day + s * 1000 + Math.floor((i * 1000) / rate);
      const qty = Math.max(1, Math.round(rng.next() * rng.next() * 200000));
      const raw = {
        e: "trade",
        E: T + 1,
        s: "BTCUSDT",
        t: ++id,
        p: (ticks / 100).toFixed(8),
        q: (qty / 100000).toFixed(8),
        T,
        m: rng.next() < 0.5,
        M: true,
      };
      const mapped = mapBinanceMessage(raw, T + 3, symbols);
      if (mapped.kind !== "trade") throw new Error(`not a trade: ${JSON.stringify(mapped)}`);
      recorder.record({ exchange: "binance", item: mapped.event });
    }
    if (s % 10 === 9) await recorder.flush();
  }
  await recorder.close();
  return { trades: id, stats: recorder.stats() };
}

/**
 * Child process of the kill -9 test: records synthetic trades into `Deno.args[0]`
 * at ~2,000 items/s and prints `<last seq> <epoch ms>` after each 20 ms burst,
 * until it is killed.
 */
import { createRecorder } from "../../core/history/mod.ts";

const recorder = createRecorder({ dir: Deno.args[0], flushMs: 250 });
const encoder = new TextEncoder();
let id = 0;
setInterval(() => {
  let seq = 0;
  for (let i = 0; i < 40; i++) {
    const now = Date.now();
    id++;
    seq = recorder.record({
      exchange: "binance",
      item: {
        type: "trade",
        exchange: "binance",
        symbol: "BTCUSDT",
        eventTime: now,
        receiveTime: now,
        price: 60000 + (id % 100) / 100,
        quantity: 0.001 * (1 + (id % 7)),
        timestamp: new Date(now).toISOString(),
        tradeId: id,
        side: id % 2 ? "buy" : "sell",
        raw: { e: "trade", t: id, p: String(60000 + (id % 100) / 100) },
      },
    });
  }
  Deno.stdout.writeSync(encoder.encode(`${seq} ${Date.now()}\n`));
}, 20);

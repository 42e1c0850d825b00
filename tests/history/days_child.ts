/**
 * Child process of the day-switch test: records 200 trades on each of the days
 * `Deno.args[1..]` (days ago, before 2026-12-07 12:00 UTC) into `Deno.args[0]` in one
 * batch with the default writer Worker, closes, and prints the recorder's stats as JSON.
 * Run with `--allow-read --allow-write` and no `-A`, as `deno task start` and the compiled
 * binary run (Deno's `node:sqlite` then allows no attached database, so no `VACUUM`).
 */
import { createRecorder } from "../../core/history/mod.ts";

const DAY = 86_400_000;
const now = Date.UTC(2026, 11, 7, 12);
const recorder = createRecorder({ dir: Deno.args[0] });
for (const age of Deno.args.slice(1).map(Number)) {
  for (let i = 0; i < 200; i++) {
    const t = now - age * DAY + i;
    recorder.record({
      exchange: "kraken",
      item: {
        type: "trade",
        exchange: "kraken",
        symbol: "XBT/USD",
        eventTime: t,
        receiveTime: t,
        price: 61000 + i,
        quantity: 1,
        timestamp: new Date(t).toISOString(),
        tradeId: `${age}-${i}`,
        side: "sell",
      },
    });
  }
}
await recorder.close();
console.log(JSON.stringify(recorder.stats()));

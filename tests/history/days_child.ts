/**
 * Child process of the day-switch test: records 200 trades on each of the days
 * `Deno.args[1..]` (days ago, before 2026-12-07 12:00 UTC) into `Deno.args[0]` in one
 * batch with the default writer Worker, closes, and prints the recorder's stats as JSON.
 * Run with `--allow-read --allow-write` and no `-A`, as `deno task start` and the compiled
 * binary run (Deno's `node:sqlite` then allows no attached database, so no `VACUUM`).
 */
import { createRecorder } from "../../core/history/mod.ts";
import { recordTradesOnDays } from "./helpers.ts";

const now = Date.UTC(2026, 11, 7, 12);
const recorder = createRecorder({ dir: Deno.args[0] });
recordTradesOnDays(recorder, now, Deno.args.slice(1).map(Number));
await recorder.close();
console.log(JSON.stringify(recorder.stats()));

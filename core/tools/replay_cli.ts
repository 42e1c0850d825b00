/**
 * `deno task replay -- --dir <recording> --from <time> --to <time> [options]`:
 * writes the recorded stream as NDJSON on stdout, one frame per line, each the
 * same JSON text a live `/ws` client with that subscription got (see
 * replay_frames.ts), in hub order, between a `replay_start` and a `replay_end`
 * status line. Streams with bounded memory; a progress bar on stderr when it is a
 * terminal. Exit code 2 for bad arguments. See docs/history.md.
 * @module
 */
import { openHistory } from "../history/mod.ts";
import { MAX_VIEW_DEPTH } from "../books/view.ts";
import { parseFlags, runCommand, SELECTION_OPTIONS, selectionOf, UsageError } from "./args.ts";
import { bufferedSink } from "./output.ts";
import { createProgress } from "./progress.ts";
import { createFrameMapper, replayStatusFrame } from "./replay_frames.ts";
import { filterOf } from "./selection.ts";

const USAGE = `usage: deno task replay -- --dir <recording folder> --from <time> --to <time>
         [--exchanges binance,kraken] [--symbols BTCUSDT,BTC/USDT] [--channels trade,quote,kline,book]
         [--raw] [--depth 20]

Writes the recorded frames as NDJSON on stdout, in the order live clients got them.
Times: ISO 8601 (2026-12-07T10:00:00Z) or epoch milliseconds; both ends inclusive.
--raw      include each event's raw exchange payload (as a live client with raw: true)
--depth N  book depth of the replayed book frames (1..${MAX_VIEW_DEPTH}, default 20)`;

/** How far before `--from` to look for instrument lists and feed states. */
const SEED_LOOKBACK_MS = 2 * 86_400_000;

/** Runs the replay command with `args`; writes to `out` (stdout by default). */
export async function replay(
  args: string[],
  out: { write(p: Uint8Array): Promise<number> } = Deno.stdout,
): Promise<void> {
  const values = parseFlags(args, {
    ...SELECTION_OPTIONS,
    raw: { type: "boolean" },
    depth: { type: "string" },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sel = await selectionOf(values);
  const depthText = typeof values.depth === "string" ? values.depth : "20";
  const depth = Number(depthText);
  if (!/^\d+$/.test(depthText) || depth < 1 || depth > MAX_VIEW_DEPTH) {
    throw new UsageError(`--depth must be an integer 1..${MAX_VIEW_DEPTH}, got "${depthText}"`);
  }
  const raw = values.raw === true;
  const history = openHistory(sel.dir);
  try {
    const filter = filterOf(history, sel, raw);
    const mapper = createFrameMapper({ raw, depth, channels: sel.channels });
    // Unified names and feed states known at --from come from before it.
    for await (
      const rec of history.events({
        from: sel.from - SEED_LOOKBACK_MS,
        to: sel.from - 1,
        exchanges: sel.exchanges,
        channels: [],
        raw: false,
      })
    ) mapper.seedExchange(rec.exchange, rec.item);

    const sink = bufferedSink(out);
    const progress = createProgress("replay", sel.from, sel.to);
    let count = 0;
    await sink.write(
      replayStatusFrame("replay_start", {
        from: new Date(sel.from).toISOString(),
        to: new Date(sel.to).toISOString(),
      }) + "\n",
    );
    for await (const batch of history.eventBatches(filter)) {
      for (const rec of batch) {
        const item = rec.item;
        let lines: string[] = [];
        if (
          (item.type === "book" || item.type === "book_status") &&
          mapper.needsSeed(rec.exchange, item.symbol)
        ) {
          const before = await history.bookAt(
            rec.exchange,
            item.symbol,
            sel.from - 1,
            MAX_VIEW_DEPTH,
          );
          if (before) lines = mapper.seedBook(before);
        }
        lines.push(...mapper.frames(rec));
        for (const line of lines) {
          if (!await sink.write(line + "\n")) return progress.stop(false);
        }
        count++;
      }
      if (batch.length > 0) progress.update(batch[batch.length - 1].receiveTime, count);
    }
    await sink.write(replayStatusFrame("replay_end", { items: count }) + "\n");
    await sink.flush();
    progress.stop();
    const problems = history.problems();
    if (Object.values(problems).some((n) => typeof n === "number" && n > 0)) {
      console.error(
        `warning: damaged parts of the recording were skipped: ${JSON.stringify(problems)}`,
      );
    }
  } finally {
    history.close();
  }
}

if (import.meta.main) await runCommand(USAGE, () => replay(Deno.args));

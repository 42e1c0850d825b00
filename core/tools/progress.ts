/**
 * A progress bar on stderr for the command-line tools, shown only when stderr is
 * a terminal (never in pipes, files or CI logs), through `cli-progress`.
 * Progress is measured in recorded time covered: `[from, to]` in epoch ms.
 * @module
 */
// @ts-types="@types/cli-progress"
import cliProgress from "cli-progress";
import process from "node:process";

/** A progress indicator over a time range. */
export interface Progress {
  /** The item at receive time `t` (epoch ms) was handled; `count` items so far. */
  update(t: number, count: number): void;
  /** Ends the bar (fills it when `done`). */
  stop(done?: boolean): void;
}

const NONE: Progress = { update() {}, stop() {} };

/**
 * A bar over `[from, to]` labelled `label`, or a no-op when stderr is not a
 * terminal (or `enabled` is false). Redraws at most 10 times a second.
 */
export function createProgress(
  label: string,
  from: number,
  to: number,
  enabled: boolean = Deno.stderr.isTerminal(),
): Progress {
  if (!enabled) return NONE;
  const span = Math.max(1, to - from);
  const bar = new cliProgress.SingleBar({
    format: `${label} |{bar}| {percentage}% | {time} | {items} items | ETA {eta_formatted}`,
    stream: process.stderr,
    fps: 10,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  bar.start(span, 0, { time: new Date(from).toISOString(), items: 0 });
  let last = 0;
  return {
    update(t, count) {
      const value = Math.min(span, Math.max(0, t - from));
      if (value === last && count % 10_000 !== 0) return;
      last = value;
      bar.update(value, { time: new Date(t).toISOString(), items: count });
    },
    stop(done = true) {
      if (done) bar.update(span);
      bar.stop();
    },
  };
}

/**
 * `deno task replay -- --dir <recording> --from <time> [--to <time>] [options]`:
 * writes the recorded stream as NDJSON on stdout, one frame per line, through the
 * same replay pipeline as `ws://…/replay?speed=max` (core/replay/: a private hub
 * with one client subscribed to the selection, whose frames are captured instead
 * of written to a socket), so each line is the JSON text a live `/ws` client with
 * that subscription got, in hub order, between a `replay_start` and a `replay_end`
 * status line. Without `--to`, up to now. Streams with bounded memory; a progress
 * bar on stderr when it is a terminal. Exit code 2 for bad arguments. See
 * docs/history.md.
 * @module
 */
import { type HistoryReader, openHistory } from "../history/mod.ts";
import { MAX_VIEW_DEPTH } from "../books/view.ts";
import { CHANNELS } from "../events.ts";
import { createCatalog } from "../market/catalog.ts";
import { createMetrics } from "../server/metrics.ts";
import { replayStatusFrame } from "../protocol/frames.ts";
import { createPipeline } from "../replay/pipeline.ts";
import { createCapture } from "../replay/capture.ts";
import { feedRecording, startAt } from "../replay/recorded.ts";
import {
  parseFlags,
  runCommand,
  SELECTION_OPTIONS,
  type SelectionArgs,
  selectionOf,
  UsageError,
} from "./args.ts";
import { bufferedSink } from "./output.ts";
import { createProgress } from "./progress.ts";
import { filterOf } from "./selection.ts";
import { type Metric, METRICS } from "../analytics/engine.ts";
import { resolveMetrics } from "../protocol/messages.ts";
import type { HubAnalyticsOptions } from "../ingest/hub.ts";

const USAGE = `usage: deno task replay -- --dir <recording folder> --from <time> [--to <time>]
         [--exchanges binance,kraken] [--symbols BTCUSDT,BTC/USDT] [--channels trade,quote,kline,book]
         [--raw] [--depth 20] [--analytics ofi,vpin,flow|all] [--analytics-interval-ms 100]
         [--vpin-bucket-volume V]

Writes the recorded frames as NDJSON on stdout, as a client of ws://…/replay?speed=max
subscribed to that selection gets them (the frames live clients got, in their order).
Times: ISO 8601 (2026-12-07T10:00:00Z) or epoch milliseconds; both ends inclusive;
without --to, up to now.
--raw      include each event's raw exchange payload (as a live client with raw: true)
--depth N  book depth of the replayed book frames (1..${MAX_VIEW_DEPTH}, default 20)
--analytics M  also the \`analytics\` frames of each symbol (figures M, comma-separated, or
           all), computed from the recorded trades and books as the live gateway does;
           --analytics-interval-ms and --vpin-bucket-volume as ANALYTICS_INTERVAL_MS and
           ANALYTICS_VPIN_BUCKET_VOLUME (use the live gateway's values to get its frames)`;

/** Most symbols in one subscribe frame (the `/ws` protocol's bound). */
const SYMBOLS_PER_FRAME = 1000;

/** Frames gathered before they are handed to the output. */
const WRITE_EVERY = 256;

/** Items replayed between two progress updates. */
const PROGRESS_EVERY = 1024;

/** Runs the replay command with `args`; writes to `out` (stdout by default). */
export async function replay(
  args: string[],
  out: { write(p: Uint8Array): Promise<number> } = Deno.stdout,
): Promise<void> {
  const values = parseFlags(args, {
    ...SELECTION_OPTIONS,
    raw: { type: "boolean" },
    depth: { type: "string" },
    analytics: { type: "string" },
    "analytics-interval-ms": { type: "string" },
    "vpin-bucket-volume": { type: "string" },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sel = await selectionOf(values, Date.now);
  const depthText = typeof values.depth === "string" ? values.depth : "20";
  const depth = Number(depthText);
  if (!/^\d+$/.test(depthText) || depth < 1 || depth > MAX_VIEW_DEPTH) {
    throw new UsageError(`--depth must be an integer 1..${MAX_VIEW_DEPTH}, got "${depthText}"`);
  }
  const raw = values.raw === true;
  const analytics = analyticsOf(values);
  const history = openHistory(sel.dir);
  try {
    // Validates the exchanges and resolves the symbols against the recording.
    const { symbols } = filterOf(history, sel, raw);
    await writeReplay(history, sel, { symbols, raw, depth, analytics }, out);
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

/** The `--analytics` options: figures and the hub's analytics settings. */
interface AnalyticsArgs {
  metrics: Metric[];
  options: HubAnalyticsOptions;
}

/** Reads `--analytics`, `--analytics-interval-ms` and `--vpin-bucket-volume`. */
function analyticsOf(values: Record<string, unknown>): AnalyticsArgs | undefined {
  const text = (name: string) =>
    typeof values[name] === "string" ? values[name] as string : undefined;
  const interval = text("analytics-interval-ms");
  const bucket = text("vpin-bucket-volume");
  if (text("analytics") === undefined) {
    if (interval !== undefined || bucket !== undefined) {
      throw new UsageError("--analytics-interval-ms and --vpin-bucket-volume go with --analytics");
    }
    return undefined;
  }
  const names = text("analytics")!.split(",").map((m) => m.trim()).filter((m) => m !== "");
  const resolved = resolveMetrics(names.includes("all") ? undefined : names);
  if (resolved.unknown.length > 0 || resolved.metrics.length === 0) {
    throw new UsageError(
      `--analytics: unknown figure(s) ${resolved.unknown.join(", ") || "(none named)"}; known: ${
        METRICS.join(", ")
      } or all`,
    );
  }
  const intervalMs = interval === undefined ? undefined : Number(interval);
  if (intervalMs !== undefined && !(/^\d+$/.test(interval!) && intervalMs <= 3_600_000)) {
    throw new UsageError(
      `--analytics-interval-ms must be an integer 0..3600000, got "${interval}"`,
    );
  }
  const vpinBucketVolume = bucket === undefined ? undefined : Number(bucket);
  if (
    vpinBucketVolume !== undefined && !(vpinBucketVolume > 0 && Number.isFinite(vpinBucketVolume))
  ) {
    throw new UsageError(`--vpin-bucket-volume must be a positive number, got "${bucket}"`);
  }
  return { metrics: resolved.metrics, options: { intervalMs, vpinBucketVolume } };
}

/** What the replay's one client subscribes to. */
interface Subscription {
  /** Recorded native symbols; all recorded on the selected exchanges when undefined. */
  symbols?: readonly string[];
  raw: boolean;
  depth: number;
  /** Also the `analytics` channel, with these figures and settings. */
  analytics?: AnalyticsArgs;
}

/**
 * Replays `sel` through a private pipeline to one capturing client subscribed to
 * the selection, writing each frame it gets as a line of `out`.
 */
async function writeReplay(
  history: HistoryReader,
  sel: SelectionArgs,
  sub: Subscription,
  out: { write(p: Uint8Array): Promise<number> },
): Promise<void> {
  // The recording's exchanges and native symbols stand for the gateway's configuration;
  // instrument lists (unified names) come from the recording (before --from, then as replayed).
  const configured: Record<string, string[]> = {};
  for (const { exchange, symbol } of history.catalog().streams) {
    if (exchange === "") continue;
    const symbols = configured[exchange] ??= [];
    if (symbol !== "" && !symbols.includes(symbol)) symbols.push(symbol);
  }
  const catalog = createCatalog(configured);
  // Recorded names are native ones (Kraken's `XBT/USD` too): streamed as recorded.
  for (const [exchange, symbols] of Object.entries(configured)) {
    catalog.setInstruments(exchange, [], symbols);
  }
  const capture = createCapture();
  const { client, delivery } = capture;
  const pipeline = createPipeline({
    catalog,
    ownCatalog: true,
    delivery,
    limits: {
      maxFrameBytes: Number.MAX_SAFE_INTEGER,
      maxSubscriptions: Number.MAX_SAFE_INTEGER,
      maxClientMessagesPerSecond: Number.MAX_SAFE_INTEGER,
    },
    metrics: createMetrics(),
    analytics: sub.analytics?.options,
    disconnect(_client, _code, reason) {
      throw new Error(`the replay pipeline closed the connection: ${reason}`);
    },
    countError() {},
  });

  const exchanges = sel.exchanges ?? Object.keys(configured);
  const symbols = sub.symbols ??
    [...new Set(exchanges.flatMap((e) => configured[e] ?? []))];
  for (let i = 0; i < symbols.length; i += SYMBOLS_PER_FRAME) {
    pipeline.sessions.onMessage(
      client,
      JSON.stringify({
        action: "subscribe",
        exchanges,
        symbols: symbols.slice(i, i + SYMBOLS_PER_FRAME),
        channels: [...sel.channels ?? CHANNELS, ...sub.analytics ? ["analytics"] : []],
        ...sub.analytics ? { metrics: sub.analytics.metrics } : {},
        raw: sub.raw,
        depth: sub.depth,
      }),
    );
  }
  // The acks are the conversation, not the replay: only errors matter here.
  for (const text of capture.take()) {
    const frame = JSON.parse(text);
    if (frame.type === "error") throw new Error(`subscribe refused: ${frame.message}`);
  }
  const selection = pipeline.selection(client);

  const sink = bufferedSink(out);
  const progress = createProgress("replay", sel.from, sel.to);
  let count = 0;
  /** Writes the captured frames; false once the reader is gone. */
  const write = async (): Promise<boolean> => {
    const frames = capture.take();
    return frames.length === 0 || await sink.write(frames.join("\n") + "\n");
  };

  const window = { from: sel.from, to: sel.to, speed: "max" as const };
  delivery.send(client, replayStatusFrame({ state: "replay_start", ...window }));
  await startAt(history, pipeline, client, selection, sel.from);
  const lastSeq = await feedRecording(history, pipeline, selection, sel, (receiveTime) => {
    if (++count % PROGRESS_EVERY === 0) progress.update(receiveTime, count);
    return capture.size() < WRITE_EVERY || write();
  });
  if (lastSeq === undefined) return progress.stop(false);
  delivery.send(client, replayStatusFrame({ state: "replay_end", ...window, seq: lastSeq }));
  if (!await write() || !await sink.flush()) return progress.stop(false);
  progress.update(sel.to, count);
  progress.stop();
}

if (import.meta.main) await runCommand(USAGE, () => replay(Deno.args));

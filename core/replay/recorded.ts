/**
 * The recorded part of a replay, shared by `/replay` (session.ts) and
 * `deno task replay` (core/tools/replay_cli.ts): the state at `from` (feed states,
 * instrument lists, books) and then every recorded item of the client's streams
 * in hub order, through the replay's private hub (pipeline.ts).
 * @module
 */
import type { Client } from "../delivery/policy.ts";
import type { EventFilter, HistoryReader } from "../history/mod.ts";
import type { Pipeline, ReplaySelection } from "./pipeline.ts";

/** How far before `from` the feed states and instrument lists are looked up (the day before). */
const LOOKBACK_MS = 86_400_000;

/**
 * Brings `pipeline` to the state at `from` and tells `client`: the feed state and
 * instrument list of each followed exchange (the last ones recorded in the day before
 * `from`, taken silently), then each feed's `status`, then each book as it was just
 * before `from` (a snapshot frame with `seq` 0).
 */
export async function startAt(
  history: HistoryReader,
  pipeline: Pipeline,
  client: Client,
  selection: ReplaySelection,
  from: number,
): Promise<void> {
  await primeFeeds(history, pipeline, selection, from);
  pipeline.sendFeedStatus(client, selection.exchanges);
  await seedBooks(history, pipeline, selection, from);
}

/**
 * Brings `pipeline` to the state at `from` with no client to tell: the feed states and
 * instrument lists, then each book as it was just before `from` (what a recomputation
 * from history, e.g. of the analytics, starts from).
 */
export async function prepareAt(
  history: HistoryReader,
  pipeline: Pipeline,
  selection: ReplaySelection,
  from: number,
): Promise<void> {
  await primeFeeds(history, pipeline, selection, from);
  await seedBooks(history, pipeline, selection, from);
}

/** The window of a {@link feedRecording} read. */
export interface RecordedWindow {
  /** Receive times, epoch ms, both inclusive. */
  from: number;
  to: number;
  /** Stop after this hub sequence number (a replay that continues live), if given. */
  lastSeq?: number;
}

/**
 * Feeds every recorded item of `selection` in `window` through `pipeline`, in hub
 * order, each once `wait(receiveTime)` is or resolves true (pacing, back-pressure).
 * Resolves the sequence number of the last item fed (0 when none), or undefined
 * when `wait` resolved false (stop: the client is gone).
 */
export async function feedRecording(
  history: HistoryReader,
  pipeline: Pipeline,
  selection: ReplaySelection,
  window: RecordedWindow,
  wait: (receiveTime: number) => boolean | Promise<boolean>,
): Promise<number | undefined> {
  const filter: EventFilter = {
    from: window.from,
    to: window.to,
    exchanges: selection.exchanges,
    symbols: selection.symbols,
    channels: selection.channels,
    markers: true,
    // Raw exchange payloads are decoded only when a subscription sends them (much slower).
    raw: selection.raw,
  };
  let lastSeq = 0;
  for await (const batch of history.eventBatches(filter)) {
    for (const rec of batch) {
      if (window.lastSeq !== undefined && rec.seq > window.lastSeq) return lastSeq;
      if (!pipeline.selects(selection, rec)) continue;
      const go = wait(rec.receiveTime);
      if (go !== true && !await go) return undefined;
      pipeline.feed(rec);
      lastSeq = rec.seq;
    }
  }
  return lastSeq;
}

/**
 * The feed state and instrument list of each followed exchange at `from`: the last ones
 * recorded in the day before it (event streams only, a few items), taken silently.
 */
async function primeFeeds(
  history: HistoryReader,
  pipeline: Pipeline,
  selection: ReplaySelection,
  from: number,
): Promise<void> {
  if (selection.exchanges.length === 0) return;
  const filter: EventFilter = {
    from: from - LOOKBACK_MS,
    to: from - 1,
    exchanges: selection.exchanges,
    channels: [],
    markers: true,
    raw: false,
  };
  for await (const batch of history.eventBatches(filter)) {
    for (const rec of batch) pipeline.prime(rec);
  }
}

/** Starts the replay's books from the recording: each book as it was just before `from`. */
async function seedBooks(
  history: HistoryReader,
  pipeline: Pipeline,
  selection: ReplaySelection,
  from: number,
): Promise<void> {
  for (const { exchange, symbol } of selection.books) {
    const book = await history.bookAt(exchange, symbol, from - 1);
    if (!book?.synced) continue;
    // The snapshot frame carries the event time of the last update applied, as live.
    let eventTime = book.time;
    for await (
      const rec of history.events({
        from: book.time,
        to: book.time,
        exchanges: [exchange],
        symbols: [symbol],
        channels: ["book"],
        markers: false,
        raw: false,
      })
    ) {
      if (rec.seq === book.seq && rec.item.type === "book") eventTime = rec.item.eventTime;
    }
    pipeline.seedBook(book, eventTime);
  }
}

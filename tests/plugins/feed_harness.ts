/**
 * The shared harness of the plugin feed tests: runs a plugin's `run()` in-process with a
 * recording context (everything it emits is kept), offers typed views of what it emitted and
 * waits that say what they waited for; and the one Worker test every plugin passes (it runs
 * under the supervisor with only its declared hosts). Depends only on the plugin SDK
 * (`mod.ts`) and the supervisor, so plugin internals can change freely.
 * @module
 */
import assert from "node:assert/strict";
import {
  applySnapshot,
  applyUpdate,
  type BookStatusUpdate,
  type BookUpdate,
  type Channel,
  createBook,
  createFeedContext,
  type FeedContext,
  type FeedItem,
  type FeedPlugin,
  type FeedStatusUpdate,
  type GapEvent,
  type KlineEvent,
  type OrderBook,
  type QuoteEvent,
  type TradeEvent,
} from "../../mod.ts";
import { startFeeds } from "../../core/ingest/supervisor.ts";
import { waitFor } from "../helpers.ts";

/** A feed running in-process, and everything it emitted. */
export interface FeedRun {
  /** Every item the feed emitted, in order. */
  items: FeedItem[];
  /** Items of one type. */
  of<T extends FeedItem["type"]>(type: T): Extract<FeedItem, { type: T }>[];
  /** Waits until `predicate` holds; throws `timed out after N ms waiting for: <what>`. */
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  trades(symbol: string): TradeEvent[];
  quotes(symbol: string): QuoteEvent[];
  klines(symbol: string): KlineEvent[];
  books(symbol: string): BookUpdate[];
  gaps(symbol: string): GapEvent[];
  statuses(): FeedStatusUpdate[];
  bookStatuses(symbol: string): BookStatusUpdate[];
  malformed(): { reason: string; frame?: string }[];
  /** Messages of the feed's log lines that match `pattern`. */
  logs(pattern: RegExp): string[];
  /** The book a consumer builds from the emitted book updates of `symbol`. */
  book(symbol: string): OrderBook;
  /** Aborts the feed and checks that `run` returns within `returnWithinMs` (default 1500). */
  stop(returnWithinMs?: number): Promise<void>;
}

/** How to run a feed in-process. */
export interface FeedRunOptions<C> {
  plugin: FeedPlugin<C>;
  /** The plugin's parsed configuration. */
  config: C;
  symbols: readonly string[];
  channels: readonly Channel[];
  /** Runs the feed (default `plugin.run`); a test may pass the plugin's own runner with fakes. */
  run?: (ctx: FeedContext<C>) => Promise<void>;
}

/** Starts `plugin`'s feed in-process with a recording context. */
export function runFeed<C>(options: FeedRunOptions<C>): FeedRun {
  const items: FeedItem[] = [];
  const abort = new AbortController();
  const ctx = createFeedContext(
    options.plugin,
    { symbols: options.symbols, channels: [...options.channels], config: options.config },
    abort.signal,
    (item) => items.push(item),
  );
  const running = (options.run ?? ((c) => options.plugin.run(c)))(ctx);
  const of = <T extends FeedItem["type"]>(type: T) =>
    items.filter((i): i is Extract<FeedItem, { type: T }> => i.type === type);
  return {
    items,
    of,
    until: (predicate, what, timeoutMs = 5000) => waitFor(predicate, timeoutMs, what),
    trades: (symbol) => of("trade").filter((t) => t.symbol === symbol),
    quotes: (symbol) => of("quote").filter((q) => q.symbol === symbol),
    klines: (symbol) => of("kline").filter((k) => k.symbol === symbol),
    books: (symbol) => of("book").filter((b) => b.symbol === symbol),
    gaps: (symbol) => of("gap").filter((g) => g.symbol === symbol),
    statuses: () => of("status"),
    bookStatuses: (symbol) => of("book_status").filter((b) => b.symbol === symbol),
    malformed: () => of("malformed"),
    logs: (pattern) => of("log").map((l) => l.message).filter((m) => pattern.test(m)),
    book: (symbol) => bookFromUpdates(items, symbol),
    async stop(returnWithinMs = 1500) {
      const started = Date.now();
      abort.abort();
      await running;
      const took = Date.now() - started;
      assert.ok(took < returnWithinMs, `run returned ${took} ms after abort`);
    },
  };
}

/** A feed running against its emulator; `close()` stops the feed, then the emulator. */
export type EmulatedFeedRun<E> = FeedRun & { emu: E; close(): Promise<void> };

/** Starts `plugin`'s feed in-process against `emu`, which `close()` closes after the feed stops. */
export function runFeedAgainst<C, E extends { close(): Promise<void> }>(
  emu: E,
  options: FeedRunOptions<C>,
): EmulatedFeedRun<E> {
  const feed = runFeed(options);
  return {
    ...feed,
    emu,
    async close() {
      try {
        await feed.stop();
      } finally {
        await emu.close();
      }
    },
  };
}

/** The book a consumer builds from the book updates of `symbol` among `items`. */
export function bookFromUpdates(items: readonly FeedItem[], symbol: string): OrderBook {
  const book = createBook();
  for (const item of items) {
    if (item.type !== "book" || item.symbol !== symbol) continue;
    if (item.snapshot) applySnapshot(book, item.bids, item.asks, item.updateId);
    else applyUpdate(book, item);
  }
  return book;
}

/** How long a plugin Worker may take to start and deliver on a loaded machine (module load + connect). */
const WORKER_START_MS = 15_000;

/**
 * The check every plugin passes: run under the supervisor in a Worker, it reports exactly the
 * emulator's host, says it is the emulator, connects and delivers `eventTypes` without losing
 * a batch.
 */
export async function assertRunsInWorkerWithDeclaredHosts<C>(options: {
  plugin: FeedPlugin<C>;
  workerUrl: URL;
  config: C;
  symbols: string[];
  channels: Channel[];
  /** The one host the plugin should declare, e.g. `127.0.0.1:<emulator port>`. */
  host: string;
  /** Event types that must arrive. */
  eventTypes: FeedItem["type"][];
}): Promise<void> {
  const seen: FeedItem[] = [];
  const name = options.plugin.name;
  const feeds = startFeeds(
    [{
      plugin: options.plugin,
      workerUrl: options.workerUrl,
      config: options.config,
      symbols: options.symbols,
      channels: options.channels,
    }],
    (_exchange, item) => seen.push(item),
    () => {},
  );
  try {
    await waitFor(
      () =>
        feeds.get(name)?.state === "connected" &&
        options.eventTypes.every((type) => seen.some((i) => i.type === type)),
      WORKER_START_MS,
      `${name} Worker connected and delivering ${options.eventTypes.join(" + ")}`,
    );
    const info = feeds.get(name)!;
    assert.deepEqual(info.hosts, [options.host]);
    assert.equal(info.emulator, true);
    assert.equal(info.state, "connected");
    assert.ok(info.events > 0);
    assert.equal(info.lostBatches, 0);
  } finally {
    await feeds.stop(1000);
  }
}

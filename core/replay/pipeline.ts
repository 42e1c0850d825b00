/**
 * The private pipeline of one replay: the live hub's code (core/ingest/hub.ts)
 * over a catalog, books, market state and subscriptions of its own, with one
 * client, so the replayed items turn into exactly the frames a live client with
 * the same subscriptions got, and its session speaks the `/ws` protocol
 * (core/delivery/session.ts). Nothing here touches the live gateway's state
 * except the client's delivery, which stays under the slow-consumer policy.
 * @module
 */
import type { Channel } from "../events.ts";
import type { FeedItem } from "../feed/messages.ts";
import type { Client, Delivery } from "../delivery/policy.ts";
import type { Catalog } from "../market/catalog.ts";
import { type FeedInfo, newFeedInfo } from "../ingest/supervisor.ts";
import type { Metrics } from "../server/metrics.ts";
import type { HistoricalBook, RecordableItem } from "../history/mod.ts";
import type { ErrorCode } from "../protocol/messages.ts";
import { createCatalog } from "../market/catalog.ts";
import { createBooks } from "../books/books.ts";
import { createMarketState } from "../market/state.ts";
import { createConsolidator } from "../books/consolidated.ts";
import { createSubscriptions, sourceStreams, type StreamKey } from "../delivery/subscriptions.ts";
import { createHub, type HubAnalyticsOptions } from "../ingest/hub.ts";
import type { SymbolAnalytics } from "../analytics/engine.ts";
import { type PaperConfig, paperOver } from "../server/paper.ts";
import { createOptionsBoard } from "../options/board.ts";
import { createOptionsFeed } from "../server/options_feed.ts";
import { createSessions, type SessionLimits, type Sessions } from "../delivery/session.ts";
import {
  bookStatusFrame,
  consolidatedFrame,
  feedStatusFrame,
  recordingGapFrame,
  replayedFrame,
} from "../protocol/frames.ts";

/** One item fed to the pipeline, from the recording or from a hub tap. */
export interface PipelineItem {
  seq: number;
  exchange: string;
  receiveTime: number;
  item: RecordableItem | FeedItem;
}

/** What the replay reads: the streams the client's subscriptions need. */
export interface ReplaySelection {
  exchanges: string[];
  /** Native symbols on any of the exchanges. */
  symbols: string[];
  channels: Channel[];
  /** (exchange, native symbol) of every book the replay keeps (book and consolidated subscriptions). */
  books: { exchange: string; symbol: string }[];
  /** True when a subscription sends the exchange's `raw` payload. */
  raw: boolean;
}

/** What a pipeline is built from. */
export interface PipelineDeps {
  /** The live gateway's catalog: its exchanges, configured symbols and instruments are copied. */
  catalog: Catalog;
  /**
   * True when {@link PipelineDeps.catalog} belongs to this pipeline alone (`deno task replay`
   * builds one from the recording): it is used and updated as is instead of copied.
   */
  ownCatalog?: boolean;
  /** The gateway's delivery (slow-consumer policy); status frames are marked on their way. */
  delivery: Delivery;
  limits: SessionLimits;
  /**
   * Paper trading on the replayed books (a desk of the replay's own, on its clock; orders may
   * carry `at`, a replay time to send them at, so a replay with the same orders fills the same).
   */
  paper?: PaperConfig;
  /** Analytics settings of the private hub (the live gateway's, so the figures agree). */
  analytics?: HubAnalyticsOptions;
  /** Metrics the private hub may count into (never the live gateway's). */
  metrics: Metrics;
  disconnect(client: Client, code: number, reason: string): void;
  countError(code: ErrorCode): void;
}

/** A replay's private pipeline. */
export interface Pipeline {
  /** The client's `/ws` protocol session. */
  readonly sessions: Sessions;
  /** The streams the client's subscriptions need now. */
  selection(client: Client): ReplaySelection;
  /** The streams the client subscribed to (what the live side must carry for it). */
  streams(client: Client): StreamKey[];
  /** True when `entry` belongs to `selection` (exchange, symbol and channel). */
  selects(selection: ReplaySelection, entry: PipelineItem): boolean;
  /** Starts a book from a recorded one (its snapshot frame goes to the book's subscribers). */
  seedBook(book: HistoricalBook, eventTime: number): void;
  /**
   * Takes a feed's state or instrument list recorded before the replay's window without
   * sending anything (the state at `from`; see {@link Pipeline.sendFeedStatus}).
   */
  prime(entry: PipelineItem): void;
  /** Sends `client` the feed `status` of each exchange it follows, as known at this point. */
  sendFeedStatus(client: Client, exchanges: readonly string[]): void;
  /** Feeds one item through the hub's code. */
  feed(entry: PipelineItem): void;
  /** From now on status frames are live ones (not marked `replay: true`). */
  goLive(): void;
  /** The private hub's analytics of a symbol (see `Hub.analytics`). */
  analytics(exchange: string, symbol: string): SymbolAnalytics | undefined;
}

/** Creates the private pipeline of one replay connection. */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const catalog = deps.ownCatalog ? deps.catalog : copyCatalog(deps.catalog);
  let live = false;
  const base = deps.delivery;
  /** The client's delivery: status frames are marked `replay: true` until the splice. */
  const delivery: Delivery = {
    ...base,
    send: (client, text, key) =>
      base.send(
        client,
        live ? text : typeof text === "string" ? replayedFrame(text) : () => replayedFrame(text()),
        key,
      ),
  };
  const books = createBooks(delivery, () => {}, catalog.unified);
  const market = createMarketState();
  const subscriptions = createSubscriptions(books);
  /**
   * The clock of consolidated and book status frames: the receive time of the replayed item
   * (live, those frames are dated when the hub handled the item, a few ms later at most);
   * after the splice, the wall clock as for live clients.
   */
  let clock = 0;
  const now = () => clock;
  const consolidator = createConsolidator(catalog, books, market, now);
  const hub = createHub({
    subscriptions,
    books,
    market,
    catalog,
    delivery,
    metrics: deps.metrics,
    consolidator,
    // Gaps and resyncs were logged when they happened live; a replay does not log them again.
    log: { info() {}, warning() {} },
    now,
    analytics: deps.analytics,
  });
  const paper = deps.paper ? paperOver(deps.paper, catalog, books, delivery, now, true) : undefined;
  // The `options` channel on the replayed quotes, valued at the replay's clock.
  const options = createOptionsFeed({
    board: createOptionsBoard(catalog),
    subscriptions,
    delivery,
    now,
  });
  /** Feed states as the replayed `status` items leave them. */
  const feeds = new Map<string, FeedInfo>();
  const sessions = createSessions({
    subscriptions,
    catalog,
    delivery,
    limits: deps.limits,
    consolidatedFrame: (unified) => {
      const quote = consolidator.get(unified);
      return quote ? consolidatedFrame(quote) : undefined;
    },
    analyticsFrame: hub.analyticsFrame,
    paper: paper?.service,
    optionsFrame: (exchange, symbol) => options.frame(exchange, symbol),
    statusFrame: (exchange) => {
      const info = feeds.get(exchange);
      return info ? feedStatusFrame(info) : undefined;
    },
    disconnect: deps.disconnect,
    countError: deps.countError,
    now: () => Date.now(),
  });

  const onStatus = (
    exchange: string,
    item: Extract<FeedItem, { type: "status" }>,
    at: number,
    silent = false,
  ) => {
    let info = feeds.get(exchange);
    const first = info === undefined;
    if (!info) {
      info = newFeedInfo(exchange, { state: item.state, since: at });
      feeds.set(exchange, info);
    }
    if (item.state === "reconnecting") info.reconnects++;
    if (item.emulator !== undefined) info.emulator = item.emulator;
    // As the supervisor does: an unchanged state and reason is no change.
    if (!first && info.state === item.state && info.reason === item.reason) return;
    info.state = item.state;
    info.reason = item.reason;
    info.since = at;
    if (silent) return;
    const text = feedStatusFrame(info);
    for (const client of subscriptions.onExchange(exchange).keys()) delivery.send(client, text);
  };

  const onRecordingGap = (item: Extract<RecordableItem, { type: "recording_gap" }>) => {
    const text = recordingGapFrame(item);
    const told = new Set<Client>();
    for (const entry of books.entries()) {
      if (!entry.synced) continue;
      books.markUnsynced(entry.exchange, entry.symbol);
      const status = bookStatusFrame(
        entry.exchange,
        entry.symbol,
        "resyncing",
        item.toTime,
        "recording gap",
      );
      for (const group of entry.views.values()) {
        for (const client of [...group.raw, ...group.plain]) {
          if (!told.has(client)) delivery.send(client, text);
          told.add(client);
          delivery.send(client, status);
        }
      }
    }
    for (const exchange of catalog.exchanges()) {
      for (const client of subscriptions.onExchange(exchange).keys()) {
        if (!told.has(client)) delivery.send(client, text);
        told.add(client);
      }
    }
  };

  return {
    sessions,
    streams: (client) => subscriptions.of(client).flatMap((sub) => sourceStreams(sub.stream)),
    selection(client) {
      const exchanges = new Set<string>();
      const symbols = new Set<string>();
      const channels = new Set<Channel>();
      const bookKeys = new Map<string, { exchange: string; symbol: string }>();
      let raw = false;
      const addBook = (exchange: string, symbol: string) =>
        bookKeys.set(`${exchange}|${symbol}`, { exchange, symbol });
      for (const { stream, raw: withRaw } of subscriptions.of(client)) {
        if (withRaw) raw = true;
        if (stream.channel === "consolidated") {
          // The consolidated quote is computed from every venue's book and quotes.
          for (const exchange of catalog.exchanges()) {
            const native = catalog.resolve(exchange, stream.symbol);
            if (native === undefined) continue;
            exchanges.add(exchange);
            symbols.add(native);
            channels.add("book").add("quote");
            addBook(exchange, native);
          }
          continue;
        }
        exchanges.add(stream.exchange);
        symbols.add(stream.symbol);
        if (stream.channel === "analytics") {
          // The analytics are computed from the symbol's trades and book.
          channels.add("trade").add("book");
          addBook(stream.exchange, stream.symbol);
          continue;
        }
        if (stream.channel === "options") {
          channels.add("quote");
          continue;
        }
        channels.add(stream.channel);
        if (stream.channel === "book") addBook(stream.exchange, stream.symbol);
      }
      return {
        exchanges: [...exchanges],
        symbols: [...symbols],
        channels: [...channels],
        books: [...bookKeys.values()],
        raw,
      };
    },
    selects(selection, { exchange, item }) {
      if (item.type === "recording_gap") return true;
      if (!selection.exchanges.includes(exchange)) return false;
      switch (item.type) {
        case "trade":
        case "quote":
        case "kline":
        case "book":
          return selection.channels.includes(item.type) && selection.symbols.includes(item.symbol);
        case "gap":
          return selection.channels.includes("trade") && selection.symbols.includes(item.symbol);
        case "book_status":
          return selection.channels.includes("book") && selection.symbols.includes(item.symbol);
        case "log":
        case "malformed":
          return false;
        default:
          return true;
      }
    },
    seedBook(book, eventTime) {
      if (!book.synced) return;
      books.apply({
        type: "book",
        exchange: book.exchange,
        symbol: book.symbol,
        snapshot: true,
        bids: book.bids,
        asks: book.asks,
        updateId: book.updateId,
        timestamp: new Date(eventTime).toISOString(),
        eventTime,
        receiveTime: book.time,
      });
    },
    prime({ exchange, item, receiveTime }) {
      if (item.type === "status") onStatus(exchange, item, receiveTime, true);
      else if (item.type === "instruments") {
        catalog.setInstruments(exchange, item.instruments, item.streamed);
      }
    },
    sendFeedStatus(client, exchanges) {
      for (const exchange of exchanges) {
        const info = feeds.get(exchange);
        if (info) delivery.send(client, feedStatusFrame(info));
      }
    },
    feed(entry) {
      const { item, exchange } = entry;
      clock = live ? Date.now() : entry.receiveTime;
      if (item.type === "recording_gap") return onRecordingGap(item);
      if (item.type === "status") onStatus(exchange, item, entry.receiveTime);
      // Positions are the recorded hub sequence numbers (the live ones); `prev` chains within the replay.
      paper?.desk.beforeItem(exchange, item);
      hub.onItem(exchange, item, entry.seq);
      paper?.desk.afterItem(exchange, item);
      options.afterItem(exchange, item);
    },
    goLive() {
      live = true;
    },
    analytics: hub.analytics,
  };
}

/** A catalog of its own with `live`'s exchanges, configured symbols and instruments. */
function copyCatalog(live: Catalog): Catalog {
  const listings = live.listings();
  const configured: Record<string, string[]> = {};
  for (const l of listings) configured[l.exchange] = [...l.streamed];
  const catalog = createCatalog(configured);
  for (const l of listings) {
    if (l.instruments.length > 0) catalog.setInstruments(l.exchange, l.instruments, l.streamed);
  }
  return catalog;
}

/**
 * Local order books kept by the proxy, one per symbol, from an upstream diff
 * stream plus a REST snapshot, by Binance's documented procedure (the
 * plugin's `createDepthSync`) into the core's book. They answer
 * `GET /api/v3/depth` with a `lastUpdateId` that lies in the id space of the
 * diff streams relayed to clients and is never behind an event already relayed
 * on the followed stream, so a client doing Binance's procedure against the
 * proxy ends with a correct book; when the proxy's own book resyncs (a gap in
 * U/u, an interrupted connection) its clients see that same gap in the events
 * relayed to them and resync the same way.
 *
 * The book follows the best diff stream of a symbol that clients hold
 * (`@depth@100ms` before `@depth`, milliseconds before microseconds), and
 * keeps each level's price and quantity strings as Binance sent them, so the
 * answer is byte-compatible.
 * @module
 */
import {
  applySnapshot,
  applyUpdate,
  backoffDelay,
  type BackoffOptions,
  type BookStatusUpdate,
  type BookUpdate,
  createBook,
  type FeedLogger,
  type Level,
  type OrderBook,
  topN,
} from "../../../mod.ts";
import { decimal } from "../checks.ts";
import { createDepthSync, type DepthSync, type DepthSyncState } from "../depth_sync.ts";
import { mapBinanceMessage } from "../mapper.ts";
import { depthWeight } from "../rest.ts";
import { mapDepthSnapshot } from "../rest_mapper.ts";
import type { UpstreamRest } from "./upstream_rest.ts";

/** A level as Binance sends it. */
export type WireLevel = readonly [price: string, quantity: string];

/** A diff stream a book can follow: `key` names stream and time unit; lower `rank` is preferred. */
export interface BookSource {
  key: string;
  symbol: string;
  rank: number;
}

/** Options of {@link createDepthBooks}. */
export interface DepthBooksOptions {
  rest: UpstreamRest;
  /** `limit` of the upstream snapshot (Binance's procedure: 5000). */
  snapshotLimit: number;
  backoff: BackoffOptions;
  now: () => number;
  random: () => number;
  log: FeedLogger;
}

/** The proxy's local books. */
export interface DepthBooks {
  /** A client holds this diff stream now. */
  addSource(source: BookSource): void;
  /** No client holds this diff stream any more. */
  removeSource(key: string): void;
  /**
   * One diff payload (the `data` text) from `key`. False when it is not a valid
   * depthUpdate of its symbol: such a payload is not relayed.
   */
  onDiff(key: string, data: string, receiveTime: number): boolean;
  /** The upstream connection carrying `key` was lost. */
  interrupted(key: string, reason: string): void;
  /** True while some diff stream of `symbol` is followed. */
  follows(symbol: string): boolean;
  /** Sync state of `symbol`'s book, if there is one. */
  state(symbol: string): DepthSyncState | undefined;
  /** The `GET /api/v3/depth` body from the local book; `undefined` unless it is synced. */
  depthBody(symbol: string, limit: number): string | undefined;
  /** Resolves `true` once `symbol`'s book is synced, `false` after `timeoutMs`. */
  whenSynced(symbol: string, timeoutMs: number): Promise<boolean>;
  close(): void;
}

interface SymbolBook {
  symbol: string;
  symbolSet: ReadonlySet<string>;
  sources: Map<string, number>;
  followed?: string;
  sync?: DepthSync;
  abort?: AbortController;
  book: OrderBook;
  bids: Map<number, WireLevel>;
  asks: Map<number, WireLevel>;
  waiters: Set<() => void>;
}

/** Creates the (empty) set of books. */
export function createDepthBooks(o: DepthBooksOptions): DepthBooks {
  const books = new Map<string, SymbolBook>();
  const symbolOf = new Map<string, string>();
  const log = o.log;

  const wake = (entry: SymbolBook): void => {
    for (const w of [...entry.waiters]) w();
  };

  /** Starts (or restarts) following the best source of `entry`. */
  const follow = (entry: SymbolBook, force = false): void => {
    let best: string | undefined;
    let bestRank = Infinity;
    for (const [key, rank] of entry.sources) {
      if (rank < bestRank) [best, bestRank] = [key, rank];
    }
    if (best === entry.followed && !force) return;
    entry.abort?.abort();
    entry.sync = entry.abort = undefined;
    entry.followed = best;
    entry.book = createBook();
    entry.bids.clear();
    entry.asks.clear();
    if (best === undefined) return;
    const abort = new AbortController();
    entry.abort = abort;
    entry.sync = startSync(entry, abort.signal);
  };

  const startSync = (entry: SymbolBook, signal: AbortSignal): DepthSync => {
    const { symbol } = entry;
    let stash: { lastUpdateId: number; bids: WireLevel[]; asks: WireLevel[] } | undefined;
    const limit = o.snapshotLimit;
    return createDepthSync({
      symbol,
      async fetchSnapshot() {
        const answer = await o.rest.get(
          "/api/v3/depth",
          `symbol=${symbol}&limit=${limit}`,
          depthWeight(limit),
        );
        if (signal.aborted) return undefined;
        if (answer.status !== 200) {
          log.warn(`book ${symbol}: snapshot failed: HTTP ${answer.status}`, {
            symbol,
            body: answer.body.slice(0, 200),
          });
          return undefined;
        }
        let body: unknown;
        try {
          body = JSON.parse(answer.body);
        } catch {
          body = undefined;
        }
        const mapped = mapDepthSnapshot(body);
        if (!mapped.ok) {
          log.warn(`book ${symbol}: invalid snapshot: ${mapped.reason}`, { symbol });
          return undefined;
        }
        const raw = body as { bids: WireLevel[]; asks: WireLevel[] };
        stash = { lastUpdateId: mapped.value.lastUpdateId, bids: raw.bids, asks: raw.asks };
        return mapped.value;
      },
      emit(update) {
        if (signal.aborted) return;
        try {
          if (update.snapshot) {
            applySnapshot(entry.book, update.bids, update.asks, update.updateId);
            entry.bids.clear();
            entry.asks.clear();
            if (stash && stash.lastUpdateId === update.updateId) {
              setText(entry.bids, stash.bids);
              setText(entry.asks, stash.asks);
            }
          } else {
            applyUpdate(entry.book, update);
            const raw = update.raw as { b: WireLevel[]; a: WireLevel[] };
            setText(entry.bids, raw.b);
            setText(entry.asks, raw.a);
          }
        } catch (err) {
          log.error(`book ${symbol}: rejected update; resyncing`, { symbol, error: String(err) });
          queueMicrotask(() => !signal.aborted && follow(entry, true));
        }
      },
      bookStatus(status: BookStatusUpdate) {
        if (signal.aborted) return;
        if (status.state === "synced") {
          log.info(`book ${symbol}: synced`, { symbol, reason: status.reason });
          wake(entry);
        }
      },
      retryDelayMs: (attempt) => backoffDelay(attempt, o.backoff, o.random),
      maxBuffered: 5000,
      now: o.now,
      log,
      signal,
    });
  };

  const removeEntryIfEmpty = (entry: SymbolBook): void => {
    if (entry.sources.size > 0) return;
    entry.abort?.abort();
    books.delete(entry.symbol);
    wake(entry);
  };

  return {
    addSource(source) {
      let entry = books.get(source.symbol);
      if (!entry) {
        entry = {
          symbol: source.symbol,
          symbolSet: new Set([source.symbol]),
          sources: new Map(),
          book: createBook(),
          bids: new Map(),
          asks: new Map(),
          waiters: new Set(),
        };
        books.set(source.symbol, entry);
      }
      entry.sources.set(source.key, source.rank);
      symbolOf.set(source.key, source.symbol);
      follow(entry);
    },
    removeSource(key) {
      const symbol = symbolOf.get(key);
      symbolOf.delete(key);
      const entry = symbol === undefined ? undefined : books.get(symbol);
      if (!entry) return;
      entry.sources.delete(key);
      follow(entry);
      removeEntryIfEmpty(entry);
    },
    onDiff(key, data, receiveTime) {
      const symbol = symbolOf.get(key);
      const entry = symbol === undefined ? undefined : books.get(symbol);
      if (!entry) return true;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        log.warn(`book ${entry.symbol}: dropped a diff event that is not JSON`, { key });
        return false;
      }
      const frame = mapBinanceMessage(parsed, receiveTime, entry.symbolSet);
      if (frame.kind !== "depth") {
        log.warn(`book ${entry.symbol}: dropped an invalid diff event`, {
          key,
          reason: frame.kind === "malformed" ? frame.reason : frame.kind,
        });
        return false;
      }
      if (key === entry.followed) entry.sync?.onEvent(frame.event as BookUpdate);
      return true;
    },
    interrupted(key, reason) {
      const symbol = symbolOf.get(key);
      const entry = symbol === undefined ? undefined : books.get(symbol);
      if (entry && key === entry.followed) entry.sync?.onDisconnect(reason);
    },
    follows: (symbol) => books.has(symbol),
    state: (symbol) => books.get(symbol)?.sync?.state(),
    depthBody(symbol, limit) {
      const entry = books.get(symbol);
      if (!entry || entry.sync?.state() !== "synced") return undefined;
      const top = topN(entry.book, limit);
      return `{"lastUpdateId":${entry.book.updateId},"bids":${
        levelsText(top.bids, entry.bids)
      },"asks":${levelsText(top.asks, entry.asks)}}`;
    },
    whenSynced(symbol, timeoutMs) {
      const entry = books.get(symbol);
      if (!entry) return Promise.resolve(false);
      if (entry.sync?.state() === "synced") return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          entry.waiters.delete(done);
          resolve(entry.sync?.state() === "synced" && books.get(symbol) === entry);
        };
        const timer = setTimeout(done, timeoutMs);
        entry.waiters.add(done);
      });
    },
    close() {
      for (const entry of books.values()) {
        entry.abort?.abort();
        wake(entry);
      }
      books.clear();
      symbolOf.clear();
    },
  };
}

/** Records each level's wire strings by numeric price (quantity 0 removes). */
function setText(side: Map<number, WireLevel>, levels: readonly WireLevel[]): void {
  for (const level of levels) {
    const price = decimal(level[0]);
    if (decimal(level[1]) === 0) side.delete(price);
    else side.set(price, level);
  }
}

/** `[["p","q"],...]` with the strings Binance sent for these levels. */
function levelsText(levels: readonly Level[], text: ReadonlyMap<number, WireLevel>): string {
  let out = "[";
  for (let i = 0; i < levels.length; i++) {
    const [price, qty] = levels[i];
    const wire = text.get(price);
    if (i > 0) out += ",";
    out += wire ? `["${wire[0]}","${wire[1]}"]` : `["${price}","${qty}"]`;
  }
  return out + "]";
}

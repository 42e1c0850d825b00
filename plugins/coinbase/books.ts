/**
 * Level2 book sync for every streamed product. Coinbase sends a full
 * `snapshot` after each `level2` subscribe, then absolute-quantity `update`s;
 * there is no per-product sequence, so the connection's `sequence_num` (checked
 * by the session) is what proves nothing was lost. After a gap, a malformed
 * `l2_data` frame or a reconnect, the affected books are untrustworthy: they
 * report `resyncing`, drop updates, and are resubscribed (unsubscribe +
 * subscribe) for a fresh snapshot; a resubscription whose snapshot does not
 * arrive within `snapshotTimeoutMs` is sent again.
 * @module
 */
import {
  applySnapshot,
  applyUpdate,
  type BookStatusUpdate,
  type BookUpdate,
  createBook,
  type FeedLogger,
  type OrderBook,
} from "../../mod.ts";

/** What the book sync needs from the feed. */
export interface BookSyncDeps {
  products: readonly string[];
  emit(update: BookUpdate): void;
  bookStatus(update: BookStatusUpdate): void;
  /** Unsubscribes and resubscribes `level2` for `products`; false when not connected. */
  resubscribe(products: string[]): boolean;
  snapshotTimeoutMs: number;
  /** Keep a local book per product and call this after every applied message (derived quotes). */
  onBook?(book: OrderBook, update: BookUpdate): void;
  now(): number;
  log: FeedLogger;
}

/** Sync phase of one product's book. */
export type BookPhase = "awaiting" | "synced";

/** The book sync of all products. */
export interface BookSync {
  /** A new connection subscribed `level2` for every product: snapshots are on their way. */
  onSubscribed(): void;
  /** The connection was lost: every synced book must be rebuilt. */
  onInterrupted(reason: string): void;
  /** The books of `products` (default: all) may have missed updates: resubscribe them. */
  resync(reason: string, products?: readonly string[]): void;
  /** One mapped `l2_data` event. */
  onUpdate(update: BookUpdate): void;
  phase(product: string): BookPhase | undefined;
  /** Updates dropped while a book waited for its snapshot. */
  dropped(): number;
  /** Clears the timer. */
  stop(): void;
}

interface ProductBook {
  phase: BookPhase;
  /** A subscribe whose snapshot has not arrived yet was sent at this time. */
  requestedAt?: number;
  book?: OrderBook;
}

/** Creates the book sync; every product reports `syncing` at once. */
export function createBookSync(deps: BookSyncDeps): BookSync {
  const { log } = deps;
  const books = new Map<string, ProductBook>();
  let dropped = 0;
  for (const product of deps.products) {
    books.set(product, { phase: "awaiting", book: deps.onBook ? createBook() : undefined });
    deps.bookStatus({ symbol: product, state: "syncing" });
  }

  const unsync = (product: string, b: ProductBook, reason: string) => {
    if (b.phase !== "synced") return;
    b.phase = "awaiting";
    deps.bookStatus({ symbol: product, state: "resyncing", reason });
  };

  const request = (products: string[], why: string) => {
    if (products.length === 0) return;
    if (!deps.resubscribe(products)) return; // the next connection subscribes anyway
    const t = deps.now();
    for (const p of products) books.get(p)!.requestedAt = t;
    log.info(`level2 resubscribed for ${products.join(", ")}: ${why}`);
  };

  const timer = setInterval(() => {
    const t = deps.now();
    const overdue: string[] = [];
    for (const [product, b] of books) {
      if (
        b.phase === "awaiting" && b.requestedAt !== undefined &&
        t - b.requestedAt > deps.snapshotTimeoutMs
      ) {
        b.requestedAt = undefined;
        overdue.push(product);
      }
    }
    if (overdue.length > 0) {
      log.warn(`no level2 snapshot within ${deps.snapshotTimeoutMs} ms: ${overdue.join(", ")}`);
      request(overdue, "snapshot overdue");
    }
  }, Math.min(1000, Math.max(20, Math.floor(deps.snapshotTimeoutMs / 4))));

  const apply = (b: ProductBook, u: BookUpdate): boolean => {
    if (!b.book) return true;
    try {
      if (u.snapshot) applySnapshot(b.book, u.bids, u.asks);
      else applyUpdate(b.book, u);
      return true;
    } catch (err) {
      log.error(`book ${u.symbol}: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  };

  const sync: BookSync = {
    onSubscribed() {
      const t = deps.now();
      for (const [product, b] of books) {
        unsync(product, b, "new connection");
        b.requestedAt = t;
      }
    },
    onInterrupted(reason) {
      for (const [product, b] of books) {
        unsync(product, b, `connection lost: ${reason}`);
        b.requestedAt = undefined;
      }
    },
    resync(reason, products = deps.products) {
      const wanted: string[] = [];
      for (const product of products) {
        const b = books.get(product);
        if (!b) continue;
        unsync(product, b, reason);
        // A snapshot already on its way arrives after whatever was lost: it is enough.
        if (b.requestedAt === undefined) wanted.push(product);
      }
      if (wanted.length > 0) log.warn(`books resyncing: ${reason}`, { products: wanted });
      request(wanted, reason);
    },
    onUpdate(u) {
      const b = books.get(u.symbol);
      if (!b) return;
      if (u.snapshot) {
        const was = b.phase;
        b.phase = "synced";
        b.requestedAt = undefined;
        if (!apply(b, u)) return;
        deps.emit(u);
        if (was !== "synced") deps.bookStatus({ symbol: u.symbol, state: "synced" });
        if (b.book) deps.onBook?.(b.book, u);
        return;
      }
      if (b.phase !== "synced") {
        dropped++;
        return;
      }
      if (!apply(b, u)) {
        sync.resync("book rejected an update", [u.symbol]);
        return;
      }
      deps.emit(u);
      if (b.book) deps.onBook?.(b.book, u);
    },
    phase: (product) => books.get(product)?.phase,
    dropped: () => dropped,
    stop: () => clearInterval(timer),
  };
  return sync;
}

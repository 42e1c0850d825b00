/**
 * The Coinbase feed's `run`: loads the product list, opens the connection,
 * and routes every mapped frame to the per-product state that keeps the output
 * whole: book sync (snapshot + updates, resync on sequence gaps), trade
 * continuity (dedupe, `gap` events), candle closing and quote dedupe. Channels
 * that fall silent while the connection lives are resubscribed.
 * @module
 */
import {
  backoffDelay,
  type Channel,
  type FeedContext,
  type FeedDeps,
  staleCheckEvery,
} from "../../mod.ts";
import { createBookSync } from "./books.ts";
import { createCandleTracker } from "./candles.ts";
import {
  type ChannelSubscription,
  type CoinbaseChannel,
  DATA_CHANNEL,
  planSubscriptions,
} from "./channels.ts";
import type { CoinbaseConfig } from "./config.ts";
import { loadInstruments } from "./instruments.ts";
import { type CoinbaseFrame, mapCoinbaseFrame } from "./mapper.ts";
import { chooseProducts } from "./products.ts";
import { createQuoteTracker } from "./quotes.ts";
import { createSession } from "./session.ts";
import { createTradeTracker } from "./trades.ts";

export type { FeedDeps } from "../../mod.ts";

/** Runs the Coinbase feed until `ctx.signal` aborts. Never throws on bad exchange data. */
export async function runCoinbaseFeed(
  ctx: FeedContext<CoinbaseConfig>,
  deps: Partial<FeedDeps> = {},
): Promise<void> {
  const cfg = ctx.config;
  const { log, signal } = ctx;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const backoff = { baseMs: cfg.backoffBaseMs, capMs: cfg.backoffCapMs };

  const info = await loadInstruments(ctx, {
    restUrl: cfg.restUrl,
    timeoutMs: cfg.restTimeoutMs,
    retryDelayMs: (attempt) => backoffDelay(attempt, backoff, random),
    fetch: deps.fetch,
  });
  if (!info) {
    ctx.status({ state: "stopped", reason: "aborted during start-up", emulator: cfg.emulator });
    return;
  }
  const emulator = cfg.emulator ?? info.emulatorHeader;
  if (emulator) {
    log.warn(
      `EMULATOR: this Coinbase feed is connected to a local emulator (${cfg.restUrl}, ${cfg.wsUrl}), not to the real exchange`,
    );
  }
  const choice = chooseProducts(ctx.symbols, info.instruments);
  if (choice.unknown.length > 0) {
    log.warn(`unknown Coinbase products skipped: ${choice.unknown.join(", ")}`, {
      symbols: choice.unknown,
    });
  }
  for (const [requested, streamed] of choice.aliased) {
    log.info(`${requested}: Coinbase publishes its market data as ${streamed}; streaming that`);
  }
  ctx.emit({
    type: "instruments",
    exchange: ctx.exchange,
    instruments: info.instruments,
    streamed: choice.streamed,
  });
  const channels = [...new Set(ctx.channels)];
  if (choice.streamed.length === 0 || channels.length === 0) {
    ctx.status({ state: "failed", reason: "no known product or channel to stream", emulator });
    await aborted(signal);
    return;
  }

  const products = choice.streamed;
  const plan = planSubscriptions(channels, products, cfg.quoteSource);
  const router = createRouter(ctx, products, channels, plan, now);
  const session = createSession({
    url: cfg.wsUrl,
    plan,
    deadAfterMs: cfg.deadAfterMs,
    backoff,
    connectTimeoutMs: cfg.connectTimeoutMs,
    sendLimit: { limit: cfg.messagesPerSecond, windowMs: cfg.sendWindowMs },
    emulator,
    now,
    random,
    log,
    map: router.map,
    onSubscribed: router.subscribed,
    onFrame: router.frame,
    onGap: router.gap,
    onInterrupted: router.interrupted,
    onStatus: (update) => ctx.status(update),
  });
  router.bind(session.resubscribe);
  session.start();
  const smallest = Math.min(
    ...plan.filter((s) => s.channel !== "heartbeats")
      .map((s) => router.staleLimit(s.channel)),
  );
  const monitor = setInterval(
    router.checkQuietChannels,
    staleCheckEvery(smallest),
  );

  await aborted(signal);
  clearInterval(monitor);
  router.stop();
  await session.stop();
  ctx.status({ state: "stopped", reason: "aborted", emulator });
}

/** Routes frames to the per-product state. */
interface Router {
  map(text: string, receiveTime: number): CoinbaseFrame;
  subscribed(): void;
  frame(frame: CoinbaseFrame, text: string): void;
  gap(reason: string): void;
  interrupted(reason: string): void;
  /** Connects the router to the session's resubscribe. */
  bind(resubscribe: (sub: ChannelSubscription) => boolean): void;
  staleLimit(channel: CoinbaseChannel): number;
  checkQuietChannels(): void;
  stop(): void;
}

function createRouter(
  ctx: FeedContext<CoinbaseConfig>,
  products: readonly string[],
  channels: readonly Channel[],
  plan: readonly ChannelSubscription[],
  now: () => number,
): Router {
  const cfg = ctx.config;
  const { log } = ctx;
  const productSet: ReadonlySet<string> = new Set(products);
  const has = new Set(channels);
  let resubscribe: (sub: ChannelSubscription) => boolean = () => false;
  const subscriptionOf = (channel: CoinbaseChannel) => plan.find((s) => s.channel === channel);

  const quotes = createQuoteTracker((q) => ctx.emit(q));
  const deriveQuotes = has.has("quote") && cfg.quoteSource === "book";
  const books = subscriptionOf("level2")
    ? createBookSync({
      products,
      emit: (u) => has.has("book") && ctx.emit(u),
      bookStatus: (u) => has.has("book") && ctx.bookStatus(u),
      resubscribe: (ids) => resubscribe({ channel: "level2", products: ids }),
      snapshotTimeoutMs: cfg.snapshotTimeoutMs,
      onBook: deriveQuotes ? (book, u) => quotes.onBook(book, u) : undefined,
      now,
      log,
    })
    : undefined;
  const trades = createTradeTracker({
    emit: (e) => ctx.emit(e),
    reportGaps: cfg.tradeGaps,
    now,
  });
  const candles = createCandleTracker((k) => ctx.emit(k));

  const staleLimit = (channel: CoinbaseChannel): number => {
    switch (channel) {
      case "level2":
        return has.has("book") ? cfg.staleMs.book : cfg.staleMs.quote;
      case "market_trades":
        return cfg.staleMs.trade;
      case "ticker":
        return cfg.staleMs.quote;
      case "candles":
        return cfg.staleMs.kline;
      default:
        return cfg.deadAfterMs;
    }
  };
  const watched = plan.filter((s) => s.channel !== "heartbeats");
  const lastSeen = new Map<string, number>(watched.map((s) => [DATA_CHANNEL[s.channel], now()]));

  return {
    map: (text, receiveTime) => mapCoinbaseFrame(text, receiveTime, productSet),
    subscribed() {
      const t = now();
      for (const key of lastSeen.keys()) lastSeen.set(key, t);
      books?.onSubscribed();
    },
    frame(f, text) {
      switch (f.kind) {
        case "book":
          lastSeen.set("l2_data", now());
          if (books) { for (const u of f.updates) books.onUpdate(u); }
          break;
        case "trades":
          lastSeen.set("market_trades", now());
          if (has.has("trade")) trades.onTrades(f.trades);
          break;
        case "quotes":
          lastSeen.set("ticker", now());
          if (has.has("quote") && !deriveQuotes) { for (const q of f.quotes) quotes.onTicker(q); }
          break;
        case "candles":
          lastSeen.set("candles", now());
          if (has.has("kline")) candles.onCandles(f.candles);
          break;
        case "malformed":
          ctx.malformed(f.reason, text);
          // A lost l2_data message leaves its books untrustworthy.
          if (f.channel === "l2_data") books?.resync(`malformed l2_data: ${f.reason}`, f.products);
          break;
      }
    },
    gap(reason) {
      books?.resync(reason);
    },
    interrupted(reason) {
      books?.onInterrupted(reason);
    },
    bind(fn) {
      resubscribe = fn;
    },
    staleLimit,
    checkQuietChannels() {
      const t = now();
      for (const sub of watched) {
        const key = DATA_CHANNEL[sub.channel];
        const silent = t - lastSeen.get(key)!;
        if (silent <= staleLimit(sub.channel)) continue;
        log.warn(`no ${key} message for ${silent} ms; resubscribing ${sub.channel}`, {
          channel: sub.channel,
          silentMs: silent,
        });
        lastSeen.set(key, t);
        if (sub.channel === "level2" && books) books.resync(`no l2_data for ${silent} ms`);
        else resubscribe(sub);
      }
    },
    stop() {
      books?.stop();
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

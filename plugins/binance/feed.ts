/**
 * The Binance feed's `run`: loads exchangeInfo, opens the combined-stream
 * connections, and routes every mapped frame to the per-symbol state that
 * keeps the output whole: trade continuity (backfill or `gap`), book sync
 * (snapshot + diffs, resync on gaps), and dedupe of quotes and klines while
 * two connections overlap.
 * @module
 */
import {
  backoffDelay,
  type Channel,
  type FeedContext,
  type FeedDeps,
  type KlineEvent,
  type QuoteEvent,
  staleCheckEvery,
} from "../../mod.ts";
import type { BinanceConfig } from "./config.ts";
import { createDepthSync, type DepthSync } from "./depth_sync.ts";
import { loadExchangeInfo } from "./instruments.ts";
import { type BinanceFrame, mapBinanceFrame } from "./mapper.ts";
import { createRestClient, depthWeight, type RestClient, WEIGHT } from "./rest.ts";
import { type DepthSnapshot, mapDepthSnapshot, mapRestTrade } from "./rest_mapper.ts";
import { createShard, type Shard } from "./shard.ts";
import { binanceSymbol, combinedStreamUrl, planConnections } from "./streams.ts";
import { createTradeTracker, type HistoryPage, type TradeTracker } from "./trades.ts";

export type { FeedDeps } from "../../mod.ts";

/** Live trades held per symbol while a hole is backfilled, at most. */
const MAX_HELD_TRADES = 50_000;
/** Diff events buffered per symbol while waiting for a snapshot, at most. */
const MAX_BUFFERED_DEPTH = 10_000;

/** Runs the Binance feed until `ctx.signal` aborts. Never throws on bad exchange data. */
export async function runBinanceFeed(
  ctx: FeedContext<BinanceConfig>,
  deps: Partial<FeedDeps> = {},
): Promise<void> {
  const cfg = ctx.config;
  const { log, signal } = ctx;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const backoff = { baseMs: cfg.backoffBaseMs, capMs: cfg.backoffCapMs };
  const retryDelayMs = (attempt: number) => backoffDelay(attempt, backoff, random);
  const wanted = [...new Set(ctx.symbols.map(binanceSymbol))];
  const channels = [...new Set(ctx.channels)];

  const rest = createRestClient({
    baseUrl: cfg.restUrl,
    weightPerMinute: cfg.restWeightPerMinute,
    signal,
    log,
    fetch: deps.fetch,
    now,
  });

  const info = await loadExchangeInfo(ctx, rest, wanted, retryDelayMs);
  if (!info) {
    await settle(rest);
    ctx.status({ state: "stopped", reason: "aborted during start-up", emulator: cfg.emulator });
    return;
  }
  const emulator = cfg.emulator ?? info.emulatorHeader;
  if (emulator) {
    log.warn(
      `EMULATOR: this Binance feed is connected to a local emulator (${cfg.restUrl}, ${cfg.wsUrl}), not to the real exchange`,
    );
  }
  if (info.unknown.length > 0) {
    log.warn(`unknown Binance symbols skipped: ${info.unknown.join(", ")}`, {
      symbols: info.unknown,
    });
  }
  ctx.emit({
    type: "instruments",
    exchange: ctx.exchange,
    instruments: info.instruments,
    streamed: info.streamed,
  });
  if (info.streamed.length === 0 || channels.length === 0) {
    ctx.status({ state: "failed", reason: "no known symbol or channel to stream", emulator });
    await aborted(signal);
    return await settle(rest);
  }

  const route = createRouter(ctx, rest, info.streamed, channels, now, retryDelayMs);
  const plans = planConnections(info.streamed, channels, cfg, cfg.maxStreamsPerConnection);
  const deadAfterMs = Math.min(...channels.map((c) => cfg.staleMs[c]));
  const shards: Shard[] = plans.map((plan, i) =>
    createShard({
      label: plans.length > 1 ? `connection ${i + 1}/${plans.length}: ` : "",
      url: combinedStreamUrl(cfg.wsUrl, plan.streams),
      streamCount: plan.streams.length,
      deadAfterMs,
      backoff,
      connectTimeoutMs: cfg.connectTimeoutMs,
      controlMessagesPerSecond: cfg.controlMessagesPerSecond,
      rotateAfterMs: cfg.rotateAfterMs,
      handoverTimeoutMs: cfg.handoverTimeoutMs,
      emulator,
      now,
      random,
      log,
      onFrame: route.frame,
      onStatus: (update) => ctx.status(update),
      onInterrupted: (reason) => route.interrupted(plan.symbols, reason),
    })
  );
  for (const shard of shards) shard.start();
  const monitor = setInterval(
    route.checkQuietChannels,
    staleCheckEvery(deadAfterMs),
  );

  await aborted(signal);
  clearInterval(monitor);
  await Promise.all(shards.map((s) => s.stop()));
  await settle(rest);
  ctx.status({ state: "stopped", reason: "aborted", emulator });
}

/** Routes mapped frames to the per-symbol state. */
interface Router {
  frame(text: string, receiveTime: number): BinanceFrame;
  interrupted(symbols: readonly string[], reason: string): void;
  checkQuietChannels(): void;
}

function createRouter(
  ctx: FeedContext<BinanceConfig>,
  rest: RestClient,
  symbols: readonly string[],
  channels: readonly Channel[],
  now: () => number,
  retryDelayMs: (attempt: number) => number,
): Router {
  const cfg = ctx.config;
  const { log, signal } = ctx;
  const symbolSet: ReadonlySet<string> = new Set(symbols);
  const has = new Set(channels);
  const trades = new Map<string, TradeTracker>();
  const books = new Map<string, DepthSync>();
  const lastQuote = new Map<string, number>();
  const lastKline = new Map<string, KlineEvent>();
  const lastSeen = new Map<Channel, number>(channels.map((c) => [c, now()]));
  const quiet = new Set<Channel>();

  const fetchSnapshot = async (symbol: string): Promise<DepthSnapshot | undefined> => {
    const limit = cfg.depthSnapshotLimit;
    const res = await rest.get("/api/v3/depth", { symbol, limit }, depthWeight(limit));
    if (!res.ok) {
      if (!signal.aborted) log.warn(`depth snapshot ${symbol} failed: ${res.reason}`);
      return undefined;
    }
    const snap = mapDepthSnapshot(res.body);
    if (!snap.ok) {
      ctx.malformed(snap.reason, JSON.stringify(res.body)?.slice(0, 512));
      return undefined;
    }
    return snap.value;
  };

  const fetchHistory = async (
    symbol: string,
    fromId: number,
    limit: number,
  ): Promise<HistoryPage> => {
    const res = await rest.get(
      "/api/v3/historicalTrades",
      { symbol, fromId, limit },
      WEIGHT.historicalTrades,
    );
    if (!res.ok) return { ok: false, reason: res.reason, retryable: res.retryable };
    if (!Array.isArray(res.body)) {
      ctx.malformed("historicalTrades: not an array", JSON.stringify(res.body)?.slice(0, 512));
      return { ok: false, reason: "malformed historicalTrades response", retryable: true };
    }
    const t = now();
    const page: HistoryPage & { ok: true } = { ok: true, trades: [] };
    for (const item of res.body) {
      const mapped = mapRestTrade(item, symbol, t);
      if (mapped.ok) page.trades.push(mapped.value);
      else ctx.malformed(mapped.reason, JSON.stringify(item)?.slice(0, 512));
    }
    return page;
  };

  for (const symbol of symbols) {
    if (has.has("trade")) {
      trades.set(
        symbol,
        createTradeTracker({
          symbol,
          emit: (e) => ctx.emit(e),
          fetchHistory: (fromId, limit) => fetchHistory(symbol, fromId, limit),
          backfillDelayMs: cfg.backfillDelayMs,
          backfillAttempts: cfg.backfillAttempts,
          retryDelayMs,
          maxHeld: MAX_HELD_TRADES,
          now,
          log,
          signal,
        }),
      );
    }
    if (has.has("book")) {
      books.set(
        symbol,
        createDepthSync({
          symbol,
          fetchSnapshot: () => fetchSnapshot(symbol),
          emit: (e) => ctx.emit(e),
          bookStatus: (u) => ctx.bookStatus(u),
          retryDelayMs,
          maxBuffered: MAX_BUFFERED_DEPTH,
          now,
          log,
          signal,
        }),
      );
    }
  }

  const seen = (channel: Channel, t: number) => {
    lastSeen.set(channel, t);
    if (quiet.delete(channel)) log.info(`${channel} data flowing again`);
  };

  const onQuote = (q: QuoteEvent) => {
    const last = lastQuote.get(q.symbol);
    if (last !== undefined && q.updateId! <= last) return; // seen on the other connection
    lastQuote.set(q.symbol, q.updateId!);
    ctx.emit(q);
  };

  const onKline = (k: KlineEvent) => {
    const last = lastKline.get(k.symbol);
    if (
      last !== undefined &&
      (k.eventTime < last.eventTime ||
        (k.eventTime === last.eventTime && k.openTime === last.openTime))
    ) return; // seen on the other connection
    lastKline.set(k.symbol, k);
    ctx.emit(k);
  };

  return {
    frame(text, receiveTime) {
      const f = mapBinanceFrame(text, receiveTime, symbolSet);
      switch (f.kind) {
        case "trade":
          seen("trade", receiveTime);
          trades.get(f.event.symbol)?.onLive(f.event);
          break;
        case "quote":
          seen("quote", receiveTime);
          if (has.has("quote")) onQuote(f.event);
          break;
        case "kline":
          seen("kline", receiveTime);
          if (has.has("kline")) onKline(f.event);
          break;
        case "depth":
          seen("book", receiveTime);
          books.get(f.event.symbol)?.onEvent(f.event);
          break;
        case "malformed":
          ctx.malformed(f.reason, text);
          break;
      }
      return f;
    },
    interrupted(affected, reason) {
      for (const symbol of affected) {
        books.get(symbol)?.onDisconnect(`stream interrupted: ${reason}`);
      }
    },
    checkQuietChannels() {
      const t = now();
      for (const channel of channels) {
        const silent = t - lastSeen.get(channel)!;
        if (silent > cfg.staleMs[channel] && !quiet.has(channel)) {
          quiet.add(channel);
          log.warn(`no ${channel} data for ${silent} ms (quiet market or stalled stream)`, {
            channel,
            silentMs: silent,
          });
        }
      }
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/** Waits (briefly) for in-flight REST calls to settle, so nothing outlives `run`. */
async function settle(rest: RestClient): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([rest.idle(), new Promise<void>((r) => (timer = setTimeout(r, 1000)))]);
  clearTimeout(timer);
}

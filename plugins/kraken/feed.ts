/**
 * The Kraken feed's `run`: detects the emulator, opens the connection, learns
 * the pairs from the `instrument` channel, subscribes the data channels, and
 * routes every mapped frame to the per-symbol state that keeps the output
 * whole: checksum-verified books (resynchronized by unsubscribe + subscribe on
 * a mismatch), trade continuity (dedupe, `gap` events) and closed candles.
 * @module
 */
import {
  type Channel,
  type FeedContext,
  type FeedDeps,
  type Instrument,
  instrumentRules,
  matchSymbols,
  unifiedName,
} from "../../mod.ts";
import { type BackoffOptions, reconnectDelay } from "./backoff.ts";
import { type BookSync, createBookSync } from "./book_sync.ts";
import type { KrakenConfig } from "./config.ts";
import { createKlineTracker } from "./klines.ts";
import {
  KLINE_INTERVALS,
  type KrakenAck,
  type KrakenFrame,
  type KrakenPair,
  mapKrakenFrame,
} from "./mapper.ts";
import { probeEmulator } from "./probe.ts";
import { createSession, type Session } from "./session.ts";
import {
  bookRequest,
  dataRequests,
  instrumentRequest,
  type KrakenRequest,
} from "./subscriptions.ts";
import { createTradeTracker } from "./trades.ts";

export type { FeedDeps } from "../../mod.ts";

/** Longest wait for the emulator probe at start-up, ms. */
const PROBE_TIMEOUT_MS = 3000;
/** Window over which repeated book resyncs of one symbol back off, ms. */
const RESYNC_WINDOW_MS = 60_000;

/** Runs the Kraken feed until `ctx.signal` aborts. Never throws on bad exchange data. */
export async function runKrakenFeed(
  ctx: FeedContext<KrakenConfig>,
  deps: Partial<FeedDeps> = {},
): Promise<void> {
  const cfg = ctx.config;
  const { log, signal } = ctx;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const emulator = cfg.emulator ??
    await probeEmulator(
      cfg.wsUrl,
      Math.min(cfg.connectTimeoutMs, PROBE_TIMEOUT_MS),
      signal,
      deps.fetch,
    );
  if (signal.aborted) {
    ctx.status({ state: "stopped", reason: "aborted during start-up", emulator });
    return;
  }
  if (emulator) {
    log.warn(
      `EMULATOR: this Kraken feed is connected to a local emulator (${cfg.wsUrl}), not to the real exchange`,
    );
  }
  const backoff: BackoffOptions = {
    baseMs: cfg.backoffBaseMs,
    capMs: cfg.backoffCapMs,
    immediateRetries: cfg.immediateRetries,
    maintenanceDelayMs: cfg.maintenanceRetryMs,
  };
  const router = createRouter(ctx, { emulator, now, random, backoff });
  const session = createSession({
    url: cfg.wsUrl,
    deadAfterMs: cfg.deadAfterMs,
    pingIntervalMs: cfg.pingIntervalMs,
    pongTimeoutMs: cfg.pongTimeoutMs,
    connectTimeoutMs: cfg.connectTimeoutMs,
    backoff,
    emulator,
    now,
    random,
    log,
    onOpen: router.opened,
    onFrame: router.frame,
    onStatus: (update) => ctx.status(update),
    onLost: router.lost,
  });
  router.attach(session);
  session.start();
  const monitor = setInterval(router.checkQuietChannels, 1000);

  await aborted(signal);
  clearInterval(monitor);
  router.stop();
  await session.stop();
  ctx.status({ state: "stopped", reason: "aborted", emulator });
}

/** A request waiting for its acknowledgements. */
type Pending =
  | { kind: "instrument" }
  | { kind: "data"; channel: string }
  | { kind: "resync-unsubscribe"; symbol: string }
  | { kind: "resync-subscribe"; symbol: string };

/** Routes mapped frames to the per-symbol state. */
interface Router {
  attach(session: Session): void;
  opened(): void;
  frame(text: string, receiveTime: number): KrakenFrame;
  lost(reason: string): void;
  checkQuietChannels(): void;
  stop(): void;
}

interface RouterOptions {
  emulator: boolean;
  now: () => number;
  random: () => number;
  backoff: BackoffOptions;
}

function createRouter(ctx: FeedContext<KrakenConfig>, o: RouterOptions): Router {
  const cfg = ctx.config;
  const { log } = ctx;
  const channels: Channel[] = [...new Set(ctx.channels)];
  const has = new Set(channels);
  const pairs = new Map<string, KrakenPair>();
  const symbols = new Set<string>();
  let streamed: string[] | undefined;
  let session!: Session;
  let connection = 0;
  let subscribedOn = -1;
  /** Connection on which the instrument snapshot last arrived. */
  let snapshotOn = -1;
  let interrupted = false;
  const pending = new Map<number, Pending>();
  const books = new Map<string, BookSync>();
  const resyncHistory = new Map<string, number[]>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const warned = new Set<string>();
  const lastSeen = new Map<Channel, number>(channels.map((c) => [c, o.now()]));
  const quiet = new Set<Channel>();
  const trades = createTradeTracker((e) => ctx.emit(e));
  const klines = createKlineTracker((e) => ctx.emit(e));

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const request = (body: KrakenRequest, what: Pending): void => {
    const reqId = session.nextReqId();
    pending.set(reqId, what);
    session.send({ ...body, req_id: reqId });
  };

  const seen = (channel: Channel, t: number) => {
    lastSeen.set(channel, t);
    if (quiet.delete(channel)) log.info(`${channel} data flowing again`);
  };

  /** First instrument snapshot: publish the instruments and pick what to stream. */
  const start = () => {
    const instruments: Instrument[] = [...pairs.values()].map((p) => ({
      symbol: p.symbol,
      base: p.base,
      quote: p.quote,
      unified: unifiedName(p.base, p.quote),
      pricePrecision: p.pricePrecision,
      quantityPrecision: p.qtyPrecision,
      ...instrumentRules({
        tickSize: p.priceIncrement,
        stepSize: p.qtyIncrement,
        minQuantity: p.qtyMin,
        minNotional: p.costMin,
      }),
    }));
    const match = matchSymbols(ctx.symbols, instruments);
    if (match.unknown.length > 0) {
      log.warn(`unknown Kraken symbols skipped: ${match.unknown.join(", ")}`, {
        symbols: match.unknown,
      });
    }
    streamed = match.streamed;
    for (const s of streamed) symbols.add(s);
    ctx.emit({ type: "instruments", exchange: ctx.exchange, instruments, streamed });
    if (streamed.length === 0 || channels.length === 0) {
      // Nothing can be streamed: stop connecting and report `failed` until aborted.
      const reason = "no known symbol or channel to stream";
      void session.stop().then(() => ctx.status({ state: "failed", reason, emulator: o.emulator }));
      return;
    }
    if (has.has("book")) {
      for (const symbol of streamed) {
        books.set(
          symbol,
          createBookSync({
            symbol,
            depth: cfg.bookDepth,
            precision: () => {
              const p = pairs.get(symbol);
              return p && { price: p.pricePrecision, qty: p.qtyPrecision };
            },
            emit: (e) => ctx.emit(e),
            bookStatus: (u) => ctx.bookStatus(u),
            resync: (reason) => resync(symbol, reason),
            log,
          }),
        );
      }
    }
  };

  const subscribeData = () => {
    if (!streamed || streamed.length === 0 || subscribedOn === connection) return;
    subscribedOn = connection;
    const requests = dataRequests({
      symbols: streamed,
      channels,
      bookDepth: cfg.bookDepth,
      klineMinutes: KLINE_INTERVALS.get(cfg.klineInterval)!,
      tradeSnapshot: interrupted,
    });
    for (const r of requests) request(r, { kind: "data", channel: String(r.params.channel) });
  };

  const onInstrument = (frame: Extract<KrakenFrame, { kind: "instrument" }>, text: string) => {
    for (const reason of frame.invalid) ctx.malformed(reason, text);
    if (frame.snapshot) pairs.clear();
    for (const p of frame.pairs) pairs.set(p.symbol, p);
    if (!frame.snapshot) return;
    snapshotOn = connection;
    if (streamed === undefined) start();
    subscribeData();
  };

  /** Book of `symbol` failed its checksum: unsubscribe, then subscribe again (after the ack). */
  const resync = (symbol: string, reason: string) => {
    const t = o.now();
    const history = (resyncHistory.get(symbol) ?? []).filter((at) => t - at < RESYNC_WINDOW_MS);
    history.push(t);
    resyncHistory.set(symbol, history);
    const delay = history.length <= 1 ? 0 : reconnectDelay(
      history.length - 2,
      { ...o.backoff, immediateRetries: 0, maintenanceDelayMs: 0 },
      false,
      o.random,
    );
    if (delay > 0) {
      log.info(`book ${symbol}: resync #${history.length} within a minute in ${delay} ms`);
    }
    const gen = connection;
    later(delay, () => {
      if (gen !== connection) return; // a reconnect resubscribes everything anyway
      request(bookRequest("unsubscribe", [symbol], cfg.bookDepth), {
        kind: "resync-unsubscribe",
        symbol,
      });
      later(cfg.resyncTimeoutMs, () => {
        if (gen === connection && books.get(symbol)?.state() !== "synced") {
          session.restart(
            `book ${symbol}: no snapshot within ${cfg.resyncTimeoutMs} ms of a resync (${reason})`,
          );
        }
      });
    });
  };

  const onAck = (ack: KrakenAck) => {
    const what = ack.reqId === undefined ? undefined : pending.get(ack.reqId);
    const label = `${ack.method} ${ack.channel ?? "?"}${ack.symbol ? " " + ack.symbol : ""}`;
    if (ack.success) {
      log.debug(`${label}: acknowledged`, { reqId: ack.reqId });
      for (const w of ack.warnings) {
        const key = `${ack.channel}: ${w}`;
        if (!warned.has(key)) {
          warned.add(key);
          log.info(`Kraken advisory for ${ack.channel}: ${w}`);
        }
      }
    } else {
      // Unsubscribing a book that is already gone is expected during a resync.
      const props = { reqId: ack.reqId, error: ack.error };
      if (what?.kind === "resync-unsubscribe") log.info(`${label} failed: ${ack.error}`, props);
      else log.error(`${label} failed: ${ack.error}`, props);
    }
    if (what?.kind === "resync-unsubscribe" && ack.method === "unsubscribe") {
      // Subscribed or not ("Subscription Not Found"), the book subscription is gone now.
      pending.delete(ack.reqId!);
      request(bookRequest("subscribe", [what.symbol], cfg.bookDepth), {
        kind: "resync-subscribe",
        symbol: what.symbol,
      });
    } else if (what?.kind === "resync-subscribe" && ack.method === "subscribe") {
      pending.delete(ack.reqId!);
      if (!ack.success) session.restart(`book ${what.symbol}: resubscribe refused (${ack.error})`);
    }
  };

  return {
    attach(s) {
      session = s;
    },
    opened() {
      connection++;
      pending.clear();
      request(instrumentRequest(), { kind: "instrument" });
      // Data is subscribed only after the instrument snapshot; if its reply is lost
      // (as when the server goes silent right after the connect), the connection
      // would stay open and empty for good (pongs keep it alive): reconnect instead.
      const gen = connection;
      later(cfg.resyncTimeoutMs, () => {
        if (gen === connection && snapshotOn !== gen) {
          session.restart(`no instrument snapshot within ${cfg.resyncTimeoutMs} ms of connecting`);
        }
      });
    },
    frame(text, receiveTime) {
      const f = mapKrakenFrame(text, receiveTime, symbols);
      switch (f.kind) {
        case "trades":
          seen("trade", receiveTime);
          if (has.has("trade")) trades.onTrades(f.events, receiveTime);
          break;
        case "quotes":
          seen("quote", receiveTime);
          if (has.has("quote")) { for (const e of f.events) ctx.emit(e); }
          break;
        case "klines":
          seen("kline", receiveTime);
          if (has.has("kline")) klines.onKlines(f.events);
          break;
        case "book":
          seen("book", receiveTime);
          for (const m of f.books) books.get(m.symbol)?.onMessage(m);
          break;
        case "instrument":
          onInstrument(f, text);
          break;
        case "ack":
          onAck(f.ack);
          break;
        case "error":
          log.warn(`Kraken rejected a request: ${f.message}`, { reqId: f.reqId });
          break;
        case "malformed":
          ctx.malformed(f.reason, text);
          break;
      }
      return f;
    },
    lost(reason) {
      connection++;
      interrupted = true;
      pending.clear();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const book of books.values()) book.onDisconnect(`connection lost: ${reason}`);
    },
    checkQuietChannels() {
      if (!streamed) return;
      const t = o.now();
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
    stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

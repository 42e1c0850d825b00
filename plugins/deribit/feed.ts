/**
 * The Deribit feed's `run`: one JSON-RPC 2.0 connection (the SDK's
 * `createReconnectingSocket`), `public/set_heartbeat` with every `test_request`
 * answered by `public/test`, the instrument list from `public/get_instruments`
 * (per currency and kind), the selection of what to stream, subscriptions spread
 * over several `public/subscribe` calls under Deribit's credit limits, and the
 * per-instrument books checked for `change_id` continuity (resynchronized by
 * unsubscribe + subscribe on a break).
 * @module
 */
import {
  type Channel,
  type Connection,
  createReconnectingSocket,
  type FeedContext,
  type FeedDeps,
  type Instrument,
  staleCheckEvery,
} from "../../mod.ts";
import { type BookSync, createBookSync } from "./book_sync.ts";
import type { DeribitConfig } from "./config.ts";
import { type DeribitFrame, mapDeribitFrame, mapInstruments } from "./mapper.ts";
import { createRpc, type Rpc, type RpcAnswer } from "./rpc.ts";
import { batches, channelsOf, selectInstruments } from "./selection.ts";

export type { FeedDeps } from "../../mod.ts";

/** Frame kinds that prove the connection delivers market data. */
const DELIVERING: ReadonlySet<DeribitFrame["kind"]> = new Set(["book", "trades", "ticker"]);

/**
 * Runs the Deribit feed until `ctx.signal` aborts. Never throws on bad exchange data.
 *
 * @example
 * ```ts ignore
 * import { deribit } from "./mod.ts";
 *
 * // The plugin's `run` is this function; the gateway calls it inside the plugin's Worker.
 * await deribit.run(ctx);
 * ```
 */
export async function runDeribitFeed(
  ctx: FeedContext<DeribitConfig>,
  deps: Partial<FeedDeps> = {},
): Promise<void> {
  const cfg = ctx.config;
  const { log, signal } = ctx;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const emulator = cfg.emulator;
  if (emulator) {
    log.warn(
      `EMULATOR: this Deribit feed is connected to a local emulator (${cfg.wsUrl}), not to the real exchange`,
    );
  }
  const channels: Channel[] = [...new Set(ctx.channels)].filter((c) => c !== "kline");
  if (ctx.channels.includes("kline")) log.info("Deribit: the kline channel is not streamed");
  const has = new Set(channels);
  const books = new Map<string, BookSync>();
  const indexes = new Map<string, number>(); // "btc_usd" → price
  let instruments: Instrument[] | undefined;
  let streamed: string[] | undefined;
  let connection = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const clearTimers = () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
  const status = (state: "connected" | "reconnecting" | "stale" | "connecting", reason?: string) =>
    ctx.status({ state, reason, emulator });

  const socket = createReconnectingSocket({
    url: cfg.wsUrl,
    connectTimeoutMs: cfg.connectTimeoutMs,
    deadAfterMs: cfg.deadAfterMs,
    staleCheckEveryMs: staleCheckEvery(cfg.deadAfterMs),
    backoff: { baseMs: cfg.backoffBaseMs, capMs: cfg.backoffCapMs },
    now,
    random,
    onOpen(conn) {
      connection++;
      rpc.reset();
      const n = socket.reconnects();
      status("connected", n > 0 ? `reconnected (#${n})` : "connection open");
      opened(conn);
    },
    onFrame(conn, text, receiveTime) {
      const f = onFrame(text, receiveTime);
      if (DELIVERING.has(f.kind)) socket.delivering(conn);
    },
    onStale: (reason) => status("stale", reason),
    onReconnecting(reason, delay, reconnects) {
      connection++;
      rpc.reset();
      clearTimers();
      for (const b of books.values()) b.onDisconnect(`connection lost: ${reason}`);
      log.warn(`${reason}; reconnect #${reconnects} in ${delay} ms`, { reconnects, delay });
      status("reconnecting", `${reason}; reconnect #${reconnects} in ${delay} ms`);
    },
  });

  const rpc: Rpc = createRpc({
    send: (text) => socket.send(text),
    now,
    credits: cfg.credits,
    subscribeCredits: cfg.subscribeCredits,
    timeoutMs: cfg.requestTimeoutMs,
    onTimeout: (method, id) =>
      socket.restart(`request ${id} (${method}) unanswered for ${cfg.requestTimeoutMs} ms`),
  });

  const failed = (what: string, a: RpcAnswer): a is Extract<RpcAnswer, { ok: false }> => {
    if (a.ok) return false;
    log.error(`${what} refused: ${a.code} ${a.message}`, { code: a.code });
    return true;
  };

  /** A connection opened: heartbeats, then the instruments (once) and the subscriptions. */
  const opened = (_conn: Connection) => {
    rpc.call("public/set_heartbeat", { interval: cfg.heartbeatSec }, (a) => {
      failed("public/set_heartbeat", a);
    });
    if (instruments) return subscribeAll();
    const gen = connection;
    const lists: Instrument[][] = [];
    let waiting = cfg.currencies.length * cfg.kinds.length;
    for (const currency of cfg.currencies) {
      for (const kind of cfg.kinds) {
        rpc.call("public/get_instruments", { currency, kind, expired: false }, (a) => {
          if (gen !== connection) return;
          if (!failed(`public/get_instruments ${currency} ${kind}`, a)) {
            const m = mapInstruments(a.result);
            for (const reason of m.invalid) ctx.malformed(`instrument: ${reason}`);
            lists.push(m.instruments);
          }
          if (--waiting === 0) indexThenSelect(lists.flat(), gen);
        });
      }
    }
  };

  /** The index of every currency (for the strikes nearest the money), then the selection. */
  const indexThenSelect = (list: Instrument[], gen: number) => {
    let waiting = cfg.currencies.length;
    for (const currency of cfg.currencies) {
      const name = `${currency.toLowerCase()}_usd`;
      rpc.call("public/get_index_price", { index_name: name }, (a) => {
        if (gen !== connection) return;
        const price = a.ok
          ? (a.result as { index_price?: unknown } | null)?.index_price
          : undefined;
        if (typeof price === "number" && price > 0) indexes.set(name, price);
        if (--waiting === 0) select(list);
      });
    }
  };

  const select = (list: Instrument[]) => {
    instruments = list;
    const index = new Map<string, number>();
    for (const c of cfg.currencies) {
      const p = indexes.get(`${c.toLowerCase()}_usd`);
      if (p !== undefined) index.set(c, p);
    }
    const s = selectInstruments({
      instruments: list,
      symbols: ctx.symbols,
      expiries: cfg.expiries,
      strikesPerExpiry: cfg.strikesPerExpiry,
      maxInstruments: cfg.maxInstruments,
      index,
    });
    if (s.unknown.length > 0 && s.streamed.length > 0) {
      log.info(`configured symbols that are not Deribit instruments: ${s.unknown.join(", ")}`);
    }
    streamed = s.streamed;
    ctx.emit({ type: "instruments", exchange: ctx.exchange, instruments: list, streamed });
    log.info(`Deribit: ${list.length} instruments listed, ${streamed.length} streamed`);
    if (streamed.length === 0 || channels.length === 0) {
      const reason = "no Deribit instrument or channel to stream";
      void socket.stop().then(() => ctx.status({ state: "failed", reason, emulator }));
      return;
    }
    if (has.has("book")) {
      for (const symbol of streamed) {
        books.set(
          symbol,
          createBookSync({
            symbol,
            emit: (e) => ctx.emit(e),
            bookStatus: (u) => ctx.bookStatus(u),
            resync: (reason) => resync(symbol, reason),
            log,
          }),
        );
      }
    }
    subscribeAll();
  };

  const subscribeAll = () => {
    if (!streamed) return;
    const names = streamed.flatMap((s) => channelsOf(s, channels));
    if (has.has("quote")) {
      for (const c of cfg.currencies) names.push(`deribit_price_index.${c.toLowerCase()}_usd`);
    }
    for (const batch of batches(names, cfg.channelsPerSubscribe)) {
      rpc.call("public/subscribe", { channels: batch }, (a) => {
        if (failed(`public/subscribe (${batch.length} channels)`, a)) return;
        const ok = Array.isArray(a.result) ? a.result.length : 0;
        if (ok < batch.length) log.warn(`subscribed ${ok} of ${batch.length} channels`);
      });
    }
  };

  /** A book broke continuity: unsubscribe, subscribe again; no snapshot in time reconnects. */
  const resync = (symbol: string, reason: string) => {
    const gen = connection;
    const channel = `book.${symbol}.100ms`;
    rpc.call("public/unsubscribe", { channels: [channel] }, () => {
      if (gen !== connection) return;
      rpc.call("public/subscribe", { channels: [channel] }, (a) => {
        if (gen === connection && failed(`resubscribe ${channel}`, a)) {
          socket.restart(`book ${symbol}: resubscribe refused`);
        }
      });
    });
    later(cfg.resyncTimeoutMs, () => {
      if (gen === connection && books.get(symbol)?.state() !== "synced") {
        socket.restart(`book ${symbol}: no snapshot within ${cfg.resyncTimeoutMs} ms (${reason})`);
      }
    });
  };

  const onFrame = (text: string, receiveTime: number): DeribitFrame => {
    const f = mapDeribitFrame(text, receiveTime);
    switch (f.kind) {
      case "book":
        books.get(f.book.symbol)?.onMessage(f.book);
        break;
      case "trades":
        if (has.has("trade")) { for (const e of f.events) ctx.emit(e); }
        break;
      case "ticker":
        if (has.has("quote") && f.event) {
          // A ticker without `index_price` gets the last `deribit_price_index` of its currency.
          if (f.event.option && f.event.option.indexPrice === undefined) {
            const index = indexes.get(`${f.symbol.split(/[-_]/)[0].toLowerCase()}_usd`);
            if (index !== undefined) f.event.option.indexPrice = index;
          }
          ctx.emit(f.event);
        }
        break;
      case "index":
        indexes.set(f.index.indexName, f.index.price);
        break;
      case "heartbeat":
        if (f.testRequest) rpc.call("public/test", {});
        break;
      case "result":
        rpc.answer(f.id, { ok: true, result: f.result });
        break;
      case "error":
        if (
          f.id === undefined || !rpc.answer(f.id, { ok: false, code: f.code, message: f.message })
        ) {
          log.warn(`Deribit error ${f.code}: ${f.message}`, { code: f.code });
        }
        break;
      case "malformed":
        ctx.malformed(f.reason, text);
        break;
    }
    return f;
  };

  status("connecting", cfg.wsUrl);
  socket.start();
  await aborted(signal);
  clearTimers();
  rpc.stop();
  await socket.stop();
  ctx.status({ state: "stopped", reason: "aborted", emulator });
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

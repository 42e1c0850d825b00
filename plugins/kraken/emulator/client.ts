/**
 * One client connection of the emulator: `status` on connect, requests
 * (`ping` → `pong`, per-symbol subscribe / unsubscribe acknowledgements and
 * failures), the data each subscription receives after a market tick (book
 * updates diffed against what the client holds at its depth, with checksums;
 * trades; best bid/offer tickers; candles), heartbeats once subscribed, and
 * the idle close after `idleTimeoutMs` without a client message.
 * @module
 */
// @ts-types="@types/ws"
import type { WebSocket } from "ws";
import type { BookSide } from "./book.ts";
import { type UnitLevel, unitsChecksum } from "./checksum.ts";
import type { SymbolMarket, TickResult } from "./market.ts";
import {
  type Bbo,
  bookMessage,
  HEARTBEAT,
  ohlcMessage,
  statusMessage,
  tickerMessage,
  tradeMessage,
} from "./payloads.ts";
import { createRng } from "../../../testing.ts";
import {
  acknowledgement,
  failure,
  parseRequest,
  type SubscriptionCommand,
  SYMBOL_CHANNELS,
  wireNow,
} from "./requests.ts";

/** What a connection needs from the emulator. */
export interface ClientDeps {
  ws: WebSocket;
  id: number;
  seed: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  market(symbol: string): SymbolMarket | undefined;
  /** The `instrument` snapshot message. */
  instrumentSnapshot(): string;
  /** Engine state for `status` messages. */
  system(): string;
  /** True while every outgoing frame is withheld. */
  silenced(): boolean;
  /** Consumes a pending checksum corruption of `symbol`. */
  takeCorruption(symbol: string): boolean;
  onClose(client: Client): void;
}

/** One subscription of a client. */
interface Subscription {
  channel: string;
  symbol: string;
  depth: number;
  interval: number;
  /** Book: the levels the client holds (its view, truncated to `depth`). */
  bids?: Map<number, number>;
  asks?: Map<number, number>;
  version?: number;
  /** Ticker: `bbo` (on best bid/offer changes) or `trades` (on trades). */
  trigger?: "trades" | "bbo";
  /** Ticker: the last best bid/offer sent. */
  bbo?: Bbo;
}

/** A live client connection. */
export interface Client {
  readonly id: number;
  /** Sends the data of one market tick of `market` to this client's subscriptions. */
  publish(market: SymbolMarket, tick: TickResult, nowMs: number): void;
  /** Sends raw text (faults, status broadcasts). */
  send(text: string): void;
  /** Sends a `status` message with the current engine state. */
  sendStatus(): void;
  /** Closes with a close frame, or (abrupt) destroys the TCP socket without one. */
  drop(abrupt: boolean, reason?: string): void;
  /** Subscription keys, e.g. `book:BTC/USD@100`. */
  subscriptions(): string[];
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Wraps an accepted WebSocket into a {@link Client}. */
export function attachClient(deps: ClientDeps): Client {
  const { ws } = deps;
  const rng = createRng(deps.seed ^ (deps.id * 0x9e3779b1));
  const subs = new Map<string, Subscription>();
  let closing = false;
  let lastSent = Date.now();
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;

  const send = (text: string): void => {
    if (closing || ws.readyState !== ws.OPEN || deps.silenced()) return;
    ws.send(text);
    lastSent = Date.now();
  };
  const reply = (value: Record<string, unknown>) => send(JSON.stringify(value));

  const closeGracefully = (code: number, reason: string): void => {
    if (closing) return;
    closing = true;
    ws.close(code, reason);
    graceTimer = setTimeout(() => ws.terminate(), 1000);
  };

  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(
      () => closeGracefully(1000, "idle timeout"),
      Math.min(deps.idleTimeoutMs, MAX_TIMER_MS),
    );
  };

  const startHeartbeats = () => {
    heartbeatTimer ??= setInterval(() => {
      if (Date.now() - lastSent >= deps.heartbeatMs * 0.9) send(HEARTBEAT);
    }, deps.heartbeatMs);
  };

  const keyOf = (channel: string, symbol: string, interval: number) =>
    channel === "ohlc" ? `ohlc:${symbol}@${interval}` : `${channel}:${symbol}`;

  // ---------------------------------------------------------------- data

  const bookSnapshot = (market: SymbolMarket, sub: Subscription, send_: boolean) => {
    const bids = market.bids.top(sub.depth), asks = market.asks.top(sub.depth);
    sub.bids = new Map(bids);
    sub.asks = new Map(asks);
    sub.version = market.version();
    if (!send_) return;
    send(bookMessage(
      market.spec,
      "snapshot",
      bids,
      asks,
      checksumFor(market.spec.symbol, asks, bids),
      Date.now() * 1000,
      rng.next() < 0.5,
    ));
  };

  const checksumFor = (symbol: string, asks: UnitLevel[], bids: UnitLevel[]): number => {
    const sum = unitsChecksum(asks, bids);
    return deps.takeCorruption(symbol) ? (sum ^ 0x5a5a5a5a) >>> 0 : sum;
  };

  /** Changes of one side against the client's view; levels that merely fall out of range are not sent. */
  const diff = (view: Map<number, number>, top: UnitLevel[], side: BookSide): UnitLevel[] => {
    const out: UnitLevel[] = [];
    const next = new Map(top);
    for (const price of view.keys()) {
      if (!next.has(price) && side.qty(price) === 0) out.push([price, 0]);
    }
    for (const [price, qty] of top) if (view.get(price) !== qty) out.push([price, qty]);
    view.clear();
    for (const [p, q] of top) view.set(p, q);
    // Kraken may update a price twice in one message: the last value counts.
    if (out.length > 0 && rng.next() < 0.1) out.unshift([out[0][0], out[0][1] + 1]);
    return out;
  };

  const bookUpdate = (market: SymbolMarket, sub: Subscription, timeUs: number) => {
    if (sub.version === market.version()) return;
    sub.version = market.version();
    const bidsTop = market.bids.top(sub.depth), asksTop = market.asks.top(sub.depth);
    const bids = diff(sub.bids!, bidsTop, market.bids);
    const asks = diff(sub.asks!, asksTop, market.asks);
    if (bids.length === 0 && asks.length === 0) return;
    send(bookMessage(
      market.spec,
      "update",
      bids,
      asks,
      checksumFor(market.spec.symbol, asksTop, bidsTop),
      timeUs,
      rng.next() < 0.5,
    ));
  };

  const bboOf = (market: SymbolMarket): Bbo | undefined => {
    const bid = market.bids.best(), ask = market.asks.best();
    if (bid === undefined || ask === undefined) return undefined;
    return { bid, bidQty: market.bids.qty(bid), ask, askQty: market.asks.qty(ask) };
  };

  const ticker = (
    market: SymbolMarket,
    sub: Subscription,
    type: "snapshot" | "update",
    traded = false,
  ) => {
    const bbo = bboOf(market);
    if (!bbo) return;
    const last = sub.bbo;
    if (type === "update" && sub.trigger === "trades" && !traded) return;
    if (
      type === "update" && sub.trigger === "bbo" && last && last.bid === bbo.bid &&
      last.bidQty === bbo.bidQty &&
      last.ask === bbo.ask && last.askQty === bbo.askQty
    ) return;
    sub.bbo = bbo;
    send(tickerMessage(market.spec, type, bbo, market.stats(), Date.now() * 1000));
  };

  // ---------------------------------------------------------------- requests

  const subscribe = (c: SubscriptionCommand, timeIn: string) => {
    if (!SYMBOL_CHANNELS.has(c.channel)) {
      const key = c.channel;
      if (subs.has(key)) {
        reply(failure("Already subscribed", { method: "subscribe", reqId: c.reqId, timeIn }));
        return;
      }
      subs.set(key, { channel: c.channel, symbol: "", depth: 0, interval: 0 });
      const snapshot = c.snapshot ?? true;
      const result: Record<string, unknown> = { channel: c.channel };
      if (c.channel === "instrument") result.snapshot = snapshot;
      reply(acknowledgement("subscribe", result, c.reqId, timeIn));
      if (c.channel === "instrument" && snapshot) send(deps.instrumentSnapshot());
      startHeartbeats();
      return;
    }
    for (const symbol of c.symbols) {
      const market = deps.market(symbol);
      if (!market) {
        reply(failure(`Currency pair not supported ${symbol}`, {
          method: "subscribe",
          symbol,
          reqId: c.reqId,
          timeIn,
        }));
        continue;
      }
      const key = keyOf(c.channel, symbol, c.interval);
      if (subs.has(key)) {
        reply(failure("Already subscribed", {
          method: "subscribe",
          symbol,
          reqId: c.reqId,
          timeIn,
        }));
        continue;
      }
      const sub: Subscription = {
        channel: c.channel,
        symbol,
        depth: c.depth,
        interval: c.interval,
        trigger: c.eventTrigger,
      };
      subs.set(key, sub);
      const snapshot = c.snapshot ?? c.channel !== "trade";
      const result: Record<string, unknown> = { channel: c.channel };
      if (c.channel === "book") result.depth = c.depth;
      if (c.channel === "ticker") result.event_trigger = c.eventTrigger;
      if (c.channel === "ohlc") result.interval = c.interval;
      result.snapshot = snapshot;
      result.symbol = symbol;
      if (c.channel === "ohlc") result.warnings = ["timestamp is deprecated, use interval_begin"];
      reply(acknowledgement("subscribe", result, c.reqId, timeIn));
      startHeartbeats();
      if (c.channel === "book") bookSnapshot(market, sub, snapshot);
      else if (c.channel === "ticker" && snapshot) ticker(market, sub, "snapshot");
      else if (c.channel === "trade" && snapshot) {
        const trades = market.recentTrades(50);
        if (trades.length > 0) send(tradeMessage(market.spec, "snapshot", trades));
      } else if (c.channel === "ohlc" && snapshot) {
        const candles = market.candles(c.interval);
        if (candles.length > 0) {
          send(ohlcMessage(market.spec, "snapshot", c.interval, candles, Date.now()));
        }
      }
    }
  };

  const unsubscribe = (c: SubscriptionCommand, timeIn: string) => {
    const symbols = SYMBOL_CHANNELS.has(c.channel) ? c.symbols : [""];
    for (const symbol of symbols) {
      const key = symbol === "" ? c.channel : keyOf(c.channel, symbol, c.interval);
      const sub = subs.get(key);
      if (!sub) {
        reply(failure("Subscription Not Found", {
          method: "unsubscribe",
          symbol: symbol || undefined,
          reqId: c.reqId,
          timeIn,
        }));
        continue;
      }
      subs.delete(key);
      const result: Record<string, unknown> = { channel: c.channel };
      if (c.channel === "book") result.depth = sub.depth;
      if (c.channel === "ohlc") result.interval = sub.interval;
      if (symbol) result.symbol = symbol;
      reply(acknowledgement("unsubscribe", result, c.reqId, timeIn));
    }
  };

  const onRequest = (text: string) => {
    const timeIn = wireNow();
    const parsed = parseRequest(text, timeIn);
    if (!parsed.ok) return reply(parsed.reply);
    const c = parsed.command;
    if (c.method === "ping") {
      const pong: Record<string, unknown> = { method: "pong" };
      if (c.reqId !== undefined) pong.req_id = c.reqId;
      pong.time_in = timeIn;
      pong.time_out = wireNow();
      return reply(pong);
    }
    if (c.method === "subscribe") subscribe(c, timeIn);
    else unsubscribe(c, timeIn);
  };

  ws.on("message", (data, isBinary) => {
    if (closing) return;
    armIdle();
    onRequest(isBinary ? "" : String(data));
  });
  ws.on("error", () => client.drop(true));
  ws.on("close", () => {
    closing = true;
    clearInterval(heartbeatTimer);
    clearTimeout(idleTimer);
    clearTimeout(graceTimer);
    deps.onClose(client);
  });

  const client: Client = {
    id: deps.id,
    publish(market, tick, nowMs) {
      if (closing) return;
      const symbol = market.spec.symbol;
      const timeUs = nowMs * 1000;
      if (tick.trades.length > 0 && subs.has(`trade:${symbol}`)) {
        send(tradeMessage(market.spec, "update", tick.trades));
      }
      const book = subs.get(`book:${symbol}`);
      if (book) bookUpdate(market, book, timeUs);
      const tick_ = subs.get(`ticker:${symbol}`);
      if (tick_) ticker(market, tick_, "update", tick.trades.length > 0);
      if (tick.trades.length > 0) {
        for (const sub of subs.values()) {
          if (sub.channel !== "ohlc" || sub.symbol !== symbol) continue;
          const candles = market.candles(sub.interval);
          const current = candles[candles.length - 1];
          if (current) send(ohlcMessage(market.spec, "update", sub.interval, [current], nowMs));
        }
      }
    },
    send,
    sendStatus: () => send(statusMessage(deps.system(), 13834774380200032777n + BigInt(deps.id))),
    drop(abrupt, reason = "going away") {
      if (abrupt) {
        closing = true;
        clearInterval(heartbeatTimer);
        clearTimeout(idleTimer);
        ws.terminate();
      } else closeGracefully(1001, reason);
    },
    subscriptions: () =>
      [...subs.entries()].map(([key, s]) => s.channel === "book" ? `${key}@${s.depth}` : key),
  };
  armIdle();
  client.sendStatus();
  return client;
}

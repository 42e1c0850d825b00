/**
 * Realistic recorded streams for history tests and benchmarks: Binance frames
 * from the Binance emulator's market and payload generators, mapped by the real
 * Binance mapper (so `raw` is the exchange's own payload), interleaved with a
 * second, synthetic exchange whose raw frames are arrays with string ids, and
 * with status changes, a book resync, a trade gap and instruments.
 */
import { createSymbolMarket } from "../../plugins/binance/emulator/market.ts";
import {
  bookTickerFrame,
  depthUpdateFrame,
  levelsJson,
  tradeFrame,
} from "../../plugins/binance/emulator/payloads.ts";
import { formatPrice, formatQty, symbolSpec } from "../../plugins/binance/emulator/symbols.ts";
import { mapBinanceFrame } from "../../plugins/binance/mapper.ts";
import type { BookUpdate, Level, TradeEvent } from "../../core/events.ts";
import type { FeedItem } from "../../core/feed/messages.ts";
import { createRng } from "../../testing.ts";

/** One item as the hub would hand it to the recorder. */
export interface HubItem {
  exchange: string;
  item: FeedItem;
  receiveTime: number;
}

/** What to generate. */
export interface StreamSpec {
  /** Start time, epoch ms. */
  start: number;
  /** Simulated seconds. */
  seconds: number;
  symbols?: string[];
  tradesPerSecond?: number;
  /** Add the second exchange and the side-band items (default true). */
  mixed?: boolean;
  /** Add best bid/offer quotes (default true). */
  quotes?: boolean;
  seed?: number;
}

const TICK_MS = 100;

function binanceSnapshot(
  symbol: string,
  state: { lastUpdateId: number; bids: [number, number][]; asks: [number, number][] },
  receiveTime: number,
): BookUpdate {
  const spec = symbolSpec(symbol);
  const toLevels = (ls: [number, number][]): Level[] =>
    ls.map(([p, q]) => [Number(formatPrice(spec, p)), Number(formatQty(spec, q))]);
  const raw = JSON.parse(
    `{"lastUpdateId":${state.lastUpdateId},"bids":${levelsJson(spec, state.bids)},"asks":${
      levelsJson(spec, state.asks)
    }}`,
  );
  return {
    type: "book",
    exchange: "binance",
    symbol,
    eventTime: receiveTime,
    receiveTime,
    snapshot: true,
    bids: toLevels(state.bids),
    asks: toLevels(state.asks),
    updateId: state.lastUpdateId,
    timestamp: new Date(receiveTime).toISOString(),
    raw,
  };
}

/**
 * Generates a stream in hub order. Also returns the raw frames (text) that produced
 * the Binance events, with their receive times, for the gzip'd-NDJSON comparison.
 */
export function generateStream(spec: StreamSpec): { items: HubItem[]; frames: string[] } {
  const symbols = spec.symbols ?? ["BTCUSDT", "ETHUSDT"];
  const mixed = spec.mixed ?? true;
  const quotes = spec.quotes ?? true;
  const items: HubItem[] = [];
  const frames: string[] = [];
  const rng = createRng(spec.seed ?? 7);
  const wanted = new Set(symbols);
  let now = spec.start;
  const pending: { symbol: string; text: string }[] = [];
  const windows = new Map<
    string,
    { bids: Map<number, number>; asks: Map<number, number>; first: number; last: number }
  >();
  const markets = symbols.map((symbol) =>
    createSymbolMarket(symbolSpec(symbol), {
      seed: spec.seed ?? 7,
      tickMs: TICK_MS,
      tradesPerSecond: spec.tradesPerSecond ?? 40,
      bookLevels: 200,
      tradeHistory: 1000,
      now,
    }, {
      trade(s, t) {
        pending.push({ symbol: s.symbol, text: tradeFrame(s, t, now, 1) });
      },
      aggTrade() {},
      bookChange(s, c) {
        let w = windows.get(s.symbol);
        if (!w) {
          windows.set(
            s.symbol,
            w = { bids: new Map(), asks: new Map(), first: c.updateId, last: c.updateId },
          );
        }
        (c.side === "bid" ? w.bids : w.asks).set(c.price, c.qty);
        w.last = c.updateId;
      },
      bbo(s, b) {
        if (quotes) pending.push({ symbol: s.symbol, text: bookTickerFrame(s, b) });
      },
      candleClosed() {},
    })
  );
  const push = (exchange: string, item: FeedItem, receiveTime: number) =>
    items.push({ exchange, item, receiveTime });
  if (mixed) {
    push("binance", { type: "status", state: "connected", emulator: true }, now);
    push("binance", {
      type: "instruments",
      exchange: "binance",
      // The first instrument carries the trading rules, the others the older shape
      // without them: both must come back as they were.
      instruments: symbols.map((s, i) => ({
        symbol: s,
        base: s.slice(0, -4),
        quote: "USDT",
        unified: `${s.slice(0, -4)}/USDT`,
        pricePrecision: symbolSpec(s).priceDecimals,
        ...(i === 0
          ? {
            tickSize: Number(symbolSpec(s).tickSize),
            stepSize: Number(symbolSpec(s).stepSize),
            minQuantity: Number(symbolSpec(s).stepSize),
            maxQuantity: Number(symbolSpec(s).maxQty),
            minNotional: Number(symbolSpec(s).minNotional),
          }
          : {}),
      })),
      streamed: symbols,
    }, now);
  }
  for (const m of markets) {
    push("binance", binanceSnapshot(m.spec.symbol, m.snapshot(1000), now), now);
  }
  let krakenTrade = 0;
  let krakenPrice = 61234.5;
  const ticks = Math.round(spec.seconds * 1000 / TICK_MS);
  for (let k = 0; k < ticks; k++) {
    now += TICK_MS;
    for (const m of markets) m.tick(now);
    for (const [symbol, w] of windows) {
      const side = (map: Map<number, number>) =>
        levelsJson(symbolSpec(symbol), [...map].sort((a, b) => a[0] - b[0]));
      pending.push({
        symbol,
        text: depthUpdateFrame(
          symbolSpec(symbol),
          now,
          w.first,
          w.last,
          side(w.bids),
          side(w.asks),
          1,
        ),
      });
    }
    windows.clear();
    for (let i = 0; i < pending.length; i++) {
      const { text } = pending[i];
      const receiveTime = now + Math.floor(i / 8);
      const mapped = mapBinanceFrame(text, receiveTime, wanted);
      if (mapped.kind === "trade" || mapped.kind === "quote" || mapped.kind === "depth") {
        frames.push(`${new Date(receiveTime).toISOString()} ${text}`);
        push("binance", mapped.event, receiveTime);
      }
    }
    pending.length = 0;
    if (!mixed) continue;
    // The second exchange: array frames, string ids, prices with 1 decimal.
    if (rng.next() < 0.5) {
      krakenPrice = Math.round((krakenPrice + (rng.next() - 0.5) * 4) * 10) / 10;
      const quantity = Math.round(rng.next() * 1e8) / 1e8 || 0.0001;
      const t = now + 3;
      const side = rng.next() < 0.5 ? "buy" : "sell";
      const trade: TradeEvent = {
        type: "trade",
        exchange: "kraken",
        symbol: "XBT/USD",
        eventTime: t - 1,
        receiveTime: t,
        price: krakenPrice,
        quantity,
        timestamp: new Date(t - 1).toISOString(),
        tradeId: `K${++krakenTrade}`,
        side,
        raw: [
          0,
          [[
            String(krakenPrice),
            quantity.toFixed(8),
            ((t - 1) / 1000).toFixed(6),
            side[0],
            "l",
            "",
          ]],
          "trade",
          "XBT/USD",
        ],
      };
      push("kraken", trade, t);
    }
    if (k === Math.floor(ticks / 3)) {
      push(
        "kraken",
        { type: "status", state: "reconnecting", reason: "socket closed (1006)" },
        now + 4,
      );
      push("kraken", {
        type: "gap",
        exchange: "kraken",
        symbol: "XBT/USD",
        channel: "trade",
        fromId: krakenTrade + 1,
        toId: krakenTrade + 3,
        reason: "reconnect",
        receiveTime: now + 5,
      }, now + 5);
      krakenTrade += 3;
      push("kraken", { type: "status", state: "connected" }, now + 6);
    }
    if (k === Math.floor(ticks / 2) && markets.length > 0) {
      const m = markets[0];
      push("binance", {
        type: "book_status",
        symbol: m.spec.symbol,
        state: "resyncing",
        reason: "gap in update ids",
      }, now + 7);
      push("binance", binanceSnapshot(m.spec.symbol, m.snapshot(1000), now + 8), now + 8);
    }
  }
  return { items, frames };
}

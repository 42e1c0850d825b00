/**
 * Wire frames exactly as Binance Spot sends them: decimals as padded strings,
 * times in ms (or µs with `timeUnit=MICROSECOND`, via the `tm` multiplier).
 * Built with string templates: each frame is serialized once per time unit.
 * @module
 */
import { formatUnits } from "./decimal.ts";
import type { Candle } from "./klines.ts";
import type { Bbo, MarketAggTrade, MarketTrade } from "./market.ts";
import { formatPrice, formatQty, type SymbolSpec, WIRE_DECIMALS } from "./symbols.ts";

/** Time multiplier: 1 for milliseconds, 1000 for microseconds. */
export type TimeMultiplier = 1 | 1000;

/** `[["price","qty"],...]` for levels in ticks/steps. */
export function levelsJson(
  spec: SymbolSpec,
  levels: ReadonlyArray<readonly [number, number]>,
): string {
  let out = "[";
  for (let i = 0; i < levels.length; i++) {
    if (i > 0) out += ",";
    out += `["${formatPrice(spec, levels[i][0])}","${formatQty(spec, levels[i][1])}"]`;
  }
  return out + "]";
}

/**
 * `<symbol>@trade` payload. With `stamp` (benchmarks), `,"<key>":<µs>` is appended as
 * the last field; `stamp.key` must already be a JSON string literal (quoted, escaped).
 */
export function tradeFrame(
  spec: SymbolSpec,
  t: MarketTrade,
  eventTime: number,
  tm: TimeMultiplier,
  stamp?: { key: string; us: number },
): string {
  return `{"e":"trade","E":${eventTime * tm},"s":"${spec.symbol}","t":${t.id},"p":"${
    formatPrice(spec, t.price)
  }","q":"${formatQty(spec, t.qty)}","T":${t.time * tm},"m":${t.buyerMaker},"M":true${
    stamp === undefined ? "" : `,${stamp.key}:${stamp.us}`
  }}`;
}

/** Now in whole µs since the epoch, from the high-resolution clock. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** `<symbol>@aggTrade` payload. */
export function aggTradeFrame(
  spec: SymbolSpec,
  a: MarketAggTrade,
  eventTime: number,
  tm: TimeMultiplier,
): string {
  return `{"e":"aggTrade","E":${eventTime * tm},"s":"${spec.symbol}","a":${a.id},"p":"${
    formatPrice(spec, a.price)
  }","q":"${formatQty(spec, a.qty)}","f":${a.firstId},"l":${a.lastId},"T":${
    a.time * tm
  },"m":${a.buyerMaker},"M":true}`;
}

/** `<symbol>@bookTicker` payload (no `e`/`E`). */
export function bookTickerFrame(spec: SymbolSpec, b: Bbo): string {
  return `{"u":${b.updateId},"s":"${spec.symbol}","b":"${formatPrice(spec, b.bidPrice)}","B":"${
    formatQty(spec, b.bidQty)
  }","a":"${formatPrice(spec, b.askPrice)}","A":"${formatQty(spec, b.askQty)}"}`;
}

/** `<symbol>@depth[@100ms]` diff payload; `bids`/`asks` are pre-rendered level arrays. */
export function depthUpdateFrame(
  spec: SymbolSpec,
  eventTime: number,
  firstId: number,
  lastId: number,
  bids: string,
  asks: string,
  tm: TimeMultiplier,
): string {
  return `{"e":"depthUpdate","E":${
    eventTime * tm
  },"s":"${spec.symbol}","U":${firstId},"u":${lastId},"b":${bids},"a":${asks}}`;
}

/** `<symbol>@depth<N>[@100ms]` partial book payload (no symbol, no time). */
export function partialDepthFrame(lastUpdateId: number, bids: string, asks: string): string {
  return `{"lastUpdateId":${lastUpdateId},"bids":${bids},"asks":${asks}}`;
}

/** `<symbol>@kline_<interval>` payload. */
export function klineFrame(
  spec: SymbolSpec,
  interval: string,
  c: Candle,
  eventTime: number,
  tm: TimeMultiplier,
): string {
  const qd = spec.priceDecimals + spec.qtyDecimals;
  return `{"e":"kline","E":${eventTime * tm},"s":"${spec.symbol}","k":{"t":${c.openTime * tm},"T":${
    c.closeTime * tm
  },"s":"${spec.symbol}","i":"${interval}","f":${c.firstTradeId},"L":${c.lastTradeId},"o":"${
    formatPrice(spec, c.open)
  }","c":"${formatPrice(spec, c.close)}","h":"${formatPrice(spec, c.high)}","l":"${
    formatPrice(spec, c.low)
  }","v":"${formatQty(spec, c.volume)}","n":${c.trades},"x":${c.closed},"q":"${
    formatUnits(c.quoteVolume, qd, WIRE_DECIMALS)
  }","V":"${formatQty(spec, c.takerBuyVolume)}","Q":"${
    formatUnits(c.takerBuyQuoteVolume, qd, WIRE_DECIMALS)
  }","B":"0"}}`;
}

/** `{"e":"serverShutdown","E":...}`. */
export function serverShutdownFrame(eventTime: number, tm: TimeMultiplier): string {
  return `{"e":"serverShutdown","E":${eventTime * tm}}`;
}

/** Combined-stream envelope `{"stream":"<name>","data":<raw>}`. */
export function combinedFrame(stream: string, raw: string): string {
  return `{"stream":"${stream}","data":${raw}}`;
}

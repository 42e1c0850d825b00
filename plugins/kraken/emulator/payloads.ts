/**
 * Kraken v2 message text as the emulator sends it: prices and quantities as
 * JSON numbers written from integer units (trimmed like `0.566` or padded like
 * `0.10000000`), RFC 3339 times with micro- or nanoseconds, and the
 * `connection_id` as an integer beyond 2^53.
 * @module
 */
import type { UnitLevel } from "./checksum.ts";
import { formatUnits, trimUnits } from "./decimal.ts";
import type { Candle, MarketStats, MarketTrade } from "./market.ts";
import type { PairSpec } from "./pairs.ts";

/** `2023-10-06T17:35:55.440295Z` from epoch microseconds. */
export function microTime(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().slice(0, 23) + String(us % 1000).padStart(3, "0") + "Z";
}

/** `2023-10-04T16:25:00.000000000Z` from epoch milliseconds. */
export function nanoTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23) + "000000Z";
}

/** A number written from units: trimmed, or padded to its precision. */
function num(units: number, decimals: number, padded = false): string {
  return padded ? formatUnits(units, decimals) : trimUnits(units, decimals);
}

/** `{"price":…,"qty":…}` list; `padQty` writes quantities with all their decimals. */
export function levelsText(spec: PairSpec, levels: readonly UnitLevel[], padQty: boolean): string {
  let s = "[";
  for (let i = 0; i < levels.length; i++) {
    if (i > 0) s += ",";
    s += `{"price":${num(levels[i][0], spec.pricePrecision)},"qty":${
      num(levels[i][1], spec.qtyPrecision, padQty)
    }}`;
  }
  return s + "]";
}

/** A `book` snapshot or update message. */
export function bookMessage(
  spec: PairSpec,
  type: "snapshot" | "update",
  bids: readonly UnitLevel[],
  asks: readonly UnitLevel[],
  checksum: number,
  timeUs: number,
  padQty: boolean,
): string {
  return `{"channel":"book","type":"${type}","data":[{"symbol":"${spec.symbol}","bids":${
    levelsText(spec, bids, padQty)
  },"asks":${levelsText(spec, asks, padQty)},"checksum":${checksum},"timestamp":"${
    microTime(timeUs)
  }"}]}`;
}

/** A `trade` message with one or more trades. */
export function tradeMessage(
  spec: PairSpec,
  type: "snapshot" | "update",
  trades: readonly MarketTrade[],
): string {
  const data = trades.map((t) =>
    `{"symbol":"${spec.symbol}","side":"${t.side}","price":${
      num(t.price, spec.pricePrecision)
    },"qty":${
      num(t.qty, spec.qtyPrecision)
    },"ord_type":"${t.ordType}","trade_id":${t.id},"timestamp":"${microTime(t.timeUs)}"}`
  );
  return `{"channel":"trade","type":"${type}","data":[${data.join(",")}]}`;
}

/** Best bid and offer, in units. */
export interface Bbo {
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
}

/** A `ticker` message (best bid/offer plus the running statistics). */
export function tickerMessage(
  spec: PairSpec,
  type: "snapshot" | "update",
  bbo: Bbo,
  stats: MarketStats | undefined,
  timeUs: number,
): string {
  const pp = spec.pricePrecision, qp = spec.qtyPrecision;
  const last = stats?.last ?? bbo.bid;
  const first = stats?.first ?? last;
  const volume = stats ? stats.volume / 10 ** qp : 0;
  const vwap = stats && stats.volume > 0 ? stats.notional / volume : last / 10 ** pp;
  const change = (last - first) / 10 ** pp;
  return `{"channel":"ticker","type":"${type}","data":[{"symbol":"${spec.symbol}","bid":${
    num(bbo.bid, pp)
  },"bid_qty":${num(bbo.bidQty, qp)},"ask":${num(bbo.ask, pp)},"ask_qty":${
    num(bbo.askQty, qp)
  },"last":${num(last, pp)},"volume":${num(stats?.volume ?? 0, qp)},"vwap":${
    vwap.toFixed(pp)
  },"low":${num(stats?.low ?? last, pp)},"high":${num(stats?.high ?? last, pp)},"change":${
    change.toFixed(pp)
  },"change_pct":${first > 0 ? (((last - first) / first) * 100).toFixed(2) : "0.00"},"timestamp":"${
    microTime(timeUs)
  }"}]}`;
}

/** An `ohlc` message with one or more candles of one interval. */
export function ohlcMessage(
  spec: PairSpec,
  type: "snapshot" | "update",
  interval: number,
  candles: readonly Candle[],
  nowMs: number,
): string {
  const pp = spec.pricePrecision, qp = spec.qtyPrecision;
  const data = candles.map((c) => {
    const vwap = c.volume > 0 ? (c.notional / (c.volume / 10 ** qp)).toFixed(pp) : "0";
    return `{"symbol":"${spec.symbol}","open":${num(c.open, pp)},"high":${num(c.high, pp)},"low":${
      num(c.low, pp)
    },"close":${num(c.close, pp)},"trades":${c.trades},"volume":${
      num(c.volume, qp)
    },"vwap":${vwap},"interval_begin":"${nanoTime(c.begin)}","interval":${interval},"timestamp":"${
      microTime((c.begin + interval * 60_000) * 1000)
    }"}`;
  });
  return `{"channel":"ohlc","type":"${type}","timestamp":"${nanoTime(nowMs)}","data":[${
    data.join(",")
  }]}`;
}

/** The `status` message sent on connect and on engine state changes. */
export function statusMessage(system: string, connectionId: bigint): string {
  return `{"channel":"status","data":[{"api_version":"v2","connection_id":${connectionId},"system":"${system}","version":"2.0.10"}],"type":"update"}`;
}

/** `{"channel":"heartbeat"}`. */
export const HEARTBEAT = `{"channel":"heartbeat"}`;

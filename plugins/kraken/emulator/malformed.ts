/**
 * Malformed frames for the `sendMalformed` fault: each breaks one rule a
 * client must check (JSON, types, finite positive prices, non-negative
 * quantities, known symbols, consistent candles).
 * @module
 */

/** `count` malformed frames, cycling through the kinds, for pair `symbol`. */
export function malformedFrames(count: number, symbol: string, nowMs: number): string[] {
  const ts = new Date(nowMs).toISOString();
  const kinds: string[] = [
    `{"channel":"trade","type":"update","data":[{"symbol":"${symbol}"`,
    `{"channel":"trade","type":"update","data":[{"symbol":"${symbol}","side":"buy","price":"100.5","qty":1.5,"ord_type":"market","trade_id":1,"timestamp":"${ts}"}]}`,
    `{"channel":"trade","type":"update","data":[{"symbol":"${symbol}","side":"sell","price":100.5,"qty":-1,"ord_type":"market","trade_id":1,"timestamp":"${ts}"}]}`,
    `{"channel":"book","type":"update","data":[{"symbol":"${symbol}","bids":[{"price":0,"qty":1}],"asks":[],"checksum":1,"timestamp":"${ts}"}]}`,
    `{"channel":"ticker","type":"update","data":[{"symbol":"XBT/USD","bid":1,"bid_qty":1,"ask":2,"ask_qty":1,"timestamp":"${ts}"}]}`,
    `{"channel":"ohlc","type":"update","timestamp":"${ts}","data":[{"symbol":"${symbol}","open":10,"high":9,"low":11,"close":10,"trades":1,"volume":1,"vwap":10,"interval_begin":"${ts}","interval":1}]}`,
    `{"channel":"book","type":"update","data":[{"symbol":"${symbol}","bids":[{"price":100}],"asks":[],"checksum":1}]}`,
    `{"channel":"trade","type":"update","data":[{"symbol":"${symbol}","side":"hold","price":100.5,"qty":1,"ord_type":"market","trade_id":1,"timestamp":"${ts}"}]}`,
    `[1,2,3]`,
    `{"channel":"nonsense","type":"update","data":[]}`,
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]);
}

/**
 * Malformed frames for the `sendMalformed` fault: each breaks one rule a client
 * must check (JSON, JSON-RPC shape, types, positive prices, known actions).
 * @module
 */

/** `count` malformed frames, cycling through the kinds, for `instrument`. */
export function malformedFrames(count: number, instrument: string, nowMs: number): string[] {
  const n = (channel: string, data: string) =>
    `{"jsonrpc":"2.0","method":"subscription","params":{"channel":"${channel}","data":${data}}}`;
  const kinds: string[] = [
    `{"jsonrpc":"2.0","method":"subscription","params":{"channel":`,
    n(
      `trades.${instrument}.100ms`,
      `[{"trade_id":"1","instrument_name":"${instrument}","price":"1","amount":1,"direction":"buy","timestamp":${nowMs}}]`,
    ),
    n(
      `trades.${instrument}.100ms`,
      `[{"trade_id":"1","instrument_name":"${instrument}","price":1,"amount":1,"direction":"hold","timestamp":${nowMs}}]`,
    ),
    n(
      `book.${instrument}.100ms`,
      `{"type":"change","instrument_name":"${instrument}","change_id":5,"prev_change_id":4,"timestamp":${nowMs},"bids":[["move",1,1]],"asks":[]}`,
    ),
    n(
      `book.${instrument}.100ms`,
      `{"type":"change","instrument_name":"${instrument}","change_id":5,"prev_change_id":4,"timestamp":${nowMs},"bids":[["new",-1,1]],"asks":[]}`,
    ),
    n(`ticker.${instrument}.100ms`, `{"instrument_name":"${instrument}"}`),
    `[1,2,3]`,
    n(`nonsense.${instrument}`, `{}`),
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]);
}

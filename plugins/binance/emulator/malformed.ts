/**
 * Malformed frames for the `sendMalformed` fault: each looks like a payload of
 * one of the connection's streams but is broken in one way (bad JSON, wrong
 * types, NaN, negative quantity, zero price, unknown symbol).
 * @module
 */
import { parseStream } from "./streams.ts";

/** How a frame is broken, cycled through in this order. */
export const MALFORMED_KINDS = [
  "badJson",
  "wrongTypes",
  "nan",
  "negativeQty",
  "zeroPrice",
  "unknownSymbol",
] as const;

/** One kind of breakage. */
export type MalformedKind = typeof MALFORMED_KINDS[number];

/** A frame ready to send (already wrapped when `combined`). */
export interface MalformedFrame {
  kind: MalformedKind;
  text: string;
}

type Json = Record<string, unknown>;

/** The price/qty pair broken the way `kind` says (unchanged for kinds that break something else). */
function brokenPair(kind: MalformedKind, price: string, qty: string): [unknown, unknown] {
  switch (kind) {
    case "wrongTypes":
      return [Number(price), Number(qty)];
    case "nan":
      return ["NaN", qty];
    case "negativeQty":
      return [price, "-" + qty];
    case "zeroPrice":
      return ["0.00000000", qty];
    default:
      return [price, qty];
  }
}

/** The payload of a broken frame for `stream` (symbol uppercase, time now). */
function brokenPayload(
  kind: MalformedKind,
  stream: string,
  fallbackSymbol: string,
  now: number,
): Json {
  const spec = parseStream(stream);
  const symbol = spec && spec.kind !== "silent" ? spec.symbol : fallbackSymbol;
  const s = kind === "unknownSymbol" ? "XXXMALFORMEDXXX" : symbol;
  const [p, q] = brokenPair(kind, "100.00000000", "1.00000000");
  switch (spec?.kind) {
    case "bookTicker":
      return { u: 1, s, b: p, B: q, a: "101.00000000", A: "1.00000000" };
    case "depth":
      return { e: "depthUpdate", E: now, s, U: 1, u: 1, b: [[p, q]], a: [] };
    case "partialDepth":
      // No symbol on the wire: an unknown-symbol frame becomes a wrong-typed one.
      return kind === "unknownSymbol"
        ? { lastUpdateId: "1", bids: [[100, 1]], asks: [] }
        : { lastUpdateId: 1, bids: [[p, q]], asks: [] };
    case "kline":
      return {
        e: "kline",
        E: now,
        s,
        k: { t: now, T: now, s, i: spec.interval, o: p, c: p, h: p, l: p, v: q, n: 1, x: false },
      };
    case "aggTrade":
      return { e: "aggTrade", E: now, s, a: 1, p, q, f: 1, l: 1, T: now, m: true, M: true };
    default:
      return {
        e: "trade",
        E: now,
        s,
        t: kind === "wrongTypes" ? "1" : 1,
        p,
        q,
        T: now,
        m: true,
        M: true,
      };
  }
}

/**
 * `count` broken frames for a connection subscribed to `streams` (cycling over
 * kinds and streams), wrapped as combined-stream envelopes when `combined`.
 */
export function malformedFrames(
  count: number,
  streams: readonly string[],
  combined: boolean,
  fallbackSymbol: string,
  now: number,
): MalformedFrame[] {
  const pool = streams.length > 0 ? streams : [`${fallbackSymbol.toLowerCase()}@trade`];
  const out: MalformedFrame[] = [];
  for (let i = 0; i < count; i++) {
    const kind = MALFORMED_KINDS[i % MALFORMED_KINDS.length];
    const stream = pool[i % pool.length];
    const payload = JSON.stringify(brokenPayload(kind, stream, fallbackSymbol, now));
    const text = combined ? `{"stream":"${stream}","data":${payload}}` : payload;
    out.push({
      kind,
      text: kind === "badJson" ? text.slice(0, Math.floor(text.length / 2)) : text,
    });
  }
  return out;
}

/**
 * Fast path for the most frequent Binance frame: a combined-stream diff-depth
 * event in the exact compact layout Binance sends,
 * `{"stream":"…","data":{"e":"depthUpdate","E":…,"s":"…","U":…,"u":…,"b":[["p","q"],…],"a":[…]}}`.
 *
 * It reads the text in place instead of `JSON.parse` + field checks, and
 * builds the same `raw` payload (same keys, order and string values) that
 * `JSON.parse` would. It only ever accepts: any deviation from that layout
 * (whitespace, another key order, extra keys, escapes, a sign, fraction or
 * exponent in an integer, a level that is not exactly two strings) or any value
 * the generic checks reject gives `undefined`, and the caller takes the generic
 * path, which then gives the verdict and the reason.
 * @module
 */
import type { Level } from "../../mod.ts";
import { isId, isTime } from "./checks.ts";

/** One price level as Binance sends it. */
export type RawLevel = [price: string, quantity: string];

/** A diff-depth payload, as `JSON.parse` would have produced it. */
export interface DepthPayload {
  e: "depthUpdate";
  E: number;
  s: string;
  U: number;
  u: number;
  b: RawLevel[];
  a: RawLevel[];
}

/** A depth frame the scanner accepted: the payload and its numeric levels. */
export interface ScannedDepth {
  raw: DepthPayload;
  bids: Level[];
  asks: Level[];
}

/** Exact powers of ten as doubles (10^0 … 10^22), as in `checks.ts`. */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);
const HEAD = '{"stream":"';
const BODY = '","data":{"e":"depthUpdate","E":';
const QUOTE = 34, COMMA = 44, OPEN = 91, CLOSE = 93, BRACE = 125, BACKSLASH = 92;

/** Read position of the frame being scanned (module state: the helpers allocate nothing). */
let at = 0;

/**
 * Scans `text` as a diff-depth frame for a symbol in `symbols`; `undefined`
 * unless the generic path would accept it with exactly this result.
 */
export function scanDepthUpdate(
  text: string,
  symbols: ReadonlySet<string>,
): ScannedDepth | undefined {
  const streamEnd = text.indexOf('"', HEAD.length);
  // The "d" of "depthUpdate" first: it turns other frames away in a few ns.
  if (text.charCodeAt(streamEnd + 15) !== 100) return undefined;
  if (!has(text, 0, HEAD) || !has(text, streamEnd, BODY)) return undefined;
  if (!plain(text, HEAD.length, streamEnd)) return undefined;

  at = streamEnd + BODY.length;
  const E = integer(text);
  if (!isTime(E) || !has(text, at, ',"s":"')) return undefined;
  const sStart = at + 6;
  const sEnd = text.indexOf('"', sStart);
  if (sEnd < 0 || !has(text, sEnd, '","U":') || !plain(text, sStart, sEnd)) {
    return undefined;
  }
  const s = text.slice(sStart, sEnd);
  if (!symbols.has(s)) return undefined;

  at = sEnd + 6;
  const U = integer(text);
  if (!isId(U) || !has(text, at, ',"u":')) return undefined;
  at += 5;
  const u = integer(text);
  if (!isId(u) || U > u || !has(text, at, ',"b":')) return undefined;
  at += 5;

  const b: RawLevel[] = [], bids: Level[] = [];
  if (!levels(text, b, bids) || !has(text, at, ',"a":')) return undefined;
  at += 5;
  const a: RawLevel[] = [], asks: Level[] = [];
  if (!levels(text, a, asks)) return undefined;
  if (
    at !== text.length - 2 || text.charCodeAt(at) !== BRACE || text.charCodeAt(at + 1) !== BRACE
  ) return undefined;

  return { raw: { e: "depthUpdate", E, s, U, u, b, a }, bids, asks };
}

/** True when `text` holds `literal` at `pos` (cheaper than `startsWith` on this hot path). */
function has(text: string, pos: number, literal: string): boolean {
  const n = literal.length;
  for (let j = 0; j < n; j++) {
    if (text.charCodeAt(pos + j) !== literal.charCodeAt(j)) return false;
  }
  return true;
}

/** True when `text[start, end)` is a JSON string body that needs no unescaping. */
function plain(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === BACKSLASH) return false;
  }
  return true;
}

/**
 * Reads a JSON integer of 1–15 digits at `at` (no sign, fraction, exponent or
 * leading zero, so it is exact) and moves past it; `NaN` for anything else.
 */
function integer(text: string): number {
  const start = at;
  let i = start;
  let m = 0;
  for (;;) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    m = m * 10 + d;
    i++;
  }
  const n = i - start;
  if (n === 0 || n > 15 || (n > 1 && text.charCodeAt(start) === 48)) return NaN;
  at = i;
  return m;
}

/**
 * Reads `[["p","q"],…]` at `at` into `raw` (strings) and `out` (numbers), with
 * the generic checks (price > 0, quantity >= 0, both finite); false on any
 * deviation.
 */
function levels(text: string, raw: RawLevel[], out: Level[]): boolean {
  if (text.charCodeAt(at) !== OPEN) return false;
  if (text.charCodeAt(at + 1) === CLOSE) {
    at += 2;
    return true;
  }
  let i = at + 1;
  for (;;) {
    if (text.charCodeAt(i) !== OPEN || text.charCodeAt(i + 1) !== QUOTE) return false;
    const pStart = i + 2;
    const p = decimal(text, pStart);
    const pEnd = at;
    if (
      text.charCodeAt(pEnd) !== QUOTE || text.charCodeAt(pEnd + 1) !== COMMA ||
      text.charCodeAt(pEnd + 2) !== QUOTE
    ) return false;
    const qStart = pEnd + 3;
    const q = decimal(text, qStart);
    const qEnd = at;
    if (text.charCodeAt(qEnd) !== QUOTE || text.charCodeAt(qEnd + 1) !== CLOSE) return false;
    // Both strings are digits and a dot, so the slices are the strings JSON.parse would give.
    if (!(p > 0 && p < Infinity && q >= 0 && q < Infinity)) return false;
    raw.push([text.slice(pStart, pEnd), text.slice(qStart, qEnd)]);
    out.push([p, q]);
    const next = text.charCodeAt(qEnd + 2);
    i = qEnd + 3;
    if (next === CLOSE) {
      at = i;
      return true;
    }
    if (next !== COMMA) return false;
  }
}

/**
 * Reads the run of digits (with at most one dot) at `start` and moves `at` to
 * its end; the caller checks that a closing quote is there. The value is what
 * `decimal()` in `checks.ts` gives for that string (the same digit-by-digit
 * arithmetic, so the same double): `NaN` for an empty run, a leading or
 * trailing dot, or more than 40 characters.
 */
function decimal(text: string, start: number): number {
  let m = 0;
  let i = start;
  let d = 0;
  for (;; i++) {
    d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    m = m * 10 + d;
  }
  let scale = 0;
  if (d === -2) {
    const dot = i;
    for (i++;; i++) {
      d = text.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) break;
      m = m * 10 + d;
    }
    scale = i - dot - 1;
    if (dot === start || scale === 0) {
      at = i;
      return NaN;
    }
  }
  at = i;
  const n = i - start;
  if (n === 0 || n > 40) return NaN;
  if (m > Number.MAX_SAFE_INTEGER || scale > 22) return +text.slice(start, i);
  return scale === 0 ? m : m / POW10[scale];
}

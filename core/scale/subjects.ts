/**
 * NATS subjects of the market-data log: `md.<exchange>.<channel>.<symbol>`, one
 * subject per stream so an edge subscribes only to what its clients follow.
 * Tokens never contain `.`, `*`, `>`, `%` or whitespace: those characters are
 * written `%XX` (so `BTC/USD` stays `BTC/USD`, `A.B` becomes `A%2EB`).
 * @module
 */

/** Channels of the market-data subjects. */
export type SubjectChannel =
  /** Trades and `gap` events of one symbol. */
  | "trade"
  | "quote"
  | "kline"
  /** Book deltas, the plugin's book snapshots and book status of one symbol. */
  | "book"
  /** The ingest's full book snapshot of one symbol, rolled up (only the newest kept). */
  | "booksnap"
  /** The feed's state (`FeedInfo`), rolled up; symbol token `_`. */
  | "status"
  /** The feed's own status events (connecting, connected, reconnecting, `emulator` flag) in order; `_`. */
  | "feed"
  /** The exchange's instrument list, rolled up; symbol token `_`. */
  | "instruments";

/** Prefix of every market-data subject. */
export const SUBJECT_PREFIX = "md";

/** Symbol token of the per-exchange subjects (`status`, `instruments`). */
export const EXCHANGE_TOKEN = "_";

const UNSAFE = /[.*>%\s]/g;

/** A name as a subject token (`.`, `*`, `>`, `%`, whitespace escaped as `%XX`). */
export function subjectToken(name: string): string {
  return name.replace(
    UNSAFE,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"),
  );
}

/** The name a {@link subjectToken} came from. */
export function tokenName(token: string): string {
  return token.includes("%") ? decodeURIComponent(token) : token;
}

/**
 * The subject of one stream.
 * @example
 * ```ts
 * subjectOf("binance", "trade", "BTCUSDT"); // "md.binance.trade.BTCUSDT"
 * subjectOf("kraken", "status");            // "md.kraken.status._"
 * ```
 */
export function subjectOf(exchange: string, channel: SubjectChannel, symbol?: string): string {
  return `${SUBJECT_PREFIX}.${subjectToken(exchange)}.${channel}.${
    symbol === undefined ? EXCHANGE_TOKEN : subjectToken(symbol)
  }`;
}

/** The parts of a market-data subject, or undefined if it is not one. */
export function parseSubject(
  subject: string,
): { exchange: string; channel: SubjectChannel; symbol?: string } | undefined {
  const parts = subject.split(".");
  if (parts.length !== 4 || parts[0] !== SUBJECT_PREFIX) return undefined;
  const channel = parts[2] as SubjectChannel;
  if (!CHANNELS.has(channel)) return undefined;
  return {
    exchange: tokenName(parts[1]),
    channel,
    symbol: parts[3] === EXCHANGE_TOKEN ? undefined : tokenName(parts[3]),
  };
}

const CHANNELS = new Set<string>([
  "trade",
  "quote",
  "kline",
  "book",
  "booksnap",
  "status",
  "feed",
  "instruments",
]);

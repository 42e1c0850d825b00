/**
 * Which Deribit instruments to stream (thousands are listed, mostly options) and
 * the channels that stream them, batched into `public/subscribe` calls.
 * @module
 */
import type { Channel, Instrument } from "../../mod.ts";

/** What the selection depends on. */
export interface SelectionInput {
  instruments: readonly Instrument[];
  /** Configured symbols (any spelling); those naming a Deribit instrument win. */
  symbols: readonly string[];
  /** `DERIBIT_EXPIRIES`: date codes (`27DEC26`) or a count of nearest expiries. */
  expiries: readonly string[];
  strikesPerExpiry: number;
  maxInstruments: number;
  /** Index price per currency (`BTC` → 100 000), for the strikes nearest the money. */
  index: ReadonlyMap<string, number>;
}

/** The streamed instruments and the configured names that matched none. */
export interface Selection {
  streamed: string[];
  unknown: string[];
}

/**
 * Deribit's date code of an expiry, e.g. `27DEC26` (day without a leading zero).
 *
 * @example
 * ```ts
 * import { expiryCode } from "./selection.ts";
 *
 * expiryCode(Date.UTC(2026, 11, 8, 8)); // "8DEC26"
 * ```
 */
export function expiryCode(expiry: number): string {
  const d = new Date(expiry);
  const month =
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"][
      d.getUTCMonth()
    ];
  return `${d.getUTCDate()}${month}${String(d.getUTCFullYear() % 100).padStart(2, "0")}`;
}

const expiryOf = (i: Instrument): number | undefined => {
  if (i.option) return i.option.expiry;
  const code = i.symbol.split("-")[1];
  return code && /^\d{1,2}[A-Z]{3}\d{2}$/.test(code)
    ? Date.parse(`${code.slice(0, -5)} ${code.slice(-5, -2)} 20${code.slice(-2)} 08:00 UTC`)
    : undefined;
};

/**
 * Picks the instruments to stream: the configured symbols that are Deribit names when
 * there are any; otherwise, per currency, the perpetual, the futures of the chosen
 * expiries and the `strikesPerExpiry` strikes nearest the index (calls and puts) of
 * each, at most `maxInstruments` in all.
 *
 * @example
 * ```ts
 * import { selectInstruments } from "./selection.ts";
 *
 * const s = selectInstruments({
 *   instruments: [{ symbol: "BTC-PERPETUAL", base: "BTC", quote: "USD", unified: "BTC-PERPETUAL", kind: "perpetual" }],
 *   symbols: ["BTCUSDT"], expiries: ["2"], strikesPerExpiry: 4, maxInstruments: 60, index: new Map(),
 * });
 * console.log(s.streamed); // ["BTC-PERPETUAL"]
 * ```
 */
export function selectInstruments(input: SelectionInput): Selection {
  const byName = new Map(input.instruments.map((i) => [i.symbol.toUpperCase(), i.symbol]));
  const named: string[] = [];
  const unknown: string[] = [];
  for (const s of input.symbols) {
    const hit = byName.get(s.trim().toUpperCase());
    if (hit) {
      if (!named.includes(hit)) named.push(hit);
    } else unknown.push(s);
  }
  if (named.length > 0) return { streamed: named.slice(0, input.maxInstruments), unknown };

  const out: string[] = [];
  const currencies = [...new Set(input.instruments.map((i) => i.base))];
  for (const currency of currencies) {
    const own = input.instruments.filter((i) => i.base === currency);
    const dated = [
      ...new Set(own.map(expiryOf).filter((e): e is number => e !== undefined)),
    ].sort((a, b) => a - b);
    const count = input.expiries.length === 1 && /^\d+$/.test(input.expiries[0])
      ? Number(input.expiries[0])
      : undefined;
    const codes = new Set(input.expiries.map((e) => e.toUpperCase()));
    const chosen = new Set(
      count !== undefined ? dated.slice(0, count) : dated.filter((e) => codes.has(expiryCode(e))),
    );
    for (const i of own) if (i.kind === "perpetual") out.push(i.symbol);
    for (const e of [...chosen].sort((a, b) => a - b)) {
      for (const i of own) if (i.kind === "future" && expiryOf(i) === e) out.push(i.symbol);
      const options = own.filter((i) => i.option?.expiry === e);
      const strikes = [...new Set(options.map((i) => i.option!.strike))];
      const index = input.index.get(currency);
      const centre = index ?? strikes.sort((a, b) => a - b)[Math.floor(strikes.length / 2)];
      const near = strikes.sort((a, b) => Math.abs(a - centre) - Math.abs(b - centre) || a - b)
        .slice(0, input.strikesPerExpiry).sort((a, b) => a - b);
      for (const k of near) {
        for (const type of ["call", "put"]) {
          const i = options.find((o) => o.option!.strike === k && o.option!.type === type);
          if (i) out.push(i.symbol);
        }
      }
    }
  }
  return { streamed: out.slice(0, input.maxInstruments), unknown };
}

/**
 * Deribit channel names of `channels` for one instrument (100 ms aggregation, no auth needed).
 *
 * @example
 * ```ts
 * import { channelsOf } from "./selection.ts";
 *
 * channelsOf("BTC-PERPETUAL", ["trade", "book"]); // ["trades.BTC-PERPETUAL.100ms", "book.BTC-PERPETUAL.100ms"]
 * ```
 */
export function channelsOf(symbol: string, channels: readonly Channel[]): string[] {
  const out: string[] = [];
  for (const c of channels) {
    if (c === "trade") out.push(`trades.${symbol}.100ms`);
    else if (c === "quote") out.push(`ticker.${symbol}.100ms`);
    else if (c === "book") out.push(`book.${symbol}.100ms`);
  }
  return out;
}

/**
 * Splits `channels` into `public/subscribe` batches of at most `perCall`.
 *
 * @example
 * ```ts
 * import { batches } from "./selection.ts";
 *
 * batches(["a", "b", "c"], 2); // [["a", "b"], ["c"]]
 * ```
 */
export function batches(channels: readonly string[], perCall: number): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < channels.length; i += perCall) out.push(channels.slice(i, i + perCall));
  return out;
}

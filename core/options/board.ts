/**
 * The options board of a gateway: the latest quote (with the venue's ticker fields) of every
 * option instrument, fed from the hub, and the chain, prices and surface computed from it on
 * demand. The surface of an underlying is refitted at most once per `surfaceTtlMs`.
 * @module
 */
import type { Instrument, QuoteEvent } from "../events.ts";
import type { Catalog } from "../market/catalog.ts";
import { type OptionRow, optionRow, smilesOf } from "./chain.ts";
import { buildSurface, type Surface } from "./surface.ts";

/** The chain of one expiry: strikes ascending, each with its call and put rows. */
export interface ChainExpiry {
  expiry: number;
  /** The venue's forward for the expiry (mean over its quotes), or null. */
  forward: number | null;
  strikes: { strike: number; call: OptionRow | null; put: OptionRow | null }[];
}

/** A fitted surface and when it was fitted. */
export interface FittedSurface {
  underlying: string;
  fittedAt: number;
  surface: Surface;
  /** Quotes used, per expiry. */
  points: { expiry: number; count: number }[];
}

/** The board. */
export interface OptionsBoard {
  /** Takes a quote (after the hub); keeps it when its instrument is an option. */
  onQuote(exchange: string, quote: QuoteEvent): void;
  /** Underlyings with at least one option instrument. */
  underlyings(): string[];
  /** The chain of an underlying (every expiry, or the one at `expiry` ms). */
  chain(underlying: string, now: number, expiry?: number): ChainExpiry[];
  /** The row of one instrument (any exchange listing it, or `exchange`'s). */
  row(instrument: string, now: number, exchange?: string): OptionRow | undefined;
  /** The surface of an underlying fitted to the chain's IVs; undefined when it cannot be fitted. */
  surface(underlying: string, now: number): FittedSurface | undefined;
}

interface Listed {
  exchange: string;
  instrument: Instrument & { option: NonNullable<Instrument["option"]> };
}

/**
 * Creates the board over the gateway's catalog (the instruments with option terms).
 * @example
 * ```ts ignore
 * const board = createOptionsBoard(catalog);
 * board.onQuote("deribit", quote);
 * board.chain("BTC", Date.now());
 * ```
 */
export function createOptionsBoard(catalog: Catalog, surfaceTtlMs = 1_000): OptionsBoard {
  const quotes = new Map<string, QuoteEvent>();
  const surfaces = new Map<string, FittedSurface>();

  const listed = (): Listed[] => {
    const out: Listed[] = [];
    for (const listing of catalog.listings()) {
      for (const instrument of listing.instruments) {
        if (instrument.option) {
          out.push({ exchange: listing.exchange, instrument: instrument as Listed["instrument"] });
        }
      }
    }
    return out;
  };
  const rowOf = (l: Listed, now: number) =>
    optionRow({
      exchange: l.exchange,
      instrument: l.instrument.symbol,
      terms: l.instrument.option,
      quote: quotes.get(`${l.exchange}|${l.instrument.symbol}`),
    }, now);
  const rowsOf = (underlying: string, now: number, expiry?: number) =>
    listed()
      .filter((l) =>
        l.instrument.option.underlying === underlying &&
        (expiry === undefined || l.instrument.option.expiry === expiry) &&
        l.instrument.option.expiry > now
      )
      .map((l) => rowOf(l, now));

  return {
    onQuote(exchange, quote) {
      if (quote.option === undefined) return;
      quotes.set(`${exchange}|${quote.symbol}`, quote);
    },
    underlyings: () => [...new Set(listed().map((l) => l.instrument.option.underlying))].sort(),
    chain(underlying, now, expiry) {
      const byExpiry = new Map<number, Map<number, ChainExpiry["strikes"][number]>>();
      const forwards = new Map<number, number[]>();
      for (const row of rowsOf(underlying, now, expiry)) {
        let strikes = byExpiry.get(row.expiry);
        if (!strikes) byExpiry.set(row.expiry, strikes = new Map());
        const line = strikes.get(row.strike) ?? { strike: row.strike, call: null, put: null };
        line[row.type] = row;
        strikes.set(row.strike, line);
        if (row.venue.forward !== null) {
          forwards.set(row.expiry, [...forwards.get(row.expiry) ?? [], row.venue.forward]);
        }
      }
      return [...byExpiry].sort((a, b) => a[0] - b[0]).map(([e, strikes]) => {
        const f = forwards.get(e);
        return {
          expiry: e,
          forward: f ? f.reduce((a, b) => a + b, 0) / f.length : null,
          strikes: [...strikes.values()].sort((a, b) => a.strike - b.strike),
        };
      });
    },
    row(instrument, now, exchange) {
      for (const ex of exchange === undefined ? catalog.exchanges() : [exchange]) {
        const found = catalog.instrument(ex, instrument);
        if (found?.option) {
          return rowOf({ exchange: ex, instrument: found as Listed["instrument"] }, now);
        }
      }
      return undefined;
    },
    surface(underlying, now) {
      const cached = surfaces.get(underlying);
      if (cached && now - cached.fittedAt < surfaceTtlMs && now >= cached.fittedAt) return cached;
      const smiles = smilesOf(rowsOf(underlying, now));
      try {
        const surface = buildSurface(smiles, now);
        const fitted: FittedSurface = {
          underlying,
          fittedAt: now,
          surface,
          points: smiles.map((s) => ({ expiry: s.expiry, count: s.points.length })),
        };
        surfaces.set(underlying, fitted);
        return fitted;
      } catch {
        return undefined; // no expiry with enough quotes yet
      }
    },
  };
}

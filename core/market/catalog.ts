/**
 * Which exchange streams which symbols, and how client-given names (native such
 * as `BTCUSDT`, or unified such as `BTC/USDT`) map to each exchange's own.
 * @module
 */
import type { Instrument } from "../events.ts";

/** One exchange's listing as `/api/symbols` shows it. */
export interface ExchangeListing {
  exchange: string;
  /** Instruments from the exchange's own metadata (empty until the feed reports them). */
  instruments: Instrument[];
  /** Native symbols the gateway streams. */
  streamed: string[];
}

/** The symbol catalog of one gateway. */
export interface Catalog {
  /** Configured exchange ids. */
  exchanges(): string[];
  /** Native symbol for a client-given name on `exchange`, if that exchange streams it. */
  resolve(exchange: string, name: string): string | undefined;
  /** Unified `BASE/QUOTE` name of a native symbol, if known. */
  unified(exchange: string, native: string): string | undefined;
  /** Records an exchange's instruments and the symbols its feed streams. */
  setInstruments(exchange: string, instruments: Instrument[], streamed: string[]): void;
  /** Every exchange's listing. */
  listings(): ExchangeListing[];
}

/** Creates a catalog; `configured` maps each exchange to the symbols configured for it. */
export function createCatalog(configured: Record<string, readonly string[]>): Catalog {
  const listings = new Map<string, ExchangeListing>();
  const byUnified = new Map<string, Map<string, string>>();
  const byNative = new Map<string, Map<string, Instrument>>();
  for (const [exchange, symbols] of Object.entries(configured)) {
    listings.set(exchange, {
      exchange,
      instruments: [],
      streamed: symbols.filter((s) => !s.includes("/")),
    });
    byUnified.set(exchange, new Map());
    byNative.set(exchange, new Map());
  }
  return {
    exchanges: () => [...listings.keys()],
    resolve(exchange, name) {
      const listing = listings.get(exchange);
      if (!listing) return undefined;
      const upper = name.toUpperCase();
      // Native, unified (BTC/USDT) or joined (BTCUSDT) names, once the instruments are known.
      const native = byUnified.get(exchange)?.get(upper) ?? upper;
      return listing.streamed.includes(native) ? native : undefined;
    },
    unified: (exchange, native) => byNative.get(exchange)?.get(native)?.unified,
    setInstruments(exchange, instruments, streamed) {
      const unified = new Map<string, string>();
      const native = new Map<string, Instrument>();
      // Client names resolve like configured ones: native, unified (BTC/USDT) or joined (BTCUSDT).
      for (const instrument of instruments) {
        const joined = (instrument.base + instrument.quote).toUpperCase();
        if (!unified.has(joined)) unified.set(joined, instrument.symbol);
        native.set(instrument.symbol, instrument);
      }
      for (const instrument of instruments) {
        unified.set(instrument.unified.toUpperCase(), instrument.symbol);
        unified.set(instrument.symbol.toUpperCase(), instrument.symbol);
      }
      byUnified.set(exchange, unified);
      byNative.set(exchange, native);
      listings.set(exchange, { exchange, instruments, streamed: [...streamed] });
    },
    listings: () => [...listings.values()],
  };
}

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
  /**
   * Native symbol for a client-given name on `exchange`, if that exchange streams it.
   * Until the exchange reports its instruments, a name matches a configured one written
   * any way (`BTC/USDT`, `BTCUSDT`, `BTC-USDT`) and resolves to the configured name; the
   * hub moves such subscriptions to the native symbol once the instruments arrive.
   */
  resolve(exchange: string, name: string): string | undefined;
  /**
   * Unified `BASE/QUOTE` name of a native symbol, if known (before the instruments arrive,
   * only for a configured name written as `BASE/QUOTE`).
   */
  unified(exchange: string, native: string): string | undefined;
  /** The instrument of a native symbol, once the exchange reported its instruments. */
  instrument(exchange: string, native: string): Instrument | undefined;
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
  /** Exchange → configured names by {@link canonical} form, until its instruments arrive. */
  const provisional = new Map<string, Map<string, string>>();
  for (const [exchange, symbols] of Object.entries(configured)) {
    listings.set(exchange, {
      exchange,
      instruments: [],
      streamed: symbols.filter((s) => !s.includes("/")),
    });
    byUnified.set(exchange, new Map());
    byNative.set(exchange, new Map());
    const names = new Map<string, string>();
    for (const symbol of symbols) {
      if (!names.has(canonical(symbol))) names.set(canonical(symbol), symbol);
    }
    provisional.set(exchange, names);
  }
  return {
    exchanges: () => [...listings.keys()],
    resolve(exchange, name) {
      const listing = listings.get(exchange);
      if (!listing) return undefined;
      const early = provisional.get(exchange);
      if (early) return early.get(canonical(name));
      const upper = name.toUpperCase();
      // Native, unified (BTC/USDT) or joined (BTCUSDT) names, once the instruments are known.
      const native = byUnified.get(exchange)?.get(upper) ?? upper;
      return listing.streamed.includes(native) ? native : undefined;
    },
    unified: (exchange, native) =>
      byNative.get(exchange)?.get(native)?.unified ??
        (native.includes("/") && provisional.get(exchange)?.has(canonical(native))
          ? native.toUpperCase()
          : undefined),
    instrument: (exchange, native) => byNative.get(exchange)?.get(native),
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
      provisional.delete(exchange);
      listings.set(exchange, { exchange, instruments, streamed: [...streamed] });
    },
    listings: () => [...listings.values()],
  };
}

/** A symbol name with case and `/` / `-` separators ignored: `btc/usdt` → `BTCUSDT`. */
function canonical(name: string): string {
  return name.toUpperCase().replace(/[/-]/g, "");
}

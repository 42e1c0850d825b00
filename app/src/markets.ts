/**
 * The unified symbol space from `GET /api/symbols`: every streamed unified name and, per name,
 * the exchanges that stream it with their native symbol and filters.
 *
 * @example
 * ```ts
 * const space = symbolSpace(await getJson("/api/symbols"));
 * space.native("binance", "BTC/USDT"); // "BTCUSDT"
 * ```
 */

/** One instrument as `/api/symbols` lists it. */
export interface Instrument {
  symbol: string;
  base: string;
  quote: string;
  unified: string;
  tickSize?: number;
  stepSize?: number;
  minQuantity?: number;
  minNotional?: number;
  pricePrecision?: number;
  quantityPrecision?: number;
}

/** The `/api/symbols` answer. */
export interface SymbolsAnswer {
  exchanges: { exchange: string; instruments: Instrument[]; streamed: string[] }[];
}

/** Streamed instruments by unified name and exchange. */
export interface SymbolSpace {
  /** Unified names streamed by at least one exchange, sorted. */
  unified: string[];
  /** Exchanges streaming `unified`. */
  exchangesOf(unified: string): string[];
  /** The exchange's instrument for `unified`, if it streams it. */
  instrument(exchange: string, unified: string): Instrument | undefined;
  /** The exchange's native symbol for `unified` (the unified name when unknown). */
  native(exchange: string, unified: string): string;
}

/** Builds the {@link SymbolSpace} from the `/api/symbols` answer. */
export function symbolSpace(answer: SymbolsAnswer): SymbolSpace {
  const byName = new Map<string, Map<string, Instrument>>();
  for (const ex of answer.exchanges ?? []) {
    const streamed = new Set(ex.streamed ?? []);
    for (const inst of ex.instruments ?? []) {
      if (!streamed.has(inst.symbol)) continue;
      const m = byName.get(inst.unified) ?? new Map<string, Instrument>();
      m.set(ex.exchange, inst);
      byName.set(inst.unified, m);
    }
  }
  return {
    unified: [...byName.keys()].sort(),
    exchangesOf: (u) => [...(byName.get(u)?.keys() ?? [])],
    instrument: (e, u) => byName.get(u)?.get(e),
    native: (e, u) => byName.get(u)?.get(e)?.symbol ?? u,
  };
}

/** The selection the app opens on: BTC/USDT (else the first name) on its first exchange. */
export function defaultSelection(
  space: SymbolSpace,
): { unified: string; exchange: string } | undefined {
  const unified = space.unified.includes("BTC/USDT") ? "BTC/USDT" : space.unified[0];
  const exchange = unified ? space.exchangesOf(unified)[0] : undefined;
  return unified && exchange ? { unified, exchange } : undefined;
}

/**
 * Instruments from `GET /api/v3/brokerage/market/products` (public): the pure
 * mapping of the response, and the choice of the products to stream.
 * @module
 */
import { type Instrument, instrumentRules, matchSymbols, positiveDecimal } from "../../mod.ts";
import { incrementDecimals, isRecord } from "./checks.ts";

/** Path of the public product list. */
export const PRODUCTS_PATH = "/api/v3/brokerage/market/products";

/** Result of mapping a REST payload: the value or why it was rejected. */
export type RestResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Maps a products response to instruments. Products without a product id, base
 * or quote are skipped (Coinbase also lists futures with other fields); the
 * price precision and tick size come from `price_increment` (or
 * `quote_increment`), the quantity precision and step size from
 * `base_increment`, the quantity bounds from `base_min_size`/`base_max_size`,
 * the minimum notional from `quote_min_size` (or `min_market_funds`). A rule
 * that is missing, zero or malformed is left out.
 */
export function mapProducts(body: unknown): RestResult<Instrument[]> {
  if (!isRecord(body) || !Array.isArray(body.products)) {
    return { ok: false, reason: "products: no products array" };
  }
  const out: Instrument[] = [];
  const seen = new Set<string>();
  for (const p of body.products) {
    const instrument = mapProduct(p);
    if (instrument && !seen.has(instrument.symbol)) {
      seen.add(instrument.symbol);
      out.push(instrument);
    }
  }
  return { ok: true, value: out };
}

function mapProduct(p: unknown): Instrument | undefined {
  if (!isRecord(p) || typeof p.product_id !== "string" || p.product_id === "") return undefined;
  const base = nonEmpty(p.base_currency_id) ?? nonEmpty(p.base_display_symbol);
  const quote = nonEmpty(p.quote_currency_id) ?? nonEmpty(p.quote_display_symbol);
  if (base === undefined || quote === undefined) return undefined;
  return {
    symbol: p.product_id,
    base,
    quote,
    unified: `${base.toUpperCase()}/${quote.toUpperCase()}`,
    pricePrecision: incrementDecimals(p.price_increment) ?? incrementDecimals(p.quote_increment),
    quantityPrecision: incrementDecimals(p.base_increment),
    ...instrumentRules({
      tickSize: positiveDecimal(p.price_increment) ?? p.quote_increment,
      stepSize: p.base_increment,
      minQuantity: p.base_min_size,
      maxQuantity: p.base_max_size,
      // Advanced Trade says quote_min_size; the Exchange API's products say min_market_funds.
      minNotional: positiveDecimal(p.quote_min_size) ?? p.min_market_funds,
    }),
  };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Products to stream for the configured names, and what was skipped or replaced. */
export interface StreamChoice {
  /** Native product ids to subscribe, without duplicates. */
  streamed: string[];
  /** Configured names Coinbase does not list. */
  unknown: string[];
  /** `-USDC` products replaced by their `-USD` twin (requested → streamed). */
  aliased: Array<[string, string]>;
}

/** Stablecoin pairs that keep their own `-USDC` market data. */
const OWN_USDC_DATA: ReadonlySet<string> = new Set(["USDT-USDC", "EURC-USDC"]);

/**
 * Matches configured names (native, unified or joined) against the instruments.
 * On non-user channels Coinbase publishes `-USDC` products as the corresponding
 * `-USD` product (USDT-USDC and EURC-USDC excepted), so such a product is
 * streamed as its `-USD` twin when that is listed.
 */
export function chooseProducts(
  configured: readonly string[],
  instruments: readonly Instrument[],
): StreamChoice {
  const { streamed, unknown } = matchSymbols(configured, instruments);
  const listed = new Set(instruments.map((i) => i.symbol));
  const out: string[] = [];
  const aliased: Array<[string, string]> = [];
  for (const id of streamed) {
    let target = id;
    if (id.endsWith("-USDC") && !OWN_USDC_DATA.has(id)) {
      const twin = id.slice(0, -1);
      if (listed.has(twin)) {
        target = twin;
        aliased.push([id, twin]);
      }
    }
    if (!out.includes(target)) out.push(target);
  }
  return { streamed: out, unknown, aliased };
}

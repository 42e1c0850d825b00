/**
 * The pairs the emulator lists on its `instrument` channel, with Kraken's
 * precisions and increments, and the instrument payloads.
 * @module
 */

/** One listed pair. Prices are integer ticks (10^-pricePrecision), quantities integer units (10^-qtyPrecision). */
export interface PairSpec {
  symbol: string;
  base: string;
  quote: string;
  pricePrecision: number;
  qtyPrecision: number;
  /** Smallest order size, in base units. */
  qtyMin: number;
  costPrecision: number;
  costMin: number;
  /** Starting price. */
  startPrice: number;
}

/** The default pairs (precisions as Kraken lists them). */
export const DEFAULT_PAIRS: readonly PairSpec[] = [
  spec("BTC/USD", 1, 8, 0.00005, 60_000),
  spec("ETH/USD", 2, 8, 0.002, 3_000),
  spec("SOL/USD", 2, 8, 0.02, 150),
  spec("BTC/USDT", 1, 8, 0.00005, 60_010),
  spec("ETH/USDT", 2, 8, 0.002, 3_001),
  spec("ADA/USD", 6, 8, 5, 0.45),
];

function spec(
  symbol: string,
  pricePrecision: number,
  qtyPrecision: number,
  qtyMin: number,
  startPrice: number,
): PairSpec {
  const [base, quote] = symbol.split("/");
  return {
    symbol,
    base,
    quote,
    pricePrecision,
    qtyPrecision,
    qtyMin,
    costPrecision: 5,
    costMin: 0.5,
    startPrice,
  };
}

/** The spec of `symbol`, if listed. */
export function pairSpec(symbol: string): PairSpec | undefined {
  return DEFAULT_PAIRS.find((p) => p.symbol === symbol);
}

/** One `data.pairs[]` entry as Kraken sends it. */
export function pairPayload(p: PairSpec): Record<string, unknown> {
  const increment = (decimals: number) => Number(`1e-${decimals}`);
  return {
    symbol: p.symbol,
    base: p.base,
    quote: p.quote,
    status: "online",
    qty_precision: p.qtyPrecision,
    qty_increment: increment(p.qtyPrecision),
    price_precision: p.pricePrecision,
    cost_precision: p.costPrecision,
    marginable: p.quote === "USD",
    has_index: true,
    cost_min: p.costMin,
    tick_size: increment(p.pricePrecision),
    price_increment: increment(p.pricePrecision),
    qty_min: p.qtyMin,
  };
}

/** One `data.assets[]` entry. */
export function assetPayload(id: string): Record<string, unknown> {
  const fiat = id === "USD" || id === "USDT";
  return {
    id,
    status: "enabled",
    precision: fiat ? 4 : 10,
    precision_display: fiat ? 2 : 5,
    borrowable: !fiat,
    collateral_value: fiat ? 1 : 0.9,
    margin_rate: fiat ? 0 : 0.02,
  };
}

/**
 * Instrument definitions of the emulated market: tick/step sizes, assets and a
 * starting price per symbol. Known symbols use Binance's real filters; any other
 * symbol gets sane derived defaults.
 * @module
 */
import { hashString } from "../../../testing.ts";
import { formatUnits } from "./decimal.ts";

/** Precision Binance prints prices and quantities with (strings padded to it). */
export const WIRE_DECIMALS = 8;

/** One listed symbol. Prices are integer ticks, quantities integer steps. */
export interface SymbolSpec {
  /** Uppercase symbol, e.g. `BTCUSDT`. */
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** Decimals of the tick size: a price of `n` ticks is `n × 10^-priceDecimals`. */
  priceDecimals: number;
  /** Decimals of the step size: a quantity of `n` steps is `n × 10^-qtyDecimals`. */
  qtyDecimals: number;
  /** `PRICE_FILTER.tickSize`, e.g. `"0.01000000"`. */
  tickSize: string;
  /** `LOT_SIZE.stepSize`, e.g. `"0.00001000"` (also `LOT_SIZE.minQty`: Binance sets them equal). */
  stepSize: string;
  /** `LOT_SIZE.maxQty`, e.g. `"9000.00000000"`. */
  maxQty: string;
  /** `NOTIONAL.minNotional`, e.g. `"5.00000000"` (in the quote asset). */
  minNotional: string;
  /** Starting mid price in ticks. */
  startTicks: number;
}

interface KnownSymbol {
  base: string;
  quote: string;
  price: number;
  priceDecimals: number;
  qtyDecimals: number;
  /** `LOT_SIZE.maxQty` in whole base units. */
  maxQty: number;
}

const KNOWN: Readonly<Record<string, KnownSymbol>> = {
  BTCUSDT: known("BTC", "USDT", 60000, 2, 5, 9000),
  ETHUSDT: known("ETH", "USDT", 3000, 2, 4, 9000),
  SOLUSDT: known("SOL", "USDT", 150, 2, 3, 9000),
  ADAUSDT: known("ADA", "USDT", 0.45, 4, 1, 900_000),
  BNBUSDT: known("BNB", "USDT", 600, 2, 3, 9000),
  XRPUSDT: known("XRP", "USDT", 0.6, 4, 0, 9_222_449),
  DOGEUSDT: known("DOGE", "USDT", 0.15, 5, 0, 9_000_000),
  ETHBTC: known("ETH", "BTC", 0.05, 5, 4, 100_000),
  BNBBTC: known("BNB", "BTC", 0.0095, 6, 3, 100_000),
};

function known(
  base: string,
  quote: string,
  price: number,
  priceDecimals: number,
  qtyDecimals: number,
  maxQty: number,
): KnownSymbol {
  return { base, quote, price, priceDecimals, qtyDecimals, maxQty };
}

/**
 * `NOTIONAL.minNotional` by quote asset, as `[units, decimals]` (`[1, 4]` is
 * 0.0001): Binance asks 5 of a dollar-like quote, 0.0001 BTC, 0.001 ETH, 0.01 BNB.
 */
const MIN_NOTIONAL: Readonly<Record<string, [number, number]>> = {
  BTC: [1, 4],
  ETH: [1, 3],
  BNB: [1, 2],
};
const DEFAULT_MIN_NOTIONAL: [number, number] = [5, 0];

const QUOTES = [
  "FDUSD",
  "USDT",
  "USDC",
  "TUSD",
  "BUSD",
  "BTC",
  "ETH",
  "BNB",
  "EUR",
  "TRY",
  "BRL",
  "JPY",
  "DAI",
];

/** Default symbols of the emulator. */
export const DEFAULT_SYMBOLS: readonly string[] = [
  "BTCUSDT",
  "ETHUSDT",
  "SOLUSDT",
  "ADAUSDT",
];

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Splits `BTCUSDT` into `["BTC","USDT"]` by known quote assets (fallback: last 4 letters). */
function splitAssets(symbol: string): [string, string] {
  for (const q of QUOTES) {
    if (symbol.length > q.length && symbol.endsWith(q)) {
      return [symbol.slice(0, -q.length), q];
    }
  }
  const cut = Math.max(1, symbol.length - 4);
  return [symbol.slice(0, cut), symbol.slice(cut)];
}

/** The spec of `symbol` (uppercase): Binance's real filters when known, derived defaults otherwise. */
export function symbolSpec(symbol: string): SymbolSpec {
  const known = KNOWN[symbol];
  let info: KnownSymbol;
  if (known) {
    info = known;
  } else {
    const [base, quote] = splitAssets(symbol);
    // Price between 0.1 and 1000, fixed by the name; ~5 significant digits.
    const price = Math.pow(10, (hashString(symbol) / 4294967296) * 4 - 1);
    const magnitude = Math.floor(Math.log10(price));
    info = {
      base,
      quote,
      price,
      priceDecimals: clamp(4 - magnitude, 0, 8),
      qtyDecimals: clamp(magnitude + 3, 0, 8),
      maxQty: 9_000_000,
    };
  }
  const [notional, notionalDecimals] = MIN_NOTIONAL[info.quote] ?? DEFAULT_MIN_NOTIONAL;
  return {
    symbol,
    baseAsset: info.base,
    quoteAsset: info.quote,
    priceDecimals: info.priceDecimals,
    qtyDecimals: info.qtyDecimals,
    tickSize: formatUnits(1, info.priceDecimals, WIRE_DECIMALS),
    stepSize: formatUnits(1, info.qtyDecimals, WIRE_DECIMALS),
    maxQty: formatUnits(info.maxQty, 0, WIRE_DECIMALS),
    minNotional: formatUnits(notional, notionalDecimals, WIRE_DECIMALS),
    startTicks: Math.round(info.price * Math.pow(10, info.priceDecimals)),
  };
}

/** Formats a price in ticks as Binance does, e.g. `"51042.94000000"`. */
export function formatPrice(spec: SymbolSpec, ticks: number): string {
  return formatUnits(ticks, spec.priceDecimals, WIRE_DECIMALS);
}

/** Formats a quantity in steps as Binance does, e.g. `"0.00100000"`. */
export function formatQty(spec: SymbolSpec, steps: number): string {
  return formatUnits(steps, spec.qtyDecimals, WIRE_DECIMALS);
}

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
  /** `LOT_SIZE.stepSize`, e.g. `"0.00001000"`. */
  stepSize: string;
  /** Starting mid price in ticks. */
  startTicks: number;
}

interface KnownSymbol {
  base: string;
  quote: string;
  price: number;
  priceDecimals: number;
  qtyDecimals: number;
}

const KNOWN: Readonly<Record<string, KnownSymbol>> = {
  BTCUSDT: { base: "BTC", quote: "USDT", price: 60000, priceDecimals: 2, qtyDecimals: 5 },
  ETHUSDT: { base: "ETH", quote: "USDT", price: 3000, priceDecimals: 2, qtyDecimals: 4 },
  SOLUSDT: { base: "SOL", quote: "USDT", price: 150, priceDecimals: 2, qtyDecimals: 3 },
  ADAUSDT: { base: "ADA", quote: "USDT", price: 0.45, priceDecimals: 4, qtyDecimals: 1 },
  BNBUSDT: { base: "BNB", quote: "USDT", price: 600, priceDecimals: 2, qtyDecimals: 3 },
  XRPUSDT: { base: "XRP", quote: "USDT", price: 0.6, priceDecimals: 4, qtyDecimals: 0 },
  DOGEUSDT: { base: "DOGE", quote: "USDT", price: 0.15, priceDecimals: 5, qtyDecimals: 0 },
  ETHBTC: { base: "ETH", quote: "BTC", price: 0.05, priceDecimals: 5, qtyDecimals: 4 },
  BNBBTC: { base: "BNB", quote: "BTC", price: 0.0095, priceDecimals: 6, qtyDecimals: 3 },
};

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
    };
  }
  return {
    symbol,
    baseAsset: info.base,
    quoteAsset: info.quote,
    priceDecimals: info.priceDecimals,
    qtyDecimals: info.qtyDecimals,
    tickSize: formatUnits(1, info.priceDecimals, WIRE_DECIMALS),
    stepSize: formatUnits(1, info.qtyDecimals, WIRE_DECIMALS),
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

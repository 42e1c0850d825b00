/**
 * Products of the emulated exchange: increments, assets and a starting price,
 * and the exact decimal formatting of integer units the way Coinbase prints
 * numbers (no padding: `"21921.3"`, `"0.06317902"`, `"0"`).
 * @module
 */
import { hashString } from "../../../testing.ts";

/** One listed product. Prices are integer ticks, sizes integer steps. */
export interface ProductSpec {
  /** `BTC-USD`. */
  productId: string;
  base: string;
  quote: string;
  baseName: string;
  quoteName: string;
  /** A price of `n` ticks is `n × 10^-priceDecimals`. */
  priceDecimals: number;
  /** A size of `n` steps is `n × 10^-sizeDecimals`. */
  sizeDecimals: number;
  /** Starting mid price in ticks. */
  startTicks: number;
}

interface Known {
  price: number;
  priceDecimals: number;
  sizeDecimals: number;
}

const KNOWN: Readonly<Record<string, Known>> = {
  "BTC-USD": { price: 60000, priceDecimals: 2, sizeDecimals: 8 },
  "ETH-USD": { price: 3000, priceDecimals: 2, sizeDecimals: 8 },
  "SOL-USD": { price: 150, priceDecimals: 2, sizeDecimals: 8 },
  "BTC-USDT": { price: 60010, priceDecimals: 2, sizeDecimals: 8 },
  "ETH-USDT": { price: 3001, priceDecimals: 2, sizeDecimals: 8 },
};

const NAMES: Readonly<Record<string, string>> = {
  BTC: "Bitcoin",
  ETH: "Ethereum",
  SOL: "Solana",
  USD: "US Dollar",
  USDT: "Tether",
  USDC: "USDC",
  EUR: "Euro",
};

/** Default products of the emulator. */
export const DEFAULT_PRODUCTS: readonly string[] = [
  "BTC-USD",
  "ETH-USD",
  "SOL-USD",
  "BTC-USDT",
  "ETH-USDT",
];

/** The spec of `productId` (`BASE-QUOTE`, uppercase): known values or sane derived ones. */
export function productSpec(productId: string): ProductSpec {
  const [base, quote = "USD"] = productId.split("-");
  let known = KNOWN[productId];
  if (!known) {
    // Price between 0.1 and 1000, fixed by the name.
    const price = Math.pow(10, (hashString(productId) / 4294967296) * 4 - 1);
    const magnitude = Math.floor(Math.log10(price));
    known = {
      price,
      priceDecimals: Math.min(8, Math.max(0, 4 - magnitude)),
      sizeDecimals: 8,
    };
  }
  return {
    productId,
    base,
    quote,
    baseName: NAMES[base] ?? base,
    quoteName: NAMES[quote] ?? quote,
    priceDecimals: known.priceDecimals,
    sizeDecimals: known.sizeDecimals,
    startTicks: Math.round(known.price * 10 ** known.priceDecimals),
  };
}

/** `units × 10^-decimals` as a trimmed decimal string: `formatUnits(2192130, 2)` is `"21921.3"`. */
export function formatUnits(units: number, decimals: number): string {
  const negative = units < 0;
  let digits = String(Math.abs(Math.round(units)));
  if (decimals > 0) {
    digits = digits.padStart(decimals + 1, "0");
    let frac = digits.slice(digits.length - decimals);
    const whole = digits.slice(0, digits.length - decimals);
    let end = frac.length;
    while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
    frac = frac.slice(0, end);
    digits = frac.length > 0 ? `${whole}.${frac}` : whole;
  }
  return (negative ? "-" : "") + digits;
}

/** An increment string such as `"0.01"` for `decimals` = 2 (`"1"` for 0). */
export function increment(decimals: number): string {
  return formatUnits(1, decimals);
}

/** A price in ticks, formatted. */
export function formatPrice(spec: ProductSpec, ticks: number): string {
  return formatUnits(ticks, spec.priceDecimals);
}

/** A size in steps, formatted. */
export function formatSize(spec: ProductSpec, steps: number): string {
  return formatUnits(steps, spec.sizeDecimals);
}

/**
 * Default maker/taker fee schedules of the simulated venues (spot, base tier), account
 * overrides merged over them, and the fee of one fill.
 *
 * Sources (read 2026-12-07; the base tier is the lowest 30-day-volume tier, no discounts such
 * as BNB payment or promotions):
 * - Binance spot, Regular user (VIP 0): maker 0.100 %, taker 0.100 %
 *   (https://www.binance.com/en/fee/schedule; restated by Binance Square posts).
 * - Coinbase Advanced, lowest tier ($0–$1K trailing 30-day USD volume): maker 0.60 %,
 *   taker 1.20 % (https://help.coinbase.com/en/coinbase/trading-and-funding/advanced-trade/advanced-trade-fees
 *   points to the signed-in fee page; the figures are the `transaction_summary` tier
 *   `{"pricing_tier":"Advanced 1","usd_from":"0","usd_to":"1000","taker_fee_rate":"0.012","maker_fee_rate":"0.006"}`
 *   recorded in ccxt 4.5.84 `coinbase.js`).
 * - Kraken Pro spot, entry tier ($0–$10K): maker 0.25 %, taker 0.40 %
 *   (https://www.kraken.com/features/fee-schedule#spot).
 *
 * Fee schedules change; an account can override any of them (see {@link feeSchedule}).
 * @module
 */
import type { FeeSchedule, Liquidity } from "./types.ts";

/**
 * Base-tier spot schedules per exchange id (fractions of the notional).
 *
 * @example
 * ```ts
 * import { DEFAULT_FEES } from "./fees.ts";
 * DEFAULT_FEES.kraken; // { maker: 0.0025, taker: 0.004 }
 * ```
 */
export const DEFAULT_FEES: Readonly<Record<string, Readonly<FeeSchedule>>> = Object.freeze({
  binance: Object.freeze({ maker: 0.001, taker: 0.001 }),
  coinbase: Object.freeze({ maker: 0.006, taker: 0.012 }),
  kraken: Object.freeze({ maker: 0.0025, taker: 0.004 }),
});

/**
 * Schedule of an exchange without a known default: 0.1 % / 0.1 %, the most common base-tier
 * spot rate among large venues (Binance's), so an unknown venue is neither free nor punished.
 *
 * @example
 * ```ts
 * import { FALLBACK_FEES } from "./fees.ts";
 * FALLBACK_FEES.taker; // 0.001
 * ```
 */
export const FALLBACK_FEES: Readonly<FeeSchedule> = Object.freeze({ maker: 0.001, taker: 0.001 });

/** Per-exchange overrides of an account: any part of a schedule, merged over the default. */
export type FeeOverrides = Readonly<Record<string, Partial<FeeSchedule>>>;

/**
 * The schedule an account pays on `exchange`: the override's fields over the exchange's
 * default (or {@link FALLBACK_FEES} for an unknown exchange).
 *
 * @example
 * ```ts
 * import { feeSchedule } from "./fees.ts";
 * feeSchedule("binance", { binance: { maker: 0 } }); // { maker: 0, taker: 0.001 }
 * feeSchedule("bitstamp"); // { maker: 0.001, taker: 0.001 }
 * ```
 */
export function feeSchedule(exchange: string, overrides?: FeeOverrides): FeeSchedule {
  const base = Object.hasOwn(DEFAULT_FEES, exchange) ? DEFAULT_FEES[exchange] : FALLBACK_FEES;
  const over = overrides && Object.hasOwn(overrides, exchange) ? overrides[exchange] : undefined;
  return {
    maker: over?.maker ?? base.maker,
    taker: over?.taker ?? base.taker,
  };
}

/**
 * Fee of one fill in the quote asset: `notional × rate` of the liquidity side (negative for a
 * rebate). Not rounded: exchanges round to the asset's precision, the simulation keeps the
 * exact figure so sums stay exact.
 *
 * @example
 * ```ts
 * import { feeFor } from "./fees.ts";
 * feeFor({ maker: 0.001, taker: 0.002 }, "taker", 5_000); // 10
 * ```
 */
export function feeFor(schedule: FeeSchedule, liquidity: Liquidity, notional: number): number {
  return notional * (liquidity === "maker" ? schedule.maker : schedule.taker);
}

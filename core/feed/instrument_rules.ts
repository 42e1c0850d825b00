/**
 * The trading rules of an instrument (tick, step, minimum and maximum
 * quantity, minimum notional) read from raw exchange metadata: each value is
 * kept only when it is a positive finite amount, so a malformed field leaves
 * its rule out instead of failing the instrument.
 * @module
 */
import type { Instrument } from "../events.ts";
import { positiveDecimal } from "./decimals.ts";

/** The rule fields of an {@link Instrument}. */
export type InstrumentRules = Pick<
  Instrument,
  "tickSize" | "stepSize" | "minQuantity" | "maxQuantity" | "minNotional"
>;

/** Raw rule values as an exchange sends them (decimal strings or numbers). */
export type RawInstrumentRules = { [K in keyof InstrumentRules]?: unknown };

const KEYS = ["tickSize", "stepSize", "minQuantity", "maxQuantity", "minNotional"] as const;

/**
 * The rules among `raw` that are positive finite amounts (decimal strings or
 * numbers); the others are left out, not set to `undefined`, so the result
 * spreads into an instrument without empty keys.
 *
 * @example Binance filters of BTCUSDT
 * ```ts
 * import { instrumentRules } from "@quant-saas/gateway";
 *
 * const rules = instrumentRules({
 *   tickSize: "0.01000000",
 *   stepSize: "0.00001000",
 *   minQuantity: "0.00001000",
 *   maxQuantity: "9000.00000000",
 *   minNotional: "oops",
 * });
 * // { tickSize: 0.01, stepSize: 0.00001, minQuantity: 0.00001, maxQuantity: 9000 }
 * ```
 */
export function instrumentRules(raw: RawInstrumentRules): InstrumentRules {
  const out: InstrumentRules = {};
  for (const key of KEYS) {
    const value = positiveDecimal(raw[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

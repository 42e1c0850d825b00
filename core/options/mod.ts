/**
 * The options pricing engine: Black-76 with greeks, implied volatility, SVI smiles with the
 * butterfly check, and the interpolated surface with the calendar check. Pure and deterministic.
 *
 * @example
 * ```ts
 * import { black76, impliedVol } from "./mod.ts";
 *
 * const q = black76({ forward: 100_000, strike: 110_000, timeYears: 30 / 365, vol: 0.55, rate: 0, type: "call" });
 * impliedVol({ price: q.price, forward: 100_000, strike: 110_000, timeYears: 30 / 365, rate: 0, type: "call" });
 * ```
 * @module
 */

export { normalCdf, normalPdf } from "./normal.ts";
export {
  black76,
  type Black76Input,
  type Black76Result,
  DAYS_PER_YEAR,
  type OptionType,
  undiscountedBlack,
  YEAR_MS,
} from "./black76.ts";
export {
  impliedVol,
  type ImpliedVolFailure,
  type ImpliedVolInput,
  type ImpliedVolResult,
} from "./implied_vol.ts";
export {
  type ButterflyCheck,
  checkButterfly,
  fitSvi,
  quotedRange,
  type SviFit,
  sviG,
  type SviParams,
  type SviPoint,
  sviTotalVariance,
} from "./svi.ts";
export {
  buildSurface,
  type CalendarViolation,
  type SmileInput,
  type Surface,
  type SurfaceOptions,
  type SurfaceSlice,
} from "./surface.ts";

/**
 * The charts' dark theme (lightweight-charts options), the TradingView attribution logo kept.
 *
 * @example
 * ```ts
 * createChart(el, { ...chartTheme(), autoSize: true });
 * ```
 */
import { type ChartOptions, ColorType, type DeepPartial } from "lightweight-charts";

/** Layout, grid and scale colours of every chart in the app. */
export function chartTheme(): DeepPartial<ChartOptions> {
  return {
    layout: {
      background: { type: ColorType.Solid, color: "#131722" },
      textColor: "#c7ccd6",
      attributionLogo: true,
    },
    grid: { vertLines: { color: "#1f2430" }, horzLines: { color: "#1f2430" } },
    rightPriceScale: { borderColor: "#2a2f3a" },
    timeScale: { borderColor: "#2a2f3a" },
  };
}

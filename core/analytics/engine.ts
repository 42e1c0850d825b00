/**
 * The analytics of one exchange + symbol, computed once however many clients want them:
 * every trade and every book update goes in once, and `value(now, metrics)` reads the
 * figures asked for. This is the seam the hub (live), a replay and the history endpoints
 * call, so the three give identical series for identical events.
 *
 * Inputs: trades (`onTrade`), the top of the book after every update (`onBook`: OFI, book
 * metrics and the mid-price series of realized volatility), and `onResync` when the book lost
 * sync (OFI starts over and its next value says `reset: true`).
 * @module
 */
import type { BookTop, Trade } from "./types.ts";
import { createOfi, type OfiOptions, type OfiValue } from "./ofi.ts";
import { type BookMetrics, bookMetrics, type BookMetricsOptions } from "./book_metrics.ts";
import { createVpin, type Vpin, type VpinOptions, type VpinValue } from "./vpin.ts";
import {
  type BucketVolumeSource,
  rankIn,
  type VpinCalibration,
  type VpinHistory,
} from "./vpin_calibration.ts";
import { createFlow, type FlowOptions, type FlowValue } from "./flow.ts";
import { createRealizedVol, type RealizedVolOptions, type VolValue } from "./volatility.ts";

/** The figures a client may ask for. */
export const METRICS = ["ofi", "vpin", "microprice", "book", "flow", "volatility"] as const;

/** One of {@link METRICS}. */
export type Metric = typeof METRICS[number];

/** Settings of {@link createSymbolAnalytics}; every part has its module's defaults. */
export interface SymbolAnalyticsOptions {
  ofi?: OfiOptions;
  book?: BookMetricsOptions;
  /**
   * VPIN settings; without a `bucketVolume` (e.g. 1/50 of the recent daily volume, from
   * `bucketVolumeFromDaily` in vpin.ts) VPIN is not computed and reads `null`.
   */
  vpin?: Partial<VpinOptions>;
  /**
   * The symbol's calibration from the recording (vpin_calibration.ts): VPIN runs at its bucket
   * volume when none is configured, and ranks against its historical values.
   */
  vpinCalibration?: VpinCalibration;
  flow?: FlowOptions;
  volatility?: RealizedVolOptions;
}

/**
 * The span of the historical VPIN values a rank is taken against.
 *
 * @example
 * ```ts
 * const span: VpinRankHistory = { from: 0, to: 1, calibratedAt: 1, values: 0, bvcValues: 0 };
 * ```
 */
export interface VpinRankHistory {
  /** Window of recorded trades the values come from (receive time), epoch ms. */
  from: number;
  to: number;
  /** When the calibration was made (VPIN at a recorded bucket volume counts from then). */
  calibratedAt: number;
  /** Historical exact and BVC VPIN values. */
  values: number;
  bvcValues: number;
  /** The daily volume the bucket volume came from, when measured. */
  dailyVolume?: number;
  /** The span the daily volume was measured over, ms, and whether it was scaled to 24 h. */
  volumeSpanMs?: number;
  extrapolated?: boolean;
}

/**
 * VPIN with its rank among the recorded history and where its bucket volume came from.
 *
 * @example
 * ```ts
 * const v = createSymbolAnalytics({ vpin: { bucketVolume: 1 } }).value(0, ["vpin"]).vpin;
 * v?.bucketVolumeSource; // "configured"
 * ```
 */
export interface RankedVpinValue extends VpinValue {
  /** Empirical CDF rank of `exact.vpin` among the historical exact values; `null` without either. */
  rank: number | null;
  /** The same for `bvc.vpin` among the historical BVC values. */
  bvcRank: number | null;
  bucketVolumeSource: BucketVolumeSource;
  /** The history the ranks come from; `null` without a calibration. */
  history: VpinRankHistory | null;
}

/** What {@link SymbolAnalytics.value} returns: the figures asked for, at `time`. */
export interface AnalyticsValue {
  /** The `now` the figures are for (event time, ms). */
  time: number;
  ofi?: OfiValue;
  /** `null` until a bucket volume is set (configured or from a calibration). */
  vpin?: RankedVpinValue | null;
  /** Mid and weighted mid (Stoikov's first-order microprice) of the last book; `null` before one. */
  microprice?: { mid: number | null; weightedMid: number | null; time: number } | null;
  /** Spread, imbalance and depth of the last book; `null` before one. */
  book?: BookMetrics | null;
  flow?: FlowValue;
  /** Realized volatility of the mid-price. */
  volatility?: VolValue;
}

/** The analytics of one symbol. */
export interface SymbolAnalytics {
  onTrade(trade: Trade): void;
  onBook(top: BookTop): void;
  /** The book lost sync: book-based accumulators (OFI) start over. */
  onResync(): void;
  /**
   * A calibration arrived (or was renewed): VPIN ranks against its history from now on. Without
   * a configured bucket volume, VPIN starts at the calibration's bucket volume from this moment
   * (the trades before it are not in its buckets); a renewal with another bucket volume starts it
   * over at the new one (its next value says `reset: true`).
   */
  calibrateVpin(calibration: VpinCalibration): void;
  /** The figures in `metrics` (default all) at `now`. */
  value(now: number, metrics?: readonly Metric[]): AnalyticsValue;
}

/**
 * Creates the analytics of one symbol.
 * @example
 * ```ts
 * import { createSymbolAnalytics } from "./engine.ts";
 *
 * const analytics = createSymbolAnalytics({ vpin: { bucketVolume: 10 } });
 * analytics.onBook({ bids: [[100, 2]], asks: [[101, 1]], time: 1_000 });
 * analytics.onTrade({ price: 101, quantity: 0.5, side: "buy", eventTime: 1_001 });
 * analytics.value(1_001, ["microprice", "flow"]).microprice?.weightedMid; // 100.666…
 * ```
 */
export function createSymbolAnalytics(options: SymbolAnalyticsOptions = {}): SymbolAnalytics {
  const ofi = createOfi(options.ofi);
  const configuredV = options.vpin?.bucketVolume;
  let calibration: VpinCalibration | undefined;
  let vpin: Vpin | undefined;
  let restarted = false;
  const calibrate = (cal: VpinCalibration) => {
    calibration = cal;
    const V = configuredV ?? cal.bucketVolume;
    if (vpin && vpin.value().bucketVolume === V) return;
    restarted = vpin !== undefined;
    vpin = createVpin({ ...options.vpin, bucketVolume: V });
  };
  if (configuredV !== undefined) vpin = createVpin({ ...options.vpin, bucketVolume: configuredV });
  if (options.vpinCalibration) calibrate(options.vpinCalibration);
  const vpinValue = (): RankedVpinValue | null => {
    if (!vpin) return null;
    const v = vpin.value();
    if (restarted) {
      restarted = false;
      v.reset = true;
    }
    const h: VpinHistory | undefined = calibration?.history;
    return {
      ...v,
      rank: h && v.exact.vpin !== null ? rankIn(h.exact, v.exact.vpin) : null,
      bvcRank: h && v.bvc.vpin !== null ? rankIn(h.bvc, v.bvc.vpin) : null,
      bucketVolumeSource: configuredV !== undefined ? "configured" : "recorded_daily_volume",
      history: calibration ? rankHistory(calibration) : null,
    };
  };
  const flow = createFlow(options.flow);
  const vol = createRealizedVol(options.volatility);
  let lastTop: BookTop | undefined;
  let lastMetrics: BookMetrics | undefined;
  /** Book metrics of the last book, computed when read (not per update). */
  const metricsOfLast = (): BookMetrics | undefined => {
    if (!lastTop) return undefined;
    if (!lastMetrics || lastMetrics.time !== lastTop.time) {
      lastMetrics = bookMetrics(lastTop, options.book);
    }
    return lastMetrics;
  };

  return {
    onTrade(trade) {
      flow.onTrade(trade);
      vpin?.onTrade(trade);
    },
    onBook(top) {
      ofi.onBook(top);
      lastTop = top;
      lastMetrics = undefined;
      const bid = top.bids[0]?.[0];
      const ask = top.asks[0]?.[0];
      if (bid !== undefined && ask !== undefined) vol.onPrice((bid + ask) / 2, top.time);
    },
    calibrateVpin: calibrate,
    onResync() {
      ofi.reset();
      lastTop = undefined;
      lastMetrics = undefined;
    },
    value(now, metrics = METRICS) {
      const out: AnalyticsValue = { time: now };
      for (const metric of metrics) {
        switch (metric) {
          case "ofi":
            out.ofi = ofi.value(now);
            break;
          case "vpin":
            out.vpin = vpinValue();
            break;
          case "microprice": {
            const m = metricsOfLast();
            out.microprice = m ? { mid: m.mid, weightedMid: m.weightedMid, time: m.time } : null;
            break;
          }
          case "book":
            out.book = metricsOfLast() ?? null;
            break;
          case "flow":
            out.flow = flow.value(now);
            break;
          case "volatility":
            out.volatility = vol.value(now);
            break;
        }
      }
      return out;
    },
  };
}

/** What a value says about the calibration it ranks against. */
function rankHistory(cal: VpinCalibration): VpinRankHistory {
  const out: VpinRankHistory = {
    from: cal.history.from,
    to: cal.history.to,
    calibratedAt: cal.at,
    values: cal.history.exact.length,
    bvcValues: cal.history.bvc.length,
  };
  if (cal.volume) {
    out.dailyVolume = cal.volume.dailyVolume;
    out.volumeSpanMs = cal.volume.spanMs;
    out.extrapolated = cal.volume.extrapolated;
  }
  return out;
}

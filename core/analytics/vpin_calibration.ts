/**
 * VPIN calibration from a symbol's recorded trades (issue #14: "bucket size configurable, default
 * 1/50 of the recent daily volume … also its CDF rank over the recorded history"):
 *
 * - the bucket volume: `V = dailyVolume / 50`, the daily volume being the volume recorded over
 *   the trailing `volumeLookbackMs` (24 h) before `at`, per 24 h. When the recording of the
 *   symbol's trades began inside that window (a recording younger than a day) the volume is
 *   scaled to 24 h from the span covered — `extrapolated: true` and `spanMs` say so — provided
 *   the span is at least `minSpanMs` (1 h); shorter, no bucket volume is derived.
 *   A configured bucket volume (`ANALYTICS_VPIN_BUCKET_VOLUME`) keeps priority;
 * - the historical VPIN values: the recorded trades of the trailing `historyLookbackMs` (7 days:
 *   with V = 1/50 of a day and n = 50 buckets one day holds about one full window, so a day
 *   alone would give about one value) run through {@link createVpin} at that bucket volume, and
 *   the VPIN after every trade that completed a bucket, once n buckets exist, is kept
 *   (exact classification; BVC too, after every bar close that completed a BVC bucket). A trade
 *   completing several buckets at once yields one value. Memory: one number per bucket.
 *
 * The pure part works on arrays ({@link vpinCalibrationFromTrades}); the reading part
 * ({@link readVpinCalibration}) streams the same computation from a {@link HistoryReader}.
 * @module
 */
import type { HistoryReader } from "../history/reader.ts";
import type { Trade } from "./types.ts";
import { bucketVolumeFromDaily, createVpin, DEFAULT_VPIN_BUCKETS } from "./vpin.ts";

/** One day, ms. */
export const DAY_MS = 86_400_000;
/** Default window the daily volume is taken over: the trailing 24 h. */
export const DEFAULT_VOLUME_LOOKBACK_MS = DAY_MS;
/** Default window the historical VPIN values are taken over: the trailing 7 days. */
export const DEFAULT_HISTORY_LOOKBACK_MS = 7 * DAY_MS;
/** Least recorded span a daily volume is extrapolated from: 1 hour. */
export const DEFAULT_MIN_SPAN_MS = 3_600_000;
/** Buckets per day of the default bucket volume (V = daily volume / 50). */
export const DEFAULT_BUCKETS_PER_DAY = 50;

/** Where the bucket volume of a VPIN comes from. */
export type BucketVolumeSource = "configured" | "recorded_daily_volume";

/**
 * Settings of a calibration.
 *
 * @example
 * ```ts
 * const options: VpinCalibrationOptions = { at: Date.now(), configuredBucketVolume: undefined };
 * ```
 */
export interface VpinCalibrationOptions {
  /** The instant calibrated for (epoch ms): only trades received before it are read. */
  at: number;
  /** `ANALYTICS_VPIN_BUCKET_VOLUME` when set: used as V, the rank history is computed at it. */
  configuredBucketVolume?: number;
  /** Daily-volume window before `at`, ms; default 24 h. */
  volumeLookbackMs?: number;
  /** Rank-history window before `at`, ms; default 7 days (at least the volume window). */
  historyLookbackMs?: number;
  /** Least span a daily volume is extrapolated from, ms; default 1 h. */
  minSpanMs?: number;
  /** VPIN window n; default 50. */
  buckets?: number;
  /** Buckets per day (V = daily volume / this); default 50. */
  bucketsPerDay?: number;
}

/**
 * The span of recorded trades the daily volume was taken from.
 *
 * @example
 * ```ts
 * const span: VolumeSpan = {
 *   from: 0, to: 7_200_000, spanMs: 7_200_000, extrapolated: true,
 *   recordedVolume: 10, dailyVolume: 120,
 * };
 * ```
 */
export interface VolumeSpan {
  /** Start of the span (the window start, or when the symbol's recording began), epoch ms. */
  from: number;
  /** End of the span (`at`), epoch ms. */
  to: number;
  /** `to − from`. */
  spanMs: number;
  /** `true` when the span is shorter than the volume window and the volume was scaled up. */
  extrapolated: boolean;
  /** Volume recorded over the span, base units. */
  recordedVolume: number;
  /** `recordedVolume · 24 h / spanMs`: the volume per 24 h. */
  dailyVolume: number;
}

/**
 * A symbol's VPIN calibration: its bucket volume and the historical VPIN values to rank against.
 *
 * @example
 * ```ts
 * const cal: VpinCalibration | undefined = vpinCalibrationFromTrades([], { at: 0 });
 * cal; // undefined: nothing recorded
 * ```
 */
export interface VpinCalibration {
  /** The instant calibrated for, epoch ms. */
  at: number;
  /** Bucket volume V to compute VPIN with. */
  bucketVolume: number;
  bucketVolumeSource: BucketVolumeSource;
  /** The daily volume measured (also with a configured V); `null` when the span was too short. */
  volume: VolumeSpan | null;
  /** The historical VPIN values and the span they were taken over. */
  history: VpinHistory;
}

/**
 * Historical VPIN values, sorted ascending, for {@link rankIn}.
 *
 * @example
 * ```ts
 * const h: VpinHistory = {
 *   from: 0, to: 1, trades: 0, buckets: 0,
 *   exact: new Float64Array(), bvc: new Float64Array(),
 * };
 * ```
 */
export interface VpinHistory {
  /** Window the trades were read over, epoch ms (receive time). */
  from: number;
  to: number;
  /** Trades read. */
  trades: number;
  /** Buckets completed. */
  buckets: number;
  /** Exact VPIN after each trade that completed a bucket once n buckets existed; sorted. */
  exact: Float64Array;
  /** BVC VPIN after each bar close that completed a BVC bucket once n existed; sorted. */
  bvc: Float64Array;
}

/**
 * Empirical CDF rank by binary search in sorted values: `#{h ≤ value} / |h|` (the semantics of
 * `cdfRank` in vpin.ts, in O(log n)).
 *
 * @param sorted finite values, ascending
 * @returns the fraction in [0, 1]; `null` when `value` is not finite or `sorted` is empty
 * @example
 * ```ts
 * rankIn(new Float64Array([0.1, 0.2, 0.3, 0.4]), 0.3); // 0.75
 * rankIn(new Float64Array(), 0.3); // null
 * ```
 */
export function rankIn(sorted: Float64Array, value: number): number | null {
  if (!Number.isFinite(value) || sorted.length === 0) return null;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}

/**
 * The daily volume from the volume recorded over `[from, at]`: scaled to 24 h.
 *
 * @param recordedVolume volume over the span
 * @param from start of the span (window start, or when recording began if later)
 * @param at end of the span
 * @param lookbackMs the window wanted
 * @returns the span and its daily volume, `null` when the span is empty or not positive
 * @example
 * ```ts
 * // 10 units over the 2 h since recording began, out of a 24 h window: 120 per day.
 * dailyVolumeOf(10, 0, 7_200_000, 86_400_000)?.dailyVolume; // 120
 * ```
 */
export function dailyVolumeOf(
  recordedVolume: number,
  from: number,
  at: number,
  lookbackMs: number,
): VolumeSpan | null {
  const spanMs = at - from;
  if (!(spanMs > 0) || !(recordedVolume > 0) || !Number.isFinite(recordedVolume)) return null;
  return {
    from,
    to: at,
    spanMs,
    extrapolated: spanMs < lookbackMs,
    recordedVolume,
    dailyVolume: (recordedVolume * DAY_MS) / spanMs,
  };
}

/** Collects historical VPIN values, one number per bucket. */
function createHistoryCollector(bucketVolume: number, buckets: number, barMs = 60_000) {
  const vpin = createVpin({ bucketVolume, buckets, barMs });
  const exact: number[] = [];
  const bvc: number[] = [];
  let open = 0;
  let bar: number | null = null;
  let lastBvc: number | null = null;
  let trades = 0;
  let filled = 0;
  const limit = bucketVolume * (1 - 1e-9);
  return {
    onTrade(t: Trade): void {
      if (!(t.quantity > 0) || !Number.isFinite(t.quantity) || !Number.isFinite(t.eventTime)) {
        return;
      }
      trades++;
      const b = Math.floor(t.eventTime / barMs);
      const newBar = bar !== null && b > bar;
      if (bar === null || b > bar) bar = b;
      vpin.onTrade(t);
      // Only read the value (allocating) when a bucket may have filled or a bar closed.
      const mayFill = open + t.quantity >= limit;
      if (!mayFill && !newBar) {
        open += t.quantity;
        return;
      }
      const v = vpin.value();
      open = v.openVolume;
      if (v.bucketsFilled !== filled && v.exact.vpin !== null) exact.push(v.exact.vpin);
      filled = v.bucketsFilled;
      if (v.bvc.vpin !== null && v.bvc.lastBucket !== lastBvc) bvc.push(v.bvc.vpin);
      lastBvc = v.bvc.lastBucket;
    },
    result(from: number, to: number): VpinHistory {
      return {
        from,
        to,
        trades,
        buckets: vpin.value().bucketsFilled,
        exact: Float64Array.from(exact).sort(),
        bvc: Float64Array.from(bvc).sort(),
      };
    },
  };
}

/** The resolved settings. */
function settings(options: VpinCalibrationOptions) {
  const volumeLookbackMs = options.volumeLookbackMs ?? DEFAULT_VOLUME_LOOKBACK_MS;
  return {
    at: options.at,
    volumeLookbackMs,
    historyLookbackMs: Math.max(
      options.historyLookbackMs ?? DEFAULT_HISTORY_LOOKBACK_MS,
      volumeLookbackMs,
    ),
    minSpanMs: options.minSpanMs ?? DEFAULT_MIN_SPAN_MS,
    buckets: options.buckets ?? DEFAULT_VPIN_BUCKETS,
    bucketsPerDay: options.bucketsPerDay ?? DEFAULT_BUCKETS_PER_DAY,
    configured: options.configuredBucketVolume,
  };
}

/** Picks V from the measured volume or the configured one; undefined when neither exists. */
function chooseBucketVolume(
  s: ReturnType<typeof settings>,
  volume: VolumeSpan | null,
): { bucketVolume: number; source: BucketVolumeSource } | undefined {
  if (s.configured !== undefined) return { bucketVolume: s.configured, source: "configured" };
  if (volume === null || volume.spanMs < s.minSpanMs) return undefined;
  const v = bucketVolumeFromDaily(volume.dailyVolume, s.bucketsPerDay);
  return v === null ? undefined : { bucketVolume: v, source: "recorded_daily_volume" };
}

/**
 * The calibration from trades in memory (the pure part): `trades` are the symbol's recorded
 * trades in recorded order with their receive time; `recordedFrom` is when the recording of the
 * symbol's trades began (default: the first trade's receive time).
 *
 * @returns the calibration, or `undefined` when nothing was traded before `at` in the windows or
 *   (without a configured bucket volume) the recorded span is shorter than `minSpanMs`
 * @example
 * ```ts
 * // 100 trades of 1 over the last 24 h: daily volume 100, V = 2.
 * const at = 100 * 864_000;
 * const trades = Array.from({ length: 100 }, (_, i) => ({
 *   receiveTime: i * 864_000,
 *   trade: { price: 100, quantity: 1, side: "buy" as const, eventTime: i * 864_000 },
 * }));
 * vpinCalibrationFromTrades(trades, { at })?.bucketVolume; // 2
 * ```
 */
export function vpinCalibrationFromTrades(
  trades: readonly { receiveTime: number; trade: Trade }[],
  options: VpinCalibrationOptions & { recordedFrom?: number },
): VpinCalibration | undefined {
  const s = settings(options);
  const volumeFrom = s.at - s.volumeLookbackMs;
  const historyFrom = s.at - s.historyLookbackMs;
  const inVolume = trades.filter((t) => t.receiveTime >= volumeFrom && t.receiveTime < s.at);
  const recordedFrom = options.recordedFrom ?? trades[0]?.receiveTime;
  if (recordedFrom === undefined || inVolume.length === 0) return undefined;
  const sum = inVolume.reduce((a, t) => a + t.trade.quantity, 0);
  const volume = dailyVolumeOf(sum, Math.max(volumeFrom, recordedFrom), s.at, s.volumeLookbackMs);
  const chosen = chooseBucketVolume(s, volume);
  if (!chosen) return undefined;
  const collector = createHistoryCollector(chosen.bucketVolume, s.buckets);
  for (const t of trades) {
    if (t.receiveTime >= historyFrom && t.receiveTime < s.at) collector.onTrade(t.trade);
  }
  return {
    at: s.at,
    bucketVolume: chosen.bucketVolume,
    bucketVolumeSource: chosen.source,
    volume,
    history: collector.result(historyFrom, s.at),
  };
}

/**
 * The calibration of one exchange + symbol from a recording (the reading part): two streamed
 * passes over the recorded trades (the volume window, then the history window), never holding
 * more than one batch and one number per bucket. When the recording of the symbol's trades
 * began is taken from the recording's catalog. `signal` stops it between batches (undefined).
 *
 * @example
 * ```ts ignore
 * const reader = recording.history()!;
 * try {
 *   const cal = await readVpinCalibration(reader, "binance", "BTCUSDT", { at: Date.now() });
 *   cal?.bucketVolume;
 * } finally {
 *   reader.close();
 * }
 * ```
 */
export async function readVpinCalibration(
  history: HistoryReader,
  exchange: string,
  symbol: string,
  options: VpinCalibrationOptions & { signal?: AbortSignal },
): Promise<VpinCalibration | undefined> {
  const s = settings(options);
  const stream = history.catalog().streams.find((c) =>
    c.exchange === exchange && c.symbol === symbol && c.kind === "trade"
  );
  if (!stream || stream.from >= s.at) return undefined;
  const volumeFrom = s.at - s.volumeLookbackMs;
  const historyFrom = s.at - s.historyLookbackMs;
  let sum = 0;
  for await (
    const batch of history.tradeBatches(exchange, symbol, volumeFrom, s.at - 1, { raw: false })
  ) {
    if (options.signal?.aborted) return undefined;
    for (const { trade } of batch) if (trade.quantity > 0) sum += trade.quantity;
  }
  const volume = dailyVolumeOf(sum, Math.max(volumeFrom, stream.from), s.at, s.volumeLookbackMs);
  if (volume === null) return undefined;
  const chosen = chooseBucketVolume(s, volume);
  if (!chosen) return undefined;
  const collector = createHistoryCollector(chosen.bucketVolume, s.buckets);
  for await (
    const batch of history.tradeBatches(exchange, symbol, historyFrom, s.at - 1, { raw: false })
  ) {
    if (options.signal?.aborted) return undefined;
    for (const { trade } of batch) collector.onTrade(trade);
  }
  return {
    at: s.at,
    bucketVolume: chosen.bucketVolume,
    bucketVolumeSource: chosen.source,
    volume,
    history: collector.result(historyFrom, s.at),
  };
}

/**
 * The analytics of one exchange + symbol recomputed from the recording, as a series sampled
 * every `step` of event time: the recorded trades and book updates go through a replay's
 * private hub (pipeline.ts, the live hub's code with the live analytics settings), so each
 * point equals what the live engine held at that instant, given the same start.
 *
 * The engine starts at `warmupFrom` (by default 00:00 UTC of `from`'s day, so the VWAP since
 * the day start is exact) with the book as recorded just before it; points before `from` are
 * not returned. A point at `t` is the engine's value after every item whose event time is
 * at most `t`, read before the first item past `t` (the rule the live channel's throttle
 * follows). Live and history agree exactly when the live engine started no later than
 * `warmupFrom` and no recording gap lies between (a gap is reported with the series).
 *
 * VPIN: the live options' `vpinCalibration` lookup is used as is, so the series runs at the same
 * bucket volume and ranks against the same history as the live engine. With a configured bucket
 * volume the buckets are identical too; with a calibrated one the live VPIN counts from the
 * moment its calibration arrived while the series' counts from `warmupFrom`, so their bucket
 * boundaries (and VPIN values) differ. The calibration in force now is used for every point
 * (its history may hold trades after a point's time).
 * @module
 */
import type { HistoryReader } from "../history/mod.ts";
import type { Catalog } from "../market/catalog.ts";
import type { HubAnalyticsOptions } from "../ingest/hub.ts";
import type { AnalyticsValue, Metric } from "../analytics/engine.ts";
import { silentDelivery } from "../delivery/policy.ts";
import { createMetrics } from "../server/metrics.ts";
import { createPipeline, type ReplaySelection } from "./pipeline.ts";
import { prepareAt } from "./recorded.ts";

/** What {@link analyticsSeries} computes. */
export interface AnalyticsSeriesQuery {
  exchange: string;
  /** Exchange-native symbol. */
  symbol: string;
  /** First and last sample times (event time, epoch ms), both inclusive. */
  from: number;
  to: number;
  /** Sampling step, ms (> 0). */
  step: number;
  /** Where the engine starts (≤ `from`); default 00:00 UTC of `from`'s day. */
  warmupFrom?: number;
  metrics: readonly Metric[];
  /**
   * How long after `to` (receive time) items are still read, so that an item whose event time
   * is at most `to` but which arrived later is counted; default 5,000 ms.
   */
  lateMs?: number;
}

/** A recording gap met while computing (the figures after it miss what it lost). */
export interface SeriesGap {
  fromTime: number;
  toTime: number;
}

/** The series. */
export interface AnalyticsSeries {
  warmupFrom: number;
  /** One value per step from `from` to `to`, from the first instant the symbol had an event. */
  points: AnalyticsValue[];
  /** Recorded items fed through the engine (warm-up included). */
  items: number;
  gaps: SeriesGap[];
}

/** What {@link analyticsSeries} works with. */
export interface AnalyticsSeriesDeps {
  history: HistoryReader;
  /** The live catalog (exchanges, symbols, instruments), copied. */
  catalog: Catalog;
  /** The live gateway's analytics settings, so the figures agree with the live ones. */
  analytics?: HubAnalyticsOptions;
}

/** 00:00 UTC of the day of `t`. */
export const utcDayStart = (t: number): number =>
  t - (((t % 86_400_000) + 86_400_000) % 86_400_000);

const DEFAULT_LATE_MS = 5_000;

/**
 * Recomputes the analytics of one symbol over `[from, to]` from the recording.
 * @example
 * ```ts ignore
 * const series = await analyticsSeries(
 *   { history, catalog, analytics: { vpinBucketVolume: 5 } },
 *   { exchange: "binance", symbol: "BTCUSDT", from, to, step: 1_000, metrics: ["ofi", "flow"] },
 * );
 * series.points[0].ofi?.windows;
 * ```
 */
export async function analyticsSeries(
  deps: AnalyticsSeriesDeps,
  query: AnalyticsSeriesQuery,
): Promise<AnalyticsSeries> {
  const { exchange, symbol, from, to, step, metrics } = query;
  const warmupFrom = Math.min(query.warmupFrom ?? utcDayStart(from), from);
  const pipeline = createPipeline({
    catalog: deps.catalog,
    // The series has no client.
    delivery: silentDelivery(),
    limits: { maxFrameBytes: 0, maxSubscriptions: 0, maxClientMessagesPerSecond: 0 },
    analytics: deps.analytics,
    metrics: createMetrics(),
    disconnect() {},
    countError() {},
  });
  const selection: ReplaySelection = {
    exchanges: [exchange],
    symbols: [symbol],
    channels: ["trade", "book"],
    books: [{ exchange, symbol }],
    raw: false,
  };
  await prepareAt(deps.history, pipeline, selection, warmupFrom);

  const points: AnalyticsValue[] = [];
  const gaps: SeriesGap[] = [];
  let next = from;
  let items = 0;
  /** Samples every step boundary before `until` (the engine's state holds for all of them). */
  const sampleBefore = (until: number) => {
    const engine = pipeline.analytics(exchange, symbol);
    while (next < until && next <= to) {
      if (engine) points.push(engine.value(next, metrics));
      next += step;
    }
  };
  const filter = {
    from: warmupFrom,
    to: to + (query.lateMs ?? DEFAULT_LATE_MS),
    exchanges: [exchange],
    symbols: [symbol],
    channels: selection.channels,
    markers: true,
    raw: false,
  };
  reading: for await (const batch of deps.history.eventBatches(filter)) {
    for (const rec of batch) {
      if (!pipeline.selects(selection, rec)) continue;
      const item = rec.item;
      if (item.type === "recording_gap") {
        if (item.toTime >= warmupFrom) gaps.push({ fromTime: item.fromTime, toTime: item.toTime });
      } else if ("eventTime" in item) {
        // The value at a boundary holds every item up to it: sample before the first one past.
        sampleBefore(item.eventTime);
        if (item.eventTime > to) break reading;
      }
      pipeline.feed(rec);
      items++;
    }
  }
  sampleBefore(Infinity);
  return { warmupFrom, points, items, gaps };
}

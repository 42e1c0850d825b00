/**
 * The gateway's VPIN calibration: a store the hub looks calibrations up in synchronously, filled
 * in the background from the recording at start and then daily (vpin_calibration.ts). Never
 * blocks start or the hub; a failure is logged with its exchange and symbol and the others go on.
 * @module
 */
import type { HistoryReader } from "../history/reader.ts";
import {
  DEFAULT_HISTORY_LOOKBACK_MS,
  readVpinCalibration,
  type VpinCalibration,
} from "../analytics/vpin_calibration.ts";

/** How often the calibration is renewed: daily. */
export const VPIN_CALIBRATION_INTERVAL_MS = 86_400_000;

/**
 * Per exchange and symbol, the latest calibration.
 *
 * @example
 * ```ts
 * const store = createVpinCalibrationStore();
 * store.get("binance", "BTCUSDT"); // undefined
 * ```
 */
export interface VpinCalibrationStore {
  get(exchange: string, symbol: string): VpinCalibration | undefined;
  set(exchange: string, symbol: string, calibration: VpinCalibration): void;
}

/**
 * Creates an empty {@link VpinCalibrationStore}.
 *
 * @example
 * ```ts
 * const store = createVpinCalibrationStore();
 * const lookup = store.get; // what HubAnalyticsOptions.vpinCalibration takes
 * ```
 */
export function createVpinCalibrationStore(): VpinCalibrationStore {
  const byExchange = new Map<string, Map<string, VpinCalibration>>();
  return {
    get: (exchange, symbol) => byExchange.get(exchange)?.get(symbol),
    set(exchange, symbol, calibration) {
      let bySymbol = byExchange.get(exchange);
      if (!bySymbol) byExchange.set(exchange, bySymbol = new Map());
      bySymbol.set(symbol, calibration);
    },
  };
}

/** What {@link startVpinCalibrator} works with. */
export interface VpinCalibratorDeps {
  store: VpinCalibrationStore;
  /** A fresh reader of the recording (closed after each run); undefined when there is none. */
  history: () => HistoryReader | undefined;
  /** The exchanges calibrated: every symbol with trades recorded in the history window. */
  exchanges: readonly string[];
  /** `ANALYTICS_VPIN_BUCKET_VOLUME`, when set. */
  configuredBucketVolume?: number;
  /** A calibration is ready (the hub hands it to the symbol's analytics). */
  apply(exchange: string, symbol: string, calibration: VpinCalibration): void;
  log: {
    info(message: string, properties?: Record<string, unknown>): void;
    error(message: string, properties?: Record<string, unknown>): void;
  };
  /** Renewal period, ms; default daily. */
  intervalMs?: number;
  /** Wall clock; default `Date.now`. */
  now?: () => number;
}

/**
 * The running calibrator.
 *
 * @example
 * ```ts ignore
 * const calibrator = startVpinCalibrator(deps);
 * await calibrator.close();
 * ```
 */
export interface VpinCalibrator {
  /** Stops the timer and the run under way (between batches) and waits for it. */
  close(): Promise<void>;
}

/**
 * Starts calibrating at once in the background, then every `intervalMs`.
 *
 * @example
 * ```ts ignore
 * const store = createVpinCalibrationStore();
 * const calibrator = startVpinCalibrator({
 *   store, history: () => recording.history(), exchanges: ["binance"],
 *   apply: hub.calibrateVpin, log,
 * });
 * ```
 */
export function startVpinCalibrator(deps: VpinCalibratorDeps): VpinCalibrator {
  const abort = new AbortController();
  const now = deps.now ?? Date.now;
  let running: Promise<void> = Promise.resolve();

  const runOnce = async (): Promise<void> => {
    const reader = deps.history();
    if (!reader) return;
    try {
      const at = now();
      const exchanges = new Set(deps.exchanges);
      const symbols = reader.catalog().streams.filter((s) =>
        s.kind === "trade" && exchanges.has(s.exchange) &&
        s.to >= at - DEFAULT_HISTORY_LOOKBACK_MS
      );
      for (const { exchange, symbol } of symbols) {
        if (abort.signal.aborted) return;
        try {
          const cal = await readVpinCalibration(reader, exchange, symbol, {
            at,
            configuredBucketVolume: deps.configuredBucketVolume,
            signal: abort.signal,
          });
          if (!cal || abort.signal.aborted) continue;
          deps.store.set(exchange, symbol, cal);
          deps.apply(exchange, symbol, cal);
          deps.log.info(
            "VPIN of {exchange} {symbol} calibrated: bucket volume {bucketVolume} ({source}), {values} historical values",
            {
              exchange,
              symbol,
              bucketVolume: cal.bucketVolume,
              source: cal.bucketVolumeSource,
              values: cal.history.exact.length,
              extrapolatedFromMs: cal.volume?.extrapolated ? cal.volume.spanMs : undefined,
            },
          );
        } catch (err) {
          deps.log.error("VPIN calibration of {exchange} {symbol} failed: {error}", {
            exchange,
            symbol,
            error: String(err),
          });
        }
      }
    } finally {
      reader.close();
    }
  };
  const run = () => {
    running = running.then(runOnce).catch((err) =>
      deps.log.error("VPIN calibration failed: {error}", { error: String(err) })
    );
  };
  run();
  const timer = setInterval(run, deps.intervalMs ?? VPIN_CALIBRATION_INTERVAL_MS);
  return {
    async close() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}

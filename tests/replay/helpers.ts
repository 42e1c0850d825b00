/**
 * Replay test set-up: a gateway whose hub taps feed a recorder (as the recording
 * wiring will), and the {@link ReplaySource} `/replay` reads, built directly from
 * core/history.
 */
import type { FeedSpec } from "../../core/ingest/supervisor.ts";
import type { BinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import { binance } from "../../plugins/binance/mod.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import { type Gateway, startGateway } from "../../core/server/gateway.ts";
import { createRecorder, type HistoryReader, openHistory } from "../../core/history/mod.ts";
import type { ReplaySource } from "../../core/replay/session.ts";
import { type TestClient, testConfig } from "../helpers.ts";

/** The real Binance plugin against emulator `emu`, streaming every channel of `symbols`. */
export function binanceFeed(emu: BinanceEmulator, symbols: string[]): FeedSpec {
  return {
    plugin: binance,
    workerUrl: new URL("../../plugins/binance/worker.ts", import.meta.url),
    config: pluginConfig(binance, {
      BINANCE_WS_URL: emu.wsUrl,
      BINANCE_REST_URL: emu.restUrl,
    }, { backoffBaseMs: 50, backoffCapMs: 200, backfillDelayMs: 50 }),
    symbols,
    channels: ["trade", "quote", "kline", "book"],
  };
}

/** A gateway recording every hub item into a temporary folder. */
export interface RecordingGateway {
  gateway: Gateway;
  source: ReplaySource;
  dir: string;
  close(): Promise<void>;
}

/** Starts a gateway on `feeds` whose hub items are recorded under their tap `seq`. */
export async function recordingGateway(
  feeds: FeedSpec[],
  options: {
    /** Bound of held live items of a splicing replay. */
    spliceBufferItems?: number;
    /** Changes the source the gateway is given (e.g. a recorder that falls behind). */
    wrapSource?: (source: ReplaySource) => ReplaySource;
    /** Core settings over the test defaults. */
    config?: Parameters<typeof testConfig>[0];
  } = {},
): Promise<RecordingGateway> {
  const dir = await Deno.makeTempDir({ prefix: "replay-test-" });
  const recorder = createRecorder({ dir, worker: false, flushMs: 100 });
  let tapped = 0;
  let flushed = 0;
  const source: ReplaySource = {
    // A fresh reader per replay, as the gateway's recording gives (the replay closes it).
    history: (): HistoryReader => openHistory(dir),
    flushedSeq: () => flushed,
    async flush() {
      const upTo = tapped;
      await recorder.flush();
      flushed = Math.max(flushed, upTo);
    },
  };
  const gateway = await startGateway({
    config: testConfig(options.config),
    feeds,
    replaySource: options.wrapSource?.(source) ?? source,
    // `/api/history/*` reads the same folder.
    historySource: { dir, history: () => openHistory(dir), health: () => ({ healthy: true }) },
    replaySpliceBufferItems: options.spliceBufferItems,
  });
  gateway.taps.add((entry) => {
    recorder.record({
      exchange: entry.exchange,
      item: entry.item,
      seq: entry.seq,
      receiveTime: entry.receiveTime,
    });
    tapped = entry.seq;
  });
  return {
    gateway,
    source,
    dir,
    async close() {
      await gateway.close();
      await recorder.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Frame types carrying market data (compared field for field between live and replay). */
export const DATA_TYPES = new Set(["trade", "quote", "kline", "book", "gap", "consolidated"]);

/** The frames of a client, batched arrays flattened. */
export function flat(frames: Record<string, unknown>[]): Record<string, unknown>[] {
  return frames.flatMap((f) => Array.isArray(f) ? f as Record<string, unknown>[] : [f]);
}

/** Index of the first frame matching `match` in the flattened frames, or -1. */
export function findIndex(
  client: TestClient,
  match: (f: Record<string, unknown>) => boolean,
): number {
  return flat(client.frames).findIndex(match);
}

/** True for the replay status frame of `state`. */
export const isState = (state: string) => (f: Record<string, unknown>) =>
  f.type === "status" && f.state === state;

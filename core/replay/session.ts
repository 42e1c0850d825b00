/**
 * `ws://HOST:PORT/replay?from=&to=&speed=`: the recording streamed as a live
 * client with the same subscriptions received it, over the `/ws` protocol, and
 * without `to` spliced into the live stream on the same connection.
 *
 * 1. The query is checked before the upgrade (400 `invalid_query`); without a
 *    recording the answer is 503 `recording_off`. The socket is admitted by the
 *    gateway's one admission (plans, `MAX_CLIENTS`, memory budget, slow consumers).
 * 2. The client subscribes as on `/ws`. {@link REPLAY_GRACE_MS} after its first
 *    successful subscribe, the replay starts: `status` `replay_start`, each followed
 *    feed's `status` at `from` (`replay: true`), the books at `from` (snapshot frames), then every recorded item of the subscribed streams in
 *    hub order through a private copy of the hub (pipeline.ts), paced by receive time
 *    divided by `speed` and by the socket draining.
 * 3. With `to`: `status` `replay_end` after the last item up to `to`; the connection
 *    stays open (ping, list) until the client closes it.
 * 4. Without `to` (splice): a hub tap holds live items from the start; the recording is
 *    flushed and read up to the last flushed sequence number N; `status` `live` with
 *    `seq` N; then the held live items after N, then live items as they come, through the
 *    same private hub: no gap, no duplicate. If the held items exceed the bound the client
 *    gets an error frame `replay_overrun` and is disconnected.
 * @module
 */
import type { Client, Delivery } from "../delivery/policy.ts";
import type { Catalog } from "../market/catalog.ts";
import type { HubTaps } from "../ingest/taps.ts";
import type { AdmitOptions, AdmittedConnection } from "../server/admission.ts";
import type { SessionLimits } from "../delivery/session.ts";
import type { ErrorCode } from "../protocol/messages.ts";
import type { HistoryReader } from "../history/mod.ts";
import type { StreamKey } from "../delivery/subscriptions.ts";
import { createMetrics, type Metrics } from "../server/metrics.ts";
import { httpError } from "../server/rest.ts";
import { batchFrame, errorFrame, liveStatusFrame, replayStatusFrame } from "../protocol/frames.ts";
import { createPipeline, type Pipeline } from "./pipeline.ts";
import type { HubAnalyticsOptions } from "../ingest/hub.ts";
import type { PaperConfig } from "../server/paper.ts";
import { feedRecording, startAt } from "./recorded.ts";
import { createPacer } from "./pacing.ts";
import { createSpliceBuffer, type SpliceBuffer } from "./splice.ts";
import { parseReplayQuery, type ReplayQuery } from "./query.ts";

/**
 * What a replay needs from the recording wiring (core/server/recording.ts): the reader
 * of the recording folder and how far the recorder has written.
 */
export interface ReplaySource {
  /** The recording's reader; undefined when recording is off. */
  history(): HistoryReader | undefined;
  /**
   * Hub sequence number up to which the recording is complete: every item the hub
   * handled up to it is readable (recorded, or covered by a `recording_gap` marker).
   */
  flushedSeq(): number;
  /**
   * Writes everything queued. Once it resolves, `flushedSeq()` is at least the hub
   * sequence number (`gateway.taps.lastSeq()`) of the last item handled before the call.
   */
  flush(): Promise<unknown>;
}

/** Wait after the first successful subscribe before the replay starts, so several subscribes count. */
export const REPLAY_GRACE_MS = 100;

/** Default bound of the live items held while a splicing replay catches up. */
export const DEFAULT_SPLICE_BUFFER_ITEMS = 200_000;

/** A `to` this close to now flushes the recorder first, ms. */
const RECENT_MS = 5_000;

/** Margin past now for the recording read of a splicing replay (it stops at the flushed seq). */
const FUTURE_MARGIN_MS = 60_000;

/** What the `/replay` endpoint is built on. */
export interface ReplayEndpointDeps {
  /** The recording; undefined (or `history()` undefined) answers 503 `recording_off`. */
  source: ReplaySource | undefined;
  /** The gateway's one WebSocket admission. */
  admit(
    req: Request,
    url: URL,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    options: AdmitOptions,
  ): Promise<AdmittedConnection | Response>;
  /** The gateway's delivery (slow-consumer policy). */
  delivery: Delivery;
  /** The live hub's taps (splice into live). */
  taps: HubTaps;
  /** The live catalog (exchanges, configured symbols, instruments). */
  catalog: Catalog;
  limits: SessionLimits;
  /** Paper-trading settings: a replay has its own simulated venues on the replayed books. */
  paper?: PaperConfig;
  /** The live hub's analytics settings, so a replay computes and throttles the same figures. */
  analytics?: HubAnalyticsOptions;
  /** Disconnects a client through the admission. */
  disconnect(client: Client, code: number, reason: string, detail?: string): void;
  /** Counts an error frame (`quant_client_errors_total`). */
  countError(code: ErrorCode): void;
  /** Counts a frame received from a client. */
  countFrame(): void;
  log: {
    info(message: string, props?: Record<string, unknown>): void;
    error(message: string, props?: Record<string, unknown>): void;
  };
  /** Bound of held live items while catching up; default {@link DEFAULT_SPLICE_BUFFER_ITEMS}. */
  spliceBufferItems?: number;
  /**
   * Makes the live side carry `streams` before a replay continues live (an edge follows their
   * NATS subjects); resolves once it does, with the release to call when the replay ends.
   */
  follow?(streams: StreamKey[]): Promise<() => void>;
  /** Start delay after the first subscribe, ms; default {@link REPLAY_GRACE_MS}. */
  graceMs?: number;
}

/** The `/replay` endpoint. */
export interface ReplayEndpoint {
  /** Handles a request to `/replay`. */
  handle(req: Request, url: URL, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response>;
}

/** Creates the `/replay` endpoint. */
export function createReplayEndpoint(deps: ReplayEndpointDeps): ReplayEndpoint {
  /** Counters of the private hubs: kept apart from the live gateway's metrics. */
  const privateMetrics: Metrics = createMetrics();
  return {
    async handle(req, url, info) {
      const query = parseReplayQuery(url.searchParams, Date.now());
      if ("code" in query) {
        deps.countError("invalid_request");
        return httpError(400, query.code, query.message);
      }
      const history = deps.source?.history();
      if (!deps.source || !history) {
        return httpError(
          503,
          "recording_off",
          "replay reads the recording, and recording is off: start the gateway with RECORD_DIR (--record-dir)",
        );
      }
      // Each replay reads through its own reader, closed when the replay is over.
      const release = () => {
        try {
          history.close();
        } catch { /* already closed */ }
      };
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        release();
        return httpError(426, "upgrade_required", "GET /replay with a WebSocket upgrade");
      }
      const source = deps.source;
      let running: Promise<void> | undefined;
      const controller = new AbortController();
      let splice: SpliceBuffer | undefined;
      /** Releases what the replay holds on the live side (followed streams), once. */
      const ends: Array<() => void> = [];
      const end = () => {
        for (const release of ends.splice(0)) release();
      };
      const pipeline = createPipeline({
        catalog: deps.catalog,
        delivery: deps.delivery,
        limits: deps.limits,
        analytics: deps.analytics,
        paper: deps.paper,
        metrics: privateMetrics,
        disconnect: deps.disconnect,
        countError: deps.countError,
      });
      const admitted = await deps.admit(req, url, info, {
        batch: query.batch,
        onGone: (client) => {
          controller.abort();
          splice?.close();
          end();
          pipeline.sessions.onClose(client);
          if (!running) release();
        },
      });
      if (admitted instanceof Response) {
        release();
        return admitted;
      }
      const { socket, client } = admitted;
      let startTimer: ReturnType<typeof setTimeout> | undefined;
      controller.signal.addEventListener("abort", () => clearTimeout(startTimer));
      let started = false;
      socket.onmessage = (e) => {
        deps.countFrame();
        const lateSubscribe = started
          ? parseSubscribe(e.data, deps.limits.maxFrameBytes)
          : undefined;
        if (lateSubscribe) {
          // The replay reads the streams selected when it started; a later subscribe would be
          // acknowledged and then get nothing, so it is refused, said so, and not applied.
          deps.countError("replay_selection_fixed");
          deps.delivery.send(
            client,
            errorFrame(
              "replay_selection_fixed",
              "this replay's subscriptions were fixed when it started; open another /replay connection for other streams",
              requestIdOf(lateSubscribe),
            ),
          );
          return;
        }
        pipeline.sessions.onMessage(client, e.data);
        if (startTimer !== undefined || client.closing) return;
        if (pipeline.selection(client).exchanges.length === 0) return;
        startTimer = setTimeout(() => {
          started = true;
          const run: Replay = {
            query,
            history,
            source,
            pipeline,
            client,
            deps,
            signal: controller.signal,
            setSplice: (s) => splice = s,
            onEnd: (release) => {
              if (controller.signal.aborted) release();
              else ends.push(release);
            },
          };
          running = replay(run).catch((err) => {
            if (controller.signal.aborted) return; // the client left or the gateway is closing
            deps.log.error("replay for client {id} failed: {error}", {
              id: client.id,
              error: err instanceof Error ? err.message : String(err),
            });
            closeWithError(
              deps,
              client,
              "replay_failed",
              "the recording could not be read for this replay",
              1011,
            );
          }).finally(release);
        }, deps.graceMs ?? REPLAY_GRACE_MS);
      };
      socket.onerror = () => {};
      return admitted.response;
    },
  };
}

/** One running replay. */
interface Replay {
  query: ReplayQuery;
  history: HistoryReader;
  source: ReplaySource;
  pipeline: Pipeline;
  client: Client;
  deps: ReplayEndpointDeps;
  signal: AbortSignal;
  setSplice(splice: SpliceBuffer): void;
  /** Keeps `release` to call when the replay ends (the live streams it followed). */
  onEnd(release: () => void): void;
}

/** Streams one replay; resolves when it ended (or the client left). */
async function replay(run: Replay): Promise<void> {
  const { query, history, source, pipeline, client, deps, signal } = run;
  const { from, to, speed } = query;
  if (signal.aborted) return;
  const selection = pipeline.selection(client);
  deps.log.info("replay for client {id}: from {from} to {to} at speed {speed}", {
    id: client.id,
    from: new Date(from).toISOString(),
    to: to === undefined ? "live" : new Date(to).toISOString(),
    speed,
  });
  deps.delivery.send(client, replayStatusFrame({ state: "replay_start", from, to, speed }));

  // Splice: hold live items from now on, before the recording is read.
  let splice: SpliceBuffer | undefined;
  let tapStart = 0;
  let target: number | undefined;
  if (to === undefined) {
    if (deps.follow) {
      run.onEnd(await deps.follow(pipeline.streams(client)));
      if (signal.aborted) return;
    }
    tapStart = deps.taps.lastSeq();
    const bound = deps.spliceBufferItems ?? DEFAULT_SPLICE_BUFFER_ITEMS;
    splice = createSpliceBuffer(deps.taps, bound, () =>
      closeWithError(
        deps,
        client,
        "replay_overrun",
        `the replay fell more than ${bound} live items behind while catching up; use a higher speed or a later from`,
        1008,
      ));
    run.setSplice(splice);
    if (signal.aborted) return splice.close();
    await source.flush();
    if (signal.aborted) return;
    target = source.flushedSeq();
    if (target < tapStart) {
      closeWithError(
        deps,
        client,
        "replay_failed",
        `the recording is behind live (written up to ${target}, live at ${tapStart}); cannot continue live without a gap`,
        1011,
      );
      return;
    }
  }

  if (to !== undefined && to > Date.now() - RECENT_MS) {
    // The last second may still be queued in the recorder.
    await source.flush();
    if (signal.aborted) return;
  }
  await startAt(history, pipeline, client, selection, from);
  const pacer = createPacer(client, deps.delivery, from, speed, signal);
  const lastSeq = await feedRecording(
    history,
    pipeline,
    selection,
    { from, to: to ?? Date.now() + FUTURE_MARGIN_MS, lastSeq: target },
    (receiveTime) => pacer.wait(receiveTime),
  );
  if (lastSeq === undefined) return;
  if (signal.aborted) return;

  if (to !== undefined || splice === undefined || target === undefined) {
    if (to !== undefined && !await pacer.wait(to)) return;
    deps.delivery.send(
      client,
      replayStatusFrame({ state: "replay_end", from, to, speed, seq: lastSeq }),
    );
    return;
  }

  // Handover: everything up to `target` came from the recording; live items follow.
  pipeline.goLive();
  deps.delivery.send(client, liveStatusFrame(target));
  let after = target;
  for (;;) {
    const entry = splice.next(after);
    if (entry === undefined) {
      // Same tick as the empty check: no live item can slip between buffer and tap.
      splice.direct((e) => {
        if (!client.closing && pipeline.selects(selection, e)) pipeline.feed(e);
      });
      return;
    }
    after = entry.seq;
    if (!pipeline.selects(selection, entry)) continue;
    if (!await pacer.drained()) return;
    pipeline.feed(entry);
  }
}

/**
 * Ends a replay connection with an error frame. The frame is written to the socket at
 * once (batched: as a one-element array), as the admission does for a slow consumer,
 * since a frame queued in the delivery would be dropped by the close.
 */
function closeWithError(
  deps: ReplayEndpointDeps,
  client: Client,
  code: "replay_failed" | "replay_overrun",
  message: string,
  closeCode: number,
): void {
  if (client.closing) return;
  deps.countError(code);
  const frame = errorFrame(code, message);
  try {
    client.socket.send(client.batch !== null ? batchFrame([frame]) : frame);
  } catch { /* closed */ }
  deps.disconnect(client, closeCode, code, message);
}

/**
 * The parsed frame when `data` is a JSON `subscribe` request of at most `maxChars`
 * characters (larger frames are left to the session, which refuses them), else undefined.
 */
function parseSubscribe(data: unknown, maxChars: number): Record<string, unknown> | undefined {
  if (typeof data !== "string" || data.length > maxChars || !data.includes("subscribe")) {
    return undefined;
  }
  try {
    const frame = JSON.parse(data);
    return frame?.action === "subscribe" ? frame : undefined;
  } catch {
    return undefined; // not JSON: the session answers bad_json
  }
}

/** The `id` a request carries (echoed in the error), when it is a valid one. */
function requestIdOf(frame: Record<string, unknown>): string | number | undefined {
  const id = frame.id;
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : undefined;
}

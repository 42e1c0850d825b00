/**
 * Worker-side host for one feed plugin: validates its config, runs it, and
 * batches everything it emits into numbered messages for the hub (through an outbox
 * that holds back and conflates quotes while the hub is behind: core/feed/outbox.ts).
 * A plugin's `worker.ts` is one line: `serveFeedWorker(plugin)`.
 * @module
 */
import type { FeedContext, FeedPlugin } from "./plugin.ts";
import type { ControlMessage, FeedItem, FromWorker, ToWorker } from "./messages.ts";
import { createOutbox } from "./outbox.ts";

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
}

/**
 * Builds a plugin context whose output goes to `sink` (also used by tests and benchmarks).
 *
 * @example Run a plugin in-process and collect what it emits
 * ```ts
 * import { createFeedContext, defineFeed, type FeedItem } from "@quant-saas/gateway";
 * import { z } from "zod";
 *
 * const plugin = defineFeed({
 *   name: "myex",
 *   configSchema: z.object({}),
 *   env: {},
 *   hosts: () => [],
 *   async run(ctx) {
 *     ctx.status({ state: "connected" });
 *   },
 * });
 * const items: FeedItem[] = [];
 * const ctx = createFeedContext(
 *   plugin,
 *   { symbols: ["BTC-USD"], channels: ["trade"], config: {} },
 *   new AbortController().signal,
 *   (item) => items.push(item),
 * );
 * await plugin.run(ctx);
 * console.log(items); // [{ type: "status", state: "connected" }]
 * ```
 */
export function createFeedContext<C>(
  plugin: FeedPlugin<C>,
  start: {
    symbols: readonly string[];
    channels: FeedContext["channels"];
    config: C;
  },
  signal: AbortSignal,
  sink: (item: FeedItem) => void,
): FeedContext<C> {
  const log =
    (level: "debug" | "info" | "warning" | "error") =>
    (message: string, properties?: Record<string, unknown>) =>
      sink({ type: "log", level, message, properties });
  return {
    exchange: plugin.name,
    symbols: start.symbols,
    channels: start.channels,
    config: start.config,
    signal,
    emit: (event) => sink(event),
    status: (update) => sink({ type: "status", ...update }),
    bookStatus: (update) => sink({ type: "book_status", ...update }),
    malformed: (reason, frame) =>
      sink({
        type: "malformed",
        reason,
        frame: frame === undefined ? undefined : frame.slice(0, 512),
      }),
    log: {
      debug: log("debug"),
      info: log("info"),
      warn: log("warning"),
      error: log("error"),
    },
  };
}

/**
 * Runs `plugin` inside the current Worker, driven by the core's messages. A
 * plugin's `worker.ts` is this one call.
 *
 * @example `plugins/myex/worker.ts`
 * ```ts ignore
 * import { serveFeedWorker } from "../../mod.ts";
 * import { myex } from "@quant-saas/gateway";
 *
 * serveFeedWorker(myex);
 * ```
 */
export function serveFeedWorker<C>(plugin: FeedPlugin<C>): void {
  const scope = self as unknown as WorkerScope;
  const abort = new AbortController();
  const outbox = createOutbox((batch) => scope.postMessage(batch));
  const sink = (item: FeedItem) => outbox.add(item);

  let control: BroadcastChannel | undefined;

  scope.onmessage = async (e) => {
    const msg = e.data;
    if (msg.type === "stop") {
      abort.abort();
      return;
    }
    if (msg.type === "ack") {
      outbox.ack(msg.seq);
      return;
    }
    if (msg.type !== "start") return;
    control = new BroadcastChannel(msg.control);
    control.onmessage = (e: MessageEvent<ControlMessage>) => {
      if (e.data?.type === "shutdown") abort.abort();
    };
    let error: string | undefined;
    try {
      const config = plugin.configSchema.parse(msg.config);
      const ctx = createFeedContext(
        plugin,
        { symbols: msg.symbols, channels: msg.channels, config },
        abort.signal,
        sink,
      );
      await plugin.run(ctx);
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    outbox.flushAll();
    control.close();
    control = undefined;
    scope.postMessage({ type: "exit", error });
  };
}

/**
 * Feed supervisor: runs each plugin in its own Worker with only the network
 * permissions it declares, checks that every batch arrives (consecutive
 * sequence numbers), restarts a plugin whose Worker dies, and tracks each feed's
 * state for `/health`.
 * @module
 */
import type { Channel, FeedState } from "../events.ts";
import type { FeedPlugin } from "../feed/plugin.ts";
import {
  CONTROL_CHANNEL,
  type ControlMessage,
  type FeedItem,
  type FromWorker,
  type ToWorker,
} from "../feed/messages.ts";
import { getLogger } from "../server/log.ts";

/** What the supervisor needs to run one feed. */
export interface FeedSpec {
  // deno-lint-ignore no-explicit-any
  plugin: FeedPlugin<any>;
  /** Module that calls `serveFeedWorker(plugin)`. */
  workerUrl: URL;
  /** The plugin's validated configuration. */
  config: unknown;
  symbols: string[];
  channels: Channel[];
}

/** Live state of one feed, as `/health` reports it. */
export interface FeedInfo {
  exchange: string;
  state: FeedState;
  /** True when the feed is connected to a local emulator, not the real exchange. */
  emulator: boolean;
  reason?: string;
  /** When the state last changed, ms since the epoch. */
  since: number;
  /** Last market event received, ms since the epoch (null before the first). */
  lastMessageAt: number | null;
  reconnects: number;
  /** Worker restarts after a crash. */
  restarts: number;
  malformed: number;
  events: number;
  /** Batches missing between the Worker and the hub (must stay 0). */
  lostBatches: number;
  /** Quotes/candle updates the Worker conflated while the hub was behind (since its start). */
  conflatedInWorker: number;
  /** Network hosts the plugin's Worker may reach. */
  hosts: string[];
}

/**
 * A feed's info before anything happened (state `connecting`, every counter 0), with `fields`
 * over it: what the supervisor starts each feed with, and what a replay or a test starts from.
 */
export function newFeedInfo(exchange: string, fields: Partial<FeedInfo> = {}): FeedInfo {
  return {
    exchange,
    state: "connecting",
    emulator: false,
    since: Date.now(),
    lastMessageAt: null,
    reconnects: 0,
    restarts: 0,
    malformed: 0,
    events: 0,
    lostBatches: 0,
    conflatedInWorker: 0,
    hosts: [],
    ...fields,
  };
}

/** Receives every item a feed delivers, in order. */
export type ItemHandler = (exchange: string, item: FeedItem) => void;

/** Notified when a feed's state changes. */
export type StateHandler = (info: FeedInfo) => void;

/**
 * Called after a batch of market events has been handed to the hub (every client
 * `send()` for it issued) with the ms since its first item was emitted in the Worker.
 */
export type BatchDoneHandler = (exchange: string, ms: number) => void;

/** Running feeds. */
export interface Feeds {
  info(): FeedInfo[];
  get(exchange: string): FeedInfo | undefined;
  /** Stops every plugin (clean close first, then terminate). */
  stop(graceMs?: number): Promise<void>;
}

/** Restart delays after a crash: 0.5 s doubling up to 30 s. */
const restartDelay = (restarts: number) => Math.min(30_000, 500 * 2 ** Math.min(restarts, 6));

/** Starts one Worker per feed and supervises them. */
export function startFeeds(
  specs: readonly FeedSpec[],
  onItem: ItemHandler,
  onState: StateHandler,
  onBatchDone?: BatchDoneHandler,
): Feeds {
  const log = getLogger(["quant-saas", "feeds"]);
  const controlName = `${CONTROL_CHANNEL}:${crypto.randomUUID()}`;
  const control = new BroadcastChannel(controlName);
  const infos = new Map<string, FeedInfo>();
  const running = new Map<string, { worker: Worker; exited: Promise<void> }>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let stopping = false;

  const setState = (
    info: FeedInfo,
    state: FeedState,
    reason?: string,
    emulator?: boolean,
  ) => {
    if (emulator !== undefined) info.emulator = emulator;
    if (info.state === state && info.reason === reason) return;
    info.state = state;
    info.reason = reason;
    info.since = Date.now();
    onState(info);
  };

  /**
   * A state change the supervisor itself observes (a Worker started, died or stopped), as
   * opposed to one the plugin reports: also handed on as a `status` item, so the hub's
   * taps (the recording, spliced replays) see it where it happened, like the plugin's own.
   */
  const observe = (info: FeedInfo, state: FeedState, reason?: string) => {
    if (info.state === state && info.reason === reason) return;
    setState(info, state, reason);
    onItem(info.exchange, { type: "status", state, reason, emulator: info.emulator });
  };

  const launch = (spec: FeedSpec) => {
    const info = infos.get(spec.plugin.name)!;
    // The same permissions for shipped and loaded (PLUGINS) plugins: network to the
    // declared hosts, nothing else. A Worker's own module graph (static and dynamic
    // imports, local files or remote URLs) is loaded with the main process's read /
    // import permissions, not the Worker's (verified on Deno 2.9.6), so a plugin from
    // outside the repo needs no `read` or `import` grant here; the gateway process
    // needs `--allow-read` for a local plugin's folder or `--allow-import` for its host.
    const worker = new Worker(spec.workerUrl, {
      type: "module",
      name: `feed:${spec.plugin.name}`,
      deno: {
        permissions: {
          net: info.hosts,
          read: false,
          write: false,
          env: false,
          run: false,
          ffi: false,
          sys: false,
          import: false,
        },
      },
    });
    let expected = 1;
    /** Conflated by earlier runs of this plugin's Worker (counts restart at 0 in a new one). */
    const conflatedBefore = info.conflatedInWorker;
    /** Acknowledgements to the Worker's outbox: at most one per millisecond, of the last batch handled. */
    let ackTimer: ReturnType<typeof setTimeout> | undefined;
    const ack = () => {
      ackTimer = undefined;
      try {
        worker.postMessage({ type: "ack", seq: expected - 1 } satisfies ToWorker);
      } catch { /* terminated */ }
    };
    let resolveExit!: () => void;
    const exited = new Promise<void>((r) => resolveExit = r);
    const done = (error?: string) => {
      if (!running.has(spec.plugin.name)) return;
      running.delete(spec.plugin.name);
      clearTimeout(ackTimer);
      worker.terminate();
      resolveExit();
      if (stopping) {
        observe(info, "stopped");
        return;
      }
      info.restarts++;
      const delay = restartDelay(info.restarts - 1);
      log.error("feed plugin {exchange} stopped: {error}; restarting in {delay} ms", {
        exchange: spec.plugin.name,
        error: error ?? "run() returned",
        delay,
      });
      observe(info, "failed", error ?? "plugin exited");
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopping) launch(spec);
      }, delay);
      timers.add(timer);
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const msg = e.data;
      if (msg.type === "exit") {
        done(msg.error);
        return;
      }
      if (msg.seq !== expected) {
        info.lostBatches += Math.max(0, msg.seq - expected);
        log.error("hub lost {count} batches from {exchange}", {
          count: msg.seq - expected,
          exchange: spec.plugin.name,
        });
      }
      expected = msg.seq + 1;
      if (msg.conflated !== undefined) info.conflatedInWorker = conflatedBefore + msg.conflated;
      let events = 0;
      for (const item of msg.items) {
        switch (item.type) {
          case "status":
            if (item.state === "reconnecting") info.reconnects++;
            setState(info, item.state, item.reason, item.emulator);
            break;
          case "malformed":
            info.malformed++;
            break;
          case "log":
            break;
          default:
            events++;
            info.events++;
            info.lastMessageAt = Date.now();
        }
        onItem(spec.plugin.name, item);
      }
      if (onBatchDone && events > 0 && msg.at > 0) {
        onBatchDone(spec.plugin.name, performance.timeOrigin + performance.now() - msg.at);
      }
      ackTimer ??= setTimeout(ack, 1);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      // deno-lint-ignore no-control-regex
      done(e.message.replace(/\u001b\[[0-9;]*m/g, "").split("\n")[0]);
    };
    worker.onmessageerror = () => done("unreadable message from worker");
    running.set(spec.plugin.name, { worker, exited });
    observe(info, "connecting", info.restarts ? "restarted" : undefined);
    const start: ToWorker = {
      type: "start",
      exchange: spec.plugin.name,
      symbols: spec.symbols,
      channels: spec.channels,
      config: spec.config,
      control: controlName,
    };
    worker.postMessage(start);
  };

  for (const spec of specs) {
    infos.set(
      spec.plugin.name,
      newFeedInfo(spec.plugin.name, {
        emulator: (spec.config as { emulator?: unknown } | null)?.emulator === true,
        hosts: spec.plugin.hosts(spec.config),
      }),
    );
    launch(spec);
  }

  return {
    info: () => [...infos.values()],
    get: (exchange) => infos.get(exchange),
    async stop(graceMs = 2000) {
      stopping = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const shutdown: ControlMessage = { type: "shutdown" };
      control.postMessage(shutdown);
      for (const { worker } of running.values()) {
        worker.postMessage({ type: "stop" } satisfies ToWorker);
      }
      const all = Promise.all([...running.values()].map((r) => r.exited));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        all,
        new Promise((r) => timer = setTimeout(r, graceMs)),
      ]);
      clearTimeout(timer);
      for (const [name, { worker }] of running) {
        worker.terminate();
        running.delete(name);
        observe(infos.get(name)!, "stopped");
      }
      control.close();
    },
  };
}

/**
 * The plugin conformance kit: the checks every feed plugin must pass against its
 * own emulator (connect, valid normalized events, malformed frames counted and
 * never emitted, reconnect after a drop, stale detection, clean shutdown, and the
 * same feed through its real Worker). Checks whose emulator fault switch is
 * missing are reported as ignored (skipped), never as passed.
 * @module
 */
import type { Channel, MarketEvent } from "../events.ts";
import type { FeedItem } from "../feed/messages.ts";
import { createFeedContext } from "../feed/worker.ts";
import type { PluginEntry } from "../ingest/plugin_entry.ts";
import { pluginConfig } from "../ingest/plugin_config.ts";
import { startFeeds } from "../ingest/supervisor.ts";
import { eventProblems } from "./event_schema.ts";

/**
 * How {@link testPlugin} drives a plugin.
 *
 * @example
 * ```ts
 * import type { ConformanceOptions } from "./testing.ts";
 * const options: ConformanceOptions = {
 *   symbols: ["BTC-USD"],
 *   config: { deadAfterMs: 2500, backoffBaseMs: 50 },
 *   silenceMs: 4000,
 * };
 * ```
 */
export interface ConformanceOptions {
  /** Symbols to stream (the emulator's own notation). Default `["BTCUSDT"]`. */
  symbols?: string[];
  /** Channels to stream. Default `["trade"]`. */
  channels?: Channel[];
  /**
   * Configuration overrides on top of the emulator's settings: make stale
   * detection and reconnect backoff fast here (e.g. `{ deadAfterMs: 1500 }`), so
   * that the stale check fits in `silenceMs`.
   */
  config?: Record<string, unknown>;
  /** How long the emulator goes silent in the stale check, ms. Default 5000. */
  silenceMs?: number;
  /** Longest wait of any other check, ms. Default 10000. */
  timeoutMs?: number;
  /**
   * Longest wait for the Worker check, ms (its first start may include compiling
   * the Worker's modules). Default 30000.
   */
  workerTimeoutMs?: number;
  /** How soon `run()` must resolve after its signal aborts, ms. Default 3000. */
  shutdownMs?: number;
}

const MARKET_TYPES = new Set(["trade", "quote", "kline", "book", "gap", "instruments"]);

const isMarketEvent = (item: FeedItem): item is MarketEvent => MARKET_TYPES.has(item.type);

/** Waits for `condition`, re-checked whenever an item arrives and every 50 ms. */
function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs: number,
  wake: Set<() => void>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const holds = () => {
      try {
        return condition();
      } catch (err) {
        cleanup();
        reject(err);
        return false;
      }
    };
    const check = () => {
      if (!holds()) return;
      cleanup();
      resolve();
    };
    const poll = setInterval(check, 50);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = () => {
      clearInterval(poll);
      clearTimeout(timer);
      wake.delete(check);
    };
    wake.add(check);
    check();
  });
}

/**
 * Builds a `Deno.test` function that runs the conformance checks of `entry`
 * against its own emulator, each as a test step. The plugin's `run(ctx)` is
 * driven directly (no Worker) so every item it produces is seen; a last step
 * runs the same feed through its real Worker with only its declared hosts.
 *
 * @example
 * ```ts
 * import { testPlugin } from "./testing.ts";
 * import { entry } from "./tests/fixtures/external_plugin/entry.ts";
 *
 * Deno.test(
 *   "toyex passes the plugin conformance kit",
 *   testPlugin(entry, { symbols: ["TOYUSD"], config: { staleMs: 1000, backoffMs: 50 } }),
 * );
 * ```
 */
export function testPlugin(
  entry: PluginEntry,
  options: ConformanceOptions = {},
): (t: Deno.TestContext) => Promise<void> {
  const symbols = options.symbols ?? ["BTCUSDT"];
  const channels = options.channels ?? ["trade"];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const silenceMs = options.silenceMs ?? 5_000;
  const shutdownMs = options.shutdownMs ?? 3_000;
  const workerTimeoutMs = options.workerTimeoutMs ?? 30_000;
  const name = entry.plugin.name;

  return async (t) => {
    const emu = await entry.emulator(symbols);
    const faults = emu.faults ?? {};
    const config = pluginConfig(entry.plugin, emu.env, { emulator: true, ...options.config });
    const items: FeedItem[] = [];
    const invalid: string[] = [];
    const wake = new Set<() => void>();
    const sink = (item: FeedItem) => {
      items.push(item);
      if (isMarketEvent(item)) {
        const problems = eventProblems(item, name);
        if (problems.length > 0) {
          invalid.push(`${JSON.stringify(item).slice(0, 200)}: ${problems.join("; ")}`);
        }
      }
      for (const w of wake) w();
    };
    const abort = new AbortController();
    const ctx = createFeedContext(entry.plugin, { symbols, channels, config }, abort.signal, sink);
    let runError: unknown;
    let settled = false;
    const running = Promise.resolve().then(() => entry.plugin.run(ctx)).catch((err) =>
      runError = err
    ).finally(() => {
      settled = true;
      for (const w of wake) w();
    });

    const wait = (condition: () => boolean, what: string, ms = timeoutMs) =>
      waitFor(
        () => {
          if (settled) {
            throw new Error(`run() ended while waiting for ${what}: ${runError ?? "returned"}`);
          }
          return condition();
        },
        what,
        ms,
        wake,
      );
    const statusAfter = (from: number, state: string) =>
      items.slice(from).some((i) => i.type === "status" && i.state === state);
    const statesAfter = (from: number) =>
      items.slice(from).flatMap((i) => i.type === "status" ? [i.state] : []);
    const marketAfter = (from: number) =>
      items.slice(from).filter((i) => isMarketEvent(i) && i.type !== "instruments").length;
    const noInvalid = () => {
      if (invalid.length > 0) {
        throw new Error(
          `${invalid.length} invalid event(s) emitted, e.g. ${invalid.slice(0, 3).join("\n")}`,
        );
      }
    };
    const skipped = (check: string, hook: string) =>
      t.step({
        name: `${check} (skipped: the emulator has no faults.${hook})`,
        ignore: true,
        fn: () => {},
      });

    try {
      await t.step(
        "connects: reports status connected",
        () => wait(() => statusAfter(0, "connected"), "status connected"),
      );

      await t.step(
        "emits valid normalized events (fields, types, prices, exchange, ISO times)",
        async () => {
          await wait(() => marketAfter(0) >= 5, "5 market events");
          noInvalid();
        },
      );

      if (faults.sendMalformed) {
        await t.step("counts malformed frames (ctx.malformed) and never emits them", async () => {
          const from = items.length;
          faults.sendMalformed!(3);
          await wait(
            () => items.slice(from).some((i) => i.type === "malformed"),
            "a malformed frame to be counted",
          );
          await wait(() => marketAfter(from) >= 1, "a market event after the malformed frames");
          noInvalid();
        });
      } else await skipped("counts malformed frames and never emits them", "sendMalformed");

      if (faults.drop) {
        await t.step("reconnects after the emulator drops the connection", async () => {
          const from = items.length;
          faults.drop!();
          await wait(
            () => statesAfter(from).some((s) => s !== "connected"),
            "a status other than connected after the drop",
          );
          const down = items.length;
          await wait(() => statusAfter(down, "connected"), "status connected again after the drop");
          const up = items.length;
          await wait(() => marketAfter(up) >= 1, "a market event after reconnecting");
          noInvalid();
        });
      } else await skipped("reconnects after the emulator drops the connection", "drop");

      if (faults.silence) {
        await t.step(
          `reports stale when the emulator goes silent (${silenceMs} ms), then recovers`,
          async () => {
            const from = items.length;
            faults.silence!(silenceMs);
            await wait(
              () => statusAfter(from, "stale"),
              "status stale while the emulator is silent",
              silenceMs + 1000,
            );
            const stale = items.length;
            await wait(() => statusAfter(stale, "connected"), "status connected after the silence");
            const up = items.length;
            await wait(() => marketAfter(up) >= 1, "a market event after the silence");
            noInvalid();
          },
        );
      } else await skipped("reports stale when the emulator goes silent", "silence");

      await t.step(
        `shuts down cleanly: run() resolves within ${shutdownMs} ms of abort and closes its sockets`,
        async () => {
          abort.abort();
          let timer: ReturnType<typeof setTimeout> | undefined;
          const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), shutdownMs));
          const outcome = await Promise.race([running.then(() => "done" as const), late]);
          clearTimeout(timer);
          if (outcome === "late") {
            throw new Error(`run() still running ${shutdownMs} ms after abort`);
          }
          if (runError) throw new Error(`run() threw on shutdown: ${runError}`);
          if (faults.connections) {
            await waitFor(
              () => faults.connections!() === 0,
              "the emulator to see every connection closed",
              2000,
              wake,
            );
          }
          noInvalid();
        },
      );
      if (!faults.connections) await skipped("closes every socket on shutdown", "connections");

      await t.step("runs in its own Worker with only its declared hosts, and stops", async () => {
        const states: string[] = [];
        let events = 0;
        const feeds = startFeeds(
          [{ plugin: entry.plugin, workerUrl: entry.worker, config, symbols, channels }],
          (_exchange, item) => {
            if (isMarketEvent(item) && item.type !== "instruments") events++;
            for (const w of wake) w();
          },
          (info) => {
            states.push(info.state);
            for (const w of wake) w();
          },
        );
        try {
          await waitFor(
            () => states.includes("connected") && events > 0,
            "the Worker to connect and deliver an event",
            workerTimeoutMs,
            wake,
          ).catch((err) => {
            throw new Error(`${err.message} (states: ${states.join(", ") || "none"})`);
          });
        } finally {
          await feeds.stop(shutdownMs);
        }
      });
    } finally {
      abort.abort();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([running, new Promise((r) => timer = setTimeout(r, shutdownMs))]);
      clearTimeout(timer);
      await emu.close();
    }
  };
}

/**
 * The plugin entry: what a plugin hands the gateway besides its feed code — the
 * plugin, its Worker module, its local emulator (for `--demo` and the
 * conformance kit) and any extra endpoints. Shipped plugins export one from
 * `plugins/<exchange>/entry.ts`; an out-of-tree plugin's entry module (loaded
 * with `PLUGINS` / `--plugin`) exports one as the named export `entry`.
 * @module
 */
import { z } from "zod";
import type { FeedPlugin } from "../feed/plugin.ts";
import type { GatewayExtension } from "../server/gateway.ts";

/**
 * Fault switches of a running emulator, used by the conformance kit
 * (`testPlugin` in `testing.ts`). Each is optional: a check whose switch is
 * missing is reported as skipped (ignored), never as passed.
 *
 * @example
 * ```ts
 * import type { EmulatorFaults } from "./mod.ts";
 * declare const emu: { faults: { dropConnections(): void; silence(ms: number): void } };
 * const faults: EmulatorFaults = {
 *   drop: () => emu.faults.dropConnections(),
 *   silence: (ms) => emu.faults.silence(ms),
 * };
 * ```
 */
export interface EmulatorFaults {
  /** Closes every open WebSocket connection (the plugin must reconnect). */
  drop?(): void;
  /** Sends `count` malformed frames on every open connection (the plugin must count, never emit them). */
  sendMalformed?(count?: number): void;
  /** Withholds every frame, heartbeats included, for `ms` (the plugin must report `stale`). */
  silence?(ms: number): void;
  /** Open WebSocket connections now (0 after a clean shutdown). */
  connections?(): number;
}

/**
 * A running local emulator and the settings that point its plugin at it.
 *
 * @example
 * ```ts
 * import type { RunningEmulator } from "./mod.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   new Response("ok"));
 * const emu: RunningEmulator = {
 *   env: { MYEX_WS_URL: `ws://127.0.0.1:${server.addr.port}` },
 *   close: () => server.shutdown(),
 * };
 * await emu.close();
 * ```
 */
export interface RunningEmulator {
  /** Environment variables (plugin settings) that point the plugin at the emulator. */
  env: Record<string, string>;
  /** Fault switches for the conformance kit (optional). */
  faults?: EmulatorFaults;
  /** Stops the emulator and closes its connections. */
  close(): Promise<void>;
}

/**
 * One plugin as the gateway registers it.
 *
 * @example
 * ```ts
 * // my_plugin/entry.ts, loaded with PLUGINS=./my_plugin/entry.ts
 * import type { PluginEntry } from "./mod.ts";
 * import { myex } from "./plugin.ts";
 * import { startMyexEmulator } from "./emulator.ts";
 *
 * export const entry: PluginEntry = {
 *   plugin: myex,
 *   worker: new URL("./worker.ts", import.meta.url),
 *   async emulator(symbols) {
 *     const emu = await startMyexEmulator(symbols);
 *     return { env: { MYEX_WS_URL: emu.url }, close: emu.close };
 *   },
 * };
 * ```
 */
export interface PluginEntry {
  /** The feed plugin (its name is the exchange id). */
  // deno-lint-ignore no-explicit-any
  plugin: FeedPlugin<any>;
  /** Worker module that runs the plugin (calls `serveFeedWorker(plugin)`). */
  worker: URL;
  /** Starts the plugin's emulator of its exchange on 127.0.0.1. */
  emulator(symbols: string[]): Promise<RunningEmulator>;
  /**
   * Extra endpoints this exchange serves on the gateway's port (mounted under
   * their own path prefix), built from the plugin settings in `env` (the
   * emulator's in demo mode).
   */
  extensions?(env: Record<string, string | undefined>): GatewayExtension[];
}

/**
 * Name of the export an entry module must provide (`entry`).
 *
 * @example
 * ```ts
 * import { ENTRY_EXPORT } from "./mod.ts";
 * const mod = await import("./tests/fixtures/external_plugin/entry.ts");
 * console.log(ENTRY_EXPORT in mod); // true
 * ```
 */
export const ENTRY_EXPORT = "entry";

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", {
  message: "expected a function",
});

const pluginEntrySchema = z.object({
  plugin: z.object({
    name: z.string().regex(
      /^[a-z0-9_-]+$/,
      "plugin.name must be a lowercase exchange id (a-z, 0-9, _ or -)",
    ),
    configSchema: z.custom<z.ZodType>(
      (v) => typeof (v as { safeParse?: unknown } | null)?.safeParse === "function",
      { message: "expected a zod schema" },
    ),
    env: z.record(z.string(), z.string()),
    hosts: fn,
    run: fn,
  }, { error: "expected a FeedPlugin (made with defineFeed)" }),
  worker: z.custom<URL>((v) => v instanceof URL, {
    message: 'expected a URL, e.g. new URL("./worker.ts", import.meta.url)',
  }),
  emulator: fn,
  extensions: fn.optional(),
});

/**
 * Checks that `value` (an entry module's `entry` export) is a {@link PluginEntry};
 * throws an `Error` listing each problem otherwise.
 *
 * @example
 * ```ts
 * import { checkPluginEntry } from "./mod.ts";
 * const { entry } = await import("./tests/fixtures/external_plugin/entry.ts");
 * console.log(checkPluginEntry(entry).plugin.name); // "toyex"
 * try {
 *   checkPluginEntry({ plugin: {} });
 * } catch (err) {
 *   console.log((err as Error).message); // "plugin.name: ...; worker: ..."
 * }
 * ```
 */
export function checkPluginEntry(value: unknown): PluginEntry {
  const result = pluginEntrySchema.safeParse(value);
  if (!result.success) {
    throw new Error(
      result.error.issues.map((i) => `${i.path.join(".") || "entry"}: ${i.message}`).join("; "),
    );
  }
  return value as PluginEntry;
}

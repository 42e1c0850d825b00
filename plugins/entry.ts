/**
 * What a shipped plugin folder registers with the gateway: the plugin, its
 * Worker module, its bundled emulator, and any extra endpoints.
 * @module
 */
import type { GatewayExtension } from "../core/server/gateway.ts";
import type { FeedPlugin } from "../core/feed/plugin.ts";

/** A running local emulator and the settings that point its plugin at it. */
export interface RunningEmulator {
  /** Environment variables (plugin settings) that point the plugin at the emulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** One shipped plugin. */
export interface PluginEntry {
  // deno-lint-ignore no-explicit-any
  plugin: FeedPlugin<any>;
  /** Worker module that runs the plugin. */
  worker: URL;
  /** Starts the bundled emulator of this exchange on 127.0.0.1. */
  emulator(symbols: string[]): Promise<RunningEmulator>;
  /**
   * Extra endpoints this exchange serves on the gateway's port (mounted under
   * their own path prefix), built from the plugin settings in `env` (the
   * emulator's in demo mode).
   */
  extensions?(env: Record<string, string | undefined>): GatewayExtension[];
}

/**
 * Quant-SaaS gateway program.
 *
 *   deno task start   live exchanges
 *   deno task demo    the same gateway on the bundled exchange emulators (offline)
 *
 * Settings come from flags (`--port 3000`) or environment (`PORT=3000`); see README.
 * @module
 */
import { ConfigError, loadConfig } from "./core/server/config.ts";
import type { Channel } from "./core/events.ts";
import type { FeedSpec } from "./core/ingest/supervisor.ts";
import { startGateway } from "./core/server/gateway.ts";
import { getLogger, setupLogging } from "./core/server/log.ts";
import { pluginConfig } from "./core/ingest/plugin_config.ts";
import { withLoadedPlugins } from "./core/ingest/plugin_loader.ts";
import type { PluginEntry, RunningEmulator } from "./core/ingest/plugin_entry.ts";
import { registry } from "./plugins/registry.ts";
import { startRecorderNode } from "./core/scale/recorder_node.ts";
import { startEdgeNode } from "./core/scale/edge_node.ts";
import { startIngestNode } from "./core/scale/ingest_node.ts";
import { NatsConnectError } from "./core/scale/connect.ts";
import { serveNodeHealth } from "./core/scale/node_http.ts";

/** Runs the gateway until SIGINT/SIGTERM. */
export async function main(args: string[]): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig(args, Deno.env.toObject());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const { core } = loaded;
  await setupLogging(core.logLevel, core.logFormat);
  const log = getLogger(["quant-saas", "main"]);
  // Roles without plugins (docs/scale-out.md): an edge serves clients from NATS.
  if (core.role === "edge") {
    let edge;
    try {
      edge = await startEdgeNode({ config: core });
    } catch (err) {
      if (err instanceof ConfigError || err instanceof NatsConnectError) {
        console.error(err.message);
        return 2;
      }
      throw err;
    }
    log.info("received {signal}, shutting down", { signal: await untilSignal() });
    await edge.close();
    return 0;
  }
  // The recorder writes the recording from NATS.
  if (core.role === "recorder") {
    let recorder;
    try {
      recorder = await startRecorderNode({ config: core });
    } catch (err) {
      if (err instanceof ConfigError || err instanceof NatsConnectError) {
        console.error(err.message);
        return 2;
      }
      throw err;
    }
    const http = serveNodeHealth({
      port: core.port,
      host: core.host,
      role: "recorder",
      health: recorder.health,
    });
    log.info("received {signal}, shutting down", { signal: await untilSignal() });
    await http.close();
    await recorder.close();
    return 0;
  }
  // Shipped plugins plus those named by PLUGINS / --plugin (which join EXCHANGES,
  // demo mode and /health like any other).
  let available: PluginEntry[];
  try {
    available = await withLoadedPlugins(registry, core.plugins, {
      cwd: Deno.cwd(),
      programDir: new URL(".", import.meta.url),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const names = core.exchanges ?? available.map((e) => e.plugin.name);
  const unknown = names.filter((n) => !available.some((e) => e.plugin.name === n));
  if (unknown.length > 0) {
    console.error(
      `invalid configuration:\n  EXCHANGES: unknown exchange(s) ${unknown.join(", ")}; available: ${
        available.map((e) => e.plugin.name).join(", ")
      }`,
    );
    return 2;
  }
  const entries = available.filter((e) => names.includes(e.plugin.name));
  const env = { ...loaded.env };
  const emulators: RunningEmulator[] = [];
  const symbolsFor = (exchange: string) => {
    const own = env[`${exchange.toUpperCase()}_SYMBOLS`];
    return own ? own.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean) : core.symbols;
  };
  if (core.demo) {
    for (const entry of entries) {
      const emu = await entry.emulator(symbolsFor(entry.plugin.name));
      emulators.push(emu);
      Object.assign(env, emu.env);
      log.warning(
        "DEMO: {exchange} feed uses the bundled local EMULATOR at {url}; its data is synthetic, not real market data",
        { exchange: entry.plugin.name, url: Object.values(emu.env)[0] },
      );
    }
  }
  let specs: FeedSpec[];
  try {
    specs = entries.map((entry) => ({
      plugin: entry.plugin,
      workerUrl: entry.worker,
      config: pluginConfig(entry.plugin, env, core.demo ? { emulator: true } : {}),
      symbols: symbolsFor(entry.plugin.name),
      channels: core.channels as Channel[],
    }));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      for (const emu of emulators) await emu.close();
      return 2;
    }
    throw err;
  }
  // Demo: record into a fresh temporary folder unless RECORD_DIR is given, so the
  // history endpoints work out of the box.
  if (core.demo && core.recordDir === undefined && core.role === "all") {
    const dir = await demoRecordDir();
    if (dir.ok) {
      core.recordDir = dir.path;
      log.info("DEMO: recording into the temporary folder {dir} (set RECORD_DIR to choose one)", {
        dir: dir.path,
      });
      // Accounts too: a fresh database beside the recording, gone with the folder.
      if (core.accountsDb === undefined) {
        core.accountsDb = `${dir.path}/accounts.sqlite`;
        log.info("DEMO: accounts in {path} (set ACCOUNTS_DB to choose one)", {
          path: core.accountsDb,
        });
      }
    } else log.warning("DEMO: recording off: {reason}", { reason: dir.reason });
  } else if (core.recordDir !== undefined) {
    const denied = await missingPermissions(core.recordDir);
    if (denied) {
      console.error(`invalid configuration:\n  RECORD_DIR (--record-dir): ${denied}`);
      for (const emu of emulators) await emu.close();
      return 2;
    }
  }
  const extensions = entries.flatMap((entry) => entry.extensions?.(env) ?? []);
  // `all`: the gateway serving clients; `ingest`: the same feeds and books publishing to NATS.
  let running: { close(): Promise<void> };
  try {
    running = core.role === "ingest"
      ? await startIngestNode({ config: core, feeds: specs })
      : await startGateway({ config: core, feeds: specs, extensions });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof NatsConnectError) {
      console.error(err.message);
      for (const emu of emulators) await emu.close();
      return 2;
    }
    throw err;
  }
  log.info("received {signal}, shutting down", { signal: await untilSignal() });
  await running.close();
  for (const emu of emulators) await emu.close();
  return 0;
}

/** Resolves with the name of the first SIGINT or SIGTERM received. */
async function untilSignal(): Promise<string> {
  const { promise, resolve } = Promise.withResolvers<string>();
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => {
    const handler = () => resolve(sig);
    Deno.addSignalListener(sig, handler);
    return [sig, handler] as const;
  });
  const signal = await promise;
  for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
  return signal;
}

/** Where `--demo` records: a new folder under `<temp>/quant-saas-demo` (deno.json's tasks allow only that). */
const DEMO_RECORD_ROOT = "quant-saas-demo";

/** A new folder for the demo's recording, or why there is none. */
async function demoRecordDir(): Promise<
  { ok: true; path: string } | { ok: false; reason: string }
> {
  let root = "/tmp";
  try {
    root = Deno.env.get("TMPDIR")?.replace(/\/+$/, "") || root;
  } catch { /* no env permission: /tmp */ }
  root = `${root}/${DEMO_RECORD_ROOT}`;
  const denied = await missingPermissions(root);
  if (denied) return { ok: false, reason: denied };
  try {
    await Deno.mkdir(root, { recursive: true });
    return { ok: true, path: await Deno.makeTempDir({ dir: root, prefix: "history-" }) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Why the recording folder cannot be used with this process's permissions (the
 * recorder needs read and write access to it), or undefined when it can.
 */
async function missingPermissions(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (const name of ["read", "write"] as const) {
    const status = await Deno.permissions.query({ name, path: dir });
    if (status.state !== "granted") missing.push(`--allow-${name}=${dir}`);
  }
  return missing.length === 0
    ? undefined
    : `no permission to record in ${dir}: run with ${
      missing.join(" ")
    } (the deno tasks allow ./history)`;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

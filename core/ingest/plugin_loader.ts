/**
 * Loads out-of-tree plugins (`PLUGINS` / `--plugin`): imports each entry module,
 * checks its `entry` export, and refuses a plugin whose name is already taken.
 * Every problem is a {@link ConfigError} naming the module, so the program
 * stops with exit code 2 before anything starts.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../server/config.ts";
import { checkPluginEntry, ENTRY_EXPORT, type PluginEntry } from "./plugin_entry.ts";

/** Where a local (scheme-less) plugin path is looked up. */
export interface PluginLookup {
  /** Working directory: local paths are relative to it. */
  cwd: string;
  /**
   * The program's own directory (where `main.ts` is). A compiled binary keeps the
   * plugins baked into it there (`deno task compile` with `PLUGINS`), so a local
   * path not found under `cwd` is looked up here too.
   */
  programDir?: URL;
}

/** Module URLs to try for one `PLUGINS` entry, in order. */
export function pluginModuleUrls(spec: string, lookup: PluginLookup): string[] {
  if (/^[a-z][a-z0-9+.-]+:/i.test(spec)) return [spec];
  const urls = [pathToFileURL(isAbsolute(spec) ? spec : resolve(lookup.cwd, spec)).href];
  if (lookup.programDir && !isAbsolute(spec)) {
    const own = new URL(spec.replace(/^\.\//, ""), lookup.programDir).href;
    if (own !== urls[0]) urls.push(own);
  }
  return urls;
}

/** True for "the module is not there" (or not readable here), the cases where the next URL is tried. */
const missing = (err: unknown) =>
  err instanceof Deno.errors.NotCapable ||
  (err instanceof Error && /Module not found|Requires read access/.test(err.message));

const firstLine = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split("\n")[0];

/** Imports one entry module and returns its checked `entry` export. */
export async function loadPluginEntry(spec: string, lookup: PluginLookup): Promise<PluginEntry> {
  const urls = pluginModuleUrls(spec, lookup);
  let mod: Record<string, unknown> | undefined;
  let failure: unknown;
  for (const url of urls) {
    try {
      mod = await import(url);
      break;
    } catch (err) {
      failure ??= err;
      if (!missing(err)) break;
    }
  }
  if (!mod) {
    throw new ConfigError(
      `invalid configuration:\n  PLUGINS (--plugin): cannot load "${spec}" (${
        urls.join(" or ")
      }): ${firstLine(failure)}${
        /Requires (read|import) access/.test(firstLine(failure))
          ? " (the gateway needs --allow-read for a local plugin's folder, --allow-import for a remote host)"
          : ""
      }`,
    );
  }
  if (!(ENTRY_EXPORT in mod)) {
    const names = Object.keys(mod);
    throw new ConfigError(
      `invalid configuration:\n  PLUGINS (--plugin): "${spec}" has no export named "${ENTRY_EXPORT}" ` +
        `(a plugin entry module must \`export const ${ENTRY_EXPORT}: PluginEntry = {...}\`); ` +
        `it exports ${names.length ? names.join(", ") : "nothing"}`,
    );
  }
  try {
    return checkPluginEntry(mod[ENTRY_EXPORT]);
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  PLUGINS (--plugin): the "${ENTRY_EXPORT}" export of "${spec}" is not a plugin entry: ${
        firstLine(err)
      }`,
    );
  }
}

/**
 * Loads every plugin of `specs` and returns `shipped` followed by them; throws
 * {@link ConfigError} for a module that fails to load, lacks a valid `entry`
 * export, or names a plugin that is already registered.
 */
export async function withLoadedPlugins(
  shipped: readonly PluginEntry[],
  specs: readonly string[],
  lookup: PluginLookup,
): Promise<PluginEntry[]> {
  const all = [...shipped];
  const from = new Map(shipped.map((e) => [e.plugin.name, "the shipped plugins"]));
  for (const spec of specs) {
    const entry = await loadPluginEntry(spec, lookup);
    const name = entry.plugin.name;
    const taken = from.get(name);
    if (taken) {
      throw new ConfigError(
        `invalid configuration:\n  PLUGINS (--plugin): "${spec}" provides plugin "${name}", ` +
          `which ${
            taken === "the shipped plugins"
              ? "is shipped with the gateway"
              : `"${taken}" provides already`
          }; ` +
          `plugin names must be unique`,
      );
    }
    from.set(name, spec);
    all.push(entry);
  }
  return all;
}

/**
 * `deno task compile`: builds the self-contained binary, baking in the plugins
 * named by `PLUGINS` / `--plugin` (e.g. `PLUGINS=../acme/entry.ts deno task compile`
 * is refused, `PLUGINS=vendor/acme/entry.ts deno task compile` bakes it in).
 *
 * Each plugin is loaded first (the same checks as at start: an `entry` export,
 * no name clash), then `deno compile` gets an `--include` for the entry's folder
 * (and its Worker module's, when elsewhere) and `--plugin <spec>` as a baked-in
 * program argument. At run time the binary looks a local path up under its
 * working directory, then under its own embedded files, where it finds them.
 * @module
 */
import { dirname, isAbsolute, normalize, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "./config.ts";
import { pluginModuleUrls, withLoadedPlugins } from "../ingest/plugin_loader.ts";

/** A plugin to bake in: its `PLUGINS` specifier and its Worker module. */
export interface BakedPlugin {
  spec: string;
  worker: URL;
}

/** Flags every build gets: least privilege, Worker permissions, the shipped plugins. */
const BASE = [
  "compile",
  "--unstable-worker-options",
  "--allow-net",
  "--allow-env",
  "--include",
  "plugins/",
  "--include",
  "core/history/writer_worker.ts",
  // The web app, built by core/tools/build_app.ts (the task builds it first).
  "--include",
  "app/dist/",
];

/** Where `--demo` records (main.ts: `<TMPDIR or /tmp>/quant-saas-demo`). */
const DEMO_RECORD_DIR = "/tmp/quant-saas-demo";

const hasScheme = (spec: string) => /^[a-z][a-z0-9+.-]+:/i.test(spec);

/** `path` relative to the project root, or an error when it lies outside. */
function insideRoot(path: string, rootDir: string, spec: string): string {
  const rel = relative(rootDir, isAbsolute(path) ? path : normalize(`${rootDir}/${path}`));
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new ConfigError(
      `invalid configuration:\n  PLUGINS (--plugin): "${spec}" is outside the project folder ` +
        `${rootDir}; deno compile embeds files under it only (copy or vendor the plugin there)`,
    );
  }
  return rel.split("\\").join("/");
}

/**
 * The `deno` arguments that build the binary with `plugins` baked in.
 *
 * @example
 * ```ts
 * import { compileArgs } from "./core/server/compile.ts";
 * const root = new URL("file:///src/quant/");
 * compileArgs([{
 *   spec: "vendor/acme/entry.ts",
 *   worker: new URL("vendor/acme/worker.ts", root),
 * }], { root });
 * // ["compile", ..., "--include", "vendor/acme/", "--output", "dist/quant-saas",
 * //  "main.ts", "--plugin", "vendor/acme/entry.ts"]
 * ```
 */
export function compileArgs(
  plugins: readonly BakedPlugin[],
  options: { root: URL; output?: string; recordDirs?: readonly string[] },
): string[] {
  const rootDir = fileURLToPath(options.root).replace(/\/$/, "");
  const includes: string[] = [];
  const baked: string[] = [];
  const include = (item: string) => {
    const covered = includes.some((i) => i.endsWith("/") && item.startsWith(i));
    if (!covered && !includes.includes(item)) includes.push(item);
  };
  for (const { spec, worker } of plugins) {
    if (hasScheme(spec) && !spec.startsWith("file:")) {
      // Remote module (https:, npm:, jsr:): embedded by specifier, and its Worker
      // module too (a computed Worker URL is not found by the module graph).
      include(spec);
      if (worker.protocol !== "file:") include(worker.href);
      baked.push(spec);
      continue;
    }
    const entryPath = insideRoot(
      spec.startsWith("file:") ? fileURLToPath(spec) : spec,
      rootDir,
      spec,
    );
    include(`${dirname(entryPath)}/`);
    if (worker.protocol === "file:") {
      include(`${dirname(insideRoot(fileURLToPath(worker), rootDir, spec))}/`);
    }
    baked.push(entryPath);
  }
  // Recording (node:sqlite in the binary) needs read and write on its folders and on
  // nothing else: the demo's temporary folder, and RECORD_DIR as given at build time.
  const recordDirs = [DEMO_RECORD_DIR, ...(options.recordDirs ?? [])].join(",");
  return [
    ...BASE,
    `--allow-read=${recordDirs}`,
    `--allow-write=${recordDirs}`,
    ...includes.filter((i) => i !== "plugins/").flatMap((i) => ["--include", i]),
    "--output",
    options.output ?? "dist/quant-saas",
    "main.ts",
    ...baked.flatMap((spec) => ["--plugin", spec]),
  ];
}

/**
 * Loads the configured plugins and runs `deno compile`; returns its exit code.
 * `args` are the task's arguments (`--plugin <spec>`, repeatable), read like the program's.
 */
async function build(args: string[]): Promise<number> {
  const root = new URL("../../", import.meta.url);
  const rootDir = fileURLToPath(root);
  let plan: string[];
  try {
    const { core } = loadConfig(args, {
      PLUGINS: Deno.env.get("PLUGINS"),
      RECORD_DIR: Deno.env.get("RECORD_DIR"),
    });
    const entries = await withLoadedPlugins([], core.plugins, { cwd: rootDir });
    plan = compileArgs(
      core.plugins.map((spec, i) => ({
        spec: hasScheme(spec) ? spec : pluginModuleUrls(spec, { cwd: rootDir })[0],
        worker: entries[i].worker,
      })),
      {
        root,
        recordDirs: core.recordDir === undefined ? [] : [resolve(rootDir, core.recordDir)],
      },
    );
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  // The web app (app/dist/, included above) is built first when missing or stale; the build runs
  // as its own task, with its own permissions (it writes app/dist/).
  const app = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build:app"],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!app.success) return app.code || 1;
  console.error(`deno ${plan.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: plan,
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}

if (import.meta.main) {
  Deno.exit(await build(Deno.args));
}

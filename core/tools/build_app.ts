/**
 * Builds the web application (`app/src`, React + TypeScript) into `app/dist/` with esbuild:
 * `index.html` plus content-hashed `assets/main-<hash>.js` and `.css`, minified, no source from
 * a CDN. Nothing built is committed: `deno task demo`, `deno task start` and `deno task compile`
 * run this first, and it rebuilds only when the sources' hash differs from the one stamped in
 * `app/dist/build.json` (or with `--force`).
 *
 *   deno task build:app            build when missing or stale
 *   deno task build:app --force    build anyway
 *
 * @example
 * ```ts
 * const result = await buildApp({ force: false });
 * console.log(result.built, result.js, result.gzipBytes);
 * ```
 */
import * as esbuild from "esbuild";
import { join, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { gzipSync } from "node:zlib";
import { existsSync } from "node:fs";

/** The repository root. */
const ROOT = fromFileUrl(new URL("../../", import.meta.url));
/** The app's folder. */
export const APP_DIR: string = join(ROOT, "app");
/** Where the built files go. */
export const DIST_DIR: string = join(APP_DIR, "dist");

/** What a build did. */
export interface BuildResult {
  /** False when the existing build was current. */
  built: boolean;
  /** The sources' hash stamped in `build.json`. */
  sourceHash: string;
  /** Asset paths under `/app/` (e.g. `assets/main-AB12.js`). */
  js: string;
  boot: string;
  css: string;
  /** Bytes of all the JavaScript, raw and gzip'd (level 9). */
  jsBytes: number;
  gzipBytes: number;
}

/** Files whose content decides the build: the app's sources, this script and the lockfile. */
async function sourceFiles(): Promise<string[]> {
  const files: string[] = [join(APP_DIR, "index.html"), fromFileUrl(import.meta.url)];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else files.push(p);
    }
  };
  await walk(join(APP_DIR, "src"));
  const lock = join(ROOT, "deno.lock");
  if (existsSync(lock)) files.push(lock);
  return files.sort();
}

/** SHA-256 (hex) over the sources' paths and contents. */
export async function sourceHash(): Promise<string> {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const f of await sourceFiles()) {
    parts.push(enc.encode(relative(ROOT, f) + "\0"), await Deno.readFile(f), enc.encode("\0"));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = await crypto.subtle.digest("SHA-256", all);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The stamp of the current build, if any. */
async function readStamp(): Promise<BuildResult | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(DIST_DIR, "build.json"))) as BuildResult;
  } catch {
    return undefined;
  }
}

/** Makes sure the app's npm packages are in node_modules (a fresh clone has none yet). */
async function ensurePackages(): Promise<void> {
  const wanted = ["react", "react-dom", "lightweight-charts"];
  if (wanted.every((p) => existsSync(join(ROOT, "node_modules", p, "package.json")))) return;
  const out = await new Deno.Command(Deno.execPath(), { args: ["install"], cwd: ROOT }).output();
  if (!out.success) throw new Error(`deno install failed: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * Builds the app when missing or stale (`force`: always).
 *
 * @example
 * ```ts
 * await buildApp({ force: true });
 * ```
 */
export async function buildApp(
  options: { force?: boolean; quiet?: boolean } = {},
): Promise<BuildResult> {
  const hash = await sourceHash();
  const stamp = await readStamp();
  if (
    !options.force && stamp?.sourceHash === hash &&
    existsSync(join(DIST_DIR, stamp.js)) && existsSync(join(DIST_DIR, "index.html"))
  ) {
    return { ...stamp, built: false };
  }
  await ensurePackages();
  const result = await esbuild.build({
    entryPoints: {
      boot: join(APP_DIR, "src", "boot.ts"),
      main: join(APP_DIR, "src", "main.tsx"),
      styles: join(APP_DIR, "src", "styles.css"),
    },
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022"],
    jsx: "automatic",
    platform: "browser",
    define: { "process.env.NODE_ENV": '"production"' },
    entryNames: "assets/[name]-[hash]",
    outdir: DIST_DIR,
    write: false,
    metafile: false,
    legalComments: "linked",
    logLevel: "error",
  });
  await esbuild.stop();
  await Deno.remove(DIST_DIR, { recursive: true }).catch(() => {});
  await Deno.mkdir(join(DIST_DIR, "assets"), { recursive: true });
  let js = "", boot = "", css = "", jsBytes = 0, gzipBytes = 0;
  for (const file of result.outputFiles) {
    await Deno.writeFile(file.path, file.contents);
    const rel = relative(DIST_DIR, file.path).replaceAll("\\", "/");
    if (rel.endsWith(".js")) {
      if (rel.startsWith("assets/boot-")) boot = rel;
      else js = rel;
      jsBytes += file.contents.length;
      gzipBytes += gzipSync(file.contents, { level: 9 }).length;
    } else if (rel.endsWith(".css")) css = rel;
  }
  const html = (await Deno.readTextFile(join(APP_DIR, "index.html")))
    .replace("%BOOT%", `/app/${boot}`)
    .replace("%JS%", `/app/${js}`)
    .replace("%CSS%", `/app/${css}`);
  await Deno.writeTextFile(join(DIST_DIR, "index.html"), html);
  const built: BuildResult = { built: true, sourceHash: hash, js, boot, css, jsBytes, gzipBytes };
  await Deno.writeTextFile(join(DIST_DIR, "build.json"), JSON.stringify(built, null, 2) + "\n");
  if (!options.quiet) {
    console.log(
      `app built: app/dist/${js} ${(jsBytes / 1024).toFixed(1)} KiB, ${
        (gzipBytes / 1024).toFixed(1)
      } KiB gzip'd`,
    );
  }
  return built;
}

if (import.meta.main) {
  const r = await buildApp({ force: Deno.args.includes("--force") });
  if (!r.built) {
    console.log(`app up to date: app/dist/${r.js} (${(r.gzipBytes / 1024).toFixed(1)} KiB gzip'd)`);
  }
}

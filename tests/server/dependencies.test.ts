/**
 * The program fetches only its own packages: `deno.json` (used by `deno task demo` and
 * `deno task start`) lists what the gateway, its plugins and their emulators import;
 * packages only the tests and benchmarks use live in `deno.dev.json`.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

async function readImports(file: string): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL(file, ROOT)));
  return config.imports as Record<string, string>;
}

/** npm packages (`name@version`) reachable from `module` under the program's deno.json. */
async function npmPackagesOf(module: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--frozen", "--config", "deno.json", module],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, `deno info ${module} failed: ${new TextDecoder().decode(out.stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  return Object.keys(info.npmPackages ?? {});
}

Deno.test("deno.dev.json repeats every program package at the same version", async () => {
  const program = await readImports("deno.json");
  const dev = await readImports("deno.dev.json");
  for (const [name, specifier] of Object.entries(program)) {
    assert.equal(dev[name], specifier, `deno.dev.json must map ${name} to ${specifier}`);
  }
});

/** Packages only the tests and benchmarks use: in deno.dev.json, not in deno.json. */
async function devOnlyPackages(): Promise<string[]> {
  const program = await readImports("deno.json");
  const dev = await readImports("deno.dev.json");
  return Object.keys(dev).filter((name) => !(name in program)).map((name) =>
    dev[name].replace(/^npm:/, "").replace(/@[^@/]*$/, "")
  );
}

Deno.test("the program's module graph reaches no test- or bench-only package", async () => {
  const devOnly = await devOnlyPackages();
  assert.ok(devOnly.includes("ccxt"), `expected ccxt among dev-only packages: ${devOnly}`);
  const entries = ["main.ts", "mod.ts"];
  for await (const dir of Deno.readDir(new URL("plugins/", ROOT))) {
    if (!dir.isDirectory) continue;
    for (const file of ["worker.ts", "emulator/mod.ts"]) {
      const path = `plugins/${dir.name}/${file}`;
      const exists = await Deno.stat(new URL(path, ROOT)).then(() => true, () => false);
      if (exists) entries.push(path);
    }
  }
  assert.ok(entries.includes("plugins/binance/worker.ts"), `entries: ${entries.join(", ")}`);
  for (const entry of entries) {
    const reached = (await npmPackagesOf(entry)).filter((pkg) =>
      devOnly.some((name) => pkg.startsWith(`${name}@`))
    );
    assert.deepEqual(reached, [], `${entry} reaches test/bench-only packages`);
  }
});

Deno.test("the program's lockfile (what a fresh clone's demo fetches) has no test- or bench-only package", async () => {
  const devOnly = await devOnlyPackages();
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  const locked = Object.keys(lock.npm ?? {});
  assert.ok(locked.some((pkg) => pkg.startsWith("zod@")), "deno.lock should pin zod");
  const extra = locked.filter((pkg) => devOnly.some((name) => pkg.startsWith(`${name}@`)));
  assert.deepEqual(extra, [], "deno.lock pins test/bench-only packages");
});

/**
 * The seams the folders show are real: what runs in a plugin Worker (core/feed/) never imports
 * the main side, and shipped plugins reach the core only through the SDK (mod.ts, testing.ts),
 * as a third-party plugin would.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** Relative import specifiers of every .ts file under `dir`, resolved to repo paths. */
async function importsUnder(dir: string): Promise<{ file: string; target: string }[]> {
  const found: { file: string; target: string }[] = [];
  const walk = async (rel: string) => {
    for await (const entry of Deno.readDir(new URL(rel, ROOT))) {
      const path = `${rel}${entry.name}`;
      if (entry.isDirectory) await walk(`${path}/`);
      else if (entry.name.endsWith(".ts")) {
        // Code lines only: JSDoc examples (` * import ...`) show how users import the SDK.
        const text = (await Deno.readTextFile(new URL(path, ROOT))).split("\n")
          .filter((line) => !/^\s*(\*|\/\/)/.test(line)).join("\n");
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
          const target = new URL(m[1], new URL(path, ROOT)).pathname.slice(ROOT.pathname.length);
          found.push({ file: path, target });
        }
      }
    }
  };
  await walk(dir);
  return found;
}

Deno.test("core/feed/ (the plugin Worker side) imports only itself and core/events.ts", async () => {
  const imports = await importsUnder("core/feed/");
  assert.ok(imports.length > 5, "expected to find core/feed's imports");
  const outside = imports.filter(({ target }) =>
    !target.startsWith("core/feed/") && target !== "core/events.ts"
  );
  assert.deepEqual(outside, []);
});

Deno.test("shipped plugins import the core only through mod.ts and testing.ts", async () => {
  const imports = await importsUnder("plugins/");
  assert.ok(imports.some(({ target }) => target === "mod.ts"), "plugins import mod.ts");
  const intoCore = imports.filter(({ target }) => target.startsWith("core/"));
  assert.deepEqual(intoCore, []);
});

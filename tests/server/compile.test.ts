/**
 * `deno task compile` builds one self-contained binary. It needs Deno's
 * runtime image (denort), which is downloaded once and cached; where it is
 * neither cached nor given with DENORT_BIN (as on machines without internet)
 * the build test is reported as ignored (skipped), never as passed.
 */
import assert from "node:assert/strict";
import { waitFor } from "../helpers.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { compileArgs } from "../../core/server/compile.ts";

const ROOT = new URL("../../", import.meta.url);

function denortAvailable(): { available: boolean; where: string } {
  const given = Deno.env.get("DENORT_BIN");
  if (given) {
    try {
      Deno.statSync(given);
      return { available: true, where: given };
    } catch { /* fall through */ }
  }
  const info = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  })
    .outputSync();
  const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  const version = Deno.version.deno;
  const zip = `${denoDir}/dl/release/v${version}/denort-x86_64-unknown-linux-gnu.zip`;
  try {
    Deno.statSync(zip);
    return { available: true, where: zip };
  } catch {
    return { available: false, where: zip };
  }
}

const denort = denortAvailable();
if (!denort.available) {
  console.log(
    `SKIPPED compile build test: denort is not cached at ${denort.where} and DENORT_BIN is not set ` +
      `(it cannot be downloaded without internet).`,
  );
}

Deno.test("the compile task runs core/server/compile.ts with only what a build needs", () => {
  const task = denoJson.tasks.compile;
  assert.match(task, /^deno run .*core\/server\/compile\.ts$/);
  assert.doesNotMatch(task, /(-A|--allow-all|--allow-write|--allow-ffi)(\s|$)/);
});

Deno.test("without plugins, the build bakes in least-privilege permissions and includes every shipped plugin", () => {
  const args = compileArgs([], { root: ROOT });
  assert.deepEqual(args, [
    "compile",
    "--unstable-worker-options",
    "--allow-net",
    "--allow-env",
    "--include",
    "plugins/", // plugin Workers are not statically imported, so they must be included
    "--include",
    "core/history/writer_worker.ts", // nor is the recorder's writer Worker
    "--include",
    "app/dist/", // the web app's built files, served at /app
    "--allow-read=/tmp/quant-saas-demo", // recording: the demo's folder only
    "--allow-write=/tmp/quant-saas-demo",
    "--output",
    "dist/quant-saas",
    "main.ts",
  ]);
});

Deno.test("RECORD_DIR at build time: the binary may read and write that folder and the demo's, nothing else", () => {
  const args = compileArgs([], { root: ROOT, recordDirs: ["/var/lib/quant-saas"] });
  assert.ok(args.includes("--allow-read=/tmp/quant-saas-demo,/var/lib/quant-saas"), args.join(" "));
  assert.ok(
    args.includes("--allow-write=/tmp/quant-saas-demo,/var/lib/quant-saas"),
    args.join(" "),
  );
  assert.ok(!args.some((a) => a === "--allow-read" || a === "--allow-write" || a === "-A"));
});

Deno.test("PLUGINS=<local entry>: the build includes its folder and bakes --plugin <entry> into the binary", () => {
  const entry = new URL("tests/fixtures/external_plugin/entry.ts", ROOT);
  const worker = new URL("tests/fixtures/external_plugin/worker.ts", ROOT);
  const expected = [
    "compile",
    "--unstable-worker-options",
    "--allow-net",
    "--allow-env",
    "--include",
    "plugins/",
    "--include",
    "core/history/writer_worker.ts",
    "--include",
    "app/dist/",
    "--allow-read=/tmp/quant-saas-demo",
    "--allow-write=/tmp/quant-saas-demo",
    "--include",
    "tests/fixtures/external_plugin/",
    "--output",
    "dist/quant-saas",
    "main.ts",
    "--plugin",
    "tests/fixtures/external_plugin/entry.ts",
  ];
  assert.deepEqual(compileArgs([{ spec: entry.href, worker }], { root: ROOT }), expected);
  assert.deepEqual(
    compileArgs([{ spec: "./tests/fixtures/external_plugin/entry.ts", worker }], { root: ROOT }),
    expected,
  );
});

Deno.test("a remote plugin is included by specifier, with its Worker module; one outside the project is refused", () => {
  const args = compileArgs([{
    spec: "https://plugins.example/acme/entry.ts",
    worker: new URL("https://plugins.example/acme/worker.ts"),
  }], { root: ROOT, output: "out/gw" });
  assert.deepEqual(args.slice(12), [
    "--include",
    "https://plugins.example/acme/entry.ts",
    "--include",
    "https://plugins.example/acme/worker.ts",
    "--output",
    "out/gw",
    "main.ts",
    "--plugin",
    "https://plugins.example/acme/entry.ts",
  ]);
  assert.throws(
    () =>
      compileArgs([{
        spec: "file:///elsewhere/entry.ts",
        worker: new URL("file:///elsewhere/w.ts"),
      }], {
        root: ROOT,
      }),
    /outside the project folder/,
  );
});

Deno.test("deno task compile refuses a bad plugin before building: exit code 2 naming it", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-run",
      "core/server/compile.ts",
      "--plugin",
      "tests/fixtures/external_plugin/plugin.ts",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(
    stderr,
    /"tests\/fixtures\/external_plugin\/plugin\.ts" has no export named "entry"/,
  );
  assert.doesNotMatch(stderr, /Compile/);
});

Deno.test({
  name:
    "the compiled binary, with the toyex plugin baked in, runs the demo (toyex included) with nothing read from the working directory",
  ignore: !denort.available,
  async fn() {
    const out = await Deno.makeTempDir();
    const args = compileArgs([{
      spec: "tests/fixtures/external_plugin/entry.ts",
      worker: new URL("tests/fixtures/external_plugin/worker.ts", ROOT),
    }], { root: ROOT, output: `${out}/quant-saas` });
    const build = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    // Run from an empty directory: the binary must not need the source tree.
    const child = new Deno.Command(`${out}/quant-saas`, {
      args: ["--demo", "--port", String(port), "--host", "127.0.0.1"],
      cwd: out,
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let feeds: { exchange: string; state: string }[] = [];
      await waitFor(
        async () => {
          try {
            const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
            feeds = health.feeds;
          } catch { /* not up yet */ }
          return feeds.length > 0 && feeds.every((f) => f.state === "connected");
        },
        20_000,
        "the compiled binary's /health to report every feed connected",
      );
      assert.ok(feeds.some((f) => f.exchange === "toyex"), JSON.stringify(feeds));
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(out, { recursive: true });
    }
  },
});

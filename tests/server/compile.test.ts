/**
 * `deno task compile` builds one self-contained binary. It needs Deno's
 * runtime image (denort), which is downloaded once and cached; where it is
 * neither cached nor given with DENORT_BIN (as on machines without internet)
 * the build test is reported as ignored (skipped), never as passed.
 */
import assert from "node:assert/strict";
import { waitFor } from "../helpers.ts";
import denoJson from "../../deno.json" with { type: "json" };

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

Deno.test("the compile task bakes in least-privilege permissions and includes every plugin", () => {
  const task = denoJson.tasks.compile;
  assert.match(task, /^deno compile /);
  assert.match(task, /--allow-net(\s|$)/);
  assert.match(task, /--allow-env(\s|$)/);
  assert.doesNotMatch(task, /(-A|--allow-all|--allow-run|--allow-write|--allow-ffi)(\s|$)/);
  assert.match(task, /--unstable-worker-options/);
  assert.match(
    task,
    /--include plugins\//,
    "plugin Workers are not statically imported, so they must be included",
  );
  assert.match(task, /main\.ts$/);
});

Deno.test({
  name: "the compiled binary runs the demo with nothing read from the working directory",
  ignore: !denort.available,
  async fn() {
    const out = await Deno.makeTempDir();
    const args = denoJson.tasks.compile.replace(/^deno /, "").replace(
      "dist/quant-saas",
      `${out}/quant-saas`,
    )
      .split(/\s+/);
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
      let state = "";
      await waitFor(
        async () => {
          try {
            const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
            state = health.feeds[0].state;
          } catch { /* not up yet */ }
          return state === "connected";
        },
        10_000,
        "the compiled binary's /health to report its feed connected",
      );
      assert.equal(state, "connected");
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(out, { recursive: true });
    }
  },
});

/**
 * Out-of-tree plugins: a plugin kept outside plugins/ (tests/fixtures/external_plugin,
 * "toyex") passes the conformance kit, loads through PLUGINS / --plugin into the real
 * program and reaches a WebSocket client; bad PLUGINS entries stop the program with
 * exit code 2 and a message naming the module. plugins/registry.ts is not touched.
 */
import { waitForValue } from "../helpers.ts";
import assert from "node:assert/strict";
import { testPlugin } from "../../testing.ts";
import { entry as toyex } from "../fixtures/external_plugin/entry.ts";
import { ConfigError, loadConfig } from "../../core/server/config.ts";
import { pluginModuleUrls, withLoadedPlugins } from "../../core/ingest/plugin_loader.ts";
import { registry } from "../../plugins/registry.ts";

const ROOT = new URL("../../", import.meta.url);
const FIXTURE = "tests/fixtures/external_plugin";
/**
 * What `deno task start` grants, plus read access to the plugin's own folder (what a
 * user adds for a local plugin; a Worker loads its module graph with the main process's
 * read access).
 */
const READ = `--allow-read=core,plugins,mod.ts,testing.ts,node_modules,${FIXTURE}`;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Retries `attempt` (a failed fetch counts as not yet) until it returns a value; throws naming `what`. */
function poll<T>(
  attempt: () => Promise<T | undefined>,
  what: string,
  timeoutMs: number,
): Promise<T> {
  return waitForValue(() => attempt().catch(() => undefined), timeoutMs, what);
}

Deno.test(
  "an out-of-tree plugin (toyex) passes the plugin conformance kit",
  testPlugin(toyex, {
    symbols: ["TOYUSD"],
    config: { staleMs: 1000, backoffMs: 50 },
    silenceMs: 3000,
  }),
);

Deno.test("PLUGINS and --plugin add up, each a comma list; other schemes are refused", () => {
  const { core } = loadConfig(
    ["--plugin", "./a.ts,npm:@x/y", "--plugin", "https://h.example/p.ts"],
    {
      PLUGINS: "file:///opt/p/entry.ts, ./a.ts",
    },
  );
  assert.deepEqual(core.plugins, [
    "file:///opt/p/entry.ts",
    "./a.ts",
    "npm:@x/y",
    "https://h.example/p.ts",
  ]);
  assert.deepEqual(loadConfig([], {}).core.plugins, []);
  assert.throws(
    () => loadConfig(["--plugin", "ftp://h/p.ts"], {}),
    (err: Error) => err instanceof ConfigError && /PLUGINS \(--plugin\)/.test(err.message),
  );
});

Deno.test("a local plugin path is relative to the working directory, then to the program", () => {
  const programDir = new URL("file:///opt/quant/");
  assert.deepEqual(pluginModuleUrls("ext/entry.ts", { cwd: "/srv/run", programDir }), [
    "file:///srv/run/ext/entry.ts",
    "file:///opt/quant/ext/entry.ts",
  ]);
  assert.deepEqual(pluginModuleUrls("/abs/entry.ts", { cwd: "/srv", programDir }), [
    "file:///abs/entry.ts",
  ]);
  assert.deepEqual(pluginModuleUrls("npm:@acme/feed", { cwd: "/srv", programDir }), [
    "npm:@acme/feed",
  ]);
});

Deno.test("loading adds the plugin after the shipped ones", async () => {
  const all = await withLoadedPlugins(registry, [`${FIXTURE}/entry.ts`], {
    cwd: new URL(".", ROOT).pathname,
  });
  assert.deepEqual(all.map((e) => e.plugin.name), [
    "binance",
    "coinbase",
    "kraken",
    "deribit",
    "toyex",
  ]);
  assert.equal(all[4], toyex);
});

Deno.test("main.ts with PLUGINS=<toyex entry> --demo: a /ws client receives toyex trades", async (t) => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      READ,
      "--unstable-worker-options",
      "main.ts",
      "--demo",
      "--exchanges",
      "binance,toyex",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ],
    cwd: ROOT,
    env: {
      NO_COLOR: "1",
      PLUGINS: `${FIXTURE}/entry.ts`,
      TOYEX_SYMBOLS: "TOYUSD",
      BINANCE_SYMBOLS: "BTCUSDT",
      BINANCE_PROXY: "false",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  const base = `http://127.0.0.1:${port}`;
  try {
    await t.step("/health lists toyex, connected to its emulator, beside binance", async () => {
      const feeds = await poll(
        async () => {
          const health = await (await fetch(`${base}/health`)).json();
          const feeds = health.feeds as { exchange: string; state: string; source: string }[];
          return feeds.every((f) => f.state === "connected") ? feeds : undefined;
        },
        "every feed connected on /health",
        30_000,
      );
      assert.deepEqual(feeds.map((f) => f.exchange).sort(), ["binance", "toyex"]);
      assert.equal(feeds.find((f) => f.exchange === "toyex")!.source, "emulator");
    });

    await t.step("a client subscribed to TOYUSD gets normalized toyex trades", async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const trades: Record<string, unknown>[] = [];
      const got = Promise.withResolvers<void>();
      const timer = setTimeout(
        () => got.reject(new Error("timed out after 10000 ms waiting for 3 toyex trades")),
        10_000,
      );
      ws.onmessage = (e) => {
        const frame = JSON.parse(e.data);
        if (frame.type === "trade") trades.push(frame);
        if (trades.length >= 3) got.resolve();
      };
      await new Promise((r) => ws.onopen = r);
      ws.send(JSON.stringify({ action: "subscribe", symbols: ["TOYUSD"], channels: ["trade"] }));
      try {
        await got.promise;
      } finally {
        clearTimeout(timer);
        const closed = new Promise((r) => ws.onclose = r);
        ws.close();
        await closed;
      }
      for (const trade of trades) {
        assert.equal(trade.exchange, "toyex");
        assert.equal(trade.symbol, "TOYUSD");
        assert.equal(typeof trade.price, "number");
        assert.ok((trade.price as number) > 0);
        assert.match(trade.timestamp as string, /^\d{4}-\d\d-\d\dT/);
      }
    });
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await stdout;
    const err = await stderr;
    assert.equal(status.code, 0, err);
  }
});

Deno.test("PLUGINS=<http URL>: a plugin served from a web server loads (main and Worker) with --allow-import for its host", async () => {
  // Serves the repo's SDK and the toyex fixture read-only, as a plugin host would.
  const served = ["mod.ts", "deno.json", "core/", `${FIXTURE}/`];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname).slice(1);
    if (path.includes("..") || !served.some((p) => path === p || path.startsWith(p))) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(new URL(path, ROOT));
      const type = path.endsWith(".json") ? "application/json" : "application/typescript";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const host = `127.0.0.1:${server.addr.port}`;
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-lock", // remote modules would otherwise be recorded in deno.lock
      "--allow-net",
      "--allow-env",
      `--allow-import=${host}`,
      "--allow-read=core,plugins,mod.ts,testing.ts,node_modules",
      "--unstable-worker-options",
      "main.ts",
      "--demo",
      "--exchanges",
      "toyex",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--plugin",
      `http://${host}/${FIXTURE}/entry.ts`,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", TOYEX_SYMBOLS: "TOYUSD" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    const toyexFeed = await poll(
      async () => {
        const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
        const feed = (health.feeds as { exchange: string; state: string; events: number }[])
          .find((f) => f.exchange === "toyex");
        return feed?.state === "connected" && feed.events > 0 ? feed : undefined;
      },
      "the remote toyex feed connected with events on /health",
      30_000,
    );
    assert.equal(toyexFeed.exchange, "toyex");
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await server.shutdown();
    assert.equal(status.code, 0, await stderr);
  }
});

async function runMain(plugins: string): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", READ, "--unstable-worker-options", "main.ts", "--plugin", plugins],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("bad PLUGINS entries stop the program with exit code 2 and a message naming the module", async (t) => {
  await t.step("a missing file", async () => {
    const { code, stderr } = await runMain(`${FIXTURE}/missing.ts`);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /PLUGINS \(--plugin\): cannot load "tests\/fixtures\/external_plugin\/missing\.ts"/,
    );
    assert.match(stderr, /Module not found/);
  });
  await t.step("a module without an entry export", async () => {
    const { code, stderr } = await runMain(`${FIXTURE}/plugin.ts`);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /"tests\/fixtures\/external_plugin\/plugin\.ts" has no export named "entry"/,
    );
    assert.match(stderr, /it exports toyex/);
  });
  await t.step("an entry export that is not a plugin entry", async () => {
    const { code, stderr } = await runMain(`${FIXTURE}/bad_entries.ts`);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /the "entry" export of "tests\/fixtures\/external_plugin\/bad_entries\.ts" is not a plugin entry/,
    );
    assert.match(stderr, /plugin\.name/);
    assert.match(stderr, /worker: expected a URL/);
    assert.match(stderr, /emulator/);
  });
  await t.step("a plugin named like a shipped one", async () => {
    const { code, stderr } = await runMain(`${FIXTURE}/clash_entry.ts`);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /"tests\/fixtures\/external_plugin\/clash_entry\.ts" provides plugin "binance", which is shipped with the gateway/,
    );
  });
});

/**
 * client.ts runs outside Deno: its module graph is its own few files, none uses a `Deno.` API
 * or imports a `node:` module (or anything from npm); and bundled by `deno bundle`, it
 * subscribes and receives typed trades under Node with the `ws` package injected (Node 20 has
 * no global WebSocket), when `node` is installed.
 */
import assert from "node:assert/strict";
import { gatewayWith, scriptedFeed } from "../helpers.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("client.ts: the module graph is local files without Deno. or node: or npm:", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "client.ts"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.ok(out.success, "deno info");
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; local?: string }[];
  };
  const files = graph.modules.map((m) => m.specifier);
  assert.ok(files.length >= 2, `graph: ${files}`);
  for (const specifier of files) {
    assert.match(specifier, /^file:\/\/.*\/(client\.ts|core\/client\/[a-z_]+\.ts)$/, specifier);
    const text = await Deno.readTextFile(new URL(specifier));
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""); // comments may mention them
    assert.doesNotMatch(code, /\bDeno\./, `${specifier} uses a Deno API`);
    assert.doesNotMatch(code, /["'](node|npm|jsr):/, `${specifier} imports node:, npm: or jsr:`);
  }
});

const NODE_SCRIPT = `
import { pathToFileURL } from "node:url";
const [bundle, wsPath, url] = process.argv.slice(2);
const { connect } = await import(pathToFileURL(bundle).href);
const WebSocket = (await import(pathToFileURL(wsPath).href)).default;
const client = connect({ url, WebSocket });
const trades = [];
client.on("trade", (t) => trades.push(t.tradeId));
const subscribed = await client.subscribe({ symbols: ["BTCUSDT"], raw: false });
const pong = await client.request({ action: "ping" });
await new Promise((resolve) => {
  const off = client.on("trade", () => trades.length >= 5 && (off(), resolve()));
});
client.close();
console.log(JSON.stringify({ subscribed: subscribed.type, pong: pong.type, trades: trades.slice(0, 5) }));
`;

Deno.test("client.ts under Node (bundled, ws injected): subscribe, ping, typed trades", async (t) => {
  const node = await new Deno.Command("node", { args: ["--version"], stdout: "null" }).output()
    .catch(() => undefined);
  if (!node?.success) {
    console.log("node is not installed: skipped");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "client-node-" });
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])]);
  try {
    const bundle = `${dir}/client.mjs`;
    const bundled = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "browser", "--format", "esm", "-o", bundle, "client.ts"],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(bundled.success, new TextDecoder().decode(bundled.stderr));
    await Deno.writeTextFile(`${dir}/run.mjs`, NODE_SCRIPT);
    const wsPath = new URL("node_modules/ws/index.js", ROOT).pathname;
    const run = await new Deno.Command("node", {
      args: [`${dir}/run.mjs`, bundle, wsPath, gateway.url.replace("http", "ws") + "/ws"],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).output();
    await t.step("node printed the frames", () => {
      assert.ok(run.success, new TextDecoder().decode(run.stderr));
      const result = JSON.parse(new TextDecoder().decode(run.stdout));
      assert.equal(result.subscribed, "subscribed");
      assert.equal(result.pong, "pong");
      assert.equal(result.trades.length, 5);
      result.trades.forEach((id: number, i: number) =>
        i && assert.equal(id, result.trades[i - 1] + 1)
      );
    });
  } finally {
    await gateway.close();
    await Deno.remove(dir, { recursive: true });
  }
});

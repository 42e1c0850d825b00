/**
 * The gateway serves the built app at /app: index.html never cached, hashed assets cached for a
 * year, the right content types, nothing outside app/dist/, and GET / links to it.
 */
import assert from "node:assert/strict";
import { createAppStatic } from "../../core/server/app_static.ts";
import { buildApp } from "../../core/tools/build_app.ts";
import { gatewayWith, getJson, scriptedFeed } from "../helpers.ts";

Deno.test("the gateway serves the app at /app with long-lived caching of hashed assets", async () => {
  const built = await buildApp({ quiet: true });
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])]);
  try {
    for (const path of ["/app", "/app/", "/app/markets"]) {
      const res = await fetch(gateway.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.match(await res.text(), new RegExp(`/app/${built.js}`));
    }
    const js = await fetch(`${gateway.url}/app/${built.js}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(
      (await js.arrayBuffer()).byteLength,
      built.jsBytes - (await Deno.stat(
        new URL(`../../app/dist/${built.boot}`, import.meta.url),
      )).size,
    );
    const css = await fetch(`${gateway.url}/app/${built.css}`);
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    await css.body?.cancel();
    const { body } = await getJson(gateway, "/");
    assert.equal(body.app, "/app");
    assert.equal((body.endpoints as Record<string, string>).app, "/app");
  } finally {
    await gateway.close();
  }
});

Deno.test("nothing outside app/dist/ can be read through /app", async () => {
  const app = createAppStatic();
  for (
    const path of [
      "/app/assets/../../../deno.json",
      "/app/assets/..%2f..%2fdeno.json",
      "/app/assets/%2e%2e/%2e%2e/deno.json",
      "/app/assets/..\\..\\deno.json",
      "/app/assets/missing-ABCDEFGH.js",
      "/app/assets/%00.js",
    ]
  ) {
    const url = new URL(`http://localhost${path}`);
    // A URL's own dot segments are resolved before routing: it is then no path of the app at all.
    if (!app.matches(url.pathname)) continue;
    const res = await app.handle(url);
    assert.equal(res.status, 404, path);
    assert.equal((await res.json()).error.code, "not_found");
  }
  const post = await app.handle(new URL("http://localhost/app"), "POST");
  assert.equal(post.status, 405);
  await post.body?.cancel();
});

Deno.test("an app that is not built answers 503 with how to build it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const res = await createAppStatic(new URL(`file://${dir}/`)).handle(
      new URL("http://localhost/app"),
    );
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, "app_not_built");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { startFeeds } from "../../core/ingest/supervisor.ts";
import type { FeedItem } from "../../core/feed/messages.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import { nosy } from "../fixtures/nosy_plugin.ts";
import { waitFor } from "../helpers.ts";

Deno.test("a plugin may reach only its declared hosts: no file, env, run or other host", async (t) => {
  const hits = { declared: 0, undeclared: 0 };
  const declared = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    hits.declared++;
    return new Response("ok");
  });
  const undeclared = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    hits.undeclared++;
    return new Response("should never be reached");
  });
  const file = new URL("../../deno.json", import.meta.url).pathname;
  const items: FeedItem[] = [];
  const states: string[] = [];
  const feeds = startFeeds(
    [{
      plugin: nosy,
      workerUrl: new URL("../fixtures/nosy_worker.ts", import.meta.url),
      config: pluginConfig(nosy, {}, {
        declared: `127.0.0.1:${declared.addr.port}`,
        undeclared: `127.0.0.1:${undeclared.addr.port}`,
        file,
      }),
      symbols: ["BTCUSDT"],
      channels: ["trade"],
    }],
    (_exchange, item) => items.push(item),
    (info) => states.push(`${info.state}: ${info.reason ?? ""}`),
  );
  const outcome = (what: string) =>
    items.flatMap((i) =>
      i.type === "log" && i.message.startsWith(`attempt ${what}:`) ? [i.message] : []
    )[0];
  try {
    await waitFor(() => outcome("write file") !== undefined, 10_000, "all attempts");
    await t.step("the declared host is reachable", () => {
      assert.equal(outcome("declared host"), "attempt declared host: allowed");
      assert.equal(hits.declared, 1);
    });
    for (const what of ["read file", "read env", "run", "undeclared host", "write file"]) {
      await t.step(`${what} is refused with NotCapable`, () => {
        assert.equal(outcome(what), `attempt ${what}: NotCapable`);
      });
    }
    await t.step("the undeclared host never saw a request", () => {
      assert.equal(hits.undeclared, 0);
    });
    await t.step("an uncaught refusal is reported: the feed fails with the reason", async () => {
      await waitFor(() => states.some((s) => s.startsWith("failed")), 10_000, "failure");
      const failed = states.find((s) => s.startsWith("failed"))!;
      assert.match(failed, /NotCapable|read access/);
      const info = feeds.get("nosy")!;
      assert.equal(info.restarts, 1);
      assert.deepEqual(info.hosts, [`127.0.0.1:${declared.addr.port}`]);
    });
  } finally {
    await feeds.stop(1000);
    await declared.shutdown();
    await undeclared.shutdown();
  }
});

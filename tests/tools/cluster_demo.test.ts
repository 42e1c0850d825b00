/**
 * `deno task demo:cluster`: the scale-out deployment starts offline on one machine (private
 * NATS, emulators, 2 ingest nodes, recorder, 2 edges), an edge streams trades marked as
 * emulated, and Ctrl-C (SIGINT) stops every process it started.
 */
import assert from "node:assert/strict";
import type { Gateway } from "../../core/server/gateway.ts";
import { connect, waitFor } from "../helpers.ts";
import { natsServerAvailable, NO_NATS_SERVER } from "../scale/nats_server.ts";
import { freePort } from "../scale/cluster.ts";

const SCRIPT = new URL("../../core/tools/cluster_demo.ts", import.meta.url).pathname;

Deno.test({
  name: "demo:cluster starts every role offline, edges stream emulated trades, SIGINT stops all" +
    (natsServerAvailable() ? "" : ` (skipped: ${NO_NATS_SERVER})`),
  ignore: !natsServerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Two free ports in a row for the edges.
    let edgePort = freePort();
    while (edgePort > 65000) edgePort = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SCRIPT],
      // NATS_URL empty: the demo starts its own private server (never 127.0.0.1:4222).
      env: { EDGE_PORT: String(edgePort), NATS_URL: "" },
      stdout: "piped",
      stderr: "null",
    }).spawn();
    let out = "";
    const reading = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
    })();
    try {
      await waitFor(() => out.includes("Ctrl-C stops everything"), 60_000, "the demo's table");
      const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      assert.equal(pids.length, 5, `five nodes listed:\n${out}`);
      assert.match(out, /NATS\s+nats:\/\/127\.0\.0\.1:\d+ \(private, temporary store\)/);
      assert.doesNotMatch(out, /127\.0\.0\.1:4222/, "not the machine's NATS");
      const edge = { url: `http://127.0.0.1:${edgePort}` } as unknown as Gateway;
      const client = await connect(edge);
      client.send({ action: "subscribe", symbols: ["BTCUSDT"], exchanges: ["binance"] });
      const status = await client.next((f) => f.type === "status" && f.exchange === "binance");
      assert.equal(status.emulator, true, "the feed says it is an emulator");
      await client.next((f) => f.type === "trade", 20_000);
      await client.close();

      child.kill("SIGINT");
      assert.equal((await child.status).code, 0);
      for (const pid of pids) {
        await waitFor(
          () => {
            try {
              Deno.kill(pid, "SIGCONT"); // signal 0 is not offered: SIGCONT is harmless
              return false;
            } catch {
              return true;
            }
          },
          10_000,
          `node pid ${pid} gone after SIGINT`,
        );
      }
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await reading.catch(() => {});
    }
  },
});

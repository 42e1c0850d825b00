/**
 * The program as a user runs it: `main.ts --demo`, then SIGTERM.
 */
import assert from "node:assert/strict";
import { waitFor } from "../helpers.ts";

const ROOT = new URL("../../", import.meta.url);

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("deno task demo: the gateway runs offline on the emulator and shuts down gracefully on SIGTERM", async (t) => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read=core,plugins,mod.ts,node_modules",
      "--unstable-worker-options",
      "main.ts",
      "--demo",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--log-format",
      "json",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream());
  const lines: string[] = [];
  const reading = (async () => {
    for await (const chunk of stdout) lines.push(...chunk.split("\n").filter(Boolean));
  })();
  const stderr = new Response(child.stderr).text();
  const base = `http://127.0.0.1:${port}`;
  try {
    await t.step("it listens, and /health reports the Binance feed as an emulator", async () => {
      let health: Record<string, unknown> | undefined;
      await waitFor(
        async () => {
          try {
            health = await (await fetch(`${base}/health`)).json();
            return (health!.feeds as { state: string }[])[0].state === "connected";
          } catch {
            return false; // not up yet
          }
        },
        20_000,
        "the started process's /health to report the binance feed connected",
      );
      const [feed] = health!.feeds as Record<string, unknown>[];
      assert.equal(feed.exchange, "binance");
      assert.equal(feed.state, "connected");
      assert.equal(feed.source, "emulator");
    });

    await t.step("the log says the data is synthetic", () => {
      assert.ok(lines.some((l) => /EMULATOR/.test(l) && /synthetic|not the real exchange/.test(l)));
    });

    await t.step(
      "a subscribed client gets trades, then a close frame (1001) on SIGTERM; exit code 0",
      async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        const frames: Record<string, unknown>[] = [];
        const gotTrade = Promise.withResolvers<void>();
        ws.onmessage = (e) => {
          const f = JSON.parse(e.data);
          frames.push(f);
          if (f.type === "trade") gotTrade.resolve();
        };
        const closed = new Promise<number>((r) => ws.onclose = (e) => r(e.code));
        await new Promise((r) => ws.onopen = r);
        ws.send(JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT", "ETHUSDT"] }));
        await gotTrade.promise;
        child.kill("SIGTERM");
        assert.equal(await closed, 1001);
        const status = await child.status;
        assert.equal(status.code, 0);
      },
    );
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await reading;
    await stderr;
  }
});

Deno.test("a bad setting stops the program with exit code 2 and a message naming it", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", "--allow-read=core,plugins,mod.ts,node_modules", "main.ts"],
    cwd: ROOT,
    env: { PORT: "not-a-port", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /PORT \(--port\)/);
});

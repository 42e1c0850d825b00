/**
 * Connecting to NATS with the settings a user gives: user/password and token
 * authentication reach the server; wrong credentials fail at start with the server's
 * reason, not later and not silently.
 */
import assert from "node:assert/strict";
import { connectNats, NatsConnectError, type NatsSettings } from "../../core/scale/connect.ts";
import { natsServerAvailable, NO_NATS_SERVER, startNatsServer } from "./nats_server.ts";

const skip = !natsServerAvailable();
const suffix = skip ? ` (skipped: ${NO_NATS_SERVER})` : "";

const settings = (url: string, more: Partial<NatsSettings>): NatsSettings => ({
  natsUrl: [url],
  ...more,
});

Deno.test({
  name: "NATS_USER / NATS_PASS: the right pair connects, a wrong one is refused at start" + suffix,
  ignore: skip,
  async fn() {
    const server = await startNatsServer(["--user", "feed", "--pass", "s3cret"]);
    try {
      const nc = await connectNats(
        settings(server.url, { natsUser: "feed", natsPass: "s3cret" }),
        "test",
      );
      assert.equal(nc.isClosed(), false);
      await nc.close();
      await assert.rejects(
        () => connectNats(settings(server.url, { natsUser: "feed", natsPass: "wrong" }), "test"),
        (err: Error) =>
          err instanceof NatsConnectError && /Authorization Violation/.test(err.message) &&
          err.message.includes(server.url),
      );
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "NATS_TOKEN: the token connects, none is refused at start" + suffix,
  ignore: skip,
  async fn() {
    const server = await startNatsServer(["--auth", "t0ken"]);
    try {
      const nc = await connectNats(settings(server.url, { natsToken: "t0ken" }), "test");
      assert.equal(nc.isClosed(), false);
      await nc.close();
      await assert.rejects(
        () => connectNats(settings(server.url, {}), "test"),
        (err: Error) => err instanceof NatsConnectError && /Authorization/.test(err.message),
      );
    } finally {
      await server.stop();
    }
  },
});

Deno.test("an unreachable NATS_URL fails at start with a NatsConnectError naming it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    () => connectNats(settings(`nats://127.0.0.1:${port}`, {}), "test"),
    (err: Error) => err instanceof NatsConnectError && err.message.includes(`127.0.0.1:${port}`),
  );
});

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

/** True when `openssl` can be run here (the TLS test makes its certificates with it). */
function opensslAvailable(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** A CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  const run = async (args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "null",
    })
      .output();
    if (!out.success) throw new Error(`openssl ${args[0]} failed`);
  };
  {
    await run([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=quant-saas-test-ca",
    ]);
  }
  await run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ]);
}

Deno.test({
  name: "NATS_TLS_CA: a TLS server is reached with the CA that signed it, refused without it" +
    (skip ? suffix : opensslAvailable() ? "" : " (skipped: no openssl to make test certificates)"),
  ignore: skip || !opensslAvailable(),
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "nats-tls-" });
    try {
      await makeCertificates(dir);
      const server = await startNatsServer([
        "--tls",
        "--tlscert",
        `${dir}/server.pem`,
        "--tlskey",
        `${dir}/server.key`,
      ]);
      try {
        await t.step("with the CA", async () => {
          const nc = await connectNats(
            settings(server.url, { natsTlsCa: `${dir}/ca.pem` }),
            "test",
          );
          assert.equal(nc.isClosed(), false);
          await nc.close();
        });
        await t.step("without it", async () => {
          await assert.rejects(
            () => connectNats(settings(server.url, {}), "test"),
            NatsConnectError,
          );
        });
      } finally {
        await server.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

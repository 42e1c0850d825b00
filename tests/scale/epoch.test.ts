import assert, { equal, notEqual } from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { newEpoch, readEpoch } from "../../core/scale/epoch.ts";
import { natsServerAvailable, NO_NATS_SERVER, startNatsServer } from "./nats_server.ts";

const skip = !natsServerAvailable();
if (skip) console.log(`tests/scale/epoch.test.ts: NATS tests skipped: ${NO_NATS_SERVER}`);

Deno.test({
  name: "epoch: none until made; a new epoch replaces the stored one; groups are separate",
  ignore: skip,
  fn: async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    try {
      equal(await readEpoch(nc, "main"), undefined);
      const e1 = await newEpoch(nc, "main");
      assert(/^[0-9A-Za-z]{16}$/.test(e1), `epoch ${e1} is 16 alphanumerics`);
      equal(await readEpoch(nc, "main"), e1);
      equal(await readEpoch(nc, "other"), undefined);
      const e2 = await newEpoch(nc, "main");
      notEqual(e2, e1);
      equal(await readEpoch(nc, "main"), e2);
    } finally {
      await nc.close();
      await server.stop();
    }
  },
});

import assert, { equal } from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type Lease, startLease } from "../../core/scale/lease.ts";
import { waitFor, waitForValue } from "../helpers.ts";
import { natsServerAvailable, NO_NATS_SERVER, startNatsServer } from "./nats_server.ts";

const skip = !natsServerAvailable();
if (skip) console.log(`tests/scale/lease.test.ts: NATS tests skipped: ${NO_NATS_SERVER}`);
const TTL = 2_000;
const opts = { maxReconnectAttempts: -1, reconnectTimeWait: 100 };

/** A candidate with its own connection, recording how its `leading()` changes. */
async function candidate(url: string, id: string): Promise<{
  nc: NatsConnection;
  lease: Lease;
  changes: boolean[];
}> {
  const nc = await connect({ servers: url, ...opts });
  const changes: boolean[] = [];
  const lease = await startLease(nc, {
    group: "main",
    id,
    ttlMs: TTL,
    onChange: (l) => changes.push(l),
  });
  return { nc, lease, changes };
}

/**
 * Samples both candidates every 5 ms until stopped and fails when both claim to lead at once
 * (what a stale leader must never do).
 */
function overlapWatch(leases: Lease[]): { stop(): number } {
  let overlaps = 0;
  const timer = setInterval(() => {
    if (leases.filter((l) => l.leading()).length > 1) overlaps++;
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      return overlaps;
    },
  };
}

const leaders = <T extends { lease: Lease }>(cs: T[]): T[] => cs.filter((c) => c.lease.leading());

Deno.test({
  name: "lease: exactly one of two candidates leads; closing the leader's connection hands over",
  ignore: skip,
  fn: async () => {
    const server = await startNatsServer();
    const cs = [await candidate(server.url, "node-a"), await candidate(server.url, "node-b")];
    const watch = overlapWatch(cs.map((c) => c.lease));
    try {
      const first = await waitForValue(
        () => leaders(cs).length === 1 ? leaders(cs)[0] : undefined,
        3 * TTL,
        "one candidate to lead",
      );
      const other = cs.find((c) => c !== first)!;
      equal(other.lease.leading(), false);
      assert(first.changes.at(-1), "the leader was told it leads");

      const killedAt = Date.now();
      await first.nc.close(); // the leader's process dies with its connection
      equal(first.lease.leading(), false, "a closed connection never leads");
      await waitFor(() => other.lease.leading(), 3 * TTL, "the other candidate to take over");
      const took = Date.now() - killedAt;
      assert(took <= TTL + TTL / 2 + 500, `took over in ${took} ms (ttl + ttl/2 = ${1.5 * TTL})`);
      assert(took >= TTL * 3 / 4, `not before the old lease expired (${took} ms)`);
      equal(watch.stop(), 0, "never two leaders at once");
    } finally {
      watch.stop();
      for (const c of cs) await c.lease.close();
      for (const c of cs) await c.nc.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "lease: a leader that closes its lease hands over at once",
  ignore: skip,
  fn: async () => {
    const server = await startNatsServer();
    const cs = [await candidate(server.url, "node-a"), await candidate(server.url, "node-b")];
    try {
      const first = await waitForValue(() => leaders(cs)[0], 3 * TTL, "one candidate to lead");
      const other = cs.find((c) => c !== first)!;
      const closedAt = Date.now();
      await first.lease.close();
      equal(first.lease.leading(), false);
      equal(first.changes.at(-1), false, "the closed leader was told it stopped leading");
      await waitFor(() => other.lease.leading(), 2 * TTL, "the other candidate to take over");
      const took = Date.now() - closedAt;
      assert(took < TTL, `took over in ${took} ms, without waiting for the ttl`);
    } finally {
      for (const c of cs) await c.lease.close();
      for (const c of cs) await c.nc.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "lease: NATS killed and restarted: the leader fences itself, then one leader again",
  ignore: skip,
  fn: async () => {
    const server = await startNatsServer();
    const cs = [await candidate(server.url, "node-a"), await candidate(server.url, "node-b")];
    const watch = overlapWatch(cs.map((c) => c.lease));
    try {
      const first = await waitForValue(() => leaders(cs)[0], 3 * TTL, "one candidate to lead");
      const killedAt = Date.now();
      await server.kill();
      await waitFor(() => !first.lease.leading(), 2 * TTL, "the leader to fence itself");
      const fenced = Date.now() - killedAt;
      assert(fenced <= TTL, `fenced ${fenced} ms after NATS went away (ttl*3/4 + a round)`);
      equal(first.changes.at(-1), false, "the leader was told it stopped leading");
      await server.restart();
      await waitFor(() => leaders(cs).length === 1, 6 * TTL, "one leader after the restart");
      equal(watch.stop(), 0, "never two leaders at once");
    } finally {
      watch.stop();
      for (const c of cs) await c.lease.close();
      for (const c of cs) await c.nc.close();
      await server.stop();
    }
  },
});

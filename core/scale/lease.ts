/**
 * Leader election of an ingest group on a NATS KV bucket (after
 * ripienaar/nats-kv-leader-elect): the key `<group>` of bucket `md_lease`
 * (history 1, ttl = the lease ttl) holds the leader's node id.
 *
 * - Every ttl/4 a candidate tries `create` (succeeds only when the key is absent,
 *   i.e. the last leader deleted it or stopped renewing and it expired).
 * - The holder `update`s with its last revision every ttl/4 (compare-and-set).
 * - Self-fencing: the holder stops leading at once when an update fails, or when
 *   ttl*3/4 passed since the start of its last successful write (also while NATS is
 *   unreachable). The key lives ttl after that write, so the holder has stopped
 *   before anyone else can create it.
 * - A new holder reports leading only ttl/4 after its create (a successful renewal later).
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { getLogger } from "../server/log.ts";

/** The KV bucket of the leases. */
export const LEASE_BUCKET = "md_lease";

/** A candidacy for the leadership of one group. */
export interface Lease {
  /** This node's id (the value written into the lease key). */
  readonly id: string;
  /** True while this node leads: checked against the clock on every call. */
  leading(): boolean;
  /** Stops the candidacy; a leader gives the lease up (deletes the key) so another takes over at once. */
  close(): Promise<void>;
}

/** Settings of {@link startLease}. */
export interface LeaseOptions {
  /** Ingest group: the lease key. */
  group: string;
  /** This node's id. */
  id: string;
  /** Lease ttl, ms (LEASE_TTL_MS). */
  ttlMs: number;
  /** Called on every change of {@link Lease.leading}. */
  onChange(leading: boolean): void;
}

/**
 * Opens (creates when missing) the lease bucket and starts competing for the
 * group's leadership. Throws when the bucket cannot be opened.
 */
export async function startLease(nc: NatsConnection, o: LeaseOptions): Promise<Lease> {
  const log = getLogger(["quant-saas", "lease"]);
  // Requests time out within one round, so a slow server cannot stretch a renewal.
  const js = jetstream(nc, { timeout: Math.max(250, Math.floor(o.ttlMs / 4)) });
  const kv: KV = await new Kvm(js).create(LEASE_BUCKET, { ttl: o.ttlMs, history: 1 });
  // An existing bucket keeps its ttl: the key may live shorter than ours, never count on longer.
  const bucketTtl = (await kv.status()).ttl;
  const ttl = bucketTtl > 0 ? Math.min(o.ttlMs, bucketTtl) : o.ttlMs;
  if (ttl !== o.ttlMs) {
    log.warning(
      "bucket {bucket} expires keys after {bucketTtl} ms, not {ttl} ms: using {used} ms",
      {
        bucket: LEASE_BUCKET,
        bucketTtl,
        ttl: o.ttlMs,
        used: ttl,
      },
    );
  }
  const tick = Math.max(10, Math.floor(ttl / 4));
  const fenceMs = Math.floor(ttl * 3 / 4);

  let revision: number | undefined; // set while this node holds the key
  let heldSince = 0; // when the create that won the key was sent
  let lastWrite = 0; // when the last successful create/update was sent
  let leadingNow = false;
  let closed = false;
  let fence: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;

  const setLeading = (value: boolean, why: string) => {
    if (leadingNow === value) return;
    leadingNow = value;
    log[value ? "info" : "warning"]("{id} {what} group {group}: {why}", {
      id: o.id,
      what: value ? "leads" : "stopped leading",
      group: o.group,
      why,
    });
    try {
      o.onChange(value);
    } catch (err) {
      log.error("lease change listener failed: {error}", { error: String(err) });
    }
  };
  const drop = (why: string) => {
    revision = undefined;
    clearTimeout(fence);
    setLeading(false, why);
  };
  const armFence = () => {
    clearTimeout(fence);
    fence = setTimeout(
      () => drop(`no successful renewal for ${fenceMs} ms (self-fencing)`),
      Math.max(0, lastWrite + fenceMs - Date.now()),
    );
  };

  const round = async () => {
    const sentAt = Date.now();
    if (revision === undefined) {
      try {
        revision = await kv.create(o.group, o.id);
      } catch {
        return; // held by another node (or NATS unreachable): try again next round
      }
      if (closed || Date.now() - sentAt >= fenceMs) {
        revision = undefined; // too late to count on it; let it expire or be renewed next round
        return;
      }
      heldSince = sentAt;
      lastWrite = sentAt;
      armFence();
      log.info("{id} won the lease of group {group}; leads in {wait} ms", {
        id: o.id,
        group: o.group,
        wait: tick,
      });
      return;
    }
    try {
      const rev = await kv.update(o.group, o.id, revision);
      if (revision === undefined || closed) return; // fenced meanwhile
      revision = rev;
    } catch (err) {
      drop(`renewal failed (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    if (Date.now() - sentAt >= fenceMs) {
      drop("renewal answered too late");
      return;
    }
    lastWrite = sentAt;
    armFence();
    if (!leadingNow && sentAt - heldSince >= tick) setLeading(true, "lease held for ttl/4");
  };

  const loop = (async () => {
    while (!closed && !nc.isClosed()) {
      const started = Date.now();
      await round().catch((err) =>
        log.error("lease round failed: {error}", { error: String(err) })
      );
      if (closed) break;
      const wait = Math.max(0, tick - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
    if (!closed) drop("NATS connection closed");
  })();

  return {
    id: o.id,
    leading: () =>
      leadingNow && revision !== undefined && !nc.isClosed() && Date.now() - lastWrite < fenceMs,
    async close() {
      if (closed) return;
      closed = true;
      wake?.();
      await loop;
      const held = revision;
      drop("lease closed");
      if (held !== undefined && !nc.isClosed()) {
        await kv.delete(o.group, { previousSeq: held }).catch(() => {});
      }
    },
  };
}

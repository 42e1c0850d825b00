/**
 * The epoch of an ingest group: the name of its lineage of hub sequence numbers,
 * kept in KV bucket `md_meta` (no ttl) under `epoch.<group>`. A new epoch is made
 * only when the log's history is lost (the stream is empty or no epoch is stored).
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { type KV, Kvm } from "@nats-io/kv";

/** The KV bucket of the groups' metadata. */
export const META_BUCKET = "md_meta";

/** The KV key of a group's epoch. */
export function epochKey(group: string): string {
  return `epoch.${group}`;
}

async function metaBucket(nc: NatsConnection): Promise<KV> {
  return await new Kvm(nc).create(META_BUCKET, { history: 1 });
}

/** The group's current epoch, or undefined when none is stored. */
export async function readEpoch(nc: NatsConnection, group: string): Promise<string | undefined> {
  const entry = await (await metaBucket(nc)).get(epochKey(group));
  if (!entry || entry.operation !== "PUT" || entry.length === 0) return undefined;
  return entry.string();
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Makes a fresh epoch (16 random alphanumeric characters), stores it as the group's, and returns it. */
export async function newEpoch(nc: NatsConnection, group: string): Promise<string> {
  const epoch = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => ALPHABET[b % 62])
    .join("");
  await (await metaBucket(nc)).put(epochKey(group), epoch);
  return epoch;
}

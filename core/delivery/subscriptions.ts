/**
 * Subscription index for the trade, quote and kline channels: stream key →
 * the clients that want it, split by wire form (with or without `raw`).
 * @module
 */
import type { Channel } from "../events.ts";
import type { Client } from "./policy.ts";

/** The clients of one stream, by wire form. */
export interface Audience {
  raw: Set<Client>;
  plain: Set<Client>;
}

/** Key of one stream. */
export function streamKey(
  channel: Channel | "consolidated",
  exchange: string,
  symbol: string,
): string {
  return `${channel}|${exchange}|${symbol}`;
}

/** The index. */
export interface StreamIndex {
  add(key: string, client: Client, raw: boolean): void;
  remove(key: string, client: Client): void;
  audience(key: string): Audience | undefined;
  size(): number;
}

/** Creates an empty index. */
export function createStreamIndex(): StreamIndex {
  const index = new Map<string, Audience>();
  return {
    add(key, client, raw) {
      let audience = index.get(key);
      if (!audience) {
        audience = { raw: new Set(), plain: new Set() };
        index.set(key, audience);
      }
      (raw ? audience.raw : audience.plain).add(client);
      (raw ? audience.plain : audience.raw).delete(client);
    },
    remove(key, client) {
      const audience = index.get(key);
      if (!audience) return;
      audience.raw.delete(client);
      audience.plain.delete(client);
      if (audience.raw.size === 0 && audience.plain.size === 0) index.delete(key);
    },
    audience: (key) => index.get(key),
    size: () => index.size,
  };
}

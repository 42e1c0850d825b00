/**
 * Every client subscription, in one place: which streams each client follows
 * (typed {@link ClientStreamKey}s), and who follows each stream. Trade, quote, kline
 * and consolidated streams keep their audience here, split by wire form (with or
 * without `raw`); book streams keep theirs in the book store's per-depth views
 * ({@link BookAudiences}). Callers never see that difference: they add, remove
 * and move subscriptions.
 * @module
 */
import type { Client } from "./policy.ts";
import type { ClientChannel } from "../protocol/messages.ts";
import type { Metric } from "../analytics/engine.ts";

/**
 * A stream a source delivers: a data channel, or consolidated (exchange `*` and the unified
 * symbol).
 */
export interface StreamKey {
  readonly channel: Exclude<ClientChannel, "analytics" | "options">;
  readonly exchange: string;
  readonly symbol: string;
}

/**
 * The stream one subscription follows: a {@link StreamKey}, or the analytics of a symbol
 * (computed by the hub from that symbol's trade and book streams).
 */
export interface ClientStreamKey {
  readonly channel: ClientChannel;
  readonly exchange: string;
  readonly symbol: string;
}

/**
 * The streams a source delivers for a client stream: itself, or for the analytics of a
 * symbol, its trade and book streams (the hub computes the figures from them).
 */
export function sourceStreams(stream: ClientStreamKey): StreamKey[] {
  const { channel, exchange, symbol } = stream;
  if (channel === "analytics") {
    return [{ channel: "trade", exchange, symbol }, { channel: "book", exchange, symbol }];
  }
  // The options figures are computed from the instrument's quotes (the venue's ticker).
  if (channel === "options") return [{ channel: "quote", exchange, symbol }];
  return [{ channel, exchange, symbol }];
}

/** One subscription of a client. */
export interface Subscription {
  readonly stream: ClientStreamKey;
  /** Include the exchange's own frame as `raw`. */
  readonly raw: boolean;
  /** Book depth (book channel only). */
  readonly depth?: number;
  /** The figures wanted, in the order of METRICS (analytics channel only). */
  readonly metrics?: readonly Metric[];
}

/** The clients of one stream, by wire form. */
export interface Audience {
  raw: Set<Client>;
  plain: Set<Client>;
}

/** Where book subscribers are held (the book store: one view per depth). */
export interface BookAudiences {
  /** Adds a subscriber at `depth`; sends it a snapshot at once if the book is synced. */
  subscribe(client: Client, exchange: string, symbol: string, depth: number, raw: boolean): void;
  unsubscribe(client: Client, exchange: string, symbol: string, depth: number): void;
}

/**
 * Id of a stream: the map key of its audience and the conflation key of its updates.
 * Built once per event on the fan-out path; never parsed back (the typed key is kept beside it).
 */
export function streamId(channel: ClientChannel, exchange: string, symbol: string): string {
  return `${channel}|${exchange}|${symbol}`;
}

/** The subscriptions of every client. */
export interface Subscriptions {
  /**
   * Adds `subscription` for `client`, replacing one to the same stream (new `raw` or
   * `depth`). A book subscription gets a snapshot at once if the book is synced.
   */
  add(client: Client, subscription: Subscription): void;
  /** Removes `client`'s subscription to `stream`; false if it had none. */
  remove(client: Client, stream: ClientStreamKey): boolean;
  /** True if `client` follows `stream`. */
  has(client: Client, stream: ClientStreamKey): boolean;
  /** `client`'s subscription to the stream with {@link streamId} `id`, if any. */
  get(client: Client, id: string): Subscription | undefined;
  /** Subscriptions `client` holds. */
  count(client: Client): number;
  /** `client`'s subscriptions, oldest first. */
  of(client: Client): Subscription[];
  /** Drops every subscription of `client` (it disconnected). */
  clear(client: Client): void;
  /** Moves a subscription to another symbol of the same exchange and channel. */
  move(client: Client, subscription: Subscription, symbol: string): void;
  /** Every client with a subscription to one of `exchange`'s streams, with those subscriptions. */
  onExchange(exchange: string): Map<Client, Subscription[]>;
  /** The audience of a non-book stream by {@link streamId} (the fan-out path: one map lookup). */
  audience(id: string): Audience | undefined;
}

/**
 * Told when a stream gets its first subscriber (`open`) and when its last one leaves
 * (`!open`), on every channel (book and consolidated too); an edge follows the stream's
 * subject only while someone wants it.
 */
export type InterestHook = (stream: ClientStreamKey, open: boolean) => void;

/** Creates an empty subscription store; book subscribers are kept in `books`. */
export function createSubscriptions(
  books: BookAudiences,
  onInterest?: InterestHook,
): Subscriptions {
  const audiences = new Map<string, Audience>();
  const byClient = new Map<Client, Map<string, Subscription>>();
  /** Subscribers per stream id (kept only with an interest hook). */
  const interest = new Map<string, number>();
  const joined = (stream: ClientStreamKey, id: string) => {
    if (!onInterest) return;
    const n = (interest.get(id) ?? 0) + 1;
    interest.set(id, n);
    if (n === 1) onInterest(stream, true);
  };
  const left = (stream: ClientStreamKey, id: string) => {
    if (!onInterest) return;
    const n = (interest.get(id) ?? 1) - 1;
    if (n > 0) return void interest.set(id, n);
    interest.delete(id);
    onInterest(stream, false);
  };

  /** Enters `client` in the stream's audience (index or book view). */
  const follow = (client: Client, sub: Subscription, id: string) => {
    const { channel, exchange, symbol } = sub.stream;
    if (channel === "book") {
      books.subscribe(client, exchange, symbol, sub.depth!, sub.raw);
      return;
    }
    let audience = audiences.get(id);
    if (!audience) {
      audience = { raw: new Set(), plain: new Set() };
      audiences.set(id, audience);
    }
    (sub.raw ? audience.raw : audience.plain).add(client);
    (sub.raw ? audience.plain : audience.raw).delete(client);
  };

  /** Takes `client` out of the stream's audience. */
  const unfollow = (client: Client, sub: Subscription, id: string) => {
    const { channel, exchange, symbol } = sub.stream;
    if (channel === "book") {
      books.unsubscribe(client, exchange, symbol, sub.depth!);
      return;
    }
    const audience = audiences.get(id);
    if (!audience) return;
    audience.raw.delete(client);
    audience.plain.delete(client);
    if (audience.raw.size === 0 && audience.plain.size === 0) audiences.delete(id);
  };

  const idOf = ({ channel, exchange, symbol }: ClientStreamKey) =>
    streamId(channel, exchange, symbol);

  const add = (client: Client, sub: Subscription) => {
    let subs = byClient.get(client);
    if (!subs) {
      subs = new Map();
      byClient.set(client, subs);
    }
    const id = idOf(sub.stream);
    const previous = subs.get(id);
    // A book view is per depth: leave the old one before joining the new.
    if (previous?.depth !== undefined) unfollow(client, previous, id);
    subs.set(id, sub);
    if (!previous) joined(sub.stream, id);
    follow(client, sub, id);
  };

  const remove = (client: Client, stream: ClientStreamKey) => {
    const subs = byClient.get(client);
    const id = idOf(stream);
    const sub = subs?.get(id);
    if (!subs || !sub) return false;
    subs.delete(id);
    if (subs.size === 0) byClient.delete(client);
    unfollow(client, sub, id);
    left(sub.stream, id);
    return true;
  };

  return {
    add,
    remove,
    has: (client, stream) => byClient.get(client)?.has(idOf(stream)) ?? false,
    get: (client, id) => byClient.get(client)?.get(id),
    count: (client) => byClient.get(client)?.size ?? 0,
    of: (client) => [...byClient.get(client)?.values() ?? []],
    clear(client) {
      const subs = byClient.get(client);
      if (!subs) return;
      byClient.delete(client);
      for (const [id, sub] of subs) {
        unfollow(client, sub, id);
        left(sub.stream, id);
      }
    },
    move(client, sub, symbol) {
      remove(client, sub.stream);
      add(client, { ...sub, stream: { ...sub.stream, symbol } });
    },
    onExchange(exchange) {
      const found = new Map<Client, Subscription[]>();
      for (const [client, subs] of byClient) {
        for (const sub of subs.values()) {
          if (sub.stream.exchange !== exchange) continue;
          const list = found.get(client);
          if (list) list.push(sub);
          else found.set(client, [sub]);
        }
      }
      return found;
    },
    audience: (id) => audiences.get(id),
  };
}

/**
 * One client connection's protocol handling: validates each frame, applies
 * subscribe / unsubscribe / list / ping, and answers with acks or error frames.
 * An error never closes a well-behaved connection and never touches other clients.
 * @module
 */
import type { Channel } from "../events.ts";
import type { Client, Delivery } from "./policy.ts";
import type { Books } from "../books/books.ts";
import type { Catalog } from "../market/catalog.ts";
import type { StreamIndex } from "./subscriptions.ts";
import { streamKey } from "./subscriptions.ts";
import {
  type ErrorCode,
  errorFrame,
  parseClientFrame,
  resolveChannels,
  type SubscriptionFrame,
} from "../protocol/messages.ts";
import { DEFAULT_VIEW_DEPTH } from "../books/view.ts";

/** Limits applied to each connection. */
export interface SessionLimits {
  maxFrameBytes: number;
  maxSubscriptions: number;
  maxClientMessagesPerSecond: number;
}

/** What a session works with. */
export interface SessionDeps {
  index: StreamIndex;
  books: Books;
  catalog: Catalog;
  delivery: Delivery;
  limits: SessionLimits;
  /** Current consolidated quote frame of a unified symbol, if any (sent on subscribe). */
  consolidatedFrame(unified: string): string | undefined;
  /** Current `status` frame of a feed (sent on subscribe). */
  statusFrame(exchange: string): string | undefined;
  /** Disconnects a client with a close code. */
  disconnect(client: Client, code: number, reason: string): void;
  /** Counts an error frame. */
  countError(code: ErrorCode): void;
  now(): number;
}

/** One subscription of a client, as `list` reports it. */
interface SubscriptionInfo {
  exchange: string;
  symbol: string;
  channel: Channel | "consolidated";
  raw: boolean;
  depth?: number;
}

const encoder = new TextEncoder();

/** A frame this many times over the size limit is abuse: the connection is closed (1009). */
export const ABUSIVE_FRAME_FACTOR = 4;

/** Handles frames from clients. */
export interface Sessions {
  /** A frame arrived from `client`. */
  onMessage(client: Client, data: unknown): void;
  /** `client` is gone: drop all its subscriptions. */
  onClose(client: Client): void;
}

/** Creates the session handler. */
export function createSessions(deps: SessionDeps): Sessions {
  const { index, books, catalog, delivery, limits } = deps;

  const fail = (client: Client, code: ErrorCode, message: string, id?: string | number) => {
    deps.countError(code);
    delivery.send(client, errorFrame(code, message, id));
  };

  const byteLength = (text: string) =>
    text.length * 3 <= limits.maxFrameBytes ? text.length : encoder.encode(text).length;

  /** Resolves a subscription frame into concrete (exchange, native symbol, channel) triples. */
  const resolve = (client: Client, frame: SubscriptionFrame) => {
    const { channels, consolidated, unknown } = resolveChannels(frame.channels);
    if (unknown.length > 0) {
      fail(client, "unknown_channel", `unknown channel(s): ${unknown.join(", ")}`, frame.id);
      return undefined;
    }
    if (consolidated && frame.exchanges !== undefined && !frame.exchanges.includes("*")) {
      fail(
        client,
        "invalid_request",
        'the consolidated channel spans every exchange: omit "exchanges" or use ["*"]',
        frame.id,
      );
      return undefined;
    }
    const access = client.access;
    if (access?.channels) {
      const named = consolidated ? [...channels, "consolidated"] : channels;
      const forbidden = named.filter((c) => !access.channels!.includes(c));
      if (forbidden.length > 0) {
        fail(
          client,
          "forbidden_channel",
          `your plan does not include channel(s): ${forbidden.join(", ")}`,
          frame.id,
        );
        return undefined;
      }
    }
    const configured = catalog.exchanges();
    const allowed = access?.exchanges
      ? configured.filter((e) => access.exchanges!.includes(e))
      : configured;
    const wanted = frame.exchanges === undefined || frame.exchanges.includes("*")
      ? allowed
      : frame.exchanges.map((e) => e.toLowerCase());
    const badExchanges = wanted.filter((e) => !configured.includes(e));
    const forbiddenExchanges = wanted.length === 0 && configured.length > 0
      ? configured
      : wanted.filter((e) => configured.includes(e) && !allowed.includes(e));
    if (forbiddenExchanges.length > 0) {
      fail(
        client,
        "forbidden_exchange",
        `your plan does not include exchange(s): ${forbiddenExchanges.join(", ")}`,
        frame.id,
      );
      return undefined;
    }
    if (badExchanges.length > 0) {
      fail(
        client,
        "unknown_exchange",
        `unknown exchange(s): ${badExchanges.join(", ")}; configured: ${configured.join(", ")}`,
        frame.id,
      );
      return undefined;
    }
    const targets: { exchange: string; symbol: string }[] = [];
    const unified = new Set<string>();
    const unknownSymbols: string[] = [];
    for (const name of frame.symbols) {
      let found = false;
      for (const exchange of wanted) {
        const native = catalog.resolve(exchange, name);
        if (native === undefined) continue;
        found = true;
        if (channels.length > 0) targets.push({ exchange, symbol: native });
        const u = catalog.unified(exchange, native);
        if (consolidated && u !== undefined) unified.add(u);
      }
      if (!found) unknownSymbols.push(name);
    }
    if (unknownSymbols.length > 0) {
      fail(
        client,
        "unknown_symbol",
        `not streamed by ${wanted.join(", ")}: ${unknownSymbols.slice(0, 20).join(", ")}`,
        frame.id,
      );
      return undefined;
    }
    return {
      channels,
      /** Channels as named in acks (data channels plus `consolidated`). */
      named: consolidated ? [...channels, "consolidated"] : channels,
      targets,
      consolidated: [...unified].map((u) => streamKey("consolidated", "*", u)),
      exchanges: [...new Set(targets.map((t) => t.exchange))],
    };
  };

  const subscribe = (client: Client, frame: SubscriptionFrame) => {
    const resolved = resolve(client, frame);
    if (!resolved) return;
    const raw = frame.raw ?? true;
    const depth = frame.depth ?? DEFAULT_VIEW_DEPTH;
    let added = 0;
    for (const { exchange, symbol } of resolved.targets) {
      for (const channel of resolved.channels) {
        if (!client.subs.has(streamKey(channel, exchange, symbol))) added++;
      }
    }
    for (const key of resolved.consolidated) if (!client.subs.has(key)) added++;
    const maxSubscriptions = client.access?.maxSubscriptions ?? limits.maxSubscriptions;
    if (client.subs.size + added > maxSubscriptions) {
      fail(
        client,
        "too_many_subscriptions",
        `this would hold ${
          client.subs.size + added
        } subscriptions; the limit is ${maxSubscriptions}`,
        frame.id,
      );
      return;
    }
    const bookSubs: { exchange: string; symbol: string }[] = [];
    for (const { exchange, symbol } of resolved.targets) {
      for (const channel of resolved.channels) {
        const key = streamKey(channel, exchange, symbol);
        const previous = client.subs.get(key);
        if (channel === "book") {
          if (previous?.depth !== undefined) {
            books.unsubscribe(client, exchange, symbol, previous.depth);
          }
          client.subs.set(key, { raw, depth });
          bookSubs.push({ exchange, symbol });
        } else {
          client.subs.set(key, { raw });
          index.add(key, client, raw);
        }
      }
    }
    for (const key of resolved.consolidated) {
      client.subs.set(key, { raw: false });
      index.add(key, client, false);
    }
    delivery.send(
      client,
      JSON.stringify({
        type: "subscribed",
        id: frame.id,
        symbols: frame.symbols,
        channels: resolved.named,
        exchanges: resolved.exchanges,
        raw,
        depth: resolved.channels.includes("book") ? depth : undefined,
        subscriptions: client.subs.size,
      }),
    );
    for (const exchange of resolved.exchanges) {
      const status = deps.statusFrame(exchange);
      if (status) delivery.send(client, status);
    }
    for (const { exchange, symbol } of bookSubs) {
      books.subscribe(client, exchange, symbol, depth, raw);
    }
    for (const key of resolved.consolidated) {
      const current = deps.consolidatedFrame(key.slice(key.lastIndexOf("|") + 1));
      if (current) delivery.send(client, current, key);
    }
  };

  const unsubscribe = (client: Client, frame: SubscriptionFrame) => {
    const resolved = resolve(client, frame);
    if (!resolved) return;
    let removed = 0;
    for (const { exchange, symbol } of resolved.targets) {
      for (const channel of resolved.channels) {
        const key = streamKey(channel, exchange, symbol);
        const options = client.subs.get(key);
        if (!options) continue;
        removed++;
        client.subs.delete(key);
        if (channel === "book") books.unsubscribe(client, exchange, symbol, options.depth!);
        else index.remove(key, client);
      }
    }
    for (const key of resolved.consolidated) {
      if (!client.subs.delete(key)) continue;
      removed++;
      index.remove(key, client);
    }
    delivery.send(
      client,
      JSON.stringify({
        type: "unsubscribed",
        id: frame.id,
        symbols: frame.symbols,
        channels: resolved.named,
        exchanges: resolved.exchanges,
        removed,
        subscriptions: client.subs.size,
      }),
    );
  };

  const list = (client: Client, id?: string | number) => {
    const subscriptions: SubscriptionInfo[] = [];
    for (const [key, options] of client.subs) {
      const [channel, exchange, symbol] = key.split("|");
      subscriptions.push({
        exchange,
        symbol,
        channel: channel as Channel | "consolidated",
        raw: options.raw,
        depth: options.depth,
      });
    }
    delivery.send(client, JSON.stringify({ type: "subscriptions", id, subscriptions }));
  };

  return {
    onMessage(client, data) {
      if (client.closing) return;
      const now = deps.now();
      if (now - client.rate.windowStart >= 1000) {
        client.rate.windowStart = now;
        client.rate.count = 0;
      }
      client.rate.count++;
      const perSecond = client.access?.messagesPerSecond ?? limits.maxClientMessagesPerSecond;
      if (client.rate.count > perSecond) {
        if (client.rate.count > perSecond * 4) {
          deps.countError("rate_limited");
          deps.disconnect(client, 1008, "rate_limited");
          return;
        }
        fail(client, "rate_limited", `more than ${perSecond} frames per second; frame ignored`);
        return;
      }
      if (typeof data !== "string") {
        fail(client, "binary_not_supported", "binary frames are not accepted; send JSON text");
        return;
      }
      const size = byteLength(data);
      if (size > limits.maxFrameBytes) {
        if (size > limits.maxFrameBytes * ABUSIVE_FRAME_FACTOR) {
          deps.countError("frame_too_large");
          deps.disconnect(client, 1009, "frame_too_large");
          return;
        }
        fail(client, "frame_too_large", `frame of ${size} bytes exceeds ${limits.maxFrameBytes}`);
        return;
      }
      const parsed = parseClientFrame(data);
      if (!parsed.ok) {
        fail(client, parsed.code, parsed.message, parsed.id);
        return;
      }
      const frame = parsed.frame;
      switch (frame.action) {
        case "subscribe":
          subscribe(client, frame);
          break;
        case "unsubscribe":
          unsubscribe(client, frame);
          break;
        case "list":
          list(client, frame.id);
          break;
        case "ping":
          delivery.send(client, JSON.stringify({ type: "pong", id: frame.id, time: Date.now() }));
          break;
      }
    },
    onClose(client) {
      for (const [key, options] of client.subs) {
        if (options.depth !== undefined && key.startsWith("book|")) {
          const [, exchange, symbol] = key.split("|");
          books.unsubscribe(client, exchange, symbol, options.depth);
        } else {
          index.remove(key, client);
        }
      }
      client.subs.clear();
    },
  };
}

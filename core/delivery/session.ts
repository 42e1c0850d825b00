/**
 * One client connection's protocol handling: validates each frame, applies
 * subscribe / unsubscribe / list / ping, and answers with acks or error frames.
 * An error never closes a well-behaved connection and never touches other clients.
 * @module
 */
import type { Client, Delivery } from "./policy.ts";
import type { Catalog } from "../market/catalog.ts";
import {
  streamId,
  type StreamKey,
  type Subscription,
  type Subscriptions,
} from "./subscriptions.ts";
import {
  type ErrorCode,
  parseClientFrame,
  resolveChannels,
  type SubscriptionFrame,
} from "../protocol/messages.ts";
import { DEFAULT_VIEW_DEPTH } from "../books/view.ts";
import {
  errorFrame,
  pongFrame,
  subscribedFrame,
  subscriptionsFrame,
  unsubscribedFrame,
} from "../protocol/frames.ts";

/** Limits applied to each connection. */
export interface SessionLimits {
  maxFrameBytes: number;
  maxSubscriptions: number;
  maxClientMessagesPerSecond: number;
}

/** What a session works with. */
export interface SessionDeps {
  subscriptions: Subscriptions;
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

const encoder = new TextEncoder();

/** A frame this many times over the size limit is abuse: the connection is closed (1009). */
const ABUSIVE_FRAME_FACTOR = 4;

/** Handles frames from clients. */
export interface Sessions {
  /** A frame arrived from `client`. */
  onMessage(client: Client, data: unknown): void;
  /** `client` is gone: drop all its subscriptions. */
  onClose(client: Client): void;
}

/** Creates the session handler. */
export function createSessions(deps: SessionDeps): Sessions {
  const { subscriptions, catalog, delivery, limits } = deps;

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
        // Until the exchange reports its instruments, a `BASE/QUOTE` name is taken as given.
        const u = catalog.unified(exchange, native) ??
          (name.includes("/") ? name.toUpperCase() : undefined);
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
    const streams: StreamKey[] = [];
    for (const { exchange, symbol } of targets) {
      for (const channel of channels) streams.push({ channel, exchange, symbol });
    }
    for (const symbol of unified) streams.push({ channel: "consolidated", exchange: "*", symbol });
    return {
      /** Channels as named in acks (data channels plus `consolidated`). */
      named: consolidated ? [...channels, "consolidated"] : channels,
      /** Every stream the frame names, consolidated ones last. */
      streams,
      exchanges: [...new Set(targets.map((t) => t.exchange))],
      book: channels.includes("book"),
    };
  };

  const subscribe = (client: Client, frame: SubscriptionFrame) => {
    const resolved = resolve(client, frame);
    if (!resolved) return;
    const raw = frame.raw ?? true;
    const depth = frame.depth ?? DEFAULT_VIEW_DEPTH;
    // One subscription per distinct stream (two names may resolve to the same symbol).
    const wanted = new Map<string, Subscription>();
    for (const stream of resolved.streams) {
      const id = streamId(stream.channel, stream.exchange, stream.symbol);
      if (stream.channel === "book") wanted.set(id, { stream, raw, depth });
      else wanted.set(id, { stream, raw: stream.channel === "consolidated" ? false : raw });
    }
    let added = 0;
    for (const sub of wanted.values()) if (!subscriptions.has(client, sub.stream)) added++;
    const held = subscriptions.count(client);
    const maxSubscriptions = client.access?.maxSubscriptions ?? limits.maxSubscriptions;
    if (held + added > maxSubscriptions) {
      fail(
        client,
        "too_many_subscriptions",
        `this would hold ${held + added} subscriptions; the limit is ${maxSubscriptions}`,
        frame.id,
      );
      return;
    }
    delivery.send(
      client,
      subscribedFrame({
        id: frame.id,
        symbols: frame.symbols,
        channels: resolved.named,
        exchanges: resolved.exchanges,
        raw,
        depth: resolved.book ? depth : undefined,
        subscriptions: held + added,
      }),
    );
    for (const exchange of resolved.exchanges) {
      const status = deps.statusFrame(exchange);
      if (status) delivery.send(client, status);
    }
    // Joined after the ack so book snapshots and current consolidated quotes follow it.
    for (const sub of wanted.values()) subscriptions.add(client, sub);
    for (const { stream } of wanted.values()) {
      if (stream.channel !== "consolidated") continue;
      const current = deps.consolidatedFrame(stream.symbol);
      if (current) {
        delivery.send(client, current, streamId(stream.channel, stream.exchange, stream.symbol));
      }
    }
  };

  const unsubscribe = (client: Client, frame: SubscriptionFrame) => {
    const resolved = resolve(client, frame);
    if (!resolved) return;
    let removed = 0;
    for (const stream of resolved.streams) if (subscriptions.remove(client, stream)) removed++;
    delivery.send(
      client,
      unsubscribedFrame({
        id: frame.id,
        symbols: frame.symbols,
        channels: resolved.named,
        exchanges: resolved.exchanges,
        removed,
        subscriptions: subscriptions.count(client),
      }),
    );
  };

  const list = (client: Client, id?: string | number) => {
    const subs = subscriptions.of(client).map(({ stream, raw, depth }) => ({
      ...stream,
      raw,
      depth,
    }));
    delivery.send(client, subscriptionsFrame(id, subs));
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
          delivery.send(client, pongFrame(frame.id, Date.now()));
          break;
      }
    },
    onClose: (client) => subscriptions.clear(client),
  };
}

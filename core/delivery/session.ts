/**
 * One client connection's protocol handling: validates each frame, applies
 * subscribe / unsubscribe / list / ping, and answers with acks or error frames.
 * An error never closes a well-behaved connection and never touches other clients.
 *
 * A subscribe with `since` recovers: after the `subscribed` and `status` frames, the items
 * of each trade, quote and kline stream with `pos > since` are read from the recent log and
 * sent merged in `pos` order (a `gap` frame first where the log no longer reaches back), and
 * the subscriptions are added in the same synchronous step, so live frames follow with no
 * gap and no duplicate; a `recovered` frame closes it. When the source must first fill the
 * recent log (an edge reading JetStream), that client's later frames wait until it is done.
 * @module
 */
import type { Client, Delivery } from "./policy.ts";
import type { Catalog } from "../market/catalog.ts";
import {
  type ClientStreamKey,
  streamId,
  type StreamKey,
  type Subscription,
  type Subscriptions,
} from "./subscriptions.ts";
import {
  type ErrorCode,
  type PaperFrame,
  parseClientFrame,
  resolveChannels,
  resolveMetrics,
  type SubscriptionFrame,
} from "../protocol/messages.ts";
import { DEFAULT_VIEW_DEPTH } from "../books/view.ts";
import {
  errorFrame,
  gapFrame,
  pongFrame,
  recoveredFrame,
  type RecoveredStream,
  recoveryGapFrame,
  streamEventFrame,
  subscribedFrame,
  subscriptionsFrame,
  unsubscribedFrame,
} from "../protocol/frames.ts";
import type { RecentEntry, RecentLog } from "../recovery/recent_log.ts";
import type { Metric } from "../analytics/engine.ts";

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
  /** Current `analytics` frame of a symbol with these figures, if any (sent on subscribe). */
  analyticsFrame?(exchange: string, symbol: string, metrics: readonly Metric[]): string | undefined;
  /** The paper-trading actions (`order`, `cancel`, …); without it they answer `paper_off`. */
  paper?: {
    onFrame(client: Client, frame: PaperFrame): void;
    onClose(client: Client): void;
  };
  /**
   * Current `options` frame of an option instrument, if any (sent on subscribe); without it the
   * `options` channel is refused (this endpoint computes no options figures).
   */
  optionsFrame?(exchange: string, symbol: string): string | undefined;
  /** Current `status` frame of a feed (sent on subscribe). */
  statusFrame(exchange: string): string | undefined;
  /** Disconnects a client with a close code. */
  disconnect(client: Client, code: number, reason: string): void;
  /** Counts an error frame. */
  countError(code: ErrorCode): void;
  now(): number;
  /** `since` recovery and the `epoch` of `subscribed` (the live gateway; a replay has none). */
  recovery?: SessionRecovery;
}

/** What a `since` subscribe reads. */
export interface SessionRecovery {
  /** The recent items of every stream. */
  recent: RecentLog;
  /** The epoch of the positions now. */
  epoch(): string;
  /** The last position handled (the hub's last sequence number). */
  lastPos(): number;
  /** Makes the recent log cover `since` for these streams before it is read (an edge). */
  prepare?(streams: StreamKey[], since: number): Promise<void>;
  /** Where a failed `prepare` (or a recovery that failed after it) is reported. */
  onError?(error: unknown, streams: StreamKey[], since: number): void;
}

/** Channels whose items have positions and are recovered from the recent log. */
const RECOVERABLE = new Set(["trade", "quote", "kline"]);
type RecoverableChannel = "trade" | "quote" | "kline";

/** Frames a client may send while its recovery waits for the source; more is abuse. */
const MAX_WAITING_FRAMES = 256;

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
    const { channels, consolidated, analytics, options, unknown } = resolveChannels(
      frame.channels,
    );
    if (unknown.length > 0) {
      fail(client, "unknown_channel", `unknown channel(s): ${unknown.join(", ")}`, frame.id);
      return undefined;
    }
    const metrics = resolveMetrics(frame.metrics);
    if (metrics.unknown.length > 0) {
      fail(
        client,
        "invalid_request",
        `metrics: unknown metric(s): ${metrics.unknown.join(", ")}; known: ${
          resolveMetrics(undefined).metrics.join(", ")
        }`,
        frame.id,
      );
      return undefined;
    }
    if (analytics && !deps.analyticsFrame) {
      fail(
        client,
        "unknown_channel",
        "analytics: this gateway computes no analytics (ANALYTICS_ENABLED=false)",
        frame.id,
      );
      return undefined;
    }
    if (options && !deps.optionsFrame) {
      fail(
        client,
        "unknown_channel",
        "options: this endpoint computes no options figures",
        frame.id,
      );
      return undefined;
    }
    if (frame.metrics !== undefined && !analytics) {
      fail(
        client,
        "invalid_request",
        'metrics: only the analytics channel takes "metrics"; add "analytics" to "channels"',
        frame.id,
      );
      return undefined;
    }
    /** Data channels as named in acks, `consolidated` and `analytics` included. */
    const named: string[] = [
      ...channels,
      ...(consolidated ? ["consolidated"] : []),
      ...(analytics ? ["analytics"] : []),
      ...(options ? ["options"] : []),
    ];
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
        if (channels.length > 0 || analytics || options) {
          targets.push({ exchange, symbol: native });
        }
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
    const streams: ClientStreamKey[] = [];
    for (const { exchange, symbol } of targets) {
      for (const channel of channels) streams.push({ channel, exchange, symbol });
      if (analytics) streams.push({ channel: "analytics", exchange, symbol });
      if (options) streams.push({ channel: "options", exchange, symbol });
    }
    for (const symbol of unified) streams.push({ channel: "consolidated", exchange: "*", symbol });
    return {
      /** Channels as named in acks (data channels plus `consolidated` and `analytics`). */
      named,
      /** The analytics figures wanted (in METRICS order). */
      metrics: metrics.metrics,
      /** Every stream the frame names, consolidated ones last. */
      streams,
      exchanges: [...new Set(targets.map((t) => t.exchange))],
      book: channels.includes("book"),
    };
  };

  /**
   * Applies a subscribe; returns a promise when the reply waits for the source to prepare
   * a recovery (the client's later frames wait for it).
   */
  const subscribe = (client: Client, frame: SubscriptionFrame): Promise<void> | undefined => {
    const recovery = deps.recovery;
    if (frame.since !== undefined && !recovery) {
      fail(
        client,
        "invalid_request",
        "since: this endpoint does not recover missed items",
        frame.id,
      );
      return;
    }
    const resolved = resolve(client, frame);
    if (!resolved) return;
    const raw = frame.raw ?? true;
    const depth = frame.depth ?? DEFAULT_VIEW_DEPTH;
    // One subscription per distinct stream (two names may resolve to the same symbol).
    const wanted = new Map<string, Subscription>();
    for (const stream of resolved.streams) {
      const id = streamId(stream.channel, stream.exchange, stream.symbol);
      if (stream.channel === "book") wanted.set(id, { stream, raw, depth });
      else if (stream.channel === "analytics") {
        wanted.set(id, { stream, raw: false, metrics: resolved.metrics });
      } else {
        const computed = stream.channel === "consolidated" || stream.channel === "options";
        wanted.set(id, { stream, raw: computed ? false : raw });
      }
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
        epoch: recovery?.epoch(),
      }),
    );
    for (const exchange of resolved.exchanges) {
      const status = deps.statusFrame(exchange);
      if (status) delivery.send(client, status);
    }
    const since = frame.since;
    if (since === undefined || !recovery) {
      join(client, wanted);
      return;
    }
    // Streams the client follows already are live for it: nothing to recover there.
    const recoverable = [...wanted].filter(([, sub]) =>
      RECOVERABLE.has(sub.stream.channel) && !subscriptions.has(client, sub.stream)
    );
    const sameEpoch = frame.epoch === undefined || frame.epoch === recovery.epoch();
    if (!recovery.prepare || !sameEpoch || recoverable.length === 0) {
      recover(client, frame, recovery, since, wanted, recoverable);
      return;
    }
    // Recoverable streams are trade, quote and kline streams: streams a source delivers.
    const streams = recoverable.map(([, sub]) => sub.stream as StreamKey);
    const report = (err: unknown) => recovery.onError?.(err, streams, since);
    // A failed prepare still answers: from what the log holds, with `complete` saying so.
    return recovery.prepare(streams, since).catch(report).then(() => {
      // Gone while the source prepared: nothing to send.
      if (!waiting.has(client) || client.closing) return;
      recover(client, frame, recovery, since, wanted, recoverable);
    }).catch(report);
  };

  /** Adds the subscriptions; book snapshots and current consolidated quotes follow the ack. */
  const join = (client: Client, wanted: Map<string, Subscription>) => {
    for (const sub of wanted.values()) subscriptions.add(client, sub);
    for (const { stream, metrics } of wanted.values()) {
      if (stream.channel === "analytics") {
        const current = deps.analyticsFrame?.(stream.exchange, stream.symbol, metrics ?? []);
        if (current) {
          delivery.send(client, current, streamId(stream.channel, stream.exchange, stream.symbol));
        }
        continue;
      }
      if (stream.channel === "options") {
        const current = deps.optionsFrame?.(stream.exchange, stream.symbol);
        if (current) {
          delivery.send(client, current, streamId(stream.channel, stream.exchange, stream.symbol));
        }
        continue;
      }
      if (stream.channel !== "consolidated") continue;
      const current = deps.consolidatedFrame(stream.symbol);
      if (current) {
        delivery.send(client, current, streamId(stream.channel, stream.exchange, stream.symbol));
      }
    }
  };

  /**
   * The synchronous step of a `since` subscribe: gap frames, the recent items merged in
   * `pos` order, the subscriptions added (nothing can come in between), then `recovered`.
   */
  const recover = (
    client: Client,
    frame: SubscriptionFrame,
    recovery: SessionRecovery,
    since: number,
    wanted: Map<string, Subscription>,
    recoverable: [string, Subscription][],
  ) => {
    const epoch = recovery.epoch();
    const sameEpoch = frame.epoch === undefined || frame.epoch === epoch;
    const streams: RecoveredStream[] = [];
    const merged: { entry: RecentEntry; sub: Subscription; id: string }[] = [];
    for (const [id, sub] of recoverable) {
      const { exchange, symbol } = sub.stream;
      const channel = sub.stream.channel as RecoverableChannel;
      if (!sameEpoch) {
        delivery.send(
          client,
          recoveryGapFrame({ exchange, symbol, channel, reason: "epoch_changed" }),
        );
        streams.push({ exchange, channel, symbol, frames: 0, complete: false });
        continue;
      }
      const { entries, complete } = recovery.recent.since(id, since);
      if (!complete) {
        const first = entries[0];
        const item = first?.item;
        delivery.send(
          client,
          recoveryGapFrame({
            exchange,
            symbol,
            channel,
            reason: "recovery_window",
            fromPos: since + 1,
            // Without a held item the log cannot tell where the loss ends: up to now.
            toPos: first?.prev ?? recovery.lastPos(),
            toId: item?.type === "trade" && typeof item.tradeId === "number"
              ? item.tradeId - 1
              : item?.type === "gap"
              ? item.fromId - 1
              : undefined,
          }),
        );
      }
      for (const entry of entries) merged.push({ entry, sub, id });
      streams.push({ exchange, channel, symbol, frames: entries.length, complete });
    }
    merged.sort((a, b) => a.entry.seq - b.entry.seq);
    for (const { entry, sub, id } of merged) {
      const { item } = entry;
      const at = { pos: entry.seq, prev: entry.prev };
      if (item.type === "gap") {
        delivery.send(client, gapFrame(item, at));
        continue;
      }
      const text = streamEventFrame(
        item,
        sub.raw,
        catalog.unified(item.exchange, item.symbol),
        at,
      );
      // Quotes and candles stay conflatable for a slow client, as live.
      const key = item.type === "quote"
        ? id
        : item.type === "kline"
        ? `${id}|${item.interval}`
        : undefined;
      delivery.send(client, text, key);
    }
    join(client, wanted);
    delivery.send(
      client,
      recoveredFrame({ id: frame.id, since, epoch, pos: recovery.lastPos(), streams }),
    );
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
    const subs = subscriptions.of(client).map(({ stream, raw, depth, metrics }) => ({
      ...stream,
      raw,
      depth,
      metrics,
    }));
    delivery.send(client, subscriptionsFrame(id, subs));
  };

  /** Clients whose recovery waits for the source, with the frames they sent meanwhile. */
  const waiting = new Map<Client, unknown[]>();

  /** Handles the frames that waited for `client`'s recovery, until one waits again. */
  const drain = (client: Client) => {
    const queue = waiting.get(client);
    if (!queue) return;
    waiting.delete(client);
    while (queue.length > 0) {
      handle(client, queue.shift());
      const again = waiting.get(client);
      if (again) {
        again.unshift(...queue);
        return;
      }
    }
  };

  /** Handles one frame from `client`. */
  const handle = (client: Client, data: unknown) => {
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
      case "subscribe": {
        const pending = subscribe(client, frame);
        if (pending) {
          waiting.set(client, []);
          pending.finally(() => drain(client));
        }
        break;
      }
      case "unsubscribe":
        unsubscribe(client, frame);
        break;
      case "list":
        list(client, frame.id);
        break;
      case "ping":
        delivery.send(client, pongFrame(frame.id, Date.now()));
        break;
      default:
        // The paper-trading actions go to the desk (core/server/paper.ts).
        if (deps.paper) deps.paper.onFrame(client, frame);
        else fail(client, "paper_off", "paper trading is off on this gateway", frame.id);
    }
  };

  return {
    onMessage(client, data) {
      if (client.closing) return;
      const queue = waiting.get(client);
      if (!queue) return handle(client, data);
      if (queue.length >= MAX_WAITING_FRAMES) {
        deps.countError("rate_limited");
        deps.disconnect(client, 1008, "rate_limited");
        return;
      }
      queue.push(data);
    },
    onClose(client) {
      waiting.delete(client);
      deps.paper?.onClose(client);
      subscriptions.clear(client);
    },
  };
}

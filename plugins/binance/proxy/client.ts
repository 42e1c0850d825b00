/**
 * One downstream client on a WebSocket admitted by the gateway: Binance's control
 * methods with Binance's replies (sent in request order; a SUBSCRIBE is answered
 * once the upstream subscription is confirmed, so data after the reply is complete,
 * as on Binance), the incoming-message limit and the plan's stream limits (channels
 * and subscriptions). Frames go out through the gateway's slow-consumer policy and
 * memory budget (`DownstreamConnection.send`), like every WebSocket client's.
 * @module
 */
import { type ControlCommand, errorReply, parseControl, resultReply } from "../control.ts";
import { channelOf, conflationKey, parseStreamName, type StreamInfo } from "./stream_names.ts";
import type { StreamHub, Subscriber } from "./stream_hub.ts";

/** Per-client limits. */
export interface ClientLimits {
  /** Streams held at once (the smaller of the proxy's and the plan's limit). */
  maxStreams: number;
  messagesPerSecond: number;
  subscribeTimeoutMs: number;
}

/** The admitted connection, as the client uses it (the gateway's `AdmittedConnection`). */
export interface DownstreamConnection {
  readonly socket: WebSocket;
  /** Sends through the gateway's slow-consumer policy; `key` marks a conflatable frame. */
  send(text: string, key?: string): void;
  /** True when the key's plan includes `channel`. */
  allows(channel: string): boolean;
  /** Closes the connection; the gateway then reports it gone. */
  close(code: number, reason: string): void;
}

/** What a client is wired to. */
export interface ClientDeps {
  connection: DownstreamConnection;
  /** Streams named in the URL (already checked against the plan). */
  streams: readonly string[];
  combined: boolean;
  hub: StreamHub;
  limits: ClientLimits;
  remote: string;
  /** Called once when the client is gone (closed, cut off or refused). */
  onGone(client: DownstreamClient): void;
}

/** A connected client. */
export interface DownstreamClient {
  readonly remote: string;
  /** Streams held, in subscription order. */
  streams(): string[];
  /** Closes with `code` and releases every stream. */
  close(code: number, reason: string): void;
  /** Announces the shutdown as Binance does (`serverShutdown`), then closes (1001). */
  shutdown(): void;
  /** The gateway reports the connection gone: releases every stream (idempotent). */
  gone(): void;
}

/** Attaches the protocol to an upgraded socket. */
export function attachClient(deps: ClientDeps): DownstreamClient {
  const { connection, hub, limits } = deps;
  const { socket } = connection;
  const held = new Set<string>();
  const incoming: number[] = [];
  let combined = deps.combined;
  let gone = false;
  let replies: Promise<void> = Promise.resolve();

  /** Sends a reply or data frame; `key` conflates it while the client is slow. */
  const send = (text: string, key?: string): void => {
    if (gone || socket.readyState !== WebSocket.OPEN) return;
    connection.send(text, key);
  };

  const subscriber: Subscriber = {
    get combined() {
      return combined;
    },
    deliver: (text: string, stream: StreamInfo) => send(text, conflationKey(stream)),
  };

  const release = (): void => {
    if (gone) return;
    gone = true;
    for (const stream of held) hub.unsubscribe(subscriber, stream);
    held.clear();
    deps.onGone(client);
  };

  const client: DownstreamClient = {
    remote: deps.remote,
    streams: () => [...held],
    close(code, reason) {
      release();
      connection.close(code, reason);
    },
    shutdown() {
      const frame = `{"e":"serverShutdown","E":${Date.now()}}`;
      send(combined ? `{"stream":"!serverShutdown","data":${frame}}` : frame);
      client.close(1001, "going away");
    },
    gone: () => release(),
  };

  /** Counts one incoming message; false (and disconnects) over the limit. */
  const countIncoming = (): boolean => {
    const now = Date.now();
    incoming.push(now);
    while (incoming.length > 0 && incoming[0] <= now - 1000) incoming.shift();
    if (incoming.length <= limits.messagesPerSecond) return true;
    client.close(1008, "Too many messages");
    return false;
  };

  const run = async (command: ControlCommand): Promise<string> => {
    switch (command.method) {
      case "SUBSCRIBE": {
        const fresh = command.streams.filter((s) => !held.has(s));
        const refused = fresh.find((s) => !connection.allows(channelOf(parseStreamName(s)!.kind)));
        if (refused !== undefined) {
          return errorReply(
            2,
            `Invalid request: the plan does not include the ${
              channelOf(parseStreamName(refused)!.kind)
            } channel (stream ${refused})`,
            command.id,
          );
        }
        if (held.size + fresh.length > limits.maxStreams) {
          return errorReply(
            2,
            `Invalid request: too many streams (maximum ${limits.maxStreams} per connection)`,
            command.id,
          );
        }
        for (const s of fresh) {
          held.add(s);
          hub.subscribe(subscriber, s);
        }
        await Promise.all(command.streams.map((s) => hub.whenActive(s, limits.subscribeTimeoutMs)));
        return resultReply(null, command.id);
      }
      case "UNSUBSCRIBE":
        for (const s of command.streams) {
          if (held.delete(s)) hub.unsubscribe(subscriber, s);
        }
        return resultReply(null, command.id);
      case "LIST_SUBSCRIPTIONS":
        return resultReply([...held], command.id);
      case "SET_PROPERTY":
        combined = command.combined;
        return resultReply(null, command.id);
      case "GET_PROPERTY":
        return resultReply(combined, command.id);
    }
  };

  socket.onopen = () => {
    for (const s of deps.streams) {
      if (held.has(s)) continue;
      held.add(s);
      hub.subscribe(subscriber, s);
    }
  };
  socket.onmessage = (e: MessageEvent) => {
    if (gone || !countIncoming()) return;
    const parsed = parseControl(
      typeof e.data === "string" ? e.data : "",
      (name) => parseStreamName(name) !== undefined,
    );
    const reply = parsed.ok ? run(parsed.command) : parsed.reply;
    replies = replies.then(() => reply).then(send, () => {});
  };
  socket.onerror = () => {};
  return client;
}

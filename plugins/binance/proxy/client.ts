/**
 * One downstream client on a WebSocket accepted by `Deno.upgradeWebSocket`:
 * Binance's control methods with Binance's replies (sent in request order; a
 * SUBSCRIBE is answered once the upstream subscription is confirmed, so data
 * after the reply is complete, as on Binance), the incoming-message limit, and
 * the slow-consumer cut-off: a client whose socket has more than
 * `maxBufferedBytes` queued gets nothing more and is disconnected, so one slow
 * reader never grows the proxy's memory.
 * @module
 */
import { type ControlCommand, errorReply, parseControl, resultReply } from "../control.ts";
import { parseStreamName } from "./stream_names.ts";
import type { StreamHub, Subscriber } from "./stream_hub.ts";

/** Per-client limits. */
export interface ClientLimits {
  maxStreams: number;
  messagesPerSecond: number;
  maxBufferedBytes: number;
  subscribeTimeoutMs: number;
}

/** What a client is wired to. */
export interface ClientDeps {
  socket: WebSocket;
  /** Streams named in the URL. */
  streams: readonly string[];
  combined: boolean;
  hub: StreamHub;
  limits: ClientLimits;
  remote: string;
  log: { warn(message: string, props?: Record<string, unknown>): void };
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
}

/** Attaches the protocol to an upgraded socket. */
export function attachClient(deps: ClientDeps): DownstreamClient {
  const { socket, hub, limits } = deps;
  const held = new Set<string>();
  const incoming: number[] = [];
  let combined = deps.combined;
  let gone = false;
  let replies: Promise<void> = Promise.resolve();

  const send = (text: string): void => {
    if (gone || socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > limits.maxBufferedBytes) {
      deps.log.warn("disconnecting slow Binance-proxy client {remote}: {bytes} bytes queued", {
        remote: deps.remote,
        bytes: socket.bufferedAmount,
      });
      client.close(1008, "slow consumer");
      return;
    }
    socket.send(text);
  };

  const subscriber: Subscriber = {
    get combined() {
      return combined;
    },
    deliver: send,
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
      try {
        socket.close(code, reason);
      } catch { /* already closing */ }
    },
    shutdown() {
      const frame = `{"e":"serverShutdown","E":${Date.now()}}`;
      send(combined ? `{"stream":"!serverShutdown","data":${frame}}` : frame);
      client.close(1001, "going away");
    },
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
  socket.onclose = () => release();
  socket.onerror = () => {};
  return client;
}

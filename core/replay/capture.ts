/**
 * A replay client without a socket: its delivery collects the frame texts a
 * replay pipeline (pipeline.ts) sends, in order, for a caller that writes them
 * elsewhere (`deno task replay` writes them as NDJSON). Never slow, never
 * conflated: every frame is kept until {@link Capture.take} is called.
 * @module
 */
import { type Client, createClient, type Delivery } from "../delivery/policy.ts";

/** A capturing client and its delivery. */
export interface Capture {
  /** The client to subscribe (its socket is never used). */
  readonly client: Client;
  /** Delivery that keeps every frame sent to {@link Capture.client}. */
  readonly delivery: Delivery;
  /** The frames sent since the last call, oldest first. */
  take(): string[];
  /** Number of frames {@link Capture.take} would return now. */
  size(): number;
}

/** Creates a capturing client (one frame per text, never batched). */
export function createCapture(): Capture {
  let frames: string[] = [];
  const client = createClient(0, {} as WebSocket, "capture");
  const delivery: Delivery = {
    send(_client, text) {
      frames.push(typeof text === "string" ? text : text());
    },
    drain() {},
    setHighWaterMark() {},
    highWaterMark: () => Number.POSITIVE_INFINITY,
    backlogged: () => 0,
    close() {},
    stats: { delivered: 0, conflated: 0, slowDisconnects: 0 },
  };
  return {
    client,
    delivery,
    take() {
      const taken = frames;
      frames = [];
      return taken;
    },
    size: () => frames.length,
  };
}

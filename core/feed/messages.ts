/**
 * Messages between the core (main thread) and a feed Worker.
 * Data travels over the Worker's own message port (reliable, ordered), in batches
 * numbered 1, 2, 3, ... so the hub can prove nothing was lost. The process-wide
 * BroadcastChannel {@link CONTROL_CHANNEL} carries only low-rate control.
 * @module
 */
import type { BookStatusUpdate, Channel, FeedStatusUpdate, MarketEvent } from "../events.ts";

/**
 * Prefix of the BroadcastChannel for control messages. BroadcastChannel is
 * process-wide, so each gateway uses its own channel, `<prefix>:<instance id>`:
 * one gateway's shutdown never reaches another's plugins in the same process.
 */
export const CONTROL_CHANNEL = "quant-saas:control";

/** Control messages broadcast on {@link CONTROL_CHANNEL}. */
export type ControlMessage =
  | { type: "shutdown" }
  | { type: "hello"; exchange: string };

/** Main → Worker: start the plugin. */
export interface StartMessage {
  type: "start";
  exchange: string;
  symbols: string[];
  channels: Channel[];
  config: unknown;
  /** Name of this gateway's control BroadcastChannel. */
  control: string;
}

/** Main → Worker messages. */
export type ToWorker =
  | StartMessage
  | { type: "stop" }
  | { type: "ack"; seq: number };

/**
 * One item of a batch: a market event or a side-band report (what
 * {@link createFeedContext}'s sink receives).
 *
 * @example
 * ```ts
 * import type { FeedItem } from "@quant-saas/gateway";
 *
 * const describe = (item: FeedItem): string =>
 *   item.type === "status" ? `status ${item.state}` : item.type;
 * ```
 */
export type FeedItem =
  | MarketEvent
  | ({ type: "status" } & FeedStatusUpdate)
  | ({ type: "book_status" } & BookStatusUpdate)
  | { type: "malformed"; reason: string; frame?: string }
  | {
    type: "log";
    level: "debug" | "info" | "warning" | "error";
    message: string;
    properties?: Record<string, unknown>;
  };

/** Worker → main: a batch of items, numbered consecutively from 1. */
export interface BatchMessage {
  type: "batch";
  seq: number;
  items: FeedItem[];
  /**
   * When the batch's first item was emitted in the Worker: epoch ms with sub-ms
   * precision (`performance.timeOrigin + performance.now()`, comparable across isolates).
   */
  at: number;
  /** Quotes/candle updates the Worker's outbox replaced while the hub was behind, since start. */
  conflated?: number;
}

/** Worker → main: the plugin's `run` failed or returned; the core restarts it. */
export interface ExitMessage {
  type: "exit";
  error?: string;
}

/** Worker → main messages. */
export type FromWorker = BatchMessage | ExitMessage;

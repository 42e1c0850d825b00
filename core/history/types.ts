/**
 * The shapes the history store records and returns.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";
import type { Channel, Level } from "../events.ts";

/**
 * A hole in the recording: items the hub handed over but the recorder dropped
 * (queue full, disk failing). Written as soon as recording resumes, at the place
 * of the first dropped item, so a replay shows it where it happened.
 */
export interface RecordingGap {
  type: "recording_gap";
  /** First and last hub sequence number that was not recorded. */
  fromSeq: number;
  toSeq: number;
  /** Items dropped. */
  dropped: number;
  /** Receive times of the first and last dropped item. */
  fromTime: number;
  toTime: number;
  reason: string;
}

/** Items the recorder keeps: everything the hub sees except logs and malformed frames. */
export type RecordableItem =
  | Exclude<FeedItem, { type: "log" } | { type: "malformed" }>
  | RecordingGap;

/** One recorded item with its place in the hub's stream. */
export interface RecordedItem {
  /** Global hub sequence number: strictly increasing across exchanges and symbols. */
  seq: number;
  /** Exchange id; `""` for the recorder's own markers. */
  exchange: string;
  /** Gateway receive time, epoch ms. */
  receiveTime: number;
  item: RecordableItem;
}

/** What {@link Recorder.record} takes. */
export interface RecordInput {
  exchange: string;
  item: FeedItem | RecordingGap;
  /** Receive time; defaults to the item's `receiveTime`, else now. */
  receiveTime?: number;
  /** Hub sequence number; must increase. Assigned by the recorder when omitted. */
  seq?: number;
}

/** The streams a block holds: one per data channel, plus `event` for everything else. */
export type StreamKind = "trade" | "quote" | "kline" | "book" | "event";

/** A book as stored in a snapshot record. */
export interface StoredBook {
  bids: Level[];
  asks: Level[];
  updateId?: number;
}

/** Filter of {@link HistoryReader.events}. Times are epoch ms, both ends inclusive. */
export interface EventFilter {
  from: number;
  to: number;
  exchanges?: readonly string[];
  symbols?: readonly string[];
  channels?: readonly Channel[];
  /** Include status, book status, instruments and recording gaps (default true). */
  markers?: boolean;
  /** Decode each event's `raw` exchange payload (default true; false is much faster). */
  raw?: boolean;
}

/** The stream kind of an item. */
export function kindOf(item: RecordableItem): StreamKind {
  switch (item.type) {
    case "trade":
    case "quote":
    case "kline":
    case "book":
      return item.type;
    default:
      return "event";
  }
}

/** The symbol an item belongs to; `""` for exchange-wide items. */
export function symbolOf(item: RecordableItem): string {
  return "symbol" in item && typeof item.symbol === "string" ? item.symbol : "";
}

/** The UTC day (`YYYY-MM-DD`) of an epoch-ms time. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms of 00:00 UTC of a `YYYY-MM-DD` day. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

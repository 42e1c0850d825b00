/**
 * Taps on the hub: observers of every item the hub handles, in hub order, each numbered
 * once with the gateway's hub sequence number. The recorder and live-spliced replays are
 * taps; the number an item gets here is the one it is recorded under, so a replay that has
 * delivered items up to `seq` continues live from `seq + 1` with no gap and no duplicate.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";

/** One item as the hub handled it. */
export interface HubItem {
  /** Hub sequence number: consecutive across all exchanges. */
  seq: number;
  exchange: string;
  item: FeedItem;
  /** The item's `receiveTime`, or when the hub handled it for items without one. */
  receiveTime: number;
}

/** An observer of hub items; it must not throw and must not block. */
export type HubTap = (entry: HubItem) => void;

/** The taps of one gateway. */
export interface HubTaps {
  /**
   * Numbers one item and hands it to every tap; returns its sequence number. With `seq`
   * (an edge: the number the ingest gave the item) the item keeps it and numbering goes on
   * from there.
   */
  publish(exchange: string, item: FeedItem, seq?: number): number;
  /** Adds a tap; returns its removal. */
  add(tap: HubTap): () => void;
  /** Sequence number of the last item published (the start number before any). */
  lastSeq(): number;
}

/**
 * Creates the taps, numbering items from `startSeq + 1` (a recording folder's last
 * sequence number, so numbers keep increasing across restarts).
 */
export function createHubTaps(
  startSeq = 0,
  onTapError: (error: unknown) => void = () => {},
): HubTaps {
  let seq = startSeq;
  const taps = new Set<HubTap>();
  return {
    publish(exchange, item, given) {
      seq = given ?? seq + 1;
      if (taps.size === 0) return seq;
      const receiveTime = "receiveTime" in item && typeof item.receiveTime === "number"
        ? item.receiveTime
        : Date.now();
      const entry: HubItem = { seq, exchange, item, receiveTime };
      for (const tap of taps) {
        try {
          tap(entry);
        } catch (err) {
          onTapError(err);
        }
      }
      return seq;
    },
    add(tap) {
      taps.add(tap);
      return () => void taps.delete(tap);
    },
    lastSeq: () => seq,
  };
}

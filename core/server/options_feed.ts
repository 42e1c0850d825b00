/**
 * The `options` channel and the options board fed from the hub: every quote of an option
 * instrument (with the venue's ticker) goes to the board, and the instrument's `options` frame
 * (our IV and greeks beside the venue's) to its subscribers, at most one per `intervalMs` of
 * event time per instrument, conflatable for slow clients.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";
import type { Delivery } from "../delivery/policy.ts";
import { streamId, type Subscriptions } from "../delivery/subscriptions.ts";
import type { OptionsBoard } from "../options/board.ts";
import { optionsFrame } from "../protocol/frames.ts";

/** Default least event time between two `options` frames of one instrument, ms. */
export const DEFAULT_OPTIONS_INTERVAL_MS = 250;

/** The feed. */
export interface OptionsFeed {
  /** After the hub handled `item`. */
  afterItem(exchange: string, item: FeedItem): void;
  /** The current `options` frame of an instrument (sent on subscribe). */
  frame(exchange: string, symbol: string): string | undefined;
}

/**
 * Creates the options feed.
 * @example
 * ```ts ignore
 * const feed = createOptionsFeed({ board, subscriptions, delivery, now: Date.now });
 * ```
 */
export function createOptionsFeed(deps: {
  board: OptionsBoard;
  subscriptions: Pick<Subscriptions, "audience">;
  delivery: Delivery;
  /** Valuation clock (time to expiry): the wall clock. */
  now: () => number;
  intervalMs?: number;
}): OptionsFeed {
  const interval = deps.intervalMs ?? DEFAULT_OPTIONS_INTERVAL_MS;
  /** Event time of the last frame sent, per stream id. */
  const lastSent = new Map<string, number>();
  const frame = (exchange: string, symbol: string) => {
    const row = deps.board.row(symbol, deps.now(), exchange);
    return row && row.time !== null ? optionsFrame(row) : undefined;
  };
  return {
    afterItem(exchange, item) {
      if (item.type !== "quote" || item.option === undefined) return;
      deps.board.onQuote(exchange, item);
      const key = streamId("options", exchange, item.symbol);
      const audience = deps.subscriptions.audience(key);
      if (!audience) return;
      const last = lastSent.get(key);
      if (last !== undefined && item.eventTime < last + interval) return;
      const text = frame(exchange, item.symbol);
      if (!text) return;
      lastSent.set(key, item.eventTime);
      for (const client of audience.plain) deps.delivery.send(client, text, key);
      for (const client of audience.raw) deps.delivery.send(client, text, key);
    },
    frame,
  };
}

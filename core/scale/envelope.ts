/**
 * The one wire encoding of the market-data log on NATS: a JSON envelope per
 * message, the same on core subjects and in the JetStream stream.
 *
 * ```json
 * {"v":1,"epoch":"k3J9…","seq":48213,"prev":48190,"exchange":"binance","item":{"type":"trade",…}}
 * ```
 *
 * - `seq`: the hub sequence number the leading ingest node gave the item; consecutive over
 *   everything the ingest group publishes, continued across a leader change. It is the
 *   `pos` clients see in frames. Rolled-up messages take no position of their own: a
 *   `booksnap` carries the `seq` of the last book message it includes; `status` and
 *   `instruments` carry the last `seq` given out when they were published (0 before any),
 *   so the same `seq` can also be a data message's.
 * - `prev`: the `seq` of the previous message on the same subject in this epoch (0 for the
 *   first), below `seq`. A reader that holds `prev` has missed nothing on that subject.
 *   Always 0 on `status` and `instruments` (last-value subjects: only the newest counts).
 * - `epoch`: the lineage of `seq`; it changes only when the log's history is lost.
 * - `item`: the normalized feed item (`FeedItem`), or on `status` subjects a
 *   `{"type":"feed_info","info":FeedInfo}`; on `booksnap` subjects a book snapshot.
 * @module
 */
import type { FeedItem } from "../feed/messages.ts";
import type { FeedInfo } from "../ingest/supervisor.ts";

/** The feed state as published on `md.<exchange>.status._`. */
export interface FeedInfoItem {
  type: "feed_info";
  info: FeedInfo;
}

/** One message of the market-data log. */
export interface MdEnvelope {
  v: 1;
  epoch: string;
  seq: number;
  prev: number;
  exchange: string;
  item: FeedItem | FeedInfoItem;
}

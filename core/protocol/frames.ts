/**
 * Every frame the gateway sends on `/ws`, built in one place: the server side of
 * the client protocol reads top to bottom here. Each builder returns the JSON
 * text; fields are written in a fixed order and `undefined` fields are left out.
 * Data frames are built once per wire form (with or without `raw`) and shared by
 * every client that gets that form ({@link ../delivery/wire.ts}); no builder
 * here is called per client on the fan-out path.
 *
 * Frames: `subscribed`, `unsubscribed`, `subscriptions`, `pong`, `error`,
 * `status` (feed and book), `trade`, `quote`, `kline`, `book`, `gap`,
 * `consolidated`, `analytics`, `recovered`, and on `/replay` the replay `status` frames (`replay_start`,
 * `replay_end`, `live`, `recording_gap`). A client that connects with `?batch=1`
 * gets the same frames wrapped in JSON arrays.
 * @module
 */
import type { OptionRow } from "../options/chain.ts";
import type { PaperError, PaperFill, PaperOrder } from "../paper/types.ts";
import type { AccountSnapshot } from "../paper/account.ts";
import type { RouteReport } from "../paper/route_exec.ts";
import type { GapEvent, KlineEvent, Level, QuoteEvent, TradeEvent } from "../events.ts";
import type { ConsolidatedQuote } from "../books/consolidated.ts";
import type { ClientChannel, ErrorCode } from "./messages.ts";
import type { AnalyticsValue } from "../analytics/engine.ts";

/** Id a client attached to a request, echoed in the reply. */
export type RequestId = string | number | undefined;

// ---------------------------------------------------------------------------
// Replies to client requests
// ---------------------------------------------------------------------------

/** Fields of a {@link subscribedFrame}. */
export interface SubscribedFields {
  id: RequestId;
  /** The symbols as the client named them. */
  symbols: readonly string[];
  /** Channels subscribed, `consolidated` last. */
  channels: readonly string[];
  /** Exchanges that stream at least one of the symbols. */
  exchanges: readonly string[];
  raw: boolean;
  /** Book depth, when the book channel was named. */
  depth?: number;
  /** Subscriptions the connection holds now. */
  subscriptions: number;
  /** The deployment's lineage of positions (`pos`); a client sends it back with `since`. */
  epoch?: string;
}

/**
 * `subscribed`: the reply to a `subscribe` request.
 * @example
 * ```json
 * {"type":"subscribed","id":1,"symbols":["BTC/USDT"],"channels":["trade","book"],
 *  "exchanges":["binance","kraken"],"raw":false,"depth":10,"subscriptions":4,
 *  "epoch":"k3x9q2"}
 * ```
 */
export function subscribedFrame(f: SubscribedFields): string {
  return JSON.stringify({
    type: "subscribed",
    id: f.id,
    symbols: f.symbols,
    channels: f.channels,
    exchanges: f.exchanges,
    raw: f.raw,
    depth: f.depth,
    subscriptions: f.subscriptions,
    epoch: f.epoch,
  });
}

/** Fields of an {@link unsubscribedFrame}. */
export interface UnsubscribedFields {
  id: RequestId;
  symbols: readonly string[];
  channels: readonly string[];
  exchanges: readonly string[];
  /** Subscriptions actually removed. */
  removed: number;
  /** Subscriptions the connection still holds. */
  subscriptions: number;
}

/**
 * `unsubscribed`: the reply to an `unsubscribe` request.
 * @example
 * ```json
 * {"type":"unsubscribed","id":2,"symbols":["BTCUSDT"],"channels":["trade"],
 *  "exchanges":["binance"],"removed":1,"subscriptions":0}
 * ```
 */
export function unsubscribedFrame(f: UnsubscribedFields): string {
  return JSON.stringify({
    type: "unsubscribed",
    id: f.id,
    symbols: f.symbols,
    channels: f.channels,
    exchanges: f.exchanges,
    removed: f.removed,
    subscriptions: f.subscriptions,
  });
}

/** One subscription as a {@link subscriptionsFrame} lists it (consolidated: exchange `*`). */
export interface SubscriptionInfo {
  exchange: string;
  symbol: string;
  channel: ClientChannel;
  raw: boolean;
  /** Book channel only. */
  depth?: number;
  /** Analytics channel only: the figures wanted. */
  metrics?: readonly string[];
}

/**
 * `subscriptions`: the reply to `list`, oldest subscription first.
 * @example
 * ```json
 * {"type":"subscriptions","id":7,"subscriptions":[
 *  {"exchange":"binance","symbol":"BTCUSDT","channel":"book","raw":false,"depth":10}]}
 * ```
 */
export function subscriptionsFrame(
  id: RequestId,
  subscriptions: readonly SubscriptionInfo[],
): string {
  return JSON.stringify({
    type: "subscriptions",
    id,
    subscriptions: subscriptions.map((s) => ({
      exchange: s.exchange,
      symbol: s.symbol,
      channel: s.channel,
      raw: s.raw,
      depth: s.depth,
      metrics: s.metrics,
    })),
  });
}

/**
 * `pong`: the reply to `ping`, with the gateway's clock (ms since the epoch).
 * @example
 * ```json
 * {"type":"pong","id":3,"time":1796638110494}
 * ```
 */
export function pongFrame(id: RequestId, time: number): string {
  return JSON.stringify({ type: "pong", id, time });
}

/**
 * `error`: a request was refused or a subscription dropped; `code` is one of
 * `ERROR_CODES` (protocol/messages.ts), `id` echoes the request's when there was one.
 * The connection stays open unless the code says otherwise (`slow_consumer`).
 * @example
 * ```json
 * {"type":"error","code":"unknown_symbol","message":"not streamed by binance: FOO","id":1}
 * ```
 */
export function errorFrame(code: ErrorCode, message: string, id?: string | number): string {
  return JSON.stringify({ type: "error", code, message, id });
}

// ---------------------------------------------------------------------------
// Feed and book state
// ---------------------------------------------------------------------------

/** Fields of a feed {@link feedStatusFrame}. */
export interface FeedStatusFields {
  exchange: string;
  /** connecting, connected, reconnecting, stale, stopped or failed. */
  state: string;
  /** True when the feed talks to a local emulator, not the real exchange. */
  emulator: boolean;
  reason?: string;
  reconnects: number;
  /** When the state last changed, ms since the epoch. */
  since: number;
}

/**
 * `status` of a feed: sent on subscribe and to every subscriber of the exchange
 * when its state changes; `epoch` is the lineage of the positions (`pos`) the
 * gateway numbers items with.
 * @example
 * ```json
 * {"type":"status","exchange":"binance","state":"connected","emulator":true,
 *  "reason":"subscribed","reconnects":0,"timestamp":"2026-12-07T10:08:30.494Z",
 *  "epoch":"k3x9q2"}
 * ```
 */
export function feedStatusFrame(f: FeedStatusFields, epoch?: string): string {
  return JSON.stringify({
    type: "status",
    exchange: f.exchange,
    state: f.state,
    emulator: f.emulator,
    reason: f.reason,
    reconnects: f.reconnects,
    timestamp: new Date(f.since).toISOString(),
    epoch,
  });
}

/**
 * `status` of one order book (`channel: "book"`): `synced` after a snapshot or a
 * verified resume, `resyncing` when the book is being rebuilt (deltas stop until
 * the next snapshot). Sent to the book's subscribers.
 * @example
 * ```json
 * {"type":"status","exchange":"kraken","symbol":"BTC/USDT","channel":"book",
 *  "state":"resyncing","reason":"checksum mismatch","timestamp":"2026-12-07T10:08:30.494Z"}
 * ```
 */
export function bookStatusFrame(
  exchange: string,
  symbol: string,
  state: "synced" | "resyncing",
  time: number,
  reason?: string,
): string {
  return JSON.stringify({
    type: "status",
    exchange,
    symbol,
    channel: "book",
    state,
    reason,
    timestamp: new Date(time).toISOString(),
  });
}

// ---------------------------------------------------------------------------
// Replay (`/replay`)
// ---------------------------------------------------------------------------

/** Fields of a {@link replayStatusFrame}. */
export interface ReplayStatusFields {
  /** `replay_start` once the replay begins reading, `replay_end` after the last item up to `to`. */
  state: "replay_start" | "replay_end";
  /** Start of the replayed window, epoch ms (receive time). */
  from: number;
  /** End of the window, epoch ms; absent for a replay that continues live. */
  to?: number;
  /** Pacing factor over the recorded receive times, or `"max"`. */
  speed: number | "max";
  /** `replay_end` only: hub sequence number of the last recorded item read (0 when none). */
  seq?: number;
}

/**
 * `status` of a replay: `replay_start` when the recording starts streaming (after the
 * first subscriptions), `replay_end` once everything up to `to` was sent.
 * @example
 * ```json
 * {"type":"status","state":"replay_start","replay":true,"from":1796638100000,
 *  "to":1796638110000,"speed":10}
 * {"type":"status","state":"replay_end","replay":true,"from":1796638100000,
 *  "to":1796638110000,"speed":10,"seq":48213}
 * ```
 */
export function replayStatusFrame(f: ReplayStatusFields): string {
  return JSON.stringify({
    type: "status",
    state: f.state,
    replay: true,
    from: f.from,
    to: f.to,
    speed: f.speed,
    seq: f.seq,
  });
}

/**
 * `status` `live`: a replay without `to` has sent every recorded item up to hub
 * sequence number `seq`; every frame after this one comes from the live stream
 * (items `seq + 1` onwards, none skipped, none repeated) and is no longer paced.
 * @example
 * ```json
 * {"type":"status","state":"live","replay":false,"seq":48213}
 * ```
 */
export function liveStatusFrame(seq: number): string {
  return JSON.stringify({ type: "status", state: "live", replay: false, seq });
}

/** Fields of a {@link recordingGapFrame} (the recorder's `recording_gap` marker). */
export interface RecordingGapFields {
  fromSeq: number;
  toSeq: number;
  dropped: number;
  fromTime: number;
  toTime: number;
  reason: string;
}

/**
 * `status` `recording_gap` (replay only): the recorder dropped hub items
 * `fromSeq..toSeq` here (queue full, disk failing), so the replay has a hole; books
 * are resynchronizing until their next snapshot.
 * @example
 * ```json
 * {"type":"status","state":"recording_gap","replay":true,"fromSeq":1200,"toSeq":1350,
 *  "dropped":151,"fromTime":1796638100000,"toTime":1796638100900,"reason":"queue full"}
 * ```
 */
export function recordingGapFrame(f: RecordingGapFields): string {
  return JSON.stringify({
    type: "status",
    state: "recording_gap",
    replay: true,
    fromSeq: f.fromSeq,
    toSeq: f.toSeq,
    dropped: f.dropped,
    fromTime: f.fromTime,
    toTime: f.toTime,
    reason: f.reason,
  });
}

/**
 * Marks a `status` frame replayed from a recording: the same object with
 * `"replay":true` added last. Any other frame is returned unchanged.
 * @example
 * ```json
 * {"type":"status","exchange":"binance","state":"connected","emulator":true,
 *  "reconnects":0,"timestamp":"2026-12-07T10:08:30.494Z","replay":true}
 * ```
 */
export function replayedFrame(text: string): string {
  if (!text.startsWith('{"type":"status"') || text.includes('"replay":')) return text;
  return `${text.slice(0, -1)},"replay":true}`;
}

// ---------------------------------------------------------------------------
// Market data
// ---------------------------------------------------------------------------

/** Data events that are fanned out frame by frame. */
export type StreamEvent = TradeEvent | QuoteEvent | KlineEvent;

/**
 * Position of a data or gap frame: `pos` is the item's hub sequence number, `prev` the `pos`
 * of the previous item of the same stream (0 if none in this epoch).
 */
export interface Position {
  pos: number;
  prev: number;
}

/**
 * `trade`, `quote` or `kline`: one normalized event. `unified` is the
 * `BASE/QUOTE` name when known; `pos`/`prev` the item's position in its stream
 * ({@link Position}); `raw` (the exchange's own frame) only in the `withRaw` form.
 * @example
 * ```json
 * {"type":"trade","symbol":"BTCUSDT","price":64000.5,"quantity":0.01,
 *  "timestamp":"2026-12-07T10:08:30.494Z","exchange":"binance","unified":"BTC/USDT",
 *  "tradeId":13541,"side":"buy","eventTime":1796638110494,"receiveTime":1796638110495,
 *  "pos":48213,"prev":48207}
 * {"type":"quote","symbol":"BTC-USDT","bidPrice":64000,"bidQuantity":2,"askPrice":64000.1,
 *  "askQuantity":3,"timestamp":"…","exchange":"coinbase","unified":"BTC/USDT",
 *  "eventTime":…,"receiveTime":…,"pos":48214,"prev":48190}
 * {"type":"kline","symbol":"BTCUSDT","interval":"1m","openTime":…,"closeTime":…,"open":…,
 *  "high":…,"low":…,"close":…,"volume":…,"quoteVolume":…,"trades":…,"closed":false,
 *  "timestamp":"…","exchange":"binance","unified":"BTC/USDT","eventTime":…,"receiveTime":…,
 *  "pos":48215,"prev":48101}
 * ```
 */
export function streamEventFrame(
  event: StreamEvent,
  withRaw: boolean,
  unified?: string,
  at?: Position,
): string {
  return JSON.stringify(streamEventFields(event, withRaw, unified, at));
}

/** The object {@link streamEventFrame} serializes, fields in wire order. */
function streamEventFields(
  event: StreamEvent,
  withRaw: boolean,
  unified?: string,
  at?: Position,
): object {
  switch (event.type) {
    case "trade":
      return {
        type: "trade",
        symbol: event.symbol,
        price: event.price,
        quantity: event.quantity,
        timestamp: event.timestamp,
        exchange: event.exchange,
        unified,
        tradeId: event.tradeId,
        side: event.side,
        eventTime: event.eventTime,
        receiveTime: event.receiveTime,
        pos: at?.pos,
        prev: at?.prev,
        raw: withRaw ? event.raw : undefined,
      };
    case "quote":
      return {
        type: "quote",
        symbol: event.symbol,
        bidPrice: event.bidPrice,
        bidQuantity: event.bidQuantity,
        askPrice: event.askPrice,
        askQuantity: event.askQuantity,
        timestamp: event.timestamp,
        exchange: event.exchange,
        unified,
        updateId: event.updateId,
        option: event.option,
        eventTime: event.eventTime,
        receiveTime: event.receiveTime,
        pos: at?.pos,
        prev: at?.prev,
        raw: withRaw ? event.raw : undefined,
      };
    case "kline":
      return {
        type: "kline",
        symbol: event.symbol,
        interval: event.interval,
        openTime: event.openTime,
        closeTime: event.closeTime,
        open: event.open,
        high: event.high,
        low: event.low,
        close: event.close,
        volume: event.volume,
        quoteVolume: event.quoteVolume,
        trades: event.trades,
        closed: event.closed,
        timestamp: event.timestamp,
        exchange: event.exchange,
        unified,
        eventTime: event.eventTime,
        receiveTime: event.receiveTime,
        pos: at?.pos,
        prev: at?.prev,
        raw: withRaw ? event.raw : undefined,
      };
  }
}

/** Fields of a {@link bookFrame}. */
export interface BookFrameFields {
  exchange: string;
  symbol: string;
  unified?: string;
  /** True: the full top `depth` levels; false: changed levels only (quantity 0 = removed). */
  snapshot: boolean;
  depth: number;
  /** Per view: +1 per frame, so a client sees a lost delta. */
  seq: number;
  bids: readonly Level[];
  asks: readonly Level[];
  updateId?: number;
  timestamp: string;
  eventTime: number;
  receiveTime: number;
  /** The exchange's own update (deltas, `raw` form only). */
  raw?: unknown;
}

/**
 * `book`: a top-N snapshot or delta of one order book at the client's depth.
 * @example
 * ```json
 * {"type":"book","exchange":"binance","symbol":"BTCUSDT","unified":"BTC/USDT",
 *  "snapshot":false,"depth":10,"seq":42,"bids":[[64000,0.5]],"asks":[[64000.1,0]],
 *  "updateId":981,"timestamp":"2026-12-07T10:08:30.494Z","eventTime":1796638110494,
 *  "receiveTime":1796638110495}
 * ```
 */
export function bookFrame(f: BookFrameFields): string {
  return JSON.stringify({
    type: "book",
    exchange: f.exchange,
    symbol: f.symbol,
    unified: f.unified,
    snapshot: f.snapshot,
    depth: f.depth,
    seq: f.seq,
    bids: f.bids,
    asks: f.asks,
    updateId: f.updateId,
    timestamp: f.timestamp,
    eventTime: f.eventTime,
    receiveTime: f.receiveTime,
    raw: f.raw,
  });
}

/**
 * `gap`: trades a feed missed and could not backfill, sent to the symbol's trade
 * subscribers (the plugin's gap event as emitted), with its position in the trade
 * stream ({@link Position}) appended.
 * @example
 * ```json
 * {"type":"gap","exchange":"binance","symbol":"BTCUSDT","channel":"trade","fromId":101,
 *  "toId":140,"reason":"reconnect","receiveTime":1796638110495,"pos":48216,"prev":48213}
 * ```
 */
export function gapFrame(event: GapEvent, at?: Position): string {
  const text = JSON.stringify(event);
  return at ? `${text.slice(0, -1)},"pos":${at.pos},"prev":${at.prev}}` : text;
}

// ---------------------------------------------------------------------------
// Recovery (`since` on subscribe)
// ---------------------------------------------------------------------------

/** Fields of a {@link recoveryGapFrame}. */
export type RecoveryGapFields =
  & { exchange: string; symbol: string; channel: "trade" | "quote" | "kline" }
  & (
    | {
      /** The recent log no longer reaches back to the client's `since`. */
      reason: "recovery_window";
      /** First position the client missed: `since + 1`. */
      fromPos: number;
      /** Last position of the stream not delivered: `prev` of the first item that follows. */
      toPos: number;
      /** Trade streams with numeric ids: the last trade id not delivered (first delivered id - 1). */
      toId?: number;
    }
    | {
      /** The client's `epoch` is not the gateway's: its `since` means nothing here. */
      reason: "epoch_changed";
    }
  );

/**
 * `gap` on a `since` subscribe: part of a stream the client asked for cannot be
 * recovered. `recovery_window`: positions `fromPos..toPos` of the stream (trades up to
 * `toId`) are older than the recent log holds; the held items follow. `epoch_changed`:
 * the client's positions are from another epoch; live items follow.
 * @example
 * ```json
 * {"type":"gap","exchange":"binance","symbol":"BTCUSDT","channel":"trade",
 *  "reason":"recovery_window","fromPos":48214,"toPos":50110,"toId":13880}
 * {"type":"gap","exchange":"binance","symbol":"BTCUSDT","channel":"quote",
 *  "reason":"epoch_changed"}
 * ```
 */
export function recoveryGapFrame(f: RecoveryGapFields): string {
  return JSON.stringify(
    f.reason === "recovery_window"
      ? {
        type: "gap",
        exchange: f.exchange,
        symbol: f.symbol,
        channel: f.channel,
        reason: f.reason,
        fromPos: f.fromPos,
        toPos: f.toPos,
        toId: f.toId,
      }
      : {
        type: "gap",
        exchange: f.exchange,
        symbol: f.symbol,
        channel: f.channel,
        reason: f.reason,
      },
  );
}

/** How one stream was recovered ({@link recoveredFrame}). */
export interface RecoveredStream {
  exchange: string;
  channel: "trade" | "quote" | "kline";
  symbol: string;
  /** Data and gap frames of the recent log sent for this stream. */
  frames: number;
  /** True when nothing the client missed on this stream is lost. */
  complete: boolean;
}

/** Fields of a {@link recoveredFrame}. */
export interface RecoveredFields {
  id: RequestId;
  /** The client's `since`. */
  since: number;
  /** The gateway's epoch (the one the frames' positions belong to). */
  epoch: string;
  /** The last position handled when recovery ended; live frames continue after it. */
  pos: number;
  streams: readonly RecoveredStream[];
}

/**
 * `recovered`: the end of a `since` subscribe's recovery; every frame after it is live.
 * @example
 * ```json
 * {"type":"recovered","id":1,"since":48213,"epoch":"k3x9q2","pos":50207,
 *  "streams":[{"exchange":"binance","channel":"trade","symbol":"BTCUSDT","frames":212,
 *  "complete":true}]}
 * ```
 */
export function recoveredFrame(f: RecoveredFields): string {
  return JSON.stringify({
    type: "recovered",
    id: f.id,
    since: f.since,
    epoch: f.epoch,
    pos: f.pos,
    streams: f.streams.map((s) => ({
      exchange: s.exchange,
      channel: s.channel,
      symbol: s.symbol,
      frames: s.frames,
      complete: s.complete,
    })),
  });
}

/**
 * `consolidated`: the best bid and ask of a unified symbol across exchanges, sent
 * when either side changes (and the current one on subscribe).
 * @example
 * ```json
 * {"type":"consolidated","symbol":"BTC/USDT","bidPrice":64000,"bidQuantity":2,
 *  "bidExchange":"kraken","askPrice":64000.1,"askQuantity":1,"askExchange":"binance",
 *  "crossed":false,"venues":[{"exchange":"binance","symbol":"BTCUSDT","bidPrice":63999.9,
 *  "bidQuantity":1,"askPrice":64000.1,"askQuantity":1,"source":"book"}],
 *  "timestamp":"2026-12-07T10:08:30.494Z"}
 * ```
 */
export function consolidatedFrame(quote: ConsolidatedQuote): string {
  return JSON.stringify(quote);
}

/** Fields of an {@link analyticsFrame}: where, and the figures a client asked for. */
export interface AnalyticsFrameFields extends AnalyticsValue {
  exchange: string;
  /** The exchange's own symbol. */
  symbol: string;
  /** The unified name (`BTC/USDT`), when known. */
  unified?: string;
}

/**
 * `analytics`: the order-flow figures of one exchange + symbol at `time` (the event time, ms,
 * of the last trade or book update they include), with only the metrics the client asked
 * for, in the order ofi, vpin, microprice, book, flow, volatility. Sent at most once per
 * `ANALYTICS_INTERVAL_MS` of event time per symbol (and the current one on subscribe).
 * @example
 * ```json
 * {"type":"analytics","exchange":"binance","symbol":"BTCUSDT","unified":"BTC/USDT",
 *  "time":1765101600123,"microprice":{"mid":64000.05,"weightedMid":64000.07,
 *  "time":1765101600120},"vpin":null}
 * ```
 */
export function analyticsFrame(f: AnalyticsFrameFields): string {
  return JSON.stringify({
    type: "analytics",
    exchange: f.exchange,
    symbol: f.symbol,
    unified: f.unified,
    time: f.time,
    ofi: f.ofi,
    vpin: f.vpin,
    microprice: f.microprice,
    book: f.book,
    flow: f.flow,
    volatility: f.volatility,
  });
}

// ---------------------------------------------------------------------------
// Batched delivery
// ---------------------------------------------------------------------------

/**
 * A batch for a client connected with `?batch=1`: the frames of one short window,
 * in order, as one JSON array (each element is one of the frames above).
 * @example
 * ```json
 * [{"type":"trade",…,"tradeId":41},{"type":"trade",…,"tradeId":42}]
 * ```
 */
export function batchFrame(frames: readonly string[]): string {
  return frames.length === 1 ? `[${frames[0]}]` : `[${frames.join(",")}]`;
}

// ---------------------------------------------------------------------------
// Paper trading (core/paper/): every frame says `simulated: true`
// ---------------------------------------------------------------------------

/** A simulated order's new state: `{"type":"order","simulated":true,"order":{...}}`. */
export function paperOrderFrame(
  order: PaperOrder,
  error?: PaperError,
  id?: string | number,
): string {
  return JSON.stringify({ type: "order", simulated: true, id, order, error });
}

/** A simulated execution: `{"type":"fill","simulated":true,"fill":{...}}`. */
export function paperFillFrame(fill: PaperFill): string {
  return JSON.stringify({ type: "fill", simulated: true, fill });
}

/** A simulated account's balances, positions and PnL: `{"type":"account","simulated":true,"account":{...}}`. */
export function paperAccountFrame(account: AccountSnapshot, id?: string | number): string {
  return JSON.stringify({ type: "account", simulated: true, id, account });
}

/** A routed parent order: its plan, then (status `done`) its children's fills. */
export function paperRouteFrame(route: RouteReport, id?: string | number): string {
  return JSON.stringify({ type: "route", simulated: true, id, route });
}

/**
 * A refused paper action: an error frame with the paper code (invalid_order, filter_failure,
 * would_take, …) and, where one applies, the exchange's own error for the same mistake.
 */
export function paperErrorFrame(error: PaperError, id?: string | number): string {
  return JSON.stringify({
    type: "error",
    code: error.code,
    message: error.message,
    exchangeError: error.exchangeError,
    simulated: true,
    id,
  });
}

/** A paper action done (cancel sent, amend sent, account reset…): `{"type":"ack",...}`. */
export function paperAckFrame(action: string, result: object, id?: string | number): string {
  return JSON.stringify({ type: "ack", action, simulated: true, id, ...result });
}

// ---------------------------------------------------------------------------
// Options (core/options/): our figures beside the venue's
// ---------------------------------------------------------------------------

/**
 * The `options` frame of one option instrument: its terms, best bid/ask, the venue's marks and
 * greeks, our implied volatilities and greeks, and the difference of the mark IVs.
 */
export function optionsFrame(row: OptionRow): string {
  // `type` names the frame: the option's call/put goes as `optionType`.
  const { instrument, type: optionType, ...rest } = row;
  return JSON.stringify({ type: "options", symbol: instrument, optionType, ...rest });
}

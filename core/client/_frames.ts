/**
 * The frames of the client protocol as types, for the typed client (client.ts): every frame the
 * gateway sends on `/ws` and `/replay` (built in core/protocol/frames.ts, described in
 * docs/protocol.md) as one discriminated union on `type`, the subscribe request, and the parse
 * of one WebSocket message (a frame, or with `?batch=1` an array of frames).
 *
 * Self-contained on purpose: no import, so the client runs in Deno, Node and browsers.
 * @module
 */

/** Id a request carries and its reply echoes. */
export type RequestId = string | number;

/** Taker side of a trade, side of an order. */
export type Side = "buy" | "sell";

/** One price level: `[price, quantity]` (quantity 0 in a delta: the level is removed). */
export type Level = [price: number, quantity: number];

/** A subscribe (or unsubscribe) request, as `subscribe()` takes it (docs/protocol.md "Requests"). */
export interface SubscribeRequest {
  /** Exchange-native (`BTCUSDT`) or unified (`BTC/USDT`) names. */
  symbols: string[];
  /** `trade` (default), `quote`, `kline`, `book`, `consolidated`, `analytics`. */
  channels?: string[];
  /** Default: every exchange that lists the symbol. */
  exchanges?: string[];
  /** Include the exchange's own frame (default true). */
  raw?: boolean;
  /** Book levels (default 20, max 1000). */
  depth?: number;
  /** Analytics channel only: `ofi`, `vpin`, `microprice`, `book`, `flow`, `volatility`. */
  metrics?: string[];
  /** Request id; the client makes one when absent. */
  id?: RequestId;
}

/** `pos`/`prev` of trade, quote, kline and feed gap frames (docs/protocol.md "Positions and recovery"). */
export interface Positioned {
  /** The item's position in the gateway's epoch. */
  pos?: number;
  /** Position of the previous item of the same stream (0: none). */
  prev?: number;
}

/** Fields every market-data frame carries. */
export interface DataFields extends Positioned {
  exchange: string;
  /** Exchange-native symbol. */
  symbol: string;
  /** `BASE/QUOTE` name, when known. */
  unified?: string;
  /** ISO 8601. */
  timestamp: string;
  /** Exchange event time, ms. */
  eventTime: number;
  /** Gateway receive time, ms. */
  receiveTime: number;
  /** The exchange's own frame (unless subscribed with `raw: false`). */
  raw?: unknown;
}

/** `trade`: one trade. */
export interface TradeFrame extends DataFields {
  type: "trade";
  price: number;
  quantity: number;
  tradeId: number | string;
  side: Side;
}

/** `quote`: best bid and ask. */
export interface QuoteFrame extends DataFields {
  type: "quote";
  bidPrice: number;
  bidQuantity: number;
  askPrice: number;
  askQuantity: number;
  updateId?: number;
}

/** `kline`: one candle. */
export interface KlineFrame extends DataFields {
  type: "kline";
  interval: string;
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  closed: boolean;
}

/** `book`: a snapshot of the top `depth` levels, or a delta; `seq` +1 per frame of the view. */
export interface BookFrame {
  type: "book";
  exchange: string;
  symbol: string;
  unified?: string;
  snapshot: boolean;
  depth: number;
  seq: number;
  bids: Level[];
  asks: Level[];
  updateId?: number;
  timestamp: string;
  eventTime: number;
  receiveTime: number;
  raw?: unknown;
}

/** `gap` from a feed: trades missed and not backfilled. */
export interface FeedGapFrame extends Positioned {
  type: "gap";
  exchange: string;
  symbol: string;
  channel: "trade";
  fromId?: number | string;
  toId?: number | string;
  reason: string;
  receiveTime?: number;
}

/** `gap` of a recovery: positions `fromPos..toPos` are older than the recent log holds. */
export interface RecoveryWindowGapFrame {
  type: "gap";
  exchange: string;
  symbol: string;
  channel: "trade" | "quote" | "kline";
  reason: "recovery_window";
  fromPos: number;
  toPos: number;
  toId?: number;
}

/** `gap` of a recovery: the client's epoch is not the gateway's; the stream continues live. */
export interface EpochChangedGapFrame {
  type: "gap";
  exchange: string;
  symbol: string;
  channel: "trade" | "quote" | "kline";
  reason: "epoch_changed";
}

/** Every `gap` frame. */
export type GapFrame = FeedGapFrame | RecoveryWindowGapFrame | EpochChangedGapFrame;

/** One venue's top of book in a `consolidated` frame. */
export interface VenueTop {
  exchange: string;
  symbol: string;
  bidPrice?: number;
  bidQuantity?: number;
  askPrice?: number;
  askQuantity?: number;
  source: "book" | "quote";
}

/** `consolidated`: best bid and ask of a unified symbol across exchanges. */
export interface ConsolidatedFrame {
  type: "consolidated";
  symbol: string;
  bidPrice?: number;
  bidQuantity?: number;
  bidExchange?: string;
  askPrice?: number;
  askQuantity?: number;
  askExchange?: string;
  crossed: boolean;
  venues: VenueTop[];
  timestamp: string;
}

/** `analytics`: order-flow figures of one exchange + symbol (docs/analytics.md); only those asked for. */
export interface AnalyticsFrame {
  type: "analytics";
  exchange: string;
  symbol: string;
  unified?: string;
  /** Event time (ms) of the last trade or book update included. */
  time: number;
  ofi?: { reset: boolean; levels: number; lastTime?: number; windows: Record<string, unknown>[] };
  vpin?: Record<string, unknown> | null;
  microprice?: { mid: number | null; weightedMid: number | null; time: number } | null;
  book?: Record<string, unknown> | null;
  flow?: Record<string, unknown>;
  volatility?: Record<string, unknown>;
}

/** Feed `status`: connecting, connected, reconnecting, stale, failed, stopped. */
export interface FeedStatusFrame {
  type: "status";
  exchange: string;
  state: "connecting" | "connected" | "reconnecting" | "stale" | "failed" | "stopped";
  emulator: boolean;
  reason?: string;
  reconnects: number;
  timestamp: string;
  epoch?: string;
  /** True when taken from a recording (`/replay`). */
  replay?: boolean;
}

/** Book `status`: `resyncing` (a fresh snapshot follows) or `synced`. */
export interface BookStatusFrame {
  type: "status";
  exchange: string;
  symbol: string;
  channel: "book";
  state: "synced" | "resyncing";
  reason?: string;
  timestamp: string;
  replay?: boolean;
}

/** Replay `status`: `replay_start`, `replay_end`. */
export interface ReplayStatusFrame {
  type: "status";
  state: "replay_start" | "replay_end";
  replay: true;
  from: number;
  to?: number;
  speed: number | "max";
  seq?: number;
}

/** Replay `status` `live`: the frames after it are the live stream from `seq + 1`. */
export interface LiveStatusFrame {
  type: "status";
  state: "live";
  replay: false;
  seq: number;
}

/** Replay `status` `recording_gap`: the recorder dropped hub items `fromSeq..toSeq`. */
export interface RecordingGapStatusFrame {
  type: "status";
  state: "recording_gap";
  replay: true;
  fromSeq: number;
  toSeq: number;
  dropped: number;
  fromTime: number;
  toTime: number;
  reason: string;
}

/** Every `status` frame. */
export type StatusFrame =
  | FeedStatusFrame
  | BookStatusFrame
  | ReplayStatusFrame
  | LiveStatusFrame
  | RecordingGapStatusFrame;

/** `subscribed`: the reply to a subscribe. */
export interface SubscribedFrame {
  type: "subscribed";
  id?: RequestId;
  symbols: string[];
  channels: string[];
  exchanges: string[];
  raw: boolean;
  depth?: number;
  subscriptions: number;
  /** The lineage of the positions; sent back with `since` to recover. */
  epoch?: string;
}

/** `unsubscribed`: the reply to an unsubscribe. */
export interface UnsubscribedFrame {
  type: "unsubscribed";
  id?: RequestId;
  symbols: string[];
  channels: string[];
  exchanges: string[];
  removed: number;
  subscriptions: number;
}

/** `subscriptions`: the reply to `list`. */
export interface SubscriptionsFrame {
  type: "subscriptions";
  id?: RequestId;
  subscriptions: {
    exchange: string;
    symbol: string;
    channel: string;
    raw: boolean;
    depth?: number;
    metrics?: string[];
  }[];
}

/** `pong`: the reply to `ping`, with the gateway's clock (ms). */
export interface PongFrame {
  type: "pong";
  id?: RequestId;
  time: number;
}

/** `recovered`: the end of a `since` subscribe's recovery. */
export interface RecoveredFrame {
  type: "recovered";
  id?: RequestId;
  since: number;
  epoch: string;
  pos: number;
  streams: {
    exchange: string;
    channel: "trade" | "quote" | "kline";
    symbol: string;
    frames: number;
    complete: boolean;
  }[];
}

/** `error`: a refused request (the connection stays open unless the code says otherwise). */
export interface ErrorFrame {
  type: "error";
  /** A stable code: docs/protocol.md "Errors", paper codes in docs/paper-trading.md. */
  code: string;
  message: string;
  id?: RequestId;
  /** Paper `filter_failure`: the exchange's own error for the same mistake. */
  exchangeError?: { code?: number | string; msg: string };
  simulated?: true;
}

/** A simulated order (docs/paper-trading.md). */
export interface PaperOrder {
  id: string;
  clientOrderId?: string;
  exchange: string;
  symbol: string;
  side: Side;
  type: "market" | "limit";
  timeInForce: "GTC" | "IOC" | "FOK" | "POST_ONLY";
  price?: number;
  quantity: number;
  filledQuantity: number;
  averagePrice?: number;
  status: "pending" | "new" | "partially_filled" | "filled" | "cancelled" | "rejected";
  queueAhead?: number;
  sentTime: number;
  arrivalTime?: number;
  updateTime: number;
  reason?: string;
  simulated: true;
}

/** A simulated execution. */
export interface PaperFill {
  id: string;
  orderId: string;
  clientOrderId?: string;
  exchange: string;
  symbol: string;
  side: Side;
  price: number;
  quantity: number;
  liquidity: "maker" | "taker";
  fee: number;
  feeAsset: string;
  time: number;
  slippageBps?: number;
  simulated: true;
}

/** `order`: a simulated order's new state. */
export interface OrderFrame {
  type: "order";
  simulated: true;
  id?: RequestId;
  order: PaperOrder;
  error?: {
    code: string;
    message: string;
    exchangeError?: { code?: number | string; msg: string };
  };
}

/** `fill`: a simulated execution. */
export interface FillFrame {
  type: "fill";
  simulated: true;
  fill: PaperFill;
}

/** `account`: a simulated account's balances, positions and PnL. */
export interface AccountFrame {
  type: "account";
  simulated: true;
  id?: RequestId;
  account: {
    balances: Record<string, { free: number; locked: number; total: number }>;
    positions: {
      exchange: string;
      symbol: string;
      base: string;
      quote: string;
      quantity: number;
      averagePrice: number;
      realizedPnl: number;
      fees: number;
      mark?: number;
      unrealizedPnl?: number;
    }[];
    realizedPnl: number;
    unrealizedPnl: number;
    feesPaid: number;
    equity?: number;
  };
}

/** `route`: a routed parent order, its plan, then (status `done`) its children's fills. */
export interface RouteFrame {
  type: "route";
  simulated: true;
  id?: RequestId;
  route: {
    id: string;
    symbol: string;
    side: Side;
    quantity: number;
    status: "planned" | "done";
    plan: Record<string, unknown>;
    children: {
      exchange: string;
      symbol: string;
      orderId: string;
      status: PaperOrder["status"];
      filledQuantity: number;
      averagePrice?: number;
      fees: number;
    }[];
    filledQuantity: number;
    averagePrice: number | null;
    allInAveragePrice: number | null;
    achievedSaving: number | null;
    simulated: true;
  };
}

/** `ack`: a paper action done (cancel, amend, orders, fills, paper_reset …) with its result fields. */
export interface AckFrame {
  type: "ack";
  action: string;
  simulated: true;
  id?: RequestId;
  [field: string]: unknown;
}

/** Every frame the gateway sends, discriminated by `type`. */
export type ServerFrame =
  | TradeFrame
  | QuoteFrame
  | KlineFrame
  | BookFrame
  | GapFrame
  | ConsolidatedFrame
  | AnalyticsFrame
  | StatusFrame
  | SubscribedFrame
  | UnsubscribedFrame
  | SubscriptionsFrame
  | PongFrame
  | RecoveredFrame
  | ErrorFrame
  | OrderFrame
  | FillFrame
  | AccountFrame
  | RouteFrame
  | AckFrame;

/** Every `type` a frame can have. */
export type FrameType = ServerFrame["type"];

/**
 * The frames in one WebSocket message: one frame, or with `?batch=1` a JSON array of them.
 * Anything that is not a JSON object (or an array of objects) with a string `type` is dropped.
 * @example
 * ```ts
 * parseMessage('[{"type":"pong","time":1},{"type":"pong","time":2}]').length; // 2
 * ```
 */
export function parseMessage(data: unknown): ServerFrame[] {
  if (typeof data !== "string") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return [];
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.filter(isFrame);
}

function isFrame(value: unknown): value is ServerFrame {
  return typeof value === "object" && value !== null &&
    typeof (value as { type?: unknown }).type === "string";
}

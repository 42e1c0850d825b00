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
  /** Exchange id, e.g. `binance`. */
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
  /** Discriminant. */
  type: "trade";
  /** Price. */
  price: number;
  /** Base quantity. */
  quantity: number;
  /** Exchange trade id. */
  tradeId: number | string;
  /** Buy or sell (taker side for trades). */
  side: Side;
}

/** `quote`: best bid and ask. */
export interface QuoteFrame extends DataFields {
  /** Discriminant. */
  type: "quote";
  /** Best bid price. */
  bidPrice: number;
  /** Quantity at the best bid. */
  bidQuantity: number;
  /** Best ask price. */
  askPrice: number;
  /** Quantity at the best ask. */
  askQuantity: number;
  /** The exchange's order-book update id. */
  updateId?: number;
  /** Derivatives ticker fields (mark price, IVs in percent, greeks), as in `QuoteOptionFields`. */
  option?: {
    markPrice?: number;
    markIv?: number;
    bidIv?: number;
    askIv?: number;
    underlyingPrice?: number;
    underlyingIndex?: string;
    indexPrice?: number;
    interestRate?: number;
    greeks?: { delta: number; gamma: number; vega: number; theta: number; rho: number };
    openInterest?: number;
  };
}

/** `kline`: one candle. */
export interface KlineFrame extends DataFields {
  /** Discriminant. */
  type: "kline";
  /** Candle interval, e.g. `1m`. */
  interval: string;
  /** Start of the candle, ms. */
  openTime: number;
  /** Last millisecond of the candle. */
  closeTime: number;
  /** First trade price. */
  open: number;
  /** Highest trade price. */
  high: number;
  /** Lowest trade price. */
  low: number;
  /** Last trade price. */
  close: number;
  /** Base volume. */
  volume: number;
  /** Quote volume. */
  quoteVolume: number;
  /** Number of trades. */
  trades: number;
  /** True once the candle is final. */
  closed: boolean;
}

/** `book`: a snapshot of the top `depth` levels, or a delta; `seq` +1 per frame of the view. */
export interface BookFrame {
  /** Discriminant. */
  type: "book";
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** `BASE/QUOTE` name, when known. */
  unified?: string;
  /** True: the full top `depth` levels; false: changed levels. */
  snapshot: boolean;
  /** Book levels. */
  depth: number;
  /** +1 per frame of this view (exchange, symbol, depth): a jump means a lost frame. */
  seq: number;
  /** Bid levels, best first. */
  bids: Level[];
  /** Ask levels, best first. */
  asks: Level[];
  /** The exchange's order-book update id. */
  updateId?: number;
  /** ISO 8601 time. */
  timestamp: string;
  /** Exchange event time, ms. */
  eventTime: number;
  /** Gateway receive time, ms. */
  receiveTime: number;
  /** The exchange's own frame (unless `raw: false`). */
  raw?: unknown;
}

/** `gap` from a feed: trades missed and not backfilled. */
export interface FeedGapFrame extends Positioned {
  /** Discriminant. */
  type: "gap";
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** The channel. */
  channel: "trade";
  /** First trade id lost. */
  fromId?: number | string;
  /** Last trade id lost. */
  toId?: number | string;
  /** Why, in words. */
  reason: string;
  /** Gateway receive time, ms. */
  receiveTime?: number;
}

/** `gap` of a recovery: positions `fromPos..toPos` are older than the recent log holds. */
export interface RecoveryWindowGapFrame {
  /** Discriminant. */
  type: "gap";
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** The channel. */
  channel: "trade" | "quote" | "kline";
  /** Why, in words. */
  reason: "recovery_window";
  /** First position lost (`since + 1`). */
  fromPos: number;
  /** Last position lost. */
  toPos: number;
  /** Last trade id lost. */
  toId?: number;
}

/** `gap` of a recovery: the client's epoch is not the gateway's; the stream continues live. */
export interface EpochChangedGapFrame {
  /** Discriminant. */
  type: "gap";
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** The channel. */
  channel: "trade" | "quote" | "kline";
  /** Why, in words. */
  reason: "epoch_changed";
}

/** Every `gap` frame. */
export type GapFrame = FeedGapFrame | RecoveryWindowGapFrame | EpochChangedGapFrame;

/** One venue's top of book in a `consolidated` frame. */
export interface VenueTop {
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** Best bid price. */
  bidPrice?: number;
  /** Quantity at the best bid. */
  bidQuantity?: number;
  /** Best ask price. */
  askPrice?: number;
  /** Quantity at the best ask. */
  askQuantity?: number;
  /** Where the top of book comes from. */
  source: "book" | "quote";
}

/** `consolidated`: best bid and ask of a unified symbol across exchanges. */
export interface ConsolidatedFrame {
  /** Discriminant. */
  type: "consolidated";
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** Best bid price. */
  bidPrice?: number;
  /** Quantity at the best bid. */
  bidQuantity?: number;
  /** Exchange of the best bid. */
  bidExchange?: string;
  /** Best ask price. */
  askPrice?: number;
  /** Quantity at the best ask. */
  askQuantity?: number;
  /** Exchange of the best ask. */
  askExchange?: string;
  /** True when the best bid is at or above the best ask. */
  crossed: boolean;
  /** Each venue's top of book. */
  venues: VenueTop[];
  /** ISO 8601 time. */
  timestamp: string;
}

/** `analytics`: order-flow figures of one exchange + symbol (docs/analytics.md); only those asked for. */
export interface AnalyticsFrame {
  /** Discriminant. */
  type: "analytics";
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** `BASE/QUOTE` name, when known. */
  unified?: string;
  /** Event time (ms) of the last trade or book update included. */
  time: number;
  /** Order-flow imbalance per window. */
  ofi?: { reset: boolean; levels: number; lastTime?: number; windows: Record<string, unknown>[] };
  /** VPIN and its rank (`null` until a bucket volume is set). */
  vpin?: Record<string, unknown> | null;
  /** Mid and weighted mid of the last book (`null` before one). */
  microprice?: { mid: number | null; weightedMid: number | null; time: number } | null;
  /** Spread, imbalance and depth of the last book. */
  book?: Record<string, unknown> | null;
  /** Trade flow: volumes, VWAP. */
  flow?: Record<string, unknown>;
  /** Realized volatility of the mid. */
  volatility?: Record<string, unknown>;
}

/** Feed `status`: connecting, connected, reconnecting, stale, failed, stopped. */
export interface FeedStatusFrame {
  /** Discriminant. */
  type: "status";
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** The state. */
  state: "connecting" | "connected" | "reconnecting" | "stale" | "failed" | "stopped";
  /** True when the feed talks to a local emulator. */
  emulator: boolean;
  /** Why, in words. */
  reason?: string;
  /** Reconnects of the feed so far. */
  reconnects: number;
  /** ISO 8601 time. */
  timestamp: string;
  /** The lineage of the positions (`pos`). */
  epoch?: string;
  /** True when taken from a recording (`/replay`). */
  replay?: boolean;
}

/** Book `status`: `resyncing` (a fresh snapshot follows) or `synced`. */
export interface BookStatusFrame {
  /** Discriminant. */
  type: "status";
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** The channel. */
  channel: "book";
  /** The state. */
  state: "synced" | "resyncing";
  /** Why, in words. */
  reason?: string;
  /** ISO 8601 time. */
  timestamp: string;
  /** True when taken from a recording (`/replay`). */
  replay?: boolean;
}

/** Replay `status`: `replay_start`, `replay_end`. */
export interface ReplayStatusFrame {
  /** Discriminant. */
  type: "status";
  /** The state. */
  state: "replay_start" | "replay_end";
  /** True when taken from a recording (`/replay`). */
  replay: true;
  /** Start of the window, ms. */
  from: number;
  /** End of the window, ms (absent: continues live). */
  to?: number;
  /** Pacing factor, or `max`. */
  speed: number | "max";
  /** `replay_end`: hub sequence number of the last recorded item read. */
  seq?: number;
}

/** Replay `status` `live`: the frames after it are the live stream from `seq + 1`. */
export interface LiveStatusFrame {
  /** Discriminant. */
  type: "status";
  /** The state. */
  state: "live";
  /** True when taken from a recording (`/replay`). */
  replay: false;
  /** Every recorded item up to this hub sequence number was sent. */
  seq: number;
}

/** Replay `status` `recording_gap`: the recorder dropped hub items `fromSeq..toSeq`. */
export interface RecordingGapStatusFrame {
  /** Discriminant. */
  type: "status";
  /** The state. */
  state: "recording_gap";
  /** True when taken from a recording (`/replay`). */
  replay: true;
  /** First hub sequence number dropped. */
  fromSeq: number;
  /** Last hub sequence number dropped. */
  toSeq: number;
  /** Items dropped. */
  dropped: number;
  /** Receive time of the first item dropped, ms. */
  fromTime: number;
  /** Receive time of the last item dropped, ms. */
  toTime: number;
  /** Why, in words. */
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
  /** Discriminant. */
  type: "subscribed";
  /** The request's id, echoed. */
  id?: RequestId;
  /** The symbols as the client named them. */
  symbols: string[];
  /** Channels concerned. */
  channels: string[];
  /** Exchanges concerned. */
  exchanges: string[];
  /** The exchange's own frame (unless `raw: false`). */
  raw: boolean;
  /** Book levels. */
  depth?: number;
  /** Subscriptions the connection holds. */
  subscriptions: number;
  /** The lineage of the positions; sent back with `since` to recover. */
  epoch?: string;
}

/** `unsubscribed`: the reply to an unsubscribe. */
export interface UnsubscribedFrame {
  /** Discriminant. */
  type: "unsubscribed";
  /** The request's id, echoed. */
  id?: RequestId;
  /** The symbols as the client named them. */
  symbols: string[];
  /** Channels concerned. */
  channels: string[];
  /** Exchanges concerned. */
  exchanges: string[];
  /** Subscriptions removed. */
  removed: number;
  /** Subscriptions the connection holds. */
  subscriptions: number;
}

/** `subscriptions`: the reply to `list`. */
export interface SubscriptionsFrame {
  /** Discriminant. */
  type: "subscriptions";
  /** The request's id, echoed. */
  id?: RequestId;
  /** Subscriptions the connection holds. */
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
  /** Discriminant. */
  type: "pong";
  /** The request's id, echoed. */
  id?: RequestId;
  /** The gateway's clock, ms since the epoch. */
  time: number;
}

/** `recovered`: the end of a `since` subscribe's recovery. */
export interface RecoveredFrame {
  /** Discriminant. */
  type: "recovered";
  /** The request's id, echoed. */
  id?: RequestId;
  /** The client's `since`. */
  since: number;
  /** The lineage of the positions (`pos`). */
  epoch: string;
  /** The last position handled when recovery ended. */
  pos: number;
  /** How each stream was recovered. */
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
  /** Discriminant. */
  type: "error";
  /** A stable code: docs/protocol.md "Errors", paper codes in docs/paper-trading.md. */
  code: string;
  /** What went wrong, in words. */
  message: string;
  /** The request's id, echoed. */
  id?: RequestId;
  /** Paper `filter_failure`: the exchange's own error for the same mistake. */
  exchangeError?: { code?: number | string; msg: string };
  /** Always true: simulated, never sent to an exchange. */
  simulated?: true;
}

/** A simulated order (docs/paper-trading.md). */
export interface PaperOrder {
  /** Venue-assigned id, unique per account (`P-1`, …). */
  id: string;
  /** The client's own order id. */
  clientOrderId?: string;
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** Buy or sell (taker side for trades). */
  side: Side;
  /** Market or limit. */
  type: "market" | "limit";
  /** GTC, IOC, FOK or POST_ONLY. */
  timeInForce: "GTC" | "IOC" | "FOK" | "POST_ONLY";
  /** Price. */
  price?: number;
  /** Base quantity. */
  quantity: number;
  /** Quantity filled. */
  filledQuantity: number;
  /** Average fill price. */
  averagePrice?: number;
  /** Life-cycle state. */
  status: "pending" | "new" | "partially_filled" | "filled" | "cancelled" | "rejected";
  /** Quantity estimated ahead of the order at its price. */
  queueAhead?: number;
  /** Venue time the order was sent, ms. */
  sentTime: number;
  /** Venue time the order arrived, ms. */
  arrivalTime?: number;
  /** Venue time of the last change, ms. */
  updateTime: number;
  /** Why, in words. */
  reason?: string;
  /** Always true: simulated, never sent to an exchange. */
  simulated: true;
}

/** A simulated execution. */
export interface PaperFill {
  /** Venue-assigned fill id, unique per account. */
  id: string;
  /** The order's id. */
  orderId: string;
  /** The client's own order id. */
  clientOrderId?: string;
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** Exchange-native symbol (unified `BASE/QUOTE` on consolidated frames). */
  symbol: string;
  /** Buy or sell (taker side for trades). */
  side: Side;
  /** Price. */
  price: number;
  /** Base quantity. */
  quantity: number;
  /** Maker or taker. */
  liquidity: "maker" | "taker";
  /** Fee charged (negative: rebate). */
  fee: number;
  /** Asset the fee is charged in. */
  feeAsset: string;
  /** Venue time (exchange event time, ms) of the fill. */
  time: number;
  /** Taker fill: distance from the best opposite price on arrival, bps. */
  slippageBps?: number;
  /** Always true: simulated, never sent to an exchange. */
  simulated: true;
}

/** `order`: a simulated order's new state. */
export interface OrderFrame {
  /** Discriminant. */
  type: "order";
  /** Always true: simulated, never sent to an exchange. */
  simulated: true;
  /** The request's id, echoed. */
  id?: RequestId;
  /** The order's new state. */
  order: PaperOrder;
  /** Why the order was rejected, when it was. */
  error?: {
    code: string;
    message: string;
    exchangeError?: { code?: number | string; msg: string };
  };
}

/** `fill`: a simulated execution. */
export interface FillFrame {
  /** Discriminant. */
  type: "fill";
  /** Always true: simulated, never sent to an exchange. */
  simulated: true;
  /** The execution. */
  fill: PaperFill;
}

/** `account`: a simulated account's balances, positions and PnL. */
export interface AccountFrame {
  /** Discriminant. */
  type: "account";
  /** Always true: simulated, never sent to an exchange. */
  simulated: true;
  /** The request's id, echoed. */
  id?: RequestId;
  /** Balances, positions and PnL. */
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
  /** Discriminant. */
  type: "route";
  /** Always true: simulated, never sent to an exchange. */
  simulated: true;
  /** The request's id, echoed. */
  id?: RequestId;
  /** The routed parent order. */
  route: {
    id: string;
    symbol: string;
    side: Side;
    quantity: number;
    /** `sweep` (default) or `passive` (a resting order first, the rest swept after `waitMs`). */
    strategy: "sweep" | "passive";
    /** `planned` → (`passive` while the resting order waits) → `done`. */
    status: "planned" | "passive" | "done";
    /** The sweep planned at the start for the whole quantity (legs, totals, best single venue, saving). */
    plan: Record<string, unknown>;
    /** The sweep of what the passive phase left, when there was one. */
    sweepPlan?: Record<string, unknown>;
    children: {
      /** `passive` (the resting order) or `sweep`. */
      phase: "passive" | "sweep";
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
  /** Discriminant. */
  type: "ack";
  /** The paper action done. */
  action: string;
  /** Always true: simulated, never sent to an exchange. */
  simulated: true;
  /** The request's id, echoed. */
  id?: RequestId;
  /** The action's result fields. */
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

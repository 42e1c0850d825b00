/**
 * Prometheus metrics (prom-client) owned by one gateway instance.
 * Hot-path counts are plain fields bumped in place; prom-client reads them at scrape time.
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The gateway's metrics. */
export interface Metrics {
  readonly registry: Registry;
  /** Events received from feeds, by exchange and type. */
  messagesIn: Counter<"exchange" | "type">;
  /** Frames sent to clients (one per client delivery). */
  messagesOut: Counter<never>;
  /** Client frames received. */
  clientFrames: Counter<never>;
  /** Error frames sent to clients, by code. */
  clientErrors: Counter<"code">;
  /** Feed reconnects, by exchange. */
  reconnects: Counter<"exchange">;
  /** Plugin Worker restarts, by exchange. */
  pluginRestarts: Counter<"exchange">;
  /** Malformed exchange frames dropped, by exchange. */
  malformed: Counter<"exchange">;
  /** Order-book resynchronizations, by exchange and symbol. */
  bookResyncs: Counter<"exchange" | "symbol">;
  /** Trade gaps reported (ids that could not be backfilled), by exchange. */
  tradeGaps: Counter<"exchange">;
  /** Simulated (paper) orders reaching an end state, by exchange and status. */
  paperOrders: Counter<"exchange" | "status">;
  /** Simulated (paper) fills, by exchange and liquidity. */
  paperFills: Counter<"exchange" | "liquidity">;
  /** Feed batches lost between a Worker and the hub (must stay 0). */
  hubLost: Counter<"exchange">;
  /** Slow clients disconnected. */
  slowDisconnects: Counter<never>;
  /** Updates conflated for slow clients. */
  conflated: Counter<never>;
  /** Bytes held for clients (socket buffers + backlogs), last budget sample. */
  heldBytes: Gauge<never>;
  /** Clients disconnected by the process-wide memory budget. */
  budgetDisconnects: Counter<never>;
  /** Process memory at scrape time (`Deno.memoryUsage()`): rss, heap_total, heap_used, external. */
  memory: Gauge<"kind">;
  /** Connected WebSocket clients. */
  clients: Gauge<never>;
  /**
   * Per batch of market events: seconds from its first event's emission in the plugin
   * Worker until the hub has issued every client `send()` for it (the gateway's own
   * share of the latency; the socket write itself follows when the event loop yields).
   */
  fanoutLatency: Histogram<never>;
  /** Per feed: gateway receive time minus exchange event time of the last event, ms. */
  feedLag: Gauge<"exchange">;
  /** Per feed: 1 while connected, else 0. */
  feedUp: Gauge<"exchange" | "emulator">;
  /** Per feed: ms since the last message. */
  feedLastMessageAge: Gauge<"exchange">;
}

/** Histogram buckets of `quant_fanout_latency_seconds`: fine below 5 ms, where the targets are. */
export const FANOUT_BUCKETS: readonly number[] = [
  0.00005,
  0.0001,
  0.0002,
  0.0003,
  0.0005,
  0.00075,
  0.001,
  0.0015,
  0.002,
  0.003,
  0.004,
  0.005,
  0.0075,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  1,
];

/** Creates a fresh registry with every gateway metric. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    messagesIn: new Counter({
      name: "quant_messages_in_total",
      help: "Normalized events received from exchange feeds",
      labelNames: ["exchange", "type"],
      registers,
    }),
    messagesOut: new Counter({
      name: "quant_messages_out_total",
      help: "Frames delivered to WebSocket clients",
      registers,
    }),
    clientFrames: new Counter({
      name: "quant_client_frames_total",
      help: "Frames received from WebSocket clients",
      registers,
    }),
    clientErrors: new Counter({
      name: "quant_client_errors_total",
      help: "Error frames sent to clients",
      labelNames: ["code"],
      registers,
    }),
    reconnects: new Counter({
      name: "quant_feed_reconnects_total",
      help: "Feed reconnects",
      labelNames: ["exchange"],
      registers,
    }),
    pluginRestarts: new Counter({
      name: "quant_plugin_restarts_total",
      help: "Plugin worker restarts after a crash",
      labelNames: ["exchange"],
      registers,
    }),
    malformed: new Counter({
      name: "quant_feed_malformed_total",
      help: "Malformed exchange frames dropped",
      labelNames: ["exchange"],
      registers,
    }),
    bookResyncs: new Counter({
      name: "quant_book_resyncs_total",
      help: "Order book resynchronizations",
      labelNames: ["exchange", "symbol"],
      registers,
    }),
    tradeGaps: new Counter({
      name: "quant_trade_gaps_total",
      help: "Trade id gaps that could not be backfilled",
      labelNames: ["exchange"],
      registers,
    }),
    paperOrders: new Counter({
      name: "quant_paper_orders_total",
      help:
        "Simulated (paper) orders that ended, by status (filled, cancelled, rejected); none reached an exchange",
      labelNames: ["exchange", "status"],
      registers,
    }),
    paperFills: new Counter({
      name: "quant_paper_fills_total",
      help: "Simulated (paper) fills by liquidity (maker, taker); none on an exchange",
      labelNames: ["exchange", "liquidity"],
      registers,
    }),
    hubLost: new Counter({
      name: "quant_hub_lost_batches_total",
      help: "Feed batches missing between a worker and the hub (must be 0)",
      labelNames: ["exchange"],
      registers,
    }),
    slowDisconnects: new Counter({
      name: "quant_slow_client_disconnects_total",
      help: "Clients disconnected by the slow-consumer policy",
      registers,
    }),
    conflated: new Counter({
      name: "quant_conflated_updates_total",
      help: "Quote/book/kline updates conflated for slow clients",
      registers,
    }),
    heldBytes: new Gauge({
      name: "quant_client_held_bytes",
      help: "Bytes held for clients: socket buffers, slow-client backlogs, closing sockets",
      registers,
    }),
    memory: new Gauge({
      name: "quant_process_memory_bytes",
      help:
        "Process memory at scrape time: rss, and the main isolate's heap_total, heap_used, external",
      labelNames: ["kind"],
      registers,
      collect() {
        const m = Deno.memoryUsage();
        this.set({ kind: "rss" }, m.rss);
        this.set({ kind: "heap_total" }, m.heapTotal);
        this.set({ kind: "heap_used" }, m.heapUsed);
        this.set({ kind: "external" }, m.external);
      },
    }),
    budgetDisconnects: new Counter({
      name: "quant_budget_disconnects_total",
      help: "Clients disconnected because the process-wide memory budget was exceeded",
      registers,
    }),
    clients: new Gauge({
      name: "quant_clients",
      help: "Connected WebSocket clients",
      registers,
    }),
    fanoutLatency: new Histogram({
      name: "quant_fanout_latency_seconds",
      help:
        "Plugin Worker emit -> every client send() issued, per batch of market events (its oldest event)",
      buckets: [...FANOUT_BUCKETS],
      registers,
    }),
    feedLag: new Gauge({
      name: "quant_feed_lag_ms",
      help: "Receive time minus exchange event time of the last event",
      labelNames: ["exchange"],
      registers,
    }),
    feedUp: new Gauge({
      name: "quant_feed_up",
      help: "1 while the feed is connected and fresh",
      labelNames: ["exchange", "emulator"],
      registers,
    }),
    feedLastMessageAge: new Gauge({
      name: "quant_feed_last_message_age_ms",
      help: "Milliseconds since the feed's last message",
      labelNames: ["exchange"],
      registers,
    }),
  };
}

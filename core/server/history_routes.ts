/**
 * History over REST, answered from the recording (RECORD_DIR): the catalog,
 * trades of a time range (JSON pages with a cursor, or streamed NDJSON/CSV),
 * klines of any interval from 1s to 1d, and the book at a past instant.
 * Every bad query is a 4xx with a JSON `{"error":{"code","message"}}` body.
 * Limits: see {@link HISTORY_LIMITS} and docs/history.md.
 * @module
 */
import { z } from "zod";
import type { TradeEvent } from "../events.ts";
import type { Catalog } from "../market/catalog.ts";
import type { HistoryCatalog, HistoryReader, RecordedTrade } from "../history/mod.ts";
import { intervalMs } from "../history/mod.ts";
import { streamEventFrame } from "../protocol/frames.ts";
import type { Recording } from "./recording.ts";
import type { HubAnalyticsOptions } from "../ingest/hub.ts";
import { metricsFromList } from "../protocol/messages.ts";
import { analyticsSeries, utcDayStart } from "../replay/analytics_series.ts";

/**
 * What the history endpoints read: a recording this process writes, or a folder another
 * process writes (an edge reading the recorder node's folder, `REPLAY_DIR`).
 */
export type HistorySource = Pick<Recording, "dir" | "history"> & {
  health(): { healthy: boolean };
};
import { httpError, json, parseQuery } from "./rest.ts";

/** Paths of the history endpoints, for `GET /`. */
export const HISTORY_ENDPOINTS = {
  history: "/api/history",
  historyTrades: "/api/history/trades",
  historyKlines: "/api/history/klines",
  historyBook: "/api/history/book",
  historyAnalytics: "/api/history/analytics",
} as const;

/** The limits of the history endpoints. */
export const HISTORY_LIMITS = {
  /** Longest `to - from` of a trades or klines query, ms (31 days). */
  maxRangeMs: 31 * 86_400_000,
  /** Trades per JSON page: default and most. */
  defaultLimit: 1000,
  maxLimit: 10_000,
  /** Most bars one klines query may span. */
  maxBars: 10_000,
  /** Most book levels per side. */
  maxDepth: 1000,
  /** Most points of one analytics series. */
  maxPoints: 10_000,
  /** Longest analytics range (`to - from` plus the warm-up), ms (1 day). */
  maxAnalyticsRangeMs: 86_400_000,
} as const;

/** What the history routes read. */
export interface HistoryRouteDeps {
  recording?: HistorySource;
  /** The gateway's symbol catalog (unified names such as BTC/USDT). */
  catalog: Catalog;
  /** The live analytics settings, which `/api/history/analytics` recomputes with. */
  analytics?: HubAnalyticsOptions;
}

/** An epoch-ms number or an ISO 8601 date/time. */
const timeParam = z.string().transform((s, ctx) => {
  const t = /^\d{1,15}$/.test(s)
    ? Number(s)
    : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)
    ? Date.parse(s)
    : NaN;
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: "custom", message: "expected ISO 8601 or epoch milliseconds" });
    return z.NEVER;
  }
  return t;
});
const symbolParam = z.string().min(1).max(32).regex(/^[A-Za-z0-9]+([/-][A-Za-z0-9]+){0,3}$/);
const exchangeParam = z.string().min(1).max(32).regex(/^[a-z0-9_-]+$/);
const boolParam = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

const rangeFields = {
  exchange: exchangeParam,
  symbol: symbolParam,
  from: timeParam,
  to: timeParam,
};

const tradesQuery = z.strictObject({
  ...rangeFields,
  format: z.enum(["json", "ndjson", "csv"]).default("json"),
  limit: z.coerce.number().int().min(1).max(HISTORY_LIMITS.maxLimit).default(
    HISTORY_LIMITS.defaultLimit,
  ),
  cursor: z.string().regex(/^\d{1,15}_\d{1,15}$/, "a cursor from a previous page").optional(),
  raw: boolParam.default(false),
});

const klinesQuery = z.strictObject({ ...rangeFields, interval: z.string().min(2).max(8) });

const bookQuery = z.strictObject({
  exchange: exchangeParam,
  symbol: symbolParam,
  at: timeParam,
  depth: z.coerce.number().int().min(1).max(HISTORY_LIMITS.maxDepth).default(20),
});

/** `250ms`, `1s`, `5m`, `1h` or plain milliseconds. */
const durationParam = z.string().transform((s, ctx) => {
  const m = /^(\d{1,9})(ms|s|m|h)?$/.exec(s);
  if (!m) {
    ctx.addIssue({ code: "custom", message: "expected a duration: 250ms, 1s, 5m, 1h or ms" });
    return z.NEVER;
  }
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] ?? "ms"]!;
  return Number(m[1]) * unit;
});

const analyticsHistoryQuery = z.strictObject({
  ...rangeFields,
  step: durationParam.refine((ms) => ms >= 1, "step must be at least 1 ms"),
  metrics: z.string().max(256).optional(),
  /** How long before `from` the engine starts; `day` (default) = 00:00 UTC of from's day. */
  warmup: z.union([z.literal("day"), durationParam]).default("day"),
});

type Parsed<T> = { ok: true; value: T } | { ok: false; response: Response };

function parse<T extends z.ZodType>(url: URL, schema: T): Parsed<z.infer<T>> {
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) params[key] = value;
  const missing = ["from", "to"].filter((k) =>
    k in (schema as unknown as z.ZodObject).shape && params[k] === undefined
  );
  if (missing.length > 0) {
    return {
      ok: false,
      response: httpError(
        400,
        "bad_query",
        `${missing.join(" and ")} required: unbounded ranges are refused (ISO 8601 or epoch ms)`,
      ),
    };
  }
  return parseQuery(url, schema);
}

/** Checks `from <= to` and the range limit. */
function checkRange(from: number, to: number): Response | undefined {
  if (from > to) {
    return httpError(400, "bad_query", "from is after to (reversed range)");
  }
  if (to - from > HISTORY_LIMITS.maxRangeMs) {
    return httpError(
      400,
      "range_too_large",
      `range of ${Math.ceil((to - from) / 86_400_000)} days; at most 31 days per request`,
    );
  }
}

/** `BTC/USDT`, `BTC-USDT`, `btcusdt` → `BTCUSDT`. */
const canonical = (s: string) => s.replace(/[/\-_]/g, "").toUpperCase();

const iso = (ms: number) => new Date(ms).toISOString();

/** CSV header and row of a trade. */
const CSV_HEADER =
  "exchange,symbol,unified,tradeId,timestamp,price,quantity,side,eventTime,receiveTime\n";
const csvCell = (v: unknown) => {
  const s = v === undefined ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
function csvRow(t: TradeEvent, unified: string | undefined): string {
  return [
    t.exchange,
    t.symbol,
    unified,
    t.tradeId,
    t.timestamp,
    t.price,
    t.quantity,
    t.side,
    t.eventTime,
    t.receiveTime,
  ].map(csvCell).join(",") + "\n";
}

/** Trades of one stream in recorded order, from a fresh reader; closes it when done. */
async function* recordedTrades(
  reader: HistoryReader,
  exchange: string,
  symbol: string,
  from: number,
  to: number,
  raw: boolean,
  afterSeq = 0,
): AsyncGenerator<RecordedTrade[]> {
  try {
    yield* reader.tradeBatches(exchange, symbol, from, to, { raw, afterSeq, batchSize: 2048 });
  } finally {
    reader.close();
  }
}

/**
 * Creates the history routes: returns the handler of a `/api/history...` path,
 * or undefined for other paths.
 */
export function createHistoryRoutes(
  deps: HistoryRouteDeps,
): (pathname: string) => ((url: URL) => Response | Promise<Response>) | undefined {
  const { recording, catalog } = deps;

  let cached: { at: number; value: HistoryCatalog } | undefined;
  /** The recording's catalog, reused for a second (it opens every day file). */
  const recorded = (): HistoryCatalog | undefined => {
    if (cached && Date.now() - cached.at < 1000) return cached.value;
    const reader = recording?.history();
    if (!reader) return undefined;
    try {
      cached = { at: Date.now(), value: reader.catalog() };
      return cached.value;
    } finally {
      reader.close();
    }
  };

  const unavailable = () =>
    httpError(
      404,
      "history_unavailable",
      "recording is off: start the gateway with RECORD_DIR=<folder> (or --demo) to record and query history",
    );

  /** The native symbol a query names, from the live catalog or the recorded streams. */
  const resolve = (
    exchange: string,
    name: string,
  ): { ok: true; symbol: string; unified?: string } | { ok: false; response: Response } => {
    const cat = recorded();
    if (!cat) return { ok: false, response: unavailable() };
    const streams = cat.streams.filter((s) => s.exchange === exchange && s.symbol !== "");
    if (streams.length === 0) {
      const known = [...new Set(cat.streams.map((s) => s.exchange).filter(Boolean))];
      return {
        ok: false,
        response: httpError(
          404,
          "unknown_exchange",
          `nothing recorded for exchange "${exchange}"; recorded: ${known.join(", ") || "none"}`,
        ),
      };
    }
    const symbols = [...new Set(streams.map((s) => s.symbol))];
    const live = catalog.exchanges().includes(exchange)
      ? catalog.resolve(exchange, name)
      : undefined;
    const symbol = live !== undefined && symbols.includes(live)
      ? live
      : symbols.find((s) => s === name) ??
        symbols.find((s) => canonical(s) === canonical(name));
    if (symbol === undefined) {
      return {
        ok: false,
        response: httpError(
          404,
          "unknown_symbol",
          `nothing recorded for "${name}" on ${exchange}; recorded: ${
            symbols.slice(0, 20).join(", ")
          }`,
        ),
      };
    }
    return { ok: true, symbol, unified: catalog.unified(exchange, symbol) };
  };

  const catalogRoute = async () => {
    if (!recording) return unavailable();
    const cat = recorded()!;
    const sources = await feedSources(recording, cat);
    const exchanges = [...new Set(cat.streams.map((s) => s.exchange).filter(Boolean))];
    return json({
      recording: { dir: recording.dir, healthy: recording.health().healthy },
      bytes: cat.bytes,
      days: cat.days,
      exchanges: exchanges.map((exchange) => {
        const streams = cat.streams.filter((s) => s.exchange === exchange && s.symbol !== "");
        const symbols = [...new Set(streams.map((s) => s.symbol))];
        return {
          exchange,
          source: sources.get(exchange) ?? "unknown",
          emulator: sources.get(exchange) === "emulator",
          symbols: symbols.map((symbol) => ({
            symbol,
            unified: catalog.unified(exchange, symbol),
            channels: Object.fromEntries(
              streams.filter((s) => s.symbol === symbol).map((s) => [s.kind, {
                from: iso(s.from),
                to: iso(s.to),
                count: s.count,
                bytes: s.bytes,
              }]),
            ),
          })),
        };
      }),
      limits: {
        maxRangeDays: HISTORY_LIMITS.maxRangeMs / 86_400_000,
        maxTradesPerPage: HISTORY_LIMITS.maxLimit,
        maxBars: HISTORY_LIMITS.maxBars,
        maxDepth: HISTORY_LIMITS.maxDepth,
      },
    });
  };

  const tradesRoute = async (url: URL) => {
    if (!recording) return unavailable();
    const q = parse(url, tradesQuery);
    if (!q.ok) return q.response;
    const { exchange, from, to, format, limit, cursor, raw } = q.value;
    const bad = checkRange(from, to);
    if (bad) return bad;
    const r = resolve(exchange, q.value.symbol);
    if (!r.ok) return r.response;
    const { symbol, unified } = r;
    const reader = recording.history();
    if (!reader) return unavailable();

    if (format === "json") {
      // A page: `limit` trades after the cursor (receive time + sequence of the last one sent).
      const [afterTime, afterSeq] = cursor ? cursor.split("_").map(Number) : [from, 0];
      if (afterTime < from || afterTime > to) {
        reader.close();
        return httpError(400, "bad_query", "cursor: outside this query's range");
      }
      const frames: string[] = [];
      let last: RecordedTrade | undefined;
      let more = false;
      const source = recordedTrades(reader, exchange, symbol, afterTime, to, raw, afterSeq);
      try {
        outer: for await (const batch of source) {
          for (const p of batch) {
            if (frames.length === limit) {
              more = true;
              break outer;
            }
            frames.push(streamEventFrame(p.trade, raw, unified));
            last = p;
          }
        }
      } finally {
        await source.return(undefined);
      }
      const nextCursor = more && last ? `${last.receiveTime}_${last.seq}` : undefined;
      const body = `{"exchange":${JSON.stringify(exchange)},"symbol":${
        JSON.stringify(symbol)
      },"unified":${JSON.stringify(unified ?? null)},"from":"${iso(from)}","to":"${
        iso(to)
      }","count":${frames.length},"nextCursor":${JSON.stringify(nextCursor ?? null)},"trades":[${
        frames.join(",")
      }]}`;
      return new Response(body, {
        headers: { "content-type": "application/json; charset=utf-8" },
      });
    }

    // NDJSON or CSV: streamed batch by batch as the client reads (never the whole range in memory).
    const source = recordedTrades(reader, exchange, symbol, from, to, raw && format === "ndjson");
    const encoder = new TextEncoder();
    let headerSent = format !== "csv";
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(CSV_HEADER));
          return;
        }
        try {
          const next = await source.next();
          if (next.done) return controller.close();
          let text = "";
          for (const p of next.value) {
            text += format === "csv"
              ? csvRow(p.trade, unified)
              : streamEventFrame(p.trade, raw, unified) + "\n";
          }
          controller.enqueue(encoder.encode(text));
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        await source.return(undefined);
        try {
          reader.close(); // when the stream was cancelled before its first read
        } catch { /* already closed */ }
      },
    }, { highWaterMark: 1 });
    return new Response(body, {
      headers: {
        "content-type": format === "csv"
          ? "text/csv; charset=utf-8"
          : "application/x-ndjson; charset=utf-8",
      },
    });
  };

  const klinesRoute = async (url: URL) => {
    if (!recording) return unavailable();
    const q = parse(url, klinesQuery);
    if (!q.ok) return q.response;
    const { exchange, from, to, interval } = q.value;
    let ms: number;
    try {
      ms = intervalMs(interval);
    } catch (err) {
      return httpError(400, "bad_query", `interval: ${(err as Error).message}`);
    }
    const bad = checkRange(from, to);
    if (bad) return bad;
    const bars = Math.floor(to / ms) - Math.floor(from / ms) + 1;
    if (bars > HISTORY_LIMITS.maxBars) {
      return httpError(
        400,
        "range_too_large",
        `${bars} bars of ${interval}; at most ${HISTORY_LIMITS.maxBars} per request (narrow the range or widen the interval)`,
      );
    }
    const r = resolve(exchange, q.value.symbol);
    if (!r.ok) return r.response;
    const { symbol, unified } = r;
    // A bar is closed once the recording of that exchange went past its end.
    const recordedTo = Math.max(
      0,
      ...(recorded()?.streams ?? []).filter((s) => s.exchange === exchange).map((s) => s.to),
    );
    const reader = recording.history();
    if (!reader) return unavailable();
    const klines: unknown[] = [];
    try {
      for await (const k of reader.klines(exchange, symbol, interval, from, to)) {
        klines.push({
          openTime: k.openTime,
          open: k.open,
          high: k.high,
          low: k.low,
          close: k.close,
          volume: k.volume,
          closeTime: k.closeTime,
          quoteVolume: k.quoteVolume,
          trades: k.trades,
          closed: k.closeTime < recordedTo,
        });
      }
    } finally {
      reader.close();
    }
    return json({ exchange, symbol, unified, interval, from: iso(from), to: iso(to), klines });
  };

  const bookRoute = async (url: URL) => {
    if (!recording) return unavailable();
    const q = parse(url, bookQuery);
    if (!q.ok) return q.response;
    const { exchange, at, depth } = q.value;
    const r = resolve(exchange, q.value.symbol);
    if (!r.ok) return r.response;
    const reader = recording.history();
    if (!reader) return unavailable();
    try {
      const book = await reader.bookAt(exchange, r.symbol, at, depth);
      if (!book || book.seq === 0) {
        return httpError(
          404,
          "no_book",
          `no book of ${exchange} ${r.symbol} recorded at or before ${iso(at)}`,
        );
      }
      return json({
        exchange,
        symbol: r.symbol,
        unified: r.unified,
        at: iso(at),
        synced: book.synced,
        updateId: book.updateId,
        seq: book.seq,
        time: book.time,
        bids: book.bids,
        asks: book.asks,
      });
    } finally {
      reader.close();
    }
  };

  const analyticsRoute = async (url: URL) => {
    if (!recording) return unavailable();
    const q = parse(url, analyticsHistoryQuery);
    if (!q.ok) return q.response;
    const { exchange, from, to, step, warmup } = q.value;
    if (from > to) return httpError(400, "bad_query", "from is after to (reversed range)");
    const metrics = metricsFromList(q.value.metrics);
    if (!metrics.ok) return httpError(400, "bad_query", metrics.message);
    const warmupFrom = warmup === "day" ? utcDayStart(from) : from - warmup;
    if (to - warmupFrom > HISTORY_LIMITS.maxAnalyticsRangeMs) {
      return httpError(
        400,
        "range_too_large",
        `from the warm-up start to \`to\` spans more than a day; narrow the range or the warm-up`,
      );
    }
    const points = Math.floor((to - from) / step) + 1;
    if (points > HISTORY_LIMITS.maxPoints) {
      return httpError(
        400,
        "range_too_large",
        `${points} points; at most ${HISTORY_LIMITS.maxPoints} per request (widen the step)`,
      );
    }
    const r = resolve(exchange, q.value.symbol);
    if (!r.ok) return r.response;
    const reader = recording.history();
    if (!reader) return unavailable();
    try {
      const series = await analyticsSeries(
        { history: reader, catalog, analytics: deps.analytics },
        { exchange, symbol: r.symbol, from, to, step, warmupFrom, metrics: metrics.metrics },
      );
      const cat = recorded();
      const sources = cat ? await feedSources(recording, cat) : new Map<string, string>();
      return json({
        exchange,
        symbol: r.symbol,
        unified: r.unified,
        source: sources.get(exchange) ?? "unknown",
        emulator: sources.get(exchange) === "emulator",
        from: iso(from),
        to: iso(to),
        step,
        warmupFrom: iso(series.warmupFrom),
        metrics: metrics.metrics,
        items: series.items,
        gaps: series.gaps.map((g) => ({ from: iso(g.fromTime), to: iso(g.toTime) })),
        points: series.points,
      });
    } finally {
      reader.close();
    }
  };

  const routes: Record<string, (url: URL) => Response | Promise<Response>> = {
    [HISTORY_ENDPOINTS.history]: catalogRoute,
    [HISTORY_ENDPOINTS.historyTrades]: tradesRoute,
    [HISTORY_ENDPOINTS.historyKlines]: klinesRoute,
    [HISTORY_ENDPOINTS.historyBook]: bookRoute,
    [HISTORY_ENDPOINTS.historyAnalytics]: analyticsRoute,
  };
  return (pathname) => {
    const route = routes[pathname];
    if (!route) return undefined;
    // A recording folder that cannot be read (removed, no permission) is a 503, never a crash.
    return async (url) => {
      try {
        return await route(url);
      } catch (err) {
        return httpError(
          503,
          "history_unavailable",
          `the recording cannot be read: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    };
  };
}

/**
 * Per exchange: `emulator` when its recorded feed status said the peer was a local
 * emulator, `exchange` when it said otherwise, `mixed` when both were recorded.
 * Reads only the small exchange-wide event streams (status changes, instruments).
 */
async function feedSources(
  recording: HistorySource,
  cat: HistoryCatalog,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const reader = recording.history();
  if (!reader) return out;
  try {
    for (const s of cat.streams) {
      if (s.symbol !== "" || s.kind !== "event" || s.exchange === "") continue;
      const seen = new Set<string>();
      const filter = {
        from: s.from,
        to: s.to,
        exchanges: [s.exchange],
        symbols: [""],
        channels: [],
        markers: true,
        raw: false,
      };
      for await (const batch of reader.eventBatches(filter)) {
        for (const rec of batch) {
          if (rec.item.type === "status" && rec.exchange === s.exchange) {
            seen.add(rec.item.emulator ? "emulator" : "exchange");
          }
        }
      }
      if (seen.size > 0) out.set(s.exchange, seen.size > 1 ? "mixed" : [...seen][0]);
    }
  } finally {
    reader.close();
  }
  return out;
}

/**
 * Trade continuity for one symbol. Binance trade ids are consecutive per symbol,
 * so a live trade whose id jumps past `last + 1` reveals missed trades: they are
 * fetched over REST (`historicalTrades`) and delivered, in order, before the
 * live trades held back meanwhile. What cannot be fetched is reported as a
 * `gap` event, never hidden. Every id is delivered at most once, in increasing order.
 * @module
 */
import { type FeedLogger, type GapEvent, sleep, type TradeEvent } from "../../mod.ts";
import { EXCHANGE } from "./mapper.ts";

/** Result of fetching historical trades. */
export type HistoryPage =
  | { ok: true; trades: TradeEvent[] }
  | { ok: false; reason: string; retryable: boolean };

/** What a trade tracker needs from the feed. */
export interface TradeTrackerDeps {
  symbol: string;
  emit(event: TradeEvent | GapEvent): void;
  /** `GET /api/v3/historicalTrades?symbol&fromId&limit`, mapped and validated. */
  fetchHistory(fromId: number, limit: number): Promise<HistoryPage>;
  /** Grace period before backfilling, so a slower connection can still fill the hole. */
  backfillDelayMs: number;
  /** Attempts per page before the hole is given up as a gap. */
  backfillAttempts: number;
  /** Delay before retry `attempt` of a page. */
  retryDelayMs(attempt: number): number;
  /** Most live trades held back during a backfill; beyond it the hole is reported as a gap. */
  maxHeld: number;
  now(): number;
  log: FeedLogger;
  signal: AbortSignal;
}

/** One symbol's trade tracker. */
export interface TradeTracker {
  /** Feeds one live trade (from the mapper). */
  onLive(trade: TradeEvent): void;
  /** Id of the last trade delivered. */
  lastId(): number | undefined;
  /** Live trades held back behind a hole. */
  held(): number;
  /** Duplicates dropped so far. */
  duplicates(): number;
}

/** Most trades one historicalTrades request returns. */
const PAGE = 1000;

/** Creates the tracker for one symbol. */
export function createTradeTracker(deps: TradeTrackerDeps): TradeTracker {
  const { symbol, log } = deps;
  let last: number | undefined;
  /** Held live trades, ascending by id, no duplicates. */
  const held: TradeEvent[] = [];
  let backfilling = false;
  let dupes = 0;

  const deliver = (t: TradeEvent) => {
    last = t.tradeId as number;
    deps.emit(t);
  };

  const gap = (fromId: number, toId: number, reason: string) => {
    if (fromId > toId) return;
    log.error(`trades ${symbol}: ids ${fromId}..${toId} lost`, { symbol, fromId, toId, reason });
    deps.emit({
      type: "gap",
      exchange: EXCHANGE,
      symbol,
      channel: "trade",
      fromId,
      toId,
      reason,
      receiveTime: deps.now(),
    });
    last = toId;
  };

  /** Delivers held trades that are next in line; drops those already delivered. */
  const drain = () => {
    while (held.length > 0) {
      const id = held[0].tradeId as number;
      if (id <= last!) {
        held.shift();
        dupes++;
      } else if (id === last! + 1) deliver(held.shift()!);
      else break;
    }
  };

  const hold = (t: TradeEvent) => {
    const id = t.tradeId as number;
    let i = held.length;
    while (i > 0 && (held[i - 1].tradeId as number) > id) i--;
    if (i > 0 && held[i - 1].tradeId === id) {
      dupes++;
      return;
    }
    held.splice(i, 0, t);
  };

  const fetchPage = async (fromId: number, limit: number): Promise<HistoryPage> => {
    let result: HistoryPage = { ok: false, reason: "not attempted", retryable: false };
    for (let attempt = 0; attempt < deps.backfillAttempts; attempt++) {
      if (attempt > 0 && !await sleep(deps.retryDelayMs(attempt - 1), deps.signal)) break;
      result = await deps.fetchHistory(fromId, limit);
      if (result.ok || !result.retryable || deps.signal.aborted) break;
    }
    return result;
  };

  const backfill = async () => {
    backfilling = true;
    try {
      if (deps.backfillDelayMs > 0 && !await sleep(deps.backfillDelayMs, deps.signal)) return;
      drain();
      while (!deps.signal.aborted && held.length > 0) {
        const from = last! + 1, to = (held[0].tradeId as number) - 1;
        if (to < from) break;
        log.info(`trades ${symbol}: backfilling ids ${from}..${to}`, {
          symbol,
          fromId: from,
          toId: to,
        });
        const page = await fetchPage(from, Math.min(PAGE, to - from + 1));
        if (deps.signal.aborted) return;
        if (!page.ok) {
          gap(last! + 1, to, `backfill failed: ${page.reason}`);
        } else {
          const trades = page.trades
            .filter((t) => (t.tradeId as number) > last! && (t.tradeId as number) <= to)
            .sort((a, b) => (a.tradeId as number) - (b.tradeId as number));
          if (trades.length === 0) gap(last! + 1, to, "trade history no longer available");
          for (const t of trades) {
            const id = t.tradeId as number;
            if (id <= last!) continue;
            if (id > last! + 1) gap(last! + 1, id - 1, "missing from trade history");
            deliver(t);
          }
        }
        drain();
      }
    } finally {
      backfilling = false;
    }
  };

  return {
    onLive(t) {
      const id = t.tradeId as number;
      if (last === undefined) {
        deliver(t);
        return;
      }
      if (id <= last) {
        dupes++;
        return;
      }
      if (id === last + 1 && held.length === 0) {
        deliver(t);
        return;
      }
      hold(t);
      drain();
      if (held.length > deps.maxHeld) {
        gap(last + 1, (held[0].tradeId as number) - 1, "too many live trades held during backfill");
        drain();
      }
      if (held.length > 0 && !backfilling) void backfill();
    },
    lastId: () => last,
    held: () => held.length,
    duplicates: () => dupes,
  };
}

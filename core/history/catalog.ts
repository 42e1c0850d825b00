/**
 * What a recording holds: per exchange, symbol and stream, the time range, item
 * count and compressed bytes; plus the days and their size on disk.
 * @module
 */
import type { DayReader } from "./day_reader.ts";
import { listDays } from "./day_store.ts";
import { dayBytes } from "./retention.ts";
import type { StreamKind } from "./types.ts";

/** One recorded stream. */
export interface CatalogStream {
  exchange: string;
  /** `""` for exchange-wide items (feed status, instruments). */
  symbol: string;
  kind: StreamKind;
  /** First and last receive time, epoch ms. */
  from: number;
  to: number;
  /** Items recorded. */
  count: number;
  /** Compressed bytes of its blocks. */
  bytes: number;
}

/** The whole recording. */
export interface HistoryCatalog {
  days: { day: string; bytes: number }[];
  /** Bytes on disk, all days. */
  bytes: number;
  streams: CatalogStream[];
}

/** Lists what `reader.dir` holds. */
export function catalogOf(reader: DayReader): HistoryCatalog {
  const streams = new Map<string, CatalogStream>();
  const days: { day: string; bytes: number }[] = [];
  for (const day of listDays(reader.dir)) {
    days.push({ day, bytes: dayBytes(reader.dir, day) });
    const db = reader.db(day);
    if (!db) continue;
    try {
      const rows = db.prepare(
        `SELECT exchange, symbol, kind, min(t0) AS f, max(t1) AS t, sum(n) AS c, sum(length(data)) AS b
         FROM blocks GROUP BY exchange, symbol, kind`,
      ).all() as {
        exchange: string;
        symbol: string;
        kind: StreamKind;
        f: number;
        t: number;
        c: number;
        b: number;
      }[];
      for (const r of rows) {
        const key = `${r.exchange}\u0000${r.symbol}\u0000${r.kind}`;
        const s = streams.get(key);
        if (!s) {
          streams.set(key, {
            exchange: r.exchange,
            symbol: r.symbol,
            kind: r.kind,
            from: Number(r.f),
            to: Number(r.t),
            count: Number(r.c),
            bytes: Number(r.b),
          });
        } else {
          s.from = Math.min(s.from, Number(r.f));
          s.to = Math.max(s.to, Number(r.t));
          s.count += Number(r.c);
          s.bytes += Number(r.b);
        }
      }
    } catch {
      reader.problems.unreadableDays++;
    }
  }
  return {
    days,
    bytes: days.reduce((a, d) => a + d.bytes, 0),
    streams: [...streams.values()].sort((a, b) =>
      a.exchange.localeCompare(b.exchange) || a.symbol.localeCompare(b.symbol) ||
      a.kind.localeCompare(b.kind)
    ),
  };
}

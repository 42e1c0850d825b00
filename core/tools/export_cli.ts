/**
 * `deno task export -- --dir <recording> --from <time> --to <time> --format csv|parquet
 * --out <folder> [filters]`: writes the recorded trades, quotes, klines and book
 * updates as files a pandas or polars user opens directly, one per exchange ×
 * channel × symbol: `<out>/<exchange>_<table>_<symbol>.<csv|parquet>` (table:
 * trades, quotes, klines, book; `/` in a symbol becomes `-`). Columns: tables.ts.
 * Reads the recording streamed (bounded memory); a progress bar on stderr when it
 * is a terminal; exit code 2 for bad arguments. See docs/history.md.
 * @module
 */
import { join } from "node:path";
import { openHistory } from "../history/mod.ts";
import { parseFlags, runCommand, SELECTION_OPTIONS, selectionOf, UsageError } from "./args.ts";
import { createProgress } from "./progress.ts";
import { filterOf } from "./selection.ts";
import {
  boundBuffers,
  type ExportFormat,
  openTableWriter,
  type TableWriter,
} from "./table_writers.ts";
import { type Table, TABLES } from "./tables.ts";

const USAGE = `usage: deno task export -- --dir <recording folder> --from <time> --to <time>
         --format csv|parquet --out <folder>
         [--exchanges binance,kraken] [--symbols BTCUSDT,BTC/USDT] [--channels trade,quote,kline,book]

Writes one file per exchange, channel and symbol: <out>/<exchange>_<table>_<symbol>.<format>
(tables: trades, quotes, klines, book). Times: ISO 8601 or epoch milliseconds, both ends inclusive.`;

/** One file written. */
export interface ExportedFile {
  path: string;
  exchange: string;
  symbol: string;
  table: string;
  rows: number;
}

/** A file name part: letters, digits, `.`, `_`, `-`; anything else becomes `-`. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "-");
}

/** Runs the export command with `args`; returns the files written (also listed on stderr). */
export async function exportRecording(args: string[]): Promise<ExportedFile[]> {
  const values = parseFlags(args, {
    ...SELECTION_OPTIONS,
    format: { type: "string" },
    out: { type: "string" },
  });
  if (values.help) {
    console.log(USAGE);
    return [];
  }
  const format = values.format;
  if (format !== "csv" && format !== "parquet") {
    throw new UsageError(
      format === undefined
        ? "--format csv|parquet is required"
        : `--format must be csv or parquet, got "${format}"`,
    );
  }
  const out = values.out;
  if (typeof out !== "string" || out === "") throw new UsageError("--out <folder> is required");
  const sel = await selectionOf(values);
  const history = openHistory(sel.dir);
  const writers = new Map<string, { writer: TableWriter; file: Omit<ExportedFile, "rows"> }>();
  try {
    const filter = { ...filterOf(history, sel, false), markers: false };
    try {
      await Deno.mkdir(out, { recursive: true });
    } catch (err) {
      throw new UsageError(`--out ${out}: cannot create the folder (${(err as Error).message})`);
    }
    const progress = createProgress("export", sel.from, sel.to);
    let count = 0;
    for await (const batch of history.eventBatches(filter)) {
      for (const { exchange, item } of batch) {
        if (
          item.type !== "trade" && item.type !== "quote" && item.type !== "kline" &&
          item.type !== "book"
        ) continue;
        const table = TABLES[item.type] as Table<typeof item>;
        const key = `${exchange}\u0000${table.name}\u0000${item.symbol}`;
        let entry = writers.get(key);
        if (!entry) {
          const path = join(
            out,
            `${safeName(exchange)}_${table.name}_${safeName(item.symbol)}.${format}`,
          );
          const writer = await openTableWriter(format as ExportFormat, path, table.columns);
          entry = { writer, file: { path, exchange, symbol: item.symbol, table: table.name } };
          writers.set(key, entry);
        }
        for (const row of table.rows(item)) await entry.writer.append(row);
        count++;
      }
      boundBuffers([...writers.values()].map((w) => w.writer));
      if (batch.length > 0) progress.update(batch[batch.length - 1].receiveTime, count);
    }
    progress.stop();
    const files: ExportedFile[] = [];
    for (const { writer, file } of writers.values()) {
      files.push({ ...file, rows: await writer.close() });
    }
    writers.clear();
    for (const f of files) console.error(`${f.path}: ${f.rows} rows`);
    if (files.length === 0) console.error("nothing recorded in that range and selection");
    return files;
  } finally {
    for (const { writer } of writers.values()) await writer.close().catch(() => {});
    history.close();
  }
}

if (import.meta.main) await runCommand(USAGE, async () => void await exportRecording(Deno.args));

/**
 * Writers of one exported table file, CSV or Parquet, each holding a bounded
 * number of rows in memory: CSV in ~64 KiB chunks, Parquet one row group
 * (≤ {@link ROW_GROUP_ROWS} rows) at a time through `hyparquet-writer` (pure JS,
 * Snappy-compressed, no native code).
 * @module
 */
import { ByteWriter, ParquetWriter, schemaFromColumnData } from "hyparquet-writer";
import type { Cell, Column } from "./tables.ts";
import { bufferedSink, type TextSink } from "./output.ts";

/** Rows per Parquet row group. */
export const ROW_GROUP_ROWS = 100_000;

/** A table file being written. */
export interface TableWriter {
  /** Appends one row (cells in column order). */
  append(row: Cell[]): Promise<void>;
  /** Rows held in memory, not yet in the file. */
  buffered(): number;
  /** Writes the rows held in memory to the file (a Parquet row group). */
  spill(): void;
  /** Writes what is buffered and closes the file; returns the rows written. */
  close(): Promise<number>;
}

/**
 * Rows all open writers of one export may hold together before the largest ones
 * spill (smaller row groups, bounded memory however many files are open).
 */
export const MAX_BUFFERED_ROWS = 1_000_000;

/** Spills the writers holding the most rows until at most {@link MAX_BUFFERED_ROWS} remain held. */
export function boundBuffers(writers: Iterable<TableWriter>): void {
  const list = [...writers];
  let total = list.reduce((a, w) => a + w.buffered(), 0);
  if (total <= MAX_BUFFERED_ROWS) return;
  list.sort((a, b) => b.buffered() - a.buffered());
  for (const w of list) {
    if (total <= MAX_BUFFERED_ROWS / 2) break;
    total -= w.buffered();
    w.spill();
  }
}

/** Supported file formats. */
export type ExportFormat = "csv" | "parquet";

/** Opens a writer of `format` for `path` (created or truncated). */
export async function openTableWriter(
  format: ExportFormat,
  path: string,
  columns: readonly Column[],
): Promise<TableWriter> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  return format === "csv" ? csvWriter(file, columns) : parquetWriter(file, columns);
}

/** A CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The CSV text of one cell: ISO 8601 for times, empty for null. */
function csvCell(cell: Cell, column: Column): string {
  if (cell === null) return "";
  if (column.type === "TIMESTAMP") return new Date(cell as number).toISOString();
  return csvField(String(cell));
}

function csvWriter(file: Deno.FsFile, columns: readonly Column[]): TableWriter {
  const sink: TextSink = bufferedSink(file);
  let rows = 0;
  let pending: Promise<unknown> = sink.write(
    columns.map((c) => csvField(c.name)).join(",") + "\r\n",
  );
  return {
    async append(row) {
      await pending;
      let line = "";
      for (let i = 0; i < columns.length; i++) {
        if (i > 0) line += ",";
        line += csvCell(row[i], columns[i]);
      }
      pending = sink.write(line + "\r\n");
      rows++;
    },
    buffered: () => 0,
    spill() {},
    async close() {
      await pending;
      await sink.flush();
      file.close();
      return rows;
    },
  };
}

/** A ByteWriter that hands its bytes to `file` after each row group and at the end. */
function fileByteWriter(file: Deno.FsFile): ByteWriter {
  const writer = new ByteWriter(1 << 20);
  const drain = () => {
    let bytes = new Uint8Array(writer.buffer, 0, writer.index);
    while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
    writer.index = 0;
  };
  Object.assign(writer, { flush: drain, finish: drain });
  return writer;
}

function parquetWriter(file: Deno.FsFile, columns: readonly Column[]): TableWriter {
  const schema = schemaFromColumnData({
    columnData: columns.map((c) => ({
      name: c.name,
      data: [],
      type: c.type,
      nullable: c.nullable ?? false,
    })),
  });
  const writer = new ParquetWriter({ writer: fileByteWriter(file), schema });
  let buffered: Cell[][] = columns.map(() => []);
  let count = 0;
  let rows = 0;
  const writeGroup = () => {
    if (count === 0) return;
    const columnData = columns.map((c, i) => ({ name: c.name, data: toParquet(c, buffered[i]) }));
    writer.write({ columnData, rowGroupSize: ROW_GROUP_ROWS });
    buffered = columns.map(() => []);
    count = 0;
  };
  return {
    append(row) {
      for (let i = 0; i < columns.length; i++) buffered[i].push(row[i]);
      count++;
      rows++;
      if (count >= ROW_GROUP_ROWS) writeGroup();
      return Promise.resolve();
    },
    buffered: () => count,
    spill: writeGroup,
    close() {
      writeGroup();
      writer.finish();
      file.close();
      return Promise.resolve(rows);
    },
  };
}

/** Cells of one column in the representation hyparquet-writer takes for its type. */
function toParquet(column: Column, cells: Cell[]): unknown[] | Float64Array {
  switch (column.type) {
    case "DOUBLE":
      return column.nullable ? cells : Float64Array.from(cells as number[]);
    case "TIMESTAMP":
    case "INT64":
      return cells.map((c) => c === null ? null : BigInt(c as number));
    default:
      return cells;
  }
}

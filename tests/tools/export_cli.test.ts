/**
 * `deno task export`: run as a user runs it, on a recording made here; one file per
 * exchange × channel × symbol whose rows equal the recorded events, in CSV (RFC 4180,
 * read back with a parser here) and Parquet (read back with hyparquet, and with
 * pandas when python3 has pandas and pyarrow).
 */
import assert, { deepStrictEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import type { BookUpdate, TradeEvent } from "../../core/events.ts";
import type { RecordedItem } from "../../core/history/mod.ts";
import {
  boundBuffers,
  csvField,
  MAX_BUFFERED_ROWS,
  openTableWriter,
  ROW_GROUP_ROWS,
} from "../../core/tools/table_writers.ts";
import { TRADES } from "../../core/tools/tables.ts";
import { makeRecording, parseCsv, runTask, START } from "./helpers.ts";

const iso = (ms: number) => new Date(ms).toISOString();

const tradesOf = (recorded: RecordedItem[], exchange: string, symbol: string) =>
  recorded.filter((r) =>
    r.exchange === exchange && r.item.type === "trade" && r.item.symbol === symbol
  ).map((r) => r.item as TradeEvent);

/** Expected book rows: one per level, bids then asks of each update. */
function bookRows(recorded: RecordedItem[], symbol: string) {
  const rows: {
    t: number;
    r: number;
    side: string;
    p: number;
    q: number;
    s: boolean;
    id?: number;
  }[] = [];
  for (const { item } of recorded) {
    if (item.type !== "book" || item.symbol !== symbol) continue;
    const u = item as BookUpdate;
    const t = Date.parse(u.timestamp);
    for (const [p, q] of u.bids) {
      rows.push({ t, r: u.receiveTime, side: "bid", p, q, s: u.snapshot, id: u.updateId });
    }
    for (const [p, q] of u.asks) {
      rows.push({ t, r: u.receiveTime, side: "ask", p, q, s: u.snapshot, id: u.updateId });
    }
  }
  return rows;
}

const range = ["--from", iso(START), "--to", iso(START + 60_000)];

Deno.test("export csv: one file per exchange, channel and symbol; rows equal the recorded events", async () => {
  const rec = await makeRecording(6);
  const out = await Deno.makeTempDir({ prefix: "export-csv-" });
  try {
    const { code, stderr } = await runTask("export", [
      "--dir",
      rec.dir,
      ...range,
      "--format",
      "csv",
      "--out",
      out,
    ]);
    equal(code, 0, stderr);
    const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    deepStrictEqual(names, [
      "binance_book_BTCUSDT.csv",
      "binance_book_ETHUSDT.csv",
      "binance_quotes_BTCUSDT.csv",
      "binance_quotes_ETHUSDT.csv",
      "binance_trades_BTCUSDT.csv",
      "binance_trades_ETHUSDT.csv",
      "kraken_trades_XBT-USD.csv",
    ]);
    const text = await Deno.readTextFile(join(out, "kraken_trades_XBT-USD.csv"));
    assert(text.endsWith("\r\n"), "records end with CRLF");
    const [header, ...rows] = parseCsv(text);
    deepStrictEqual(header, ["timestamp", "receive_time", "price", "quantity", "side", "trade_id"]);
    const trades = tradesOf(rec.recorded, "kraken", "XBT/USD");
    assert(trades.length > 5, "kraken trades recorded");
    deepStrictEqual(
      rows,
      trades.map((t) => [
        t.timestamp,
        iso(t.receiveTime),
        String(t.price),
        String(t.quantity),
        t.side,
        String(t.tradeId),
      ]),
    );
    const [bookHeader, ...book] = parseCsv(
      await Deno.readTextFile(join(out, "binance_book_BTCUSDT.csv")),
    );
    deepStrictEqual(bookHeader, [
      "timestamp",
      "receive_time",
      "side",
      "price",
      "quantity",
      "snapshot",
      "update_id",
    ]);
    deepStrictEqual(
      book,
      bookRows(rec.recorded, "BTCUSDT").map((r) => [
        iso(r.t),
        iso(r.r),
        r.side,
        String(r.p),
        String(r.q),
        String(r.s),
        r.id === undefined ? "" : String(r.id),
      ]),
    );
  } finally {
    await rec.cleanup();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("csv fields are quoted per RFC 4180", () => {
  equal(csvField("plain"), "plain");
  equal(csvField("a,b"), '"a,b"');
  equal(csvField('say "hi"'), '"say ""hi"""');
  equal(csvField("two\nlines"), '"two\nlines"');
  deepStrictEqual(parseCsv(`x,${csvField('a,"b"')}\r\n`), [["x", 'a,"b"']]);
});

Deno.test("export parquet: read back with hyparquet, typed columns, values equal the recorded events", async () => {
  const rec = await makeRecording(6);
  const out = await Deno.makeTempDir({ prefix: "export-parquet-" });
  try {
    const { code, stderr } = await runTask("export", [
      "--dir",
      rec.dir,
      ...range,
      "--format",
      "parquet",
      "--out",
      out,
      "--exchanges",
      "binance",
      "--channels",
      "trade,book",
    ]);
    equal(code, 0, stderr);
    const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    deepStrictEqual(names, [
      "binance_book_BTCUSDT.parquet",
      "binance_book_ETHUSDT.parquet",
      "binance_trades_BTCUSDT.parquet",
      "binance_trades_ETHUSDT.parquet",
    ]);
    const file = (await Deno.readFile(join(out, "binance_trades_ETHUSDT.parquet"))).buffer;
    const schema = parquetMetadata(file).schema.slice(1).map((s) => [
      s.name,
      s.type,
      s.converted_type,
    ]);
    deepStrictEqual(schema, [
      ["timestamp", "INT64", "TIMESTAMP_MILLIS"],
      ["receive_time", "INT64", "TIMESTAMP_MILLIS"],
      ["price", "DOUBLE", undefined],
      ["quantity", "DOUBLE", undefined],
      ["side", "BYTE_ARRAY", "UTF8"],
      ["trade_id", "BYTE_ARRAY", "UTF8"],
    ]);
    const rows = await parquetReadObjects({ file });
    const trades = tradesOf(rec.recorded, "binance", "ETHUSDT");
    assert(trades.length > 50, "binance trades recorded");
    deepStrictEqual(
      rows,
      trades.map((t) => ({
        timestamp: new Date(t.timestamp),
        receive_time: new Date(t.receiveTime),
        price: t.price,
        quantity: t.quantity,
        side: t.side,
        trade_id: String(t.tradeId),
      })),
    );
    const book = await parquetReadObjects({
      file: (await Deno.readFile(join(out, "binance_book_BTCUSDT.parquet"))).buffer,
    });
    deepStrictEqual(
      book,
      bookRows(rec.recorded, "BTCUSDT").map((r) => ({
        timestamp: new Date(r.t),
        receive_time: new Date(r.r),
        side: r.side,
        price: r.p,
        quantity: r.q,
        snapshot: r.s,
        update_id: r.id === undefined ? null : BigInt(r.id),
      })),
    );
  } finally {
    await rec.cleanup();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("export: bad arguments exit with code 2 and say what is wrong", async () => {
  const rec = await makeRecording(2);
  const out = await Deno.makeTempDir({ prefix: "export-args-" });
  try {
    const base = ["--dir", rec.dir, ...range];
    const cases: [string[], RegExp][] = [
      [[...base, "--out", out], /--format csv\|parquet is required/],
      [[...base, "--format", "xlsx", "--out", out], /--format must be csv or parquet, got "xlsx"/],
      [[...base, "--format", "csv"], /--out <folder> is required/],
      [
        ["--dir", rec.dir, "--format", "csv", "--out", out, "--from", "1"],
        /--to <time> is required/,
      ],
      [
        [...base, "--format", "csv", "--out", out, "--channels", "book,ticker"],
        /unknown channel "ticker"/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runTask("export", args);
      equal(code, 2, `exit code for ${args.join(" ")}: ${stderr}`);
      assert(message.test(stderr), `message for ${args.join(" ")}: ${stderr}`);
      assert(stderr.includes("usage: deno task export"), "usage shown");
    }
    deepStrictEqual([...Deno.readDirSync(out)], [], "no file written");
  } finally {
    await rec.cleanup();
    await Deno.remove(out, { recursive: true });
  }
});

/** The python3 on PATH, if it has pandas with a Parquet engine. */
async function pandasPython(): Promise<string | undefined> {
  const python = Deno.env.get("PYTHON") ?? "python3";
  try {
    const out = await new Deno.Command(python, {
      args: ["-c", "import pandas, pyarrow"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.code === 0 ? python : undefined;
  } catch {
    return undefined;
  }
}

const python = await pandasPython();
if (!python) {
  console.log(
    "export parquet with pandas: skipped (python3 with pandas and pyarrow not available)",
  );
}

Deno.test({
  name: "export parquet: pandas reads the files directly (skipped without pandas + pyarrow)",
  ignore: python === undefined,
  async fn() {
    const rec = await makeRecording(3);
    const out = await Deno.makeTempDir({ prefix: "export-pandas-" });
    try {
      const { code, stderr } = await runTask("export", [
        "--dir",
        rec.dir,
        ...range,
        "--format",
        "parquet",
        "--out",
        out,
        "--symbols",
        "ETHUSDT",
        "--channels",
        "trade",
      ]);
      equal(code, 0, stderr);
      const script = [
        "import sys, json, pandas as pd",
        "df = pd.read_parquet(sys.argv[1])",
        "print(json.dumps({'rows': len(df), 'dtypes': {k: str(v) for k, v in df.dtypes.items()},",
        "  'first': [df['timestamp'].iloc[0].isoformat(), float(df['price'].iloc[0]), df['side'].iloc[0]]}))",
      ].join("\n");
      const result = await new Deno.Command(python!, {
        args: ["-c", script, join(out, "binance_trades_ETHUSDT.parquet")],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(result.code, 0, new TextDecoder().decode(result.stderr));
      const got = JSON.parse(new TextDecoder().decode(result.stdout));
      const trades = tradesOf(rec.recorded, "binance", "ETHUSDT");
      equal(got.rows, trades.length);
      assert(String(got.dtypes.timestamp).startsWith("datetime64[ms"), got.dtypes.timestamp);
      equal(got.dtypes.price, "float64");
      equal(got.first[1], trades[0].price);
      equal(got.first[2], trades[0].side);
    } finally {
      await rec.cleanup();
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("parquet writer: a long table is written in bounded row groups and reads back whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "export-groups-" });
  try {
    const path = join(dir, "t.parquet");
    const writer = await openTableWriter("parquet", path, TRADES.columns);
    const n = 2 * ROW_GROUP_ROWS + 7;
    for (let i = 0; i < n; i++) {
      await writer.append([
        START + i,
        START + i + 1,
        100 + i / 100,
        i,
        i % 2 ? "buy" : "sell",
        `T${i}`,
      ]);
    }
    equal(await writer.close(), n);
    const file = (await Deno.readFile(path)).buffer;
    equal(parquetMetadata(file).row_groups.length, 3);
    const rows = await parquetReadObjects({ file, rowStart: n - 2 });
    deepStrictEqual(
      rows,
      [n - 2, n - 1].map((i) => ({
        timestamp: new Date(START + i),
        receive_time: new Date(START + i + 1),
        price: 100 + i / 100,
        quantity: i,
        side: i % 2 ? "buy" : "sell",
        trade_id: `T${i}`,
      })),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export memory: writers holding too many rows together spill the largest first", () => {
  const held = [MAX_BUFFERED_ROWS * 0.6, MAX_BUFFERED_ROWS * 0.3, MAX_BUFFERED_ROWS * 0.25];
  const spilled: number[] = [];
  const writers = held.map((n, i) => ({
    buffered: () => held[i],
    spill: () => {
      spilled.push(i);
      held[i] = 0;
    },
    append: () => Promise.resolve(),
    close: () => Promise.resolve(n),
  }));
  boundBuffers(writers);
  deepStrictEqual(spilled, [0, 1], "the two largest spill until at most half the bound is held");
  boundBuffers(writers);
  deepStrictEqual(spilled, [0, 1], "under the bound nothing spills");
});

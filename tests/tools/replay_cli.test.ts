/**
 * `deno task replay`: run as a user runs it, on a recording made here; the NDJSON
 * lines are the frames a live client gets (same text), books rebuilt from the
 * book frames equal the recorded book, and line for line the frames a `/replay`
 * client at `max` gets (one pipeline); bad arguments exit with 2 and a message.
 */
import assert, { deepStrictEqual, equal } from "node:assert/strict";
import type { BookUpdate, Level } from "../../core/events.ts";
import type { RecordedItem } from "../../core/history/mod.ts";
import {
  applySnapshot,
  applyUpdate,
  createBook,
  type OrderBook,
  topN,
} from "../../core/books/book.ts";
import { gapFrame, streamEventFrame } from "../../core/protocol/frames.ts";
import { makeRecording, runTask, START } from "./helpers.ts";
import { connect } from "../helpers.ts";
import { binanceFeed, flat, isState, recordingGateway } from "../replay/helpers.ts";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/** Unified names from the recorded instrument lists. */
function unifiedNames(recorded: RecordedItem[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const { exchange, item } of recorded) {
    if (item.type !== "instruments") continue;
    for (const i of item.instruments) names.set(`${exchange}|${i.symbol}`, i.unified);
  }
  return names;
}

/** A client's book: snapshot frames replace it, delta frames set absolute quantities. */
function applyFrame(book: Map<string, Map<number, number>[]>, frame: Record<string, unknown>) {
  const key = `${frame.exchange}|${frame.symbol}`;
  if (frame.snapshot) book.set(key, [new Map(), new Map()]);
  const sides = book.get(key);
  assert(sides, `a delta of ${key} arrived before its snapshot`);
  (["bids", "asks"] as const).forEach((name, s) => {
    for (const [p, q] of frame[name] as Level[]) {
      if (q === 0) sides[s].delete(p);
      else sides[s].set(p, q);
    }
  });
}

const levelsOf = (side: Map<number, number>, bids: boolean): Level[] =>
  [...side].sort((a, b) => bids ? b[0] - a[0] : a[0] - b[0]);

/** The true books after the recorded items up to and including `until` (receive time). */
function trueBooks(recorded: RecordedItem[], until: number): Map<string, OrderBook> {
  const books = new Map<string, OrderBook>();
  for (const { exchange, item, receiveTime } of recorded) {
    if (receiveTime > until) break;
    if (item.type !== "book") continue;
    const key = `${exchange}|${item.symbol}`;
    let book = books.get(key);
    if (!book) books.set(key, book = createBook());
    const u = item as BookUpdate;
    if (u.snapshot) applySnapshot(book, u.bids, u.asks, u.updateId);
    else applyUpdate(book, u);
  }
  return books;
}

Deno.test("replay: NDJSON of the live wire frames, in hub order, books equal the recorded book", async () => {
  const rec = await makeRecording(10);
  try {
    const { code, stdout, stderr } = await runTask("replay", [
      "--dir",
      rec.dir,
      "--from",
      iso(START),
      "--to",
      String(START + 60_000),
    ]);
    equal(code, 0, stderr);
    equal(stderr, "", "no progress bar when stderr is not a terminal");
    const lines = stdout.trimEnd().split("\n");
    const frames = lines.map((l) => JSON.parse(l));
    // The replay's own status frames, as on ws://…/replay?speed=max (core/protocol/frames.ts).
    deepStrictEqual(frames[0], {
      type: "status",
      state: "replay_start",
      replay: true,
      from: START,
      to: START + 60_000,
      speed: "max",
    });
    deepStrictEqual(frames.at(-1), {
      type: "status",
      state: "replay_end",
      replay: true,
      from: START,
      to: START + 60_000,
      speed: "max",
      seq: rec.recorded.at(-1)!.seq,
    });

    // Trades, quotes and gaps: the exact text a live client without raw gets, in recorded order,
    // at their recorded positions (`pos`), `prev` chained per stream from the replay's start.
    const unified = unifiedNames(rec.recorded);
    const expected: string[] = [];
    const lastOfStream = new Map<string, number>();
    const at = (stream: string, seq: number) => {
      const prev = lastOfStream.get(stream) ?? 0;
      lastOfStream.set(stream, seq);
      return { pos: seq, prev };
    };
    for (const { seq, exchange, item } of rec.recorded) {
      if (item.type === "trade" || item.type === "quote") {
        expected.push(
          streamEventFrame(
            item,
            false,
            unified.get(`${exchange}|${item.symbol}`),
            at(`${item.type}|${exchange}|${item.symbol}`, seq),
          ),
        );
      } else if (item.type === "gap") {
        expected.push(gapFrame(item, at(`trade|${exchange}|${item.symbol}`, seq)));
      }
    }
    const got = lines.filter((_line, i) => ["trade", "quote", "gap"].includes(frames[i].type));
    equal(got.length, expected.length, "one line per recorded trade, quote and gap");
    for (let i = 0; i < got.length; i++) equal(got[i], expected[i], `line ${i}`);
    assert(got.some((l) => l.includes('"unified":"BTC/USDT"')), "unified names from instruments");

    // Feed and book status changes where they happened, marked as replayed.
    const statuses = frames.filter((f) => f.type === "status" && f.exchange !== undefined);
    assert(statuses.every((f) => f.replay === true), "recorded status frames say replay: true");
    deepStrictEqual(
      statuses.map((f) => `${f.exchange} ${f.channel ?? "feed"} ${f.state}`),
      [
        "binance feed connected",
        "binance book synced",
        "binance book synced",
        "kraken feed reconnecting",
        "kraken feed connected",
        "binance book resyncing",
        "binance book synced",
      ],
    );

    // Books: a client applying the frames holds the recorded book's top 20 at the end,
    // and each view numbers its deltas 1, 2, 3, ... after each snapshot.
    const client = new Map<string, Map<number, number>[]>();
    const seqs = new Map<string, number>();
    for (const f of frames.filter((f) => f.type === "book")) {
      equal(f.depth, 20);
      const key = `${f.exchange}|${f.symbol}`;
      if (!f.snapshot) equal(f.seq, (seqs.get(key) ?? -1) + 1, `${key} delta numbering`);
      seqs.set(key, f.seq);
      applyFrame(client, f);
    }
    const truth = trueBooks(rec.recorded, Infinity);
    for (const [key, book] of truth) {
      const top = topN(book, 20);
      const sides = client.get(key);
      assert(sides, `book frames of ${key}`);
      deepStrictEqual(levelsOf(sides[0], true), top.bids, `${key} bids`);
      deepStrictEqual(levelsOf(sides[1], false), top.asks, `${key} asks`);
    }
  } finally {
    await rec.cleanup();
  }
});

Deno.test("replay: a window in the middle starts each book with its snapshot at --from; filters and --raw", async () => {
  const rec = await makeRecording(10);
  try {
    const from = START + 4_000, to = START + 6_000;
    const { code, stdout, stderr } = await runTask("replay", [
      "--dir",
      rec.dir,
      "--from",
      String(from),
      "--to",
      iso(to),
      "--symbols",
      "BTC/USDT",
      "--channels",
      "trade,book",
      "--depth",
      "5",
      "--raw",
    ]);
    equal(code, 0, stderr);
    const frames = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    const data = frames.filter((f) => f.type !== "status");
    assert(data.length > 20, `expected trades and book frames, got ${data.length}`);
    for (const f of data) {
      equal(f.symbol, "BTCUSDT", "only the symbol asked for (given as its unified name)");
      assert(f.type === "trade" || f.type === "book", `only trade and book frames: ${f.type}`);
    }
    const first = data.find((f) => f.type === "book");
    equal(first.snapshot, true, "the first book frame is a snapshot");
    const before = topN(trueBooks(rec.recorded, from - 1).get("binance|BTCUSDT")!, 5);
    deepStrictEqual({ bids: first.bids, asks: first.asks }, before, "the book as it was at --from");

    const trades = rec.recorded.filter((r) =>
      r.item.type === "trade" && r.item.symbol === "BTCUSDT" && r.receiveTime >= from &&
      r.receiveTime <= to
    );
    const tradeFrames = data.filter((f) => f.type === "trade");
    equal(tradeFrames.length, trades.length, "every trade of the window");
    for (let i = 0; i < trades.length; i++) {
      const item = trades[i].item as { raw?: unknown; tradeId: unknown };
      equal(tradeFrames[i].tradeId, item.tradeId);
      deepStrictEqual(tradeFrames[i].raw, item.raw, "raw payload included with --raw");
    }
  } finally {
    await rec.cleanup();
  }
});

Deno.test("replay --analytics: the analytics frames a live client of those figures gets, from the recorded trades and books", async () => {
  const rec = await makeRecording(6);
  try {
    const { code, stdout, stderr } = await runTask("replay", [
      ...["--dir", rec.dir, "--from", iso(START), "--to", iso(START + 6_000)],
      ...["--symbols", "BTCUSDT", "--channels", "trade", "--analytics", "flow,vpin"],
      ...["--analytics-interval-ms", "500", "--vpin-bucket-volume", "0.5"],
    ]);
    equal(code, 0, stderr);
    const frames = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    const analytics = frames.filter((f) => f.type === "analytics");
    assert(analytics.length >= 5, `analytics frames over 6 s at ≤ 2/s: ${analytics.length}`);
    for (let i = 0; i < analytics.length; i++) {
      const f = analytics[i];
      deepStrictEqual(Object.keys(f), [
        "type",
        "exchange",
        "symbol",
        "unified",
        "time",
        "vpin",
        "flow",
      ]);
      if (i > 0) assert(f.time - analytics[i - 1].time >= 500, "at most one frame per 500 ms");
      assert(f.vpin !== null, "VPIN computed with --vpin-bucket-volume");
    }
    // The 1 s VWAP of each frame is that of the replayed trades in (time − 1000, time].
    const last = analytics.at(-1);
    const trades = frames.filter((f) =>
      f.type === "trade" && f.eventTime > last.time - 1000 && f.eventTime <= last.time
    );
    const volume = trades.reduce((s, t) => s + t.quantity, 0);
    const vwap = trades.reduce((s, t) => s + t.price * t.quantity, 0) / volume;
    assert(Math.abs(last.flow.windows[0].vwap - vwap) < 1e-9 * vwap, "VWAP of the replayed trades");
  } finally {
    await rec.cleanup();
  }
});

Deno.test("replay: bad arguments exit with code 2 and say what is wrong", async () => {
  const rec = await makeRecording(2);
  try {
    const base = ["--dir", rec.dir, "--from", iso(START), "--to", iso(START + 1000)];
    const cases: [string[], RegExp][] = [
      [["--from", iso(START), "--to", iso(START + 1)], /--dir <recording folder> is required/],
      [["--dir", `${rec.dir}/nope`, "--from", "1", "--to", "2"], /no such folder/],
      [["--dir", rec.dir, "--to", "2"], /--from <time> is required/],
      [["--dir", rec.dir, "--from", "yesterday", "--to", "2"], /--from must be an ISO 8601 time/],
      [
        ["--dir", rec.dir, "--from", iso(START + 1000), "--to", iso(START)],
        /--to .* is before --from/,
      ],
      [[...base, "--channels", "trades"], /unknown channel "trades"/],
      [[...base, "--symbols", "DOGEUSDT"], /DOGEUSDT is not in the recording/],
      [[...base, "--exchanges", "bitmex"], /bitmex is not in the recording/],
      [[...base, "--depth", "0"], /--depth must be an integer 1\.\.1000/],
      [["--dir", rec.dir, "--from", iso(Date.now() + 3_600_000)], /--from .* is in the future/],
      [[...base, "--speed", "2"], /Unknown option '--speed'/],
      [[...base, "--analytics", "ofi,magic"], /--analytics: unknown figure\(s\) magic/],
      [[...base, "--vpin-bucket-volume", "5"], /go with --analytics/],
      [[...base, "--analytics", "vpin", "--vpin-bucket-volume=-1"], /positive number/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await runTask("replay", args);
      equal(code, 2, `exit code for ${args.join(" ")}: ${stderr}`);
      assert(message.test(stderr), `message for ${args.join(" ")}: ${stderr}`);
      assert(stderr.includes("usage: deno task replay"), "usage shown");
      equal(stdout, "", "nothing on stdout");
    }
  } finally {
    await rec.cleanup();
  }
});

/** `script` (util-linux) runs a command on a pseudo-terminal. */
const hasScript = await new Deno.Command("script", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.code === 0, () => false);

Deno.test({
  name: "replay: a progress bar on stderr when it is a terminal (skipped without `script`)",
  ignore: !hasScript,
  async fn() {
    const rec = await makeRecording(3);
    try {
      const root = new URL("../../", import.meta.url).pathname;
      const command = [
        Deno.execPath(),
        "task --config deno.json -q replay --",
        `--dir ${rec.dir} --from ${START} --to ${START + 3_000} > /dev/null`,
      ].join(" ");
      const out = await new Deno.Command("script", {
        args: ["-qec", command, "/dev/null"],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
        env: { TERM: "xterm" },
      }).output();
      const screen = new TextDecoder().decode(out.stdout);
      equal(out.code, 0, screen + new TextDecoder().decode(out.stderr));
      assert(/replay \|.*\| 100% \|/.test(screen), `progress bar on the terminal: ${screen}`);
      assert(screen.includes(" items"), "item count shown");
    } finally {
      await rec.cleanup();
    }
  },
});

Deno.test("replay: the lines are, frame for frame, what a /replay client at max gets (Binance emulator, books, raw)", async () => {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 7, tickMs: 20 });
  const rec = await recordingGateway([binanceFeed(emu, ["BTCUSDT", "ETHUSDT"])]);
  try {
    const subscribe = {
      action: "subscribe",
      symbols: ["BTCUSDT"],
      channels: ["trade", "quote", "book"],
      depth: 10,
      raw: true,
    };
    // A live client for a while; the window is the middle of what it saw.
    const live = await connect(rec.gateway);
    live.send(subscribe);
    await live.until(
      (fs) => fs.filter((f) => f.type === "book" && f.snapshot === false).length >= 80,
      20_000,
      "80 live book deltas",
    );
    const deltas = live.frames.filter((f) => f.type === "book" && f.snapshot === false);
    const from = deltas[10].receiveTime as number;
    const to = (deltas.at(-10)!.receiveTime as number) - 1;
    await live.close();
    await rec.source.flush();

    const replay = await connect(rec.gateway, `/replay?from=${from}&to=${to}&speed=max`);
    replay.send(subscribe);
    await replay.until((fs) => flat(fs).some(isState("replay_end")), 20_000, "replay_end");
    const frames = flat(replay.frames);
    const start = frames.findIndex(isState("replay_start"));
    const expected = frames.slice(start, frames.findIndex(isState("replay_end")) + 1);
    await replay.close();

    // The same subscription as flags.
    const flags = `--symbols BTCUSDT --channels trade,quote,book --depth 10 --raw`.split(" ");
    const { code, stdout, stderr } = await runTask("replay", [
      ...["--dir", rec.dir, "--from", String(from), "--to", iso(to)],
      ...flags,
    ]);
    equal(code, 0, stderr);
    const got = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    const types = (fs: Record<string, unknown>[]) => new Set(fs.map((f) => f.type));
    deepStrictEqual(types(expected), new Set(["status", "book", "trade", "quote"]));
    assert(expected.some((f) => f.type === "book" && f.snapshot === false), "book deltas");
    assert(expected.some((f) => f.type === "trade" && f.raw !== undefined), "raw payloads");
    equal(got.length, expected.length, "as many lines as the /replay client got frames");
    for (let i = 0; i < got.length; i++) deepStrictEqual(got[i], expected[i], `line ${i}`);
  } finally {
    await rec.close();
    await emu.close();
  }
});

Deno.test("replay: without --to, up to now, ending with replay_end", async () => {
  const rec = await makeRecording(3);
  try {
    const before = Date.now();
    const open = await runTask("replay", ["--dir", rec.dir, "--from", iso(START)]);
    const bounded = await runTask("replay", [
      "--dir",
      rec.dir,
      "--from",
      iso(START),
      "--to",
      iso(START + 60_000),
    ]);
    equal(open.code, 0, open.stderr);
    const lines = open.stdout.trimEnd().split("\n");
    const first = JSON.parse(lines[0]), last = JSON.parse(lines.at(-1)!);
    equal(first.state, "replay_start");
    assert(first.to >= before && first.to <= Date.now(), `to is the time it ran: ${first.to}`);
    deepStrictEqual(last, { ...first, state: "replay_end", seq: rec.recorded.at(-1)!.seq });
    deepStrictEqual(
      lines.slice(1, -1),
      bounded.stdout.trimEnd().split("\n").slice(1, -1),
      "the same frames as with a --to past the recording",
    );
  } finally {
    await rec.cleanup();
  }
});

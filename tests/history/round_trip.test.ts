import assert, { deepStrictEqual, equal } from "node:assert/strict";
import { createRecorder, openHistory, type RecordedItem } from "../../core/history/mod.ts";
import { generateStream, type HubItem } from "./fixture_stream.ts";

const START = Date.UTC(2026, 11, 7, 23, 59, 40);

/** Records `items` in hub order into a fresh folder; returns the folder and the items with seqs. */
function recordAll(items: HubItem[], dir: string): RecordedItem[] {
  const recorder = createRecorder({ dir, snapshotEvery: 200 });
  const recorded: RecordedItem[] = [];
  for (const it of items) {
    const seq = recorder.record(it);
    recorded.push({
      seq,
      exchange: it.exchange,
      receiveTime: it.receiveTime,
      item: it.item as RecordedItem["item"],
    });
  }
  recorder.close();
  const stats = recorder.stats();
  equal(stats.dropped, 0, "nothing dropped");
  equal(stats.errors, 0, `no write errors (${stats.lastError?.message})`);
  equal(stats.written, items.length, "every item written");
  return recorded;
}

Deno.test("history round trip: every item comes back equal, field for field, in hub order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "history-rt-" });
  try {
    // 40 s across midnight UTC: two day files.
    const { items } = generateStream({ start: START, seconds: 40 });
    const recorded = recordAll(items, dir);
    const history = openHistory(dir);
    const back: RecordedItem[] = [];
    for await (const rec of history.events({ from: 0, to: 8.64e15 })) back.push(rec);
    equal(back.length, recorded.length, "same number of items");
    for (let i = 0; i < back.length; i++) deepStrictEqual(back[i], recorded[i], `item ${i}`);
    // Seq strictly increasing across exchanges.
    for (let i = 1; i < back.length; i++) assert(back[i].seq > back[i - 1].seq);
    const catalog = history.catalog();
    equal(catalog.days.length, 2, "one file per UTC day");
    assert(catalog.streams.some((s) => s.exchange === "kraken" && s.kind === "trade"));
    deepStrictEqual(history.problems(), { corruptBlocks: 0, unreadableDays: 0 });
    history.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history filters: one exchange and channel, a time window, trades of one symbol", async () => {
  const dir = await Deno.makeTempDir({ prefix: "history-filter-" });
  try {
    const { items } = generateStream({ start: START, seconds: 30 });
    const recorded = recordAll(items, dir);
    const history = openHistory(dir);
    const from = START + 7_000, to = START + 23_000;
    const expected = recorded.filter((r) =>
      r.exchange === "binance" && r.item.type === "trade" && r.receiveTime >= from &&
      r.receiveTime <= to && r.item.symbol === "ETHUSDT"
    ).map((r) => r.item);
    const trades = [];
    for await (const t of history.trades("binance", "ETHUSDT", from, to)) trades.push(t);
    assert(expected.length > 100, "the window holds trades");
    deepStrictEqual(trades, expected);

    const books = [];
    for await (
      const r of history.events({
        from,
        to,
        exchanges: ["binance"],
        channels: ["book"],
        markers: false,
      })
    ) books.push(r);
    deepStrictEqual(
      books,
      recorded.filter((r) =>
        r.exchange === "binance" && r.item.type === "book" && r.receiveTime >= from &&
        r.receiveTime <= to
      ),
    );
    history.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

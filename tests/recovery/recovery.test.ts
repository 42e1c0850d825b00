/**
 * Positions and client recovery on a live gateway (scripted feed): every trade and quote
 * frame carries `pos` (the gateway's position of the item) and `prev` (the position of the
 * stream's previous item), and a client that reconnects with `since` (the highest `pos` it
 * got) and the `epoch` gets what it missed from the recent log, then live, with no gap and
 * no duplicate, closed by a `recovered` frame.
 */
import assert from "node:assert/strict";
import {
  connect,
  gatewayWith,
  getJson,
  scriptedFeed,
  type TestClient,
  waitFor,
} from "../helpers.ts";
import type { Gateway } from "../../core/server/gateway.ts";

type Frame = Record<string, unknown>;

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

const isTrade = (f: Frame) => f.type === "trade";
const streamOf = (f: Frame) => `${f.type === "gap" ? "trade" : f.type}|${f.symbol}`;

/** Checks that each stream's frames chain: every `prev` is the `pos` before it on that stream. */
function assertChained(frames: Frame[], lastPos: Map<string, number> = new Map()): void {
  for (const f of frames) {
    if (typeof f.pos !== "number") continue;
    const stream = streamOf(f);
    const before = lastPos.get(stream);
    if (before !== undefined) {
      assert.equal(f.prev, before, `${stream}: prev of pos ${f.pos} is the pos before it`);
    }
    lastPos.set(stream, f.pos);
  }
}

/** Checks that trade ids of each symbol run on without a hole or a repeat, from `after`. */
function assertConsecutive(trades: Frame[], after: Map<string, number> = new Map()): void {
  for (const t of trades) {
    const symbol = t.symbol as string;
    const last = after.get(symbol);
    if (last !== undefined) {
      assert.equal(t.tradeId, last + 1, `${symbol}: trade ${t.tradeId} follows ${last}`);
    }
    after.set(symbol, t.tradeId as number);
  }
}

/** Per symbol, the last trade id and pos a client got. */
function lastTrades(frames: Frame[]): { ids: Map<string, number>; pos: Map<string, number> } {
  const ids = new Map<string, number>();
  const pos = new Map<string, number>();
  for (const f of frames.filter(isTrade)) {
    ids.set(f.symbol as string, f.tradeId as number);
    pos.set(`trade|${f.symbol}`, f.pos as number);
  }
  return { ids, pos };
}

/** Trades the gateway handled per symbol, counted by a hub tap. */
function countTrades(gateway: Gateway): { count(symbol: string): number; stop(): void } {
  const counts = new Map<string, number>();
  const stop = gateway.taps.add(({ item }) => {
    if (item.type === "trade") counts.set(item.symbol, (counts.get(item.symbol) ?? 0) + 1);
  });
  return { count: (symbol) => counts.get(symbol) ?? 0, stop };
}

/** Subscribes to trades of SYMBOLS, waits for the ack; returns it. */
async function subscribeTrades(client: TestClient, extra: Frame = {}): Promise<Frame> {
  client.send({ action: "subscribe", id: "s", symbols: SYMBOLS, channels: ["trade"], ...extra });
  return await client.next((f) => f.type === "subscribed" || f.type === "error", 5000, 0);
}

Deno.test("positions: trade and quote frames carry pos and prev, chained per stream", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)]);
  const a = await connect(gateway);
  const b = await connect(gateway);
  try {
    a.send({ action: "subscribe", symbols: SYMBOLS, channels: ["trade", "quote"] });
    b.send({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade"] });
    await a.until((fs) => fs.filter(isTrade).length >= 40, 5000, "40 trades");
    await b.until((fs) => fs.filter(isTrade).length >= 10, 5000, "10 trades");

    const ack = a.frames.find((f) => f.type === "subscribed")!;
    assert.equal(typeof ack.epoch, "string", "subscribed names the epoch");
    const status = a.frames.find((f) => f.type === "status")!;
    assert.equal(status.epoch, ack.epoch, "the feed status carries the same epoch");

    const data = a.frames.filter((f) => f.type === "trade" || f.type === "quote");
    for (const f of data) {
      assert.equal(typeof f.pos, "number", `${f.type} has pos`);
      assert.equal(typeof f.prev, "number", `${f.type} has prev`);
      assert.ok((f.prev as number) < (f.pos as number), "prev is an earlier position");
    }
    const positions = data.map((f) => f.pos as number);
    assert.deepEqual(positions, [...positions].sort((x, y) => x - y), "pos increases");
    assert.equal(new Set(positions).size, positions.length, "every item its own pos");
    assertChained(data);

    // A position belongs to the item, not the connection: both clients see the same one.
    const posById = new Map(
      data.filter((f) => f.type === "trade" && f.symbol === "BTCUSDT")
        .map((f) => [f.tradeId, f.pos]),
    );
    const shared = b.frames.filter(isTrade).filter((f) => posById.has(f.tradeId));
    assert.ok(shared.length > 0, "the clients share trades");
    for (const f of shared) assert.equal(f.pos, posById.get(f.tradeId), `trade ${f.tradeId}`);
  } finally {
    await a.close();
    await b.close();
    await gateway.close();
  }
});

Deno.test("recovery: a client back after 5 s gets every missed trade once, in order, then live", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)]);
  const tally = countTrades(gateway);
  const watcher = await connect(gateway);
  try {
    // A second client stays connected throughout: the other's recovery must not disturb it.
    await subscribeTrades(watcher);

    const first = await connect(gateway);
    const ack = await subscribeTrades(first);
    await first.until((fs) => fs.filter(isTrade).length >= 20, 5000, "20 trades");
    await first.close();
    const seen = first.frames.filter(isTrade);
    const since = Math.max(...seen.map((f) => f.pos as number));
    const before = lastTrades(first.frames);

    // Missed while away: 5 s of trades at one per 20 ms tick per symbol.
    const base = SYMBOLS.map((s) => tally.count(s));
    await waitFor(
      () => SYMBOLS.every((s, i) => tally.count(s) - base[i] >= 250),
      15_000,
      "250 more trades per symbol (5 s) while the client is away",
    );

    const back = await connect(gateway);
    const ack2 = await subscribeTrades(back, { since, epoch: ack.epoch });
    assert.equal(ack2.type, "subscribed");
    const recoveredAt = await back.indexOf((f) => f.type === "recovered", 5000, 0);
    await back.until(
      (fs) => fs.slice(recoveredAt).filter(isTrade).length >= 20,
      5000,
      "20 live trades after recovered",
    );
    const recovered = back.frames[recoveredAt];
    const replayed = back.frames.slice(0, recoveredAt).filter(isTrade);
    const live = back.frames.slice(recoveredAt).filter(isTrade);

    // Every trade after `since`, exactly once, in order, then live: ids and positions.
    assert.ok(replayed.length >= 500, `${replayed.length} missed trades recovered`);
    for (const symbol of SYMBOLS) {
      const mine = replayed.filter((f) => f.symbol === symbol);
      assert.equal(mine[0].tradeId, before.ids.get(symbol)! + 1, `${symbol}: resumes after`);
      assert.equal(mine[0].prev, before.pos.get(`trade|${symbol}`), `${symbol}: prev links up`);
    }
    const all = [...replayed, ...live];
    assertConsecutive(all, new Map(before.ids));
    assertChained(all, new Map(before.pos));
    const positions = all.map((f) => f.pos as number);
    assert.deepEqual(positions, [...positions].sort((x, y) => x - y), "pos order");
    assert.ok(positions[0] > since, "nothing at or before since");
    assert.ok(!back.frames.some((f) => f.type === "gap"), "no gap");

    assert.equal(recovered.id, "s");
    assert.equal(recovered.since, since);
    assert.equal(recovered.epoch, ack.epoch);
    assert.ok((recovered.pos as number) >= (replayed.at(-1)!.pos as number));
    assert.ok((live[0].pos as number) > (recovered.pos as number), "live continues after pos");
    assert.deepEqual(
      (recovered.streams as Frame[]).map((s) => ({ ...s })),
      SYMBOLS.map((symbol) => ({
        exchange: "scripted",
        channel: "trade",
        symbol,
        frames: replayed.filter((f) => f.symbol === symbol).length,
        complete: true,
      })),
    );

    // The watcher's stream ran on through the recovery without a hole or a repeat.
    await watcher.until(
      (fs) => fs.some((f) => isTrade(f) && (f.pos as number) > (live.at(-1)!.pos as number)),
      5000,
      "the watcher passes the recovered client's last trade",
    );
    const watched = watcher.frames.filter(isTrade);
    assertConsecutive(watched);
    assertChained(watched);
    await back.close();
  } finally {
    tally.stop();
    await watcher.close();
    await gateway.close();
  }
});

Deno.test("recovery: since older than the recent log gives an exact gap, then what is held", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)], { recoveryMaxPerStream: 30 });
  const history = new Map<number, { symbol: string; tradeId: number }>();
  const stop = gateway.taps.add(({ seq, item }) => {
    if (item.type === "trade") {
      history.set(seq, { symbol: item.symbol, tradeId: item.tradeId as number });
    }
  });
  try {
    const first = await connect(gateway);
    const ack = await subscribeTrades(first);
    await first.until((fs) => fs.filter(isTrade).length >= 6, 5000, "6 trades");
    await first.close();
    const since = Math.max(...first.frames.filter(isTrade).map((f) => f.pos as number));
    await waitFor(
      () => [...history.keys()].filter((seq) => seq > since).length >= 200,
      10_000,
      "100 more trades per symbol (more than the 30 held per stream)",
    );

    const back = await connect(gateway);
    await subscribeTrades(back, { since, epoch: ack.epoch });
    const recoveredAt = await back.indexOf((f) => f.type === "recovered", 5000, 0);
    const recovered = back.frames[recoveredAt];
    for (const symbol of SYMBOLS) {
      const gapAt = back.frames.findIndex((f) => f.type === "gap" && f.symbol === symbol);
      const tradesAt = back.frames.findIndex((f) => isTrade(f) && f.symbol === symbol);
      assert.ok(gapAt >= 0 && gapAt < tradesAt, `${symbol}: the gap comes before its trades`);
      const gap = back.frames[gapAt];
      const held = back.frames.slice(0, recoveredAt).filter((f) =>
        isTrade(f) && f.symbol === symbol
      );
      assert.equal(held.length, 30, `${symbol}: the 30 held trades`);
      assert.deepEqual(gap, {
        type: "gap",
        exchange: "scripted",
        symbol,
        channel: "trade",
        reason: "recovery_window",
        fromPos: since + 1,
        toPos: held[0].prev,
        toId: (held[0].tradeId as number) - 1,
      });
      // toPos/toId name the last lost trade exactly.
      assert.deepEqual(history.get(gap.toPos as number), { symbol, tradeId: gap.toId });
      assertConsecutive(held);
      assertChained(held);
      const stream = (recovered.streams as Frame[]).find((s) => s.symbol === symbol)!;
      assert.equal(stream.frames, 30);
      assert.equal(stream.complete, false);
    }
    await back.close();
  } finally {
    stop();
    await gateway.close();
  }
});

Deno.test("recovery: a since from another epoch gets epoch_changed gaps, then live", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)]);
  const client = await connect(gateway);
  try {
    await subscribeTrades(client, { since: 5, epoch: "an-older-epoch" });
    const recoveredAt = await client.indexOf((f) => f.type === "recovered", 5000, 0);
    const gaps = client.frames.slice(0, recoveredAt).filter((f) => f.type === "gap");
    assert.deepEqual(
      gaps,
      SYMBOLS.map((symbol) => ({
        type: "gap",
        exchange: "scripted",
        symbol,
        channel: "trade",
        reason: "epoch_changed",
      })),
    );
    assert.ok(!client.frames.slice(0, recoveredAt).some(isTrade), "nothing from the old epoch");
    const recovered = client.frames[recoveredAt];
    assert.notEqual(recovered.epoch, "an-older-epoch");
    assert.ok((recovered.streams as Frame[]).every((s) => s.complete === false && s.frames === 0));
    await client.until(
      (fs) => fs.slice(recoveredAt).filter(isTrade).length >= 5,
      5000,
      "live trades",
    );
  } finally {
    await client.close();
    await gateway.close();
  }
});

Deno.test("recovery: a bad since or epoch is an invalid_request error and the connection stays open", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)]);
  const client = await connect(gateway);
  try {
    for (
      const [i, bad] of [{ since: -1 }, { since: 1.5 }, { since: "7" }, { epoch: "" }].entries()
    ) {
      client.send({ action: "subscribe", id: i, symbols: ["BTCUSDT"], ...bad });
      const error = await client.next((f) => f.type === "error" && f.id === i);
      assert.equal(error.code, "invalid_request", JSON.stringify(bad));
      assert.match(error.message as string, /^(since|epoch): must be/);
    }
    client.send({ action: "ping", id: "p" });
    await client.next((f) => f.type === "pong" && f.id === "p");
    assert.ok(!client.frames.some((f) => f.type === "subscribed"), "nothing was subscribed");
  } finally {
    await client.close();
    await gateway.close();
  }
});

Deno.test("/health shows the recent log's bounds and how many items it holds, within them", async () => {
  const gateway = await gatewayWith([scriptedFeed(SYMBOLS)], {
    recoveryMaxPerStream: 30,
    recoverySeconds: 120,
  });
  try {
    // Two symbols × (trade + quote) streams, each capped at 30 items.
    let recovery = { seconds: 0, maxPerStream: 0, items: 0 };
    await waitFor(
      async () => {
        recovery = (await getJson(gateway, "/health")).body.recovery as typeof recovery;
        return recovery.items >= 4 * 30;
      },
      10_000,
      "the recent log full (4 streams × 30 items)",
    );
    assert.equal(recovery.seconds, 120);
    assert.equal(recovery.maxPerStream, 30);
    assert.equal(recovery.items, 4 * 30, "never more than 30 per stream");
  } finally {
    await gateway.close();
  }
});

/**
 * `/replay` over a recorded scripted feed: the replay of a window yields exactly the
 * data frames a live client with the same subscription received in it, paced by
 * `speed`, ending with `replay_end`; bad queries and a gateway without a recording
 * are refused before the upgrade.
 *
 * Frames that differ by nature and are not compared: `subscribed` (the same ack,
 * but sent when each client subscribed), `pong` (the gateway's clock), the feed
 * `status` a live client gets on subscribe (a replay has no feed state before its
 * first recorded status change), and the replay's own `status` frames.
 */
import assert from "node:assert/strict";
import {
  connect,
  gatewayWith,
  getJson,
  metricsText,
  metricValue,
  scriptedFeed,
  type TestClient,
  waitFor,
} from "../helpers.ts";
import { REPLAY_GRACE_MS } from "../../core/replay/session.ts";
import { DATA_TYPES, flat, isState, type RecordingGateway, recordingGateway } from "./helpers.ts";

const SUBSCRIBE = {
  action: "subscribe",
  id: 1,
  symbols: ["BTCUSDT"],
  channels: ["trade", "quote"],
};

/** Records a live client for ~`trades` trades; returns its data frames and the window. */
async function liveWindow(rec: RecordingGateway, trades: number) {
  const live = await connect(rec.gateway);
  live.send(SUBSCRIBE);
  const ack = await live.indexOf((f) => f.type === "subscribed", 5000, 0);
  const firstData = await live.indexOf((f) => DATA_TYPES.has(f.type as string), 5000, ack + 1);
  const from = live.frames[firstData].receiveTime as number;
  // The window ends at the receive time of the `trades`-th trade; frames up to it are compared.
  await live.until(
    (fs) => fs.filter((f) => f.type === "trade").length >= trades + 5,
    10_000,
    `${trades + 5} live trades`,
  );
  const to = live.frames.filter((f) => f.type === "trade")[trades - 1].receiveTime as number;
  const data = live.frames.slice(ack + 1).filter((f) =>
    DATA_TYPES.has(f.type as string) && (f.receiveTime as number) <= to
  );
  await live.close();
  await rec.source.flush();
  return { from, to, data };
}

/** Connects to `/replay` with `query` and subscribes like the live client. */
async function replayClient(rec: RecordingGateway, query: string): Promise<TestClient> {
  const client = await connect(rec.gateway, `/replay?${query}`);
  client.send(SUBSCRIBE);
  return client;
}

/** The data frames between `replay_start` and `replay_end`. */
function replayedData(client: TestClient): Record<string, unknown>[] {
  const frames = flat(client.frames);
  const start = frames.findIndex(isState("replay_start"));
  const end = frames.findIndex(isState("replay_end"));
  assert.ok(start >= 0 && end > start, "replay_start comes before replay_end");
  return frames.slice(start + 1, end).filter((f) => DATA_TYPES.has(f.type as string));
}

Deno.test("replay at max yields exactly the live client's frames, with and without batching", async () => {
  const rec = await recordingGateway([scriptedFeed(["BTCUSDT", "ETHUSDT"], { tickMs: 10 })]);
  try {
    const { from, to, data } = await liveWindow(rec, 60);
    // One quote per trade, except those the plugin Worker conflated while the hub lagged
    // (core/feed/outbox.ts): the hub never saw them, so no live client or replay has them.
    const count = (type: string) => data.filter((f) => f.type === type).length;
    const health = await getJson(rec.gateway, "/health");
    const feeds = health.body.feeds as { conflatedInWorker: number }[];
    assert.ok(
      count("trade") >= 60 && count("quote") >= count("trade") - feeds[0].conflatedInWorker,
      `live client got trades and quotes (${count("trade")} trades, ${count("quote")} quotes)`,
    );
    for (const batch of ["0", "1"]) {
      const replay = await replayClient(rec, `from=${from}&to=${to}&speed=max&batch=${batch}`);
      await replay.until((fs) => flat(fs).some(isState("replay_end")), 10_000, "replay_end");
      const frames = flat(replay.frames);
      assert.equal(frames[0].type, "subscribed", "the subscribe is acknowledged first");
      const start = frames.find(isState("replay_start"))!;
      assert.deepEqual(start, {
        type: "status",
        state: "replay_start",
        replay: true,
        from,
        to,
        speed: "max",
      });
      const feed = frames.find((f) => f.type === "status" && f.exchange === "scripted")!;
      assert.deepEqual(
        [feed.state, feed.emulator, feed.replay],
        ["connected", true, true],
        "the feed's state at from, marked as replayed",
      );
      const end = frames.find(isState("replay_end"))!;
      assert.equal(end.replay, true);
      assert.ok((end.seq as number) > 0, "replay_end names the last sequence number read");
      assert.deepEqual(replayedData(replay), data, `batch=${batch}: same frames, same order`);
      await replay.close();
    }
  } finally {
    await rec.close();
  }
});

Deno.test("replay is paced by receive time / speed and never runs ahead", async () => {
  const rec = await recordingGateway([scriptedFeed(["BTCUSDT"], { tickMs: 20 })]);
  try {
    const { from } = await liveWindow(rec, 10);
    // Record 2 s more, then replay those 2 s at speed 10 (~0.2 s).
    const to = from + 2000;
    const live = await connect(rec.gateway);
    live.send(SUBSCRIBE);
    await live.next((f) => f.type === "trade" && (f.receiveTime as number) > to, 10_000);
    await live.close();
    await rec.source.flush();

    const replay = await connect(rec.gateway, `/replay?from=${from}&to=${to}&speed=10`);
    const arrivals: number[] = [];
    replay.socket.addEventListener("message", () => arrivals.push(performance.now()));
    const subscribedAt = performance.now();
    replay.send(SUBSCRIBE);
    await replay.until((fs) => fs.some(isState("replay_end")), 10_000, "replay_end");
    const startIndex = replay.frames.findIndex(isState("replay_start"));
    const endIndex = replay.frames.findIndex(isState("replay_end"));
    // The replay's clock starts at the earliest REPLAY_GRACE_MS after the subscribe.
    const elapsed = arrivals[endIndex] - subscribedAt - REPLAY_GRACE_MS;
    console.log(`speed=10 over a 2 s window took ${elapsed.toFixed(0)} ms (+ the start grace)`);
    assert.ok(elapsed >= 198, `took ${elapsed} ms; 2 s at speed 10 is 200 ms`);
    assert.ok(elapsed < 1500, `took ${elapsed} ms; far slower than speed 10`);
    const data = replay.frames.map((f, i) => ({
      type: f.type,
      time: f.receiveTime as number,
      arrival: arrivals[i],
    })).slice(startIndex + 1, endIndex).filter((f) => f.type === "trade" || f.type === "quote");
    assert.equal(data[0].time, from, "the replay starts at from");
    let previous = 0;
    for (const { time, arrival } of data) {
      assert.ok(time >= previous, "receive times in recorded order");
      previous = time;
      // Never ahead of schedule: the replay's clock starts no earlier than the grace after
      // the subscribe (100 ms), so a frame can arrive no earlier than that plus its due time
      // (2 ms for timer granularity). Lateness is not asserted (a shared machine).
      const due = REPLAY_GRACE_MS + (time - from) / 10;
      assert.ok(
        arrival - subscribedAt >= due - 2,
        `frame at +${time - from} ms arrived ${
          arrival - subscribedAt
        } ms after the subscribe; due ${due}`,
      );
    }
    await replay.close();
  } finally {
    await rec.close();
  }
});

Deno.test("the replay connection speaks the /ws protocol: list, ping, errors", async () => {
  const rec = await recordingGateway([scriptedFeed(["BTCUSDT"])]);
  try {
    const { from, to } = await liveWindow(rec, 5);
    const replay = await connect(rec.gateway, `/replay?from=${from}&to=${to}&speed=max`);
    replay.send({ action: "subscribe", id: 9, symbols: ["NOPE"], channels: ["trade"] });
    const err = await replay.next((f) => f.type === "error");
    assert.equal(err.code, "unknown_symbol");
    assert.equal(err.id, 9);
    replay.send({ action: "ping", id: 2 });
    assert.equal((await replay.next((f) => f.type === "pong")).id, 2);
    replay.send(SUBSCRIBE);
    await replay.until((fs) => fs.some(isState("replay_end")), 10_000, "replay_end");
    // Once started, the selection is fixed: a new subscribe is refused, said so, not applied.
    const before = replay.frames.length;
    replay.send({ action: "subscribe", id: 4, symbols: ["BTCUSDT"], channels: ["kline"] });
    const fixed = await replay.next(
      (f) => f.type === "error",
      5000,
      before,
      "the error answering a subscribe after the start",
    );
    assert.equal(fixed.code, "replay_selection_fixed");
    assert.equal(fixed.id, 4);
    replay.send({ action: "list", id: 3 });
    const list = await replay.next((f) => f.type === "subscriptions");
    assert.deepEqual(list.subscriptions, [
      { exchange: "scripted", symbol: "BTCUSDT", channel: "trade", raw: true },
      { exchange: "scripted", symbol: "BTCUSDT", channel: "quote", raw: true },
    ]);
    assert.equal(
      replay.socket.readyState,
      WebSocket.OPEN,
      "the connection stays open after the end",
    );
    await replay.close();
  } finally {
    await rec.close();
  }
});

Deno.test("bad replay queries are refused with 400 JSON before the upgrade", async () => {
  const rec = await recordingGateway([scriptedFeed(["BTCUSDT"])]);
  try {
    const now = Date.now();
    const cases: [string, RegExp][] = [
      ["", /from is required/],
      ["from=yesterday", /from must be ISO 8601 or epoch ms/],
      [`from=${now - 1000}&to=${now - 2000}`, /to must be after from/],
      [`from=${now - 1000}&to=${now - 1000}`, /to must be after from/],
      [`from=${now + 60_000}`, /from is in the future/],
      [`from=${now - 5000}&to=${now + 60_000}`, /to is in the future/],
      [`from=${now - 5000}&to=${now - 1000}&speed=0`, /speed must be a positive number/],
      [`from=${now - 5000}&to=${now - 1000}&speed=-2`, /speed must be a positive number/],
      [`from=${now - 5000}&to=${now - 1000}&speed=fast`, /speed must be a positive number/],
      [`from=${now - 5000}&speed=1`, /must catch up with live/],
      [`from=${now - 5000}&limit=3`, /unknown parameter limit/],
    ];
    for (const [query, message] of cases) {
      const res = await fetch(`${rec.gateway.url}/replay?${query}`);
      const body = await res.json();
      assert.equal(res.status, 400, query);
      assert.equal(body.error.code, "invalid_query", query);
      assert.match(body.error.message, message, query);
    }
    const iso = new Date(now - 5000).toISOString();
    const res = await fetch(`${rec.gateway.url}/replay?from=${iso}&speed=max`);
    assert.equal(res.status, 426, "a valid query without an upgrade asks for one");
    await res.body?.cancel();
  } finally {
    await rec.close();
  }
});

Deno.test("replay without a recording answers 503 recording_off", async () => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])]);
  try {
    const res = await fetch(`${gateway.url}/replay?from=${Date.now() - 5000}&speed=max`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.error.code, "recording_off");
    assert.match(body.error.message, /RECORD_DIR/);
  } finally {
    await gateway.close();
  }
});

Deno.test("a consolidated subscription is replayed from the recorded quotes", async () => {
  const rec = await recordingGateway([scriptedFeed(["BTC/USDT"], { tickMs: 10 })]);
  const subscribe = {
    action: "subscribe",
    symbols: ["BTC/USDT"],
    channels: ["trade", "consolidated"],
  };
  try {
    const live = await connect(rec.gateway);
    live.send(subscribe);
    const ack = await live.indexOf((f) => f.type === "subscribed", 5000, 0);
    const first = await live.indexOf((f) => f.type === "trade", 5000, ack + 1);
    await live.until(
      (fs) => fs.filter((f) => f.type === "trade").length >= 41,
      10_000,
      "41 trades",
    );
    const trades = live.frames.filter((f) => f.type === "trade");
    const from = trades[0].receiveTime as number;
    const to = trades[39].receiveTime as number;
    // Up to the 41st trade (received after `to`); the consolidated quote sent on subscribe,
    // before the first trade, is not compared (a replay rebuilds it from what it replays).
    const end = live.frames.indexOf(trades[40]);
    const expected = live.frames.slice(first, end).filter((f) => DATA_TYPES.has(f.type as string));
    await live.close();
    await rec.source.flush();
    assert.ok(expected.filter((f) => f.type === "consolidated").length >= 30, "consolidated live");

    const replay = await connect(rec.gateway, `/replay?from=${from}&to=${to}&speed=max`);
    replay.send(subscribe);
    await replay.until((fs) => fs.some(isState("replay_end")), 10_000, "replay_end");
    // Consolidated quotes are dated when the hub computed them: live, a few ms after the
    // quote was received; in a replay, the quote's receive time. Everything else is equal.
    const undated = (f: Record<string, unknown>) => ({ ...f, timestamp: undefined });
    const got = replayedData(replay);
    assert.deepEqual(got.map(undated), expected.map(undated));
    for (let i = 0; i < got.length; i++) {
      if (got[i].type !== "consolidated") continue;
      const lag = Date.parse(expected[i].timestamp as string) -
        Date.parse(got[i].timestamp as string);
      assert.ok(lag >= 0 && lag < 1000, `consolidated ${i}: live was dated ${lag} ms later`);
    }
    await replay.close();
  } finally {
    await rec.close();
  }
});

Deno.test("a replay at max waits for the socket: a tight slow-consumer policy loses nothing", async () => {
  // With a 1 KiB high-water mark and 20 queued trades at most, a sender that did not wait for
  // the socket would be conflated or disconnected as a slow consumer within a few frames.
  const rec = await recordingGateway([scriptedFeed(["BTCUSDT"], { tickMs: 5, rawPadding: 2000 })], {
    config: { highWaterMark: 1024, maxQueuedTrades: 20 },
  });
  // The reference is what the hub handled (its taps, as recorded), not a live client's frames
  // nor "one quote per trade": under load the plugin Worker's outbox itself conflates a quote
  // while the hub lags > 20 ms (core/feed/outbox.ts, /health conflatedInWorker); the hub never
  // sees that quote, so no recording or replay can have it. And a live client under this policy
  // is cut as a slow consumer whenever the test process stalls ~100 ms (20 trades at 5 ms).
  const handled: { type: string; id: unknown; receiveTime: number }[] = [];
  const untap = rec.gateway.taps.add(({ item, receiveTime }) => {
    if (item.type === "trade") handled.push({ type: "trade", id: item.tradeId, receiveTime });
    if (item.type === "quote") handled.push({ type: "quote", id: item.bidPrice, receiveTime });
  });
  const key = (f: Record<string, unknown>) => ({
    type: f.type as string,
    id: f.type === "trade" ? f.tradeId : f.bidPrice,
    receiveTime: f.receiveTime as number,
  });
  try {
    // A live client follows the stream meanwhile: under this policy it falls behind.
    const live = await connect(rec.gateway);
    live.send(SUBSCRIBE);
    await live.indexOf((f) => f.type === "subscribed", 5000, 0);
    const start = handled.length;
    const trades = () => handled.slice(start).filter((h) => h.type === "trade");
    await waitFor(() => trades().length >= 155, 10_000, "155 trades handled by the hub");
    const from = trades()[0].receiveTime;
    const to = trades()[149].receiveTime;
    untap();
    await live.close();
    await waitFor(
      async () => (await getJson(rec.gateway, "/health")).body.clients === 0,
      5000,
      "the gateway saw the live client leave",
    );
    await rec.source.flush();
    const before = await metricsText(rec.gateway);
    const counter = (text: string, name: string) => metricValue(text, name) ?? 0;
    assert.ok(
      counter(before, "quant_conflated_updates_total") > 0 ||
        counter(before, "quant_slow_client_disconnects_total") > 0,
      "the live client was conflated or cut (the policy is tight enough to bite)",
    );

    const replay = await replayClient(rec, `from=${from}&to=${to}&speed=max`);
    await replay.until((fs) => fs.some(isState("replay_end")), 20_000, "replay_end");
    assert.ok(!replay.frames.some((f) => f.type === "error"), "no slow_consumer error");
    const expected = handled.filter((h) => h.receiveTime >= from && h.receiveTime <= to);
    assert.equal(expected.filter((h) => h.type === "trade").length, 150);
    // Every trade and quote the hub handled in the window, in hub order: nothing conflated.
    assert.deepEqual(replayedData(replay).map(key), expected);
    const after = await metricsText(rec.gateway);
    assert.equal(
      counter(after, "quant_conflated_updates_total"),
      counter(before, "quant_conflated_updates_total"),
      "the replay conflated nothing",
    );
    await replay.close();
  } finally {
    untap();
    await rec.close();
  }
});

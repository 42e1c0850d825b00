/**
 * A replay without `to` catches up with the recording and continues live on the same
 * connection: every trade id exactly once across the handover, one `live` status
 * frame, recorded status frames marked `replay: true`, none after the handover.
 */
import assert from "node:assert/strict";
import { connect, scriptedFeed, waitFor } from "../helpers.ts";
import { createHubTaps } from "../../core/ingest/taps.ts";
import { createSpliceBuffer } from "../../core/replay/splice.ts";
import { flat, isState, recordingGateway } from "./helpers.ts";

const SUBSCRIBE = { action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade"] };

for (const { speed, batch } of [{ speed: "max", batch: false }, { speed: "20", batch: true }]) {
  Deno.test(`a replay from 5 s ago at speed ${speed} hands over to live with no gap and no duplicate`, async () => {
    const rec = await recordingGateway([scriptedFeed(["BTCUSDT", "ETHUSDT"], { tickMs: 10 })]);
    try {
      const recordingFrom = Date.now();
      await waitFor(() => Date.now() - recordingFrom >= 5200, 10_000, "5 s of recording");
      const from = Date.now() - 5000;
      const replay = await connect(
        rec.gateway,
        `/replay?from=${from}&speed=${speed}${batch ? "&batch=1" : ""}`,
      );
      replay.send(SUBSCRIBE);
      await replay.until((fs) => flat(fs).some(isState("live")), 10_000, "the live status frame");
      const liveAt = flat(replay.frames).findIndex(isState("live"));
      const lastRecorded = flat(replay.frames).slice(0, liveAt).filter((f) => f.type === "trade")
        .at(-1)!.tradeId as number;
      // One more second of live trades after the handover.
      await replay.until(
        (fs) =>
          flat(fs).some((f) => f.type === "trade" && (f.tradeId as number) >= lastRecorded + 100),
        10_000,
        `live trades up to id ${lastRecorded + 100}`,
      );
      const frames = flat(replay.frames);
      assert.equal(frames.filter(isState("live")).length, 1, "one live status frame");
      const live = frames[liveAt];
      assert.equal(live.replay, false);
      assert.ok(typeof live.seq === "number" && live.seq > 0, "live names the last recorded seq");
      const start = frames.findIndex(isState("replay_start"));
      assert.ok(start >= 0 && start < liveAt, "replay_start before live");
      assert.ok(!frames.some(isState("replay_end")), "no replay_end without to");

      const trades = frames.filter((f) => f.type === "trade");
      const ids = trades.map((f) => f.tradeId as number);
      assert.ok(
        (trades[0].receiveTime as number) >= from,
        "the replay starts at from, not before",
      );
      // The first trade replayed is the first one recorded at or after `from` (whatever the
      // machine's load made the feed's timing).
      const history = rec.source.history()!;
      let firstRecorded: number | undefined;
      try {
        for await (const t of history.trades("scripted", "BTCUSDT", from, from + 60_000)) {
          firstRecorded = t.receiveTime;
          break;
        }
      } finally {
        history.close();
      }
      assert.equal(
        trades[0].receiveTime,
        firstRecorded,
        "the first trade of the window is replayed",
      );
      for (let i = 1; i < ids.length; i++) {
        assert.equal(
          ids[i],
          ids[i - 1] + 1,
          `trade ids consecutive at ${i}: ${ids[i - 1]} → ${ids[i]}`,
        );
      }
      const before = frames.slice(0, liveAt).filter((f) => f.type === "trade").length;
      const after = trades.length - before;
      assert.ok(before >= 300, `replayed ${before} recorded trades`);
      assert.ok(after >= 100, `${after} live trades after the handover`);
      // Recorded status frames say they are replayed; the handover frame says live.
      for (const f of frames.slice(0, liveAt)) {
        if (f.type === "status") assert.equal(f.replay, true, JSON.stringify(f));
      }
      await replay.close();
    } finally {
      await rec.close();
    }
  });
}

Deno.test("a replay that falls too far behind live is told replay_overrun and closed, not gapped", async () => {
  const rec = await recordingGateway([scriptedFeed(["BTCUSDT", "ETHUSDT"], { tickMs: 10 })], {
    spliceBufferItems: 50,
  });
  try {
    await waitFor(() => rec.gateway.taps.lastSeq() > 200, 10_000, "some recorded items");
    // 2 s of recording at speed 1.5 take 1.3 s to catch up; 50 live items arrive in ~0.15 s.
    // Batched: the error frame must still arrive before the close.
    const replay = await connect(
      rec.gateway,
      `/replay?from=${Date.now() - 2000}&speed=1.5&batch=1`,
    );
    const closed = new Promise<CloseEvent>((r) => replay.socket.addEventListener("close", r));
    replay.send(SUBSCRIBE);
    const close = await closed;
    const error = flat(replay.frames).find((f) => f.type === "error")!;
    assert.ok(error, "an error frame before the close");
    assert.equal(error.code, "replay_overrun");
    assert.match(error.message as string, /50 live items behind/);
    assert.equal(close.code, 1008);
    assert.ok(!flat(replay.frames).some(isState("live")), "never claimed to be live");
  } finally {
    await rec.close();
  }
});

Deno.test("a replay refuses to splice when the recording is behind live", async () => {
  const rec = await recordingGateway([scriptedFeed(["BTCUSDT"], { tickMs: 10 })], {
    // A recorder that never gets past sequence number 1.
    wrapSource: (source) => ({ ...source, flushedSeq: () => 1 }),
  });
  try {
    await waitFor(() => rec.gateway.taps.lastSeq() > 50, 10_000, "some hub items");
    const replay = await connect(rec.gateway, `/replay?from=${Date.now() - 1000}&speed=max`);
    replay.send(SUBSCRIBE);
    const error = await replay.next((f) => f.type === "error", 10_000);
    assert.equal(error.code, "replay_failed");
    assert.match(error.message as string, /recording is behind live/);
    await replay.until(() => replay.socket.readyState === WebSocket.CLOSED, 5000, "the close");
    assert.ok(!replay.frames.some(isState("live")), "never claimed to be live");
  } finally {
    await rec.close();
  }
});

Deno.test("the splice buffer holds live items in order, drops what was replayed, and reports overflow", () => {
  const taps = createHubTaps(10);
  let overflows = 0;
  const buffer = createSpliceBuffer(taps, 3, () => overflows++);
  const item = { type: "status", state: "connected" } as const;
  for (let i = 0; i < 3; i++) taps.publish("x", item);
  assert.equal(buffer.size(), 3);
  assert.equal(buffer.next(11)?.seq, 12, "items up to the last replayed seq are skipped");
  assert.equal(buffer.next(12)?.seq, 13);
  assert.equal(buffer.next(13), undefined);
  const direct: number[] = [];
  buffer.direct((e) => direct.push(e.seq));
  taps.publish("x", item);
  assert.deepEqual(direct, [14], "after the drain items go straight through");
  buffer.close();

  const small = createSpliceBuffer(taps, 2, () => overflows++);
  for (let i = 0; i < 5; i++) taps.publish("x", item);
  assert.equal(overflows, 1, "overflow reported once");
  assert.equal(small.size(), 0, "nothing held after an overflow");
});

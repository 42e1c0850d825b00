/**
 * Replay of the Binance emulator through the real plugin: trades, quotes and book
 * frames of a replayed window equal a live client's, field for field, book frames
 * including their `seq` (the replay's book starts from the recording's book at
 * `from`, as the live client's started from the gateway's at its subscribe).
 *
 * The opening snapshot is compared without its update id and times (see below).
 * `pos` is compared; `prev` of each stream's first replayed frame is 0 (a replay's chain
 * starts with it). Not compared: `subscribed` (sent when each client subscribed), the feed `status`
 * a live client gets on subscribe, and the replay's own `status` frames.
 */
import assert from "node:assert/strict";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import { connect, getJson, waitFor } from "../helpers.ts";
import { binanceFeed, DATA_TYPES, flat, isState, recordingGateway } from "./helpers.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const SUBSCRIBE = {
  action: "subscribe",
  id: "b",
  symbols: ["BTCUSDT"],
  channels: ["trade", "quote", "book"],
  depth: 10,
  raw: true,
};

Deno.test("replay at max of the Binance emulator yields the live client's trades, quotes and book frames", async () => {
  const emu = await startBinanceEmulator({ symbols: SYMBOLS, seed: 11, tickMs: 20 });
  const rec = await recordingGateway([binanceFeed(emu, SYMBOLS)]);
  try {
    await waitFor(
      async () => {
        const { status, body } = await getJson(
          rec.gateway,
          "/api/book?exchange=binance&symbol=BTCUSDT&depth=1",
        );
        return status === 200 && body.synced === true;
      },
      20_000,
      "the BTCUSDT book synced",
    );
    const live = await connect(rec.gateway);
    live.send(SUBSCRIBE);
    const ack = await live.indexOf((f) => f.type === "subscribed", 5000, 0);
    const firstEvent = await live.indexOf(
      (f) => DATA_TYPES.has(f.type as string) && f.snapshot !== true,
      10_000,
      ack + 1,
    );
    const from = live.frames[firstEvent].receiveTime as number;
    await live.until(
      (fs) => fs.filter((f) => f.type === "book" && f.snapshot === false).length >= 80,
      20_000,
      "80 live book deltas",
    );
    const to = (live.frames.at(-20)!.receiveTime as number) - 1;
    const expected = live.frames.slice(ack + 1).filter((f) =>
      DATA_TYPES.has(f.type as string) && (f.receiveTime as number) <= to
    );
    await live.close();
    await rec.source.flush();
    assert.ok(expected.filter((f) => f.type === "trade").length > 0, "live trades");
    assert.ok(expected[0].type === "book" && expected[0].seq === 0, "live starts from a snapshot");
    assert.ok(from > (expected[0].receiveTime as number), "the snapshot is older than from");

    const replay = await connect(rec.gateway, `/replay?from=${from}&to=${to}&speed=max`);
    replay.send(SUBSCRIBE);
    await replay.until((fs) => fs.some(isState("replay_end")), 20_000, "replay_end");
    const frames = flat(replay.frames);
    const start = frames.findIndex(isState("replay_start"));
    const end = frames.findIndex(isState("replay_end"));
    const got = frames.slice(start + 1, end).filter((f) => DATA_TYPES.has(f.type as string));
    assert.equal(got.length, expected.length, "as many data frames as the live client got");
    // The opening snapshot: same levels and seq; its update id and times are those of the
    // last update before it, which for the live client is the last before its subscribe and
    // for the replay the last before `from` (updates in between that change no top-10 level
    // send no frame, so they may differ).
    const opening = (frame: Record<string, unknown>) => {
      const { updateId: _u, eventTime: _e, receiveTime: _r, timestamp: _t, ...rest } = frame;
      return rest;
    };
    assert.deepEqual(opening(got[0]), opening(expected[0]), "the opening snapshot");
    // Positions are the recorded (live) ones; `prev` chains from the start of the replay, so
    // the first frame of each stream says 0 where the live client's named an earlier item.
    const chained = new Set<string>();
    for (let i = 1; i < got.length; i++) {
      const frame = { ...got[i] };
      if (frame.pos !== undefined && !chained.has(`${frame.type}|${frame.symbol}`)) {
        chained.add(`${frame.type}|${frame.symbol}`);
        assert.equal(frame.prev, 0, `frame ${i}: the first of its stream in the replay`);
        frame.prev = expected[i].prev;
      }
      assert.deepEqual(frame, expected[i], `frame ${i} (${expected[i].type})`);
    }
    await replay.close();
  } finally {
    await rec.close();
    await emu.close();
  }
});

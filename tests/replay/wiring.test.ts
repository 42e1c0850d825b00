/**
 * /replay on a gateway that records itself (RECORD_DIR): the endpoint reads the gateway's
 * own recording and splices into its live stream with no gap and no duplicate.
 */
import assert from "node:assert/strict";
import { connect, gatewayWith, scriptedFeed, waitFor } from "../helpers.ts";
import { flat, isState } from "./helpers.ts";

Deno.test("a gateway started with RECORD_DIR serves /replay from its own recording, spliced into live", async () => {
  const dir = await Deno.makeTempDir({ prefix: "replay-wiring-" });
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"], { tickMs: 10 })], {
    recordDir: dir,
  });
  try {
    const started = Date.now();
    await waitFor(() => Date.now() - started >= 2200, 5000, "2 s of recording");
    const from = Date.now() - 2000;
    const replay = await connect(gateway, `/replay?from=${from}&speed=max`);
    replay.send({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade"] });
    await replay.until((fs) => flat(fs).some(isState("live")), 10_000, "the live status frame");
    const liveAt = flat(replay.frames).findIndex(isState("live"));
    const recorded = flat(replay.frames).slice(0, liveAt).filter((f) => f.type === "trade");
    assert.ok(recorded.length > 50, `trades replayed from the recording: ${recorded.length}`);
    const last = recorded.at(-1)!.tradeId as number;
    await replay.until(
      (fs) => flat(fs).some((f) => f.type === "trade" && (f.tradeId as number) >= last + 50),
      10_000,
      `live trades up to id ${last + 50}`,
    );
    const ids = flat(replay.frames).filter((f) => f.type === "trade").map((f) =>
      f.tradeId as number
    );
    for (let i = 1; i < ids.length; i++) {
      assert.equal(ids[i], ids[i - 1] + 1, `trade ids consecutive at ${i}`);
    }
    await replay.close();
  } finally {
    await gateway.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

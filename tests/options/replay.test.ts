/**
 * The `options` channel on `/replay`: the recorded Deribit quotes go through the replay's own
 * options board, valued at the replay's clock, so a researcher gets the options frames of the
 * past, with our IV beside the venue's mark as it was then.
 */
import assert from "node:assert/strict";
import { startDeribitEmulator } from "../../plugins/deribit/emulator/mod.ts";
import { deribit } from "../../plugins/deribit/mod.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import { connect, getJson, waitFor } from "../helpers.ts";
import { flat, isState, recordingGateway } from "../replay/helpers.ts";

Deno.test("options on /replay: the recorded quotes give options frames with our IV beside the venue's", async () => {
  const emu = await startDeribitEmulator({ seed: 9, tickMs: 50 });
  const rec = await recordingGateway([{
    plugin: deribit,
    workerUrl: new URL("../../plugins/deribit/worker.ts", import.meta.url),
    config: pluginConfig(deribit, { DERIBIT_WS_URL: emu.wsUrl, DERIBIT_EMULATOR: "true" }),
    symbols: [],
    channels: ["trade", "quote", "book"],
  }]);
  try {
    let instrument = "";
    const from = Date.now();
    await waitFor(
      async () => {
        const { body } = await getJson(rec.gateway, "/api/options/chain?underlying=BTC");
        const rows = ((body.expiries ?? []) as {
          strikes: { call: { instrument: string; time: number | null } | null }[];
        }[])
          .flatMap((e) => e.strikes.map((s) => s.call)).filter((r) =>
            r !== null && r.time !== null
          );
        instrument = rows[0]?.instrument ?? "";
        return rows.length > 0 && Date.now() - from > 1500;
      },
      20_000,
      "1.5 s of BTC option quotes",
    );
    const to = Date.now() - 100;
    await rec.source.flush();
    const replay = await connect(rec.gateway, `/replay?from=${from}&to=${to}&speed=max`);
    replay.send({
      action: "subscribe",
      symbols: [instrument],
      exchanges: ["deribit"],
      channels: ["options"],
    });
    await replay.until((fs) => flat(fs).some(isState("replay_end")), 20_000, "replay_end");
    const frames = flat(replay.frames).filter((f) => f.type === "options");
    assert.ok(frames.length > 0, "options frames from the recording");
    for (const f of frames) {
      assert.equal(f.symbol, instrument);
      assert.ok(
        (f.time as number) >= from - 1000 && (f.time as number) <= to,
        "a recorded quote's time",
      );
      assert.ok(Math.abs(f.ivDiff as number) < 0.005, `ivDiff ${f.ivDiff}`);
    }
    await replay.close();
  } finally {
    await rec.close();
    await emu.close();
  }
});

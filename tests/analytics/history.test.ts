/**
 * `GET /api/history/analytics`: the analytics recomputed from the recording equal the live
 * ones. The Binance emulator runs step by step (`tick`), the real plugin feeds a recording
 * gateway; each time the gateway has everything the emulator sent, the live figures of
 * `GET /api/analytics` (at the event time of the latest event, T) must be exactly the
 * history's point at T, every figure, computed by the replay's private hub from the
 * recorded trades and book updates.
 */
import assert from "node:assert/strict";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import { connect, getJson, waitFor } from "../helpers.ts";
import { binanceFeed, recordingGateway } from "../replay/helpers.ts";

const SYMBOL = "BTCUSDT";

/** What `GET /api/history/analytics` answers. */
interface SeriesBody {
  points: { time: number; flow: { windows: { to: number }[] } }[];
  items: number;
  emulator: boolean;
  metrics: string[];
  error: { code: string; message: string };
}

/** GET a path as a series body. */
async function getSeries(gateway: Parameters<typeof getJson>[0], path: string) {
  const { status, body } = await getJson(gateway, path);
  return { status, body: body as unknown as SeriesBody };
}

Deno.test("history analytics: the figures recomputed from the recording equal the live ones at three checkpoints", async () => {
  const emu = await startBinanceEmulator({ symbols: [SYMBOL], seed: 7, autoStart: false });
  const rec = await recordingGateway([binanceFeed(emu, [SYMBOL])], {
    config: { analyticsVpinBucketVolume: 0.5 },
  });
  const trades = await connect(rec.gateway);
  try {
    trades.send({ action: "subscribe", symbols: [SYMBOL], channels: ["trade"] });
    await waitFor(
      async () => {
        emu.tick(1);
        const { status, body } = await getJson(
          rec.gateway,
          `/api/book?exchange=binance&symbol=${SYMBOL}&depth=1`,
        );
        return status === 200 && body.synced === true;
      },
      20_000,
      "the BTCUSDT book synced",
    );
    let checkpoints = 0;
    for (const ticks of [40, 80, 160]) {
      emu.tick(ticks);
      const lastUpdateId = emu.book(SYMBOL).lastUpdateId;
      const lastTradeId = emu.lastTradeId(SYMBOL);
      // Quiescent: the gateway holds the emulator's last book update and last trade.
      await waitFor(
        async () => {
          const { body } = await getJson(
            rec.gateway,
            `/api/book?exchange=binance&symbol=${SYMBOL}&depth=1`,
          );
          return body.updateId === lastUpdateId &&
            trades.frames.some((f) => f.type === "trade" && f.tradeId === lastTradeId);
        },
        20_000,
        `book update ${lastUpdateId} and trade ${lastTradeId} at the gateway`,
      );
      const live = await getJson(rec.gateway, `/api/analytics?exchange=binance&symbol=${SYMBOL}`);
      assert.equal(live.status, 200, JSON.stringify(live.body));
      const { exchange: _e, symbol: _s, unified: _u, ...liveValue } = live.body;
      const time = liveValue.time as number;
      await rec.source.flush();
      const history = await getSeries(
        rec.gateway,
        `/api/history/analytics?exchange=binance&symbol=${SYMBOL}&from=${time}&to=${time}&step=1s&warmup=1h`,
      );
      assert.equal(history.status, 200, JSON.stringify(history.body));
      assert.equal(history.body.points.length, 1);
      assert.deepEqual(history.body.points[0], liveValue, `checkpoint after ${ticks} ticks`);
      assert.equal(
        history.body.emulator,
        true,
        "the recording says the data came from an emulator",
      );
      // VPIN is computed (bucket volume 0.5) and stays in [0, 1].
      const vpin = liveValue.vpin as { exact: { value: number | null; partial: number | null } };
      assert.ok(vpin !== null, "VPIN computed");
      checkpoints++;
    }
    assert.equal(checkpoints, 3);
  } finally {
    await trades.close();
    await rec.close();
    await emu.close();
  }
});

Deno.test("history analytics: a series sampled every step, each point's figures covering the windows that end at it", async () => {
  const emu = await startBinanceEmulator({ symbols: [SYMBOL], seed: 3, tickMs: 10 });
  const rec = await recordingGateway([binanceFeed(emu, [SYMBOL])]);
  try {
    const started = Date.now();
    await waitFor(
      async () => {
        const { body } = await getJson(
          rec.gateway,
          `/api/analytics?exchange=binance&symbol=${SYMBOL}&metrics=flow`,
        );
        return typeof body.time === "number" && body.time - started > 1500;
      },
      20_000,
      "1.5 s of analytics",
    );
    await rec.source.flush();
    const from = started + 500;
    const to = started + 1500;
    const { status, body } = await getSeries(
      rec.gateway,
      `/api/history/analytics?exchange=binance&symbol=BTC/USDT&from=${from}&to=${to}&step=250ms&metrics=flow,microprice`,
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.metrics, ["microprice", "flow"]);
    assert.deepEqual(body.points.map((p: { time: number }) => p.time), [
      from,
      from + 250,
      from + 500,
      from + 750,
      to,
    ]);
    for (const point of body.points) {
      assert.deepEqual(Object.keys(point), ["time", "microprice", "flow"]);
      for (const w of point.flow.windows) {
        assert.equal(w.to, point.time, "each window ends at its point");
      }
    }
    assert.ok(body.items > 0, "recorded items went through the engine");
  } finally {
    await rec.close();
    await emu.close();
  }
});

Deno.test("history analytics: bad queries are 4xx with a JSON error", async () => {
  const emu = await startBinanceEmulator({ symbols: [SYMBOL], seed: 5, tickMs: 20 });
  const rec = await recordingGateway([binanceFeed(emu, [SYMBOL])]);
  try {
    const base = `/api/history/analytics?exchange=binance&symbol=${SYMBOL}`;
    const now = Date.now();
    const cases: [string, number, string, RegExp][] = [
      [`${base}&to=${now}&step=1s`, 400, "bad_query", /from/],
      [`${base}&from=${now}&to=${now}&step=soon`, 400, "bad_query", /duration/],
      [`${base}&from=${now}&to=${now}&step=1s&metrics=ofi,magic`, 400, "bad_query", /magic/],
      [`${base}&from=${now}&to=${now + 3_600_000}&step=1ms`, 400, "range_too_large", /points/],
      [`${base}&from=${now}&to=${now}&step=1s&warmup=48h`, 400, "range_too_large", /day/],
      [
        `/api/history/analytics?exchange=nowhere&symbol=X&from=${now}&to=${now}&step=1s`,
        404,
        "unknown_exchange",
        /nowhere/,
      ],
    ];
    await waitFor(
      async () => (await getJson(rec.gateway, "/api/history")).status === 200,
      10_000,
      "the recording",
    );
    await rec.source.flush();
    for (const [path, status, code, message] of cases) {
      const res = await getSeries(rec.gateway, path);
      assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, code, path);
      assert.match(res.body.error.message, message, path);
    }
  } finally {
    await rec.close();
    await emu.close();
  }
});

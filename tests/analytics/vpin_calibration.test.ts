/**
 * VPIN calibration (issue #14): the bucket volume is 1/50 of the recorded daily volume, VPIN is
 * ranked among the VPIN values of the recorded history, a recording younger than a day is scaled
 * to 24 h (and says so), and a gateway recording to RECORD_DIR calibrates itself at start.
 */
import assert from "node:assert/strict";
import {
  rankIn,
  readVpinCalibration,
  type VpinCalibration,
  vpinCalibrationFromTrades,
} from "../../core/analytics/vpin_calibration.ts";
import { cdfRank } from "../../core/analytics/vpin.ts";
import { createSymbolAnalytics } from "../../core/analytics/engine.ts";
import { openHistory } from "../../core/history/mod.ts";
import type { TradeEvent } from "../../core/events.ts";
import { recordAll, withTempDir } from "../history/helpers.ts";
import { gatewayWith, getJson, scriptedFeed, waitForValue } from "../helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The instant calibrated for in the pure tests: 2026-12-07T12:00:00Z. */
const AT = Date.UTC(2026, 11, 7, 12);

/** A recorded trade of `quantity` at `time` (event and receive time alike). */
function recorded(time: number, quantity: number, side: "buy" | "sell" = "buy") {
  return { receiveTime: time, trade: { price: 100, quantity, side, eventTime: time } };
}

/** A trade event of exchange + symbol, as a feed emits it. */
function tradeEvent(
  exchange: string,
  symbol: string,
  time: number,
  quantity: number,
  side: "buy" | "sell",
  id: number,
): TradeEvent {
  return {
    type: "trade",
    exchange,
    symbol,
    price: 100,
    quantity,
    side,
    tradeId: id,
    timestamp: new Date(time).toISOString(),
    eventTime: time,
    receiveTime: time,
  };
}

Deno.test("rankIn: the fraction of historical values at or below, by binary search, as cdfRank", () => {
  const history = [0.1, 0.2, 0.3, 0.4];
  const sorted = Float64Array.from(history);
  assert.equal(rankIn(sorted, 0.3), 0.75); // 0.1, 0.2, 0.3 of 4
  assert.equal(rankIn(sorted, 0.05), 0); // below every value
  assert.equal(rankIn(sorted, 0.4), 1); // the largest counts itself
  assert.equal(rankIn(sorted, 0.25), 0.5);
  assert.equal(rankIn(new Float64Array(), 0.3), null); // no history
  assert.equal(rankIn(sorted, NaN), null);
  // Ties: [0.2, 0.2, 0.2, 0.5] → 0.2 ranks 3/4.
  assert.equal(rankIn(Float64Array.from([0.2, 0.2, 0.2, 0.5]), 0.2), 0.75);
  for (const v of [0, 0.1, 0.15, 0.2, 0.35, 0.4, 1]) {
    assert.equal(rankIn(sorted, v), cdfRank(v, history), `value ${v}`);
  }
});

Deno.test("calibration: the bucket volume is 1/50 of the volume of the trailing 24 h", () => {
  // Recording since 30 h before AT: one trade of 1,000 at AT − 30 h (outside the day), then
  // 100 trades of 2.5 within the day: daily volume 250 → V = 250 / 50 = 5.
  const trades = [
    recorded(AT - 30 * HOUR, 1_000),
    ...Array.from({ length: 100 }, (_, i) => recorded(AT - DAY + 1 + i * 600_000, 2.5)),
  ];
  const cal = vpinCalibrationFromTrades(trades, { at: AT });
  assert.ok(cal);
  assert.equal(cal.bucketVolume, 5);
  assert.equal(cal.bucketVolumeSource, "recorded_daily_volume");
  assert.deepEqual(cal.volume, {
    from: AT - DAY,
    to: AT,
    spanMs: DAY,
    extrapolated: false,
    recordedVolume: 250,
    dailyVolume: 250,
  });
  // The rank history runs at V = 5 over every trade of the week: 1,000 + 250 = 1,250 →
  // 250 buckets (the big trade alone fills 200), no trade filled one alone after 50 existed…
  assert.equal(cal.history.trades, 101);
  assert.equal(cal.history.buckets, 250);
  // …except the 100 trades of 2.5: every second one completes a bucket (50 values), and the big
  // one (one value after it: its buckets are all buys, VPIN 1).
  assert.equal(cal.history.exact.length, 51);
  assert.ok(cal.history.exact.every((v) => v === 1), "every trade is a buy: VPIN 1");
});

Deno.test("calibration: a recording younger than a day is scaled to 24 h and says from how long", () => {
  // Recording began 2 h before AT; 10 trades of 1 since: 10 per 2 h → 120 per day → V = 2.4.
  const trades = Array.from({ length: 10 }, (_, i) => recorded(AT - 2 * HOUR + i * 720_000, 1));
  const cal = vpinCalibrationFromTrades(trades, { at: AT });
  assert.ok(cal);
  assert.equal(cal.bucketVolume, 2.4);
  assert.equal(cal.bucketVolumeSource, "recorded_daily_volume");
  assert.equal(cal.volume?.extrapolated, true);
  assert.equal(cal.volume?.spanMs, 2 * HOUR);
  assert.equal(cal.volume?.recordedVolume, 10);
  assert.equal(cal.volume?.dailyVolume, 120);
  // 10 of volume is 4 buckets of 2.4: fewer than n = 50, so no value to rank against.
  assert.equal(cal.history.buckets, 4);
  assert.equal(cal.history.exact.length, 0);
  assert.equal(rankIn(cal.history.exact, 0.5), null);
});

Deno.test("calibration: under an hour of recording gives no bucket volume, unless one is configured", () => {
  const trades = [recorded(AT - 30 * 60_000, 4), recorded(AT - 60_000, 6)];
  assert.equal(vpinCalibrationFromTrades(trades, { at: AT }), undefined);
  const cal = vpinCalibrationFromTrades(trades, { at: AT, configuredBucketVolume: 0.5 });
  assert.ok(cal);
  assert.equal(cal.bucketVolume, 0.5);
  assert.equal(cal.bucketVolumeSource, "configured");
  // The volume is still measured: 10 over 30 minutes, 480 per day (reported, not used).
  assert.equal(cal.volume?.spanMs, 30 * 60_000);
  assert.equal(cal.volume?.dailyVolume, 480);
});

Deno.test("calibration: nothing recorded, or nothing before `at`, gives undefined", () => {
  assert.equal(vpinCalibrationFromTrades([], { at: AT }), undefined);
  assert.equal(vpinCalibrationFromTrades([], { at: AT, configuredBucketVolume: 1 }), undefined);
  assert.equal(vpinCalibrationFromTrades([recorded(AT + 1, 5)], { at: AT }), undefined);
});

Deno.test("calibration: the historical VPIN values are those after each completed bucket, sorted", () => {
  // V = 2 (configured), n = 2; trades of 1 in pairs BB | BS | SB | SS | BB: bucket imbalances
  // |V^S − V^B| = 2, 0, 0, 2, 2. VPIN after bucket 2: (2 + 0)/4 = 0.5; 3: (0 + 0)/4 = 0;
  // 4: (0 + 2)/4 = 0.5; 5: (2 + 2)/4 = 1 → sorted [0, 0.5, 0.5, 1].
  const sides = ["buy", "buy", "buy", "sell", "sell", "buy", "sell", "sell", "buy", "buy"] as const;
  const trades = sides.map((side, i) => recorded(AT - 2 * HOUR + i * 60_000, 1, side));
  const cal = vpinCalibrationFromTrades(trades, { at: AT, configuredBucketVolume: 2, buckets: 2 });
  assert.ok(cal);
  assert.deepEqual([...cal.history.exact], [0, 0.5, 0.5, 1]);
  assert.equal(cal.history.buckets, 5);
  // Ranks: 0.5 is above or at 3 of the 4 values.
  assert.equal(rankIn(cal.history.exact, 0.5), 0.75);
});

Deno.test("calibration from a recording: the same figures as from the trades in memory", async () => {
  await withTempDir(async (dir) => {
    // 10 trades of 1 over the 2 h before AT (the recording begins with the first): V = 2.4.
    const events = Array.from(
      { length: 10 },
      (_, i) =>
        tradeEvent("binance", "BTCUSDT", AT - 2 * HOUR + i * 720_000, 1, i % 3 ? "sell" : "buy", i),
    );
    await recordAll(
      events.map((item) => ({ exchange: "binance", item, receiveTime: item.receiveTime })),
      dir,
      { worker: false },
    );
    const reader = openHistory(dir);
    try {
      const cal = await readVpinCalibration(reader, "binance", "BTCUSDT", { at: AT });
      assert.ok(cal);
      assert.equal(cal.bucketVolume, 2.4);
      assert.equal(cal.volume?.extrapolated, true);
      assert.equal(cal.volume?.spanMs, 2 * HOUR);
      const memory = vpinCalibrationFromTrades(
        events.map((t) => ({ receiveTime: t.receiveTime, trade: t })),
        { at: AT },
      );
      assert.deepEqual(cal, memory);
      // Another symbol, or a time before the recording: nothing to calibrate from.
      assert.equal(await readVpinCalibration(reader, "binance", "ETHUSDT", { at: AT }), undefined);
      assert.equal(
        await readVpinCalibration(reader, "binance", "BTCUSDT", { at: AT - 3 * HOUR }),
        undefined,
      );
    } finally {
      reader.close();
    }
  });
});

/** A calibration with V = 1 and exact history [0.25, 0.5, 0.75, 1]. */
const CALIBRATION: VpinCalibration = {
  at: AT,
  bucketVolume: 1,
  bucketVolumeSource: "recorded_daily_volume",
  volume: {
    from: AT - DAY,
    to: AT,
    spanMs: DAY,
    extrapolated: false,
    recordedVolume: 50,
    dailyVolume: 50,
  },
  history: {
    from: AT - 7 * DAY,
    to: AT,
    trades: 400,
    buckets: 350,
    exact: Float64Array.from([0.25, 0.5, 0.75, 1]),
    bvc: new Float64Array(),
  },
};

Deno.test("engine: VPIN starts when the calibration arrives, at its bucket volume, ranked in its history", () => {
  const analytics = createSymbolAnalytics({ vpin: { buckets: 2 } });
  analytics.onTrade({ price: 100, quantity: 1, side: "buy", eventTime: 1 });
  assert.equal(analytics.value(1, ["vpin"]).vpin, null, "no bucket volume yet");
  analytics.calibrateVpin(CALIBRATION);
  // From now: buckets of 1, each 0.75 buy + 0.25 sell → imbalance 0.5; n = 2 → VPIN 0.5.
  for (
    const [quantity, side] of [[0.75, "buy"], [0.25, "sell"], [0.75, "buy"], [
      0.25,
      "sell",
    ]] as const
  ) {
    analytics.onTrade({ price: 100, quantity, side, eventTime: 2 });
  }
  const v = analytics.value(2, ["vpin"]).vpin;
  assert.ok(v);
  assert.equal(v.exact.vpin, 0.5);
  assert.equal(v.tradedVolume, 2, "the trade before the calibration is not in the buckets");
  assert.equal(v.rank, 0.5); // 0.25 and 0.5 of [0.25, 0.5, 0.75, 1]
  assert.equal(v.bvcRank, null, "no BVC VPIN yet");
  assert.equal(v.bucketVolumeSource, "recorded_daily_volume");
  assert.deepEqual(v.history, {
    from: AT - 7 * DAY,
    to: AT,
    calibratedAt: AT,
    values: 4,
    bvcValues: 0,
    dailyVolume: 50,
    volumeSpanMs: DAY,
    extrapolated: false,
  });
  // A renewal with another bucket volume starts VPIN over at it, and says so once.
  analytics.calibrateVpin({ ...CALIBRATION, bucketVolume: 2 });
  const renewed = analytics.value(3, ["vpin"]).vpin;
  assert.equal(renewed?.bucketVolume, 2);
  assert.equal(renewed?.bucketsFilled, 0);
  assert.equal(renewed?.reset, true);
  assert.equal(analytics.value(3, ["vpin"]).vpin?.reset, false);
});

Deno.test("engine: a configured bucket volume keeps priority; the calibration only brings the rank", () => {
  const analytics = createSymbolAnalytics({ vpin: { bucketVolume: 1, buckets: 2 } });
  for (
    const [quantity, side] of [[0.75, "buy"], [0.25, "sell"], [0.75, "buy"], [
      0.25,
      "sell",
    ]] as const
  ) {
    analytics.onTrade({ price: 100, quantity, side, eventTime: 1 });
  }
  const before = analytics.value(1, ["vpin"]).vpin;
  assert.equal(before?.bucketVolumeSource, "configured");
  assert.equal(before?.rank, null, "no history yet");
  assert.equal(before?.history, null);
  analytics.calibrateVpin({ ...CALIBRATION, bucketVolume: 1, bucketVolumeSource: "configured" });
  const after = analytics.value(1, ["vpin"]).vpin;
  assert.equal(after?.bucketsFilled, 2, "the running VPIN went on");
  assert.equal(after?.exact.vpin, 0.5);
  assert.equal(after?.rank, 0.5);
  assert.equal(after?.bucketVolumeSource, "configured");
});

Deno.test("gateway: with a recording in RECORD_DIR, VPIN takes the recorded daily volume and ranks live VPIN in the history", async () => {
  await withTempDir(async (dir) => {
    // 400 trades of 1 over the 48 h before now, one every 7.2 min from now − 48 h + 1 min:
    // the first 200 alternate buy/sell, the last 200 (the trailing day) are all buys.
    // Daily volume 200 → V = 4. History at V = 4: 100 buckets; the first 50 balanced
    // (imbalance 0), the next 50 all buys (imbalance 4); VPIN after bucket m = 50..100 is
    // 4·(m − 50)/200 → 51 values 0, 0.02, …, 1.
    const now = Date.now();
    const start = now - 2 * DAY + 60_000;
    const events = Array.from({ length: 400 }, (_, i) =>
      tradeEvent(
        "scripted",
        "BTCUSDT",
        start + i * 432_000,
        1,
        i < 200 && i % 2 === 1 ? "sell" : "buy",
        i + 1,
      ));
    await recordAll(
      events.map((item) => ({ exchange: "scripted", item, receiveTime: item.receiveTime })),
      dir,
      { worker: false },
    );
    // Live: alternating buy/sell trades of 1, so every bucket of 4 is balanced: VPIN 0 once
    // 50 buckets (200 trades) exist, which ranks 1/51 (only the history's 0 is ≤ 0).
    const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"], { perTick: 10, tickMs: 10 })], {
      recordDir: dir,
    });
    try {
      const vpin = await waitForValue(
        async () => {
          const { body } = await getJson(
            gateway,
            "/api/analytics?exchange=scripted&symbol=BTCUSDT&metrics=vpin",
          );
          const v = body.vpin as Record<string, unknown> | null | undefined;
          return v && v.rank !== null ? v : undefined;
        },
        20_000,
        "a ranked VPIN in /api/analytics",
      );
      assert.equal(vpin.bucketVolumeSource, "recorded_daily_volume");
      assert.equal(vpin.bucketVolume, 4);
      assert.equal((vpin.exact as { vpin: number }).vpin, 0);
      assert.equal(vpin.rank, 1 / 51);
      const history = vpin.history as Record<string, unknown>;
      assert.equal(history.values, 51);
      assert.equal(history.dailyVolume, 200);
      assert.equal(history.extrapolated, false);
      assert.equal(history.volumeSpanMs, DAY);
    } finally {
      await gateway.close();
    }
  });
});

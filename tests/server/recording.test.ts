/**
 * Recording in the running gateway (RECORD_DIR): settings, `/health` and `/metrics`
 * reporting, an unusable folder, retention through the wiring, and the 4xx answers
 * of the history endpoints. Uses the scripted feed; the three-emulator comparison of
 * live and recorded data is in history_rest.test.ts.
 */
import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { ConfigError, loadConfig } from "../../core/server/config.ts";
import { startRecording } from "../../core/server/recording.ts";
import { createRecorder } from "../../core/history/mod.ts";
import { getLogger } from "../../core/server/log.ts";
import {
  connect,
  gatewayWith,
  getJson,
  metricsText,
  metricValue,
  scriptedFeed,
  waitFor,
  waitForValue,
} from "../helpers.ts";

const DAY = 86_400_000;

Deno.test("RECORD_* settings come from flags or the environment, with clear errors", () => {
  const off = loadConfig([], {}).core;
  assert.equal(off.recordDir, undefined);
  const env = loadConfig([], {
    RECORD_DIR: "/data/history",
    RECORD_RETENTION_DAYS: "30",
    RECORD_MAX_BYTES: "10000000000",
  }).core;
  assert.equal(env.recordDir, "/data/history");
  assert.equal(env.recordRetentionDays, 30);
  assert.equal(env.recordMaxBytes, 10_000_000_000);
  const flags = loadConfig(["--record-dir", "rec", "--record-retention-days", "7"], {
    RECORD_DIR: "/ignored",
  }).core;
  assert.equal(flags.recordDir, "rec");
  assert.equal(flags.recordRetentionDays, 7);
  assert.throws(
    () => loadConfig([], { RECORD_RETENTION_DAYS: "0" }),
    (e: Error) =>
      e instanceof ConfigError &&
      /RECORD_RETENTION_DAYS \(--record-retention-days\)/.test(e.message),
  );
  assert.throws(
    () => loadConfig([], { RECORD_MAX_BYTES: "lots" }),
    (e: Error) => e instanceof ConfigError && /RECORD_MAX_BYTES/.test(e.message),
  );
});

Deno.test("recording off: /health says so and the history endpoints answer history_unavailable", async () => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])]);
  try {
    const health = await getJson(gateway, "/health");
    assert.deepEqual(health.body.recording, { enabled: false });
    for (
      const path of [
        "/api/history",
        "/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=0&to=1",
      ]
    ) {
      const { status, body } = await getJson(gateway, path);
      assert.equal(status, 404, path);
      assert.equal((body.error as { code: string }).code, "history_unavailable", path);
    }
  } finally {
    await gateway.close();
  }
});

Deno.test("an unwritable RECORD_DIR is reported in /health, /metrics and the log, live clients are unaffected, and recording recovers by itself", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (r: LogRecord) => records.push(r) },
    loggers: [
      { category: ["quant-saas", "recording"], lowestLevel: "info", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["memory"] },
    ],
  });
  // A folder under a regular file cannot be created, whoever runs the test (root included).
  const file = await Deno.makeTempFile();
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"], { tickMs: 5 })], {
    recordDir: `${file}/history`,
  });
  const client = await connect(gateway);
  try {
    client.send({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade"] });
    await client.next((f) => f.type === "trade");
    const health = await waitForValue(
      async () => {
        const { body } = await getJson(gateway, "/health");
        const rec = body.recording as Record<string, unknown>;
        return (rec.dropped as number) > 0 && rec.errors as number > 0 ? rec : undefined;
      },
      5000,
      "the recording reports dropped items and errors",
    );
    assert.equal(health.healthy, false);
    assert.equal(health.written, 0);
    assert.match(JSON.stringify(health.lastError), /history/);
    const text = await metricsText(gateway);
    assert.ok(metricValue(text, "quant_recording_errors_total")! > 0);
    assert.ok(metricValue(text, "quant_recording_items_total", 'result="dropped"')! > 0);
    assert.equal(metricValue(text, "quant_recording_healthy"), 0);
    await waitFor(
      () =>
        records.some((r) =>
          r.level === "error" && /recording failed/.test(String(r.message.join("")))
        ),
      5000,
      "an error in the log saying recording failed",
    );
    await waitFor(
      () => records.some((r) => r.level === "warning" && /dropping items/.test(r.message.join(""))),
      5000,
      "a warning in the log saying recording is dropping items",
    );
    // Live delivery keeps its pace: a tick every 5 ms, so 1 s brings well over 100 trades
    // (the same bound holds without recording on this machine).
    const before = client.frames.filter((f) => f.type === "trade").length;
    const started = Date.now();
    await client.until(
      (fs) => fs.filter((f) => f.type === "trade").length >= before + 100,
      3000,
      "100 more live trades while recording fails",
    );
    assert.ok(Date.now() - started < 2000, `100 trades took ${Date.now() - started} ms`);
    const lags = client.frames.slice(-100).filter((f) => f.type === "trade")
      .map((f) => (f.receiveTime as number) - (f.eventTime as number));
    assert.ok(Math.max(...lags) < 1000);
    const unreadable = await getJson(gateway, "/api/history");
    assert.equal(unreadable.status, 503);
    assert.equal((unreadable.body.error as { code: string }).code, "history_unavailable");
    // The folder becomes usable: recording resumes by itself and the log says so.
    await Deno.remove(file);
    await waitFor(
      async () => {
        const { body } = await getJson(gateway, "/health");
        const rec = body.recording as Record<string, unknown>;
        return rec.healthy === true && (rec.written as number) > 0;
      },
      5000,
      "the recording healthy again with items written",
    );
    await waitFor(
      () =>
        records.some((r) => r.level === "info" && /recording recovered/.test(r.message.join(""))),
      5000,
      "an info line in the log saying recording recovered",
    );
  } finally {
    await client.close();
    await gateway.close();
    await Deno.remove(file).catch(() => {});
    await reset();
  }
});

Deno.test("the wiring numbers the hub after the folder's last item and applies retention (oldest days go)", async () => {
  const dir = await Deno.makeTempDir();
  const now = Date.now();
  // Three old days written by the engine directly, as an earlier run would have.
  const old = createRecorder({ dir, worker: false });
  let seq = 0;
  for (const daysAgo of [5, 4, 1]) {
    const t = now - daysAgo * DAY;
    seq = old.record({
      exchange: "scripted",
      receiveTime: t,
      item: {
        type: "trade",
        exchange: "scripted",
        symbol: "BTCUSDT",
        price: 100,
        quantity: 1,
        timestamp: new Date(t).toISOString(),
        tradeId: daysAgo,
        side: "buy",
        eventTime: t,
        receiveTime: t,
      },
    });
  }
  await old.close();
  // Every failing assertion below says what the recorders saw (errors, drops, last error).
  const oldStats = `first recorder: ${JSON.stringify(old.stats())}`;
  assert.equal(old.stats().written, 3, oldStats);
  const recording = startRecording({
    dir,
    retentionDays: 2,
    log: getLogger(["quant-saas", "recording", "test"]),
    recorder: { worker: false, flushMs: 20 },
  });
  try {
    const why = () => `${oldStats}; wiring: ${JSON.stringify(recording.health())}`;
    assert.equal(recording.startSeq, seq, why());
    assert.deepEqual(recording.health().days.length, 3, why());
    recording.tap({
      seq: seq + 1,
      exchange: "scripted",
      receiveTime: now,
      item: { type: "status", state: "connected", emulator: true },
    });
    assert.equal(await recording.flush(), seq + 1, why());
    const health = recording.health();
    const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
    assert.deepEqual(health.deletedDays, [dayOf(now - 5 * DAY), dayOf(now - 4 * DAY)], why());
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".sqlite"))
      .sort();
    assert.deepEqual(left, [`${dayOf(now - DAY)}.sqlite`, `${dayOf(now)}.sqlite`], why());
    assert.equal(health.written, 1, why());
    assert.equal(health.flushedSeq, seq + 1, why());
  } finally {
    await recording.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history endpoints: bad queries get 4xx JSON errors with codes", async (t) => {
  const dir = await Deno.makeTempDir();
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])], { recordDir: dir });
  try {
    await waitFor(
      async () => {
        await gateway.recording!.flush();
        const { body } = await getJson(gateway, "/api/history");
        return JSON.stringify(body).includes('"trade"');
      },
      5000,
      "trades in the recording's catalog",
    );
    const now = Date.now();
    const cases: [string, number, string][] = [
      ["/api/history/trades?exchange=scripted&symbol=BTCUSDT&to=" + now, 400, "bad_query"],
      ["/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=" + now, 400, "bad_query"],
      [
        `/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=${now}&to=${now - 1}`,
        400,
        "bad_query",
      ],
      [
        `/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=2026-01-01&to=2026-03-01`,
        400,
        "range_too_large",
      ],
      [
        `/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=yesterday&to=${now}`,
        400,
        "bad_query",
      ],
      [
        `/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=0&to=1&format=xml`,
        400,
        "bad_query",
      ],
      [
        `/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=0&to=1&limit=10001`,
        400,
        "bad_query",
      ],
      [
        `/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=0&to=1&cursor=abc`,
        400,
        "bad_query",
      ],
      [
        `/api/history/trades?exchange=scripted&symbol=BTCUSDT&from=0&to=1&extra=1`,
        400,
        "bad_query",
      ],
      [`/api/history/trades?exchange=scripted&symbol=DOGEUSDT&from=0&to=1`, 404, "unknown_symbol"],
      [`/api/history/trades?exchange=nowhere&symbol=BTCUSDT&from=0&to=1`, 404, "unknown_exchange"],
      [
        `/api/history/klines?exchange=scripted&symbol=BTCUSDT&interval=7x&from=0&to=1`,
        400,
        "bad_query",
      ],
      [
        `/api/history/klines?exchange=scripted&symbol=BTCUSDT&interval=2d&from=0&to=1`,
        400,
        "bad_query",
      ],
      [
        `/api/history/klines?exchange=scripted&symbol=BTCUSDT&interval=1s&from=${
          now - DAY
        }&to=${now}`,
        400,
        "range_too_large",
      ],
      [`/api/history/klines?exchange=scripted&symbol=BTCUSDT&from=0&to=1`, 400, "bad_query"],
      [`/api/history/book?exchange=scripted&symbol=BTCUSDT`, 400, "bad_query"],
      [`/api/history/book?exchange=scripted&symbol=BTCUSDT&at=${now}&depth=0`, 400, "bad_query"],
      [`/api/history/book?exchange=scripted&symbol=BTCUSDT&at=${now}`, 404, "no_book"],
      [`/api/history/nothing`, 404, "not_found"],
    ];
    for (const [path, status, code] of cases) {
      await t.step(`${status} ${code}: ${path}`, async () => {
        const res = await getJson(gateway, path);
        assert.equal(res.status, status, JSON.stringify(res.body));
        const error = res.body.error as { code: string; message: string };
        assert.equal(error.code, code);
        assert.ok(error.message.length > 0);
      });
    }
    await t.step(
      "a unified or dashed name finds the native symbol; the catalog marks the emulator",
      async () => {
        for (const name of ["BTC/USDT", "btc-usdt", "BTCUSDT"]) {
          const { status, body } = await getJson(
            gateway,
            `/api/history/trades?exchange=scripted&symbol=${encodeURIComponent(name)}&from=${
              now - 60_000
            }&to=${now}`,
          );
          assert.equal(status, 200, name);
          assert.equal(body.symbol, "BTCUSDT");
          assert.ok((body.count as number) > 0);
        }
        const { body } = await getJson(gateway, "/api/history");
        const ex = (body.exchanges as { exchange: string; source: string; emulator: boolean }[])[0];
        assert.equal(ex.exchange, "scripted");
        assert.equal(ex.source, "emulator");
        assert.equal(ex.emulator, true);
      },
    );
  } finally {
    await gateway.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history endpoints pass the REST access gate like the other routes", async () => {
  const dir = await Deno.makeTempDir();
  const key = "history-key-000001";
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])], {
    recordDir: dir,
    apiKeys: key,
  });
  try {
    for (const path of ["/api/history", "/api/history/trades?exchange=scripted"]) {
      const refused = await getJson(gateway, path);
      assert.equal(refused.status, 401, path);
    }
    const res = await fetch(`${gateway.url}/api/history`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await gateway.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task demo records into a temporary folder with the task's own permissions, and history answers", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const task = denoJson.tasks.demo as string;
  const permissions = task.split(/\s+/).filter((a) => a.startsWith("--allow-"));
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...permissions,
      "--unstable-worker-options",
      "main.ts",
      "--demo",
      "--exchanges",
      "binance",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ],
    cwd: new URL("../../", import.meta.url),
    stdout: "null",
    stderr: "null",
    env: { NO_COLOR: "1", TMPDIR: "/tmp" },
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  let dir: string | undefined;
  try {
    const recording = await waitForValue(
      async () => {
        try {
          const rec = (await (await fetch(`${base}/health`)).json()).recording;
          return rec.enabled && rec.written > 0 ? rec : undefined;
        } catch {
          return undefined; // not up yet
        }
      },
      20_000,
      "the demo's /health to report items written by the recording",
    );
    dir = recording.dir as string;
    assert.match(dir, /^\/tmp\/quant-saas-demo\/history-/);
    assert.equal(recording.healthy, true);
    let last = "";
    const trades = await waitForValue(
      async () => {
        const now = Date.now();
        const res = await fetch(
          `${base}/api/history/trades?exchange=binance&symbol=BTC/USDT&from=${
            now - 60_000
          }&to=${now}`,
        );
        const body = await res.json();
        last = `${res.status} ${JSON.stringify(body).slice(0, 300)}`;
        return res.status === 200 && body.count > 0 ? body : undefined;
      },
      10_000,
      "recorded binance BTCUSDT trades from the demo's history endpoint",
    ).catch((err) => {
      throw new Error(`${err.message}; last answer: ${last}`);
    });
    assert.equal(trades.symbol, "BTCUSDT");
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    assert.ok([...Deno.readDirSync(dir)].some((e) => /^\d{4}-\d{2}-\d{2}\.sqlite$/.test(e.name)));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    if (dir) await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after a restart on the same RECORD_DIR the hub numbers on from the last recorded item", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await gatewayWith([scriptedFeed(["BTCUSDT"])], { recordDir: dir });
    await waitFor(() => first.taps.lastSeq() > 20, 5000, "20 hub items");
    await first.close();
    const lastSeq = first.taps.lastSeq();
    assert.equal(first.recording!.flushedSeq(), lastSeq);
    const second = await gatewayWith([scriptedFeed(["BTCUSDT"])], { recordDir: dir });
    try {
      assert.equal(second.recording!.startSeq, lastSeq);
      const seqs: number[] = [];
      const remove = second.taps.add((e) => seqs.push(e.seq));
      await waitFor(() => seqs.length > 0, 5000, "a hub item after the restart");
      remove();
      assert.ok(seqs[0] > lastSeq, `${seqs[0]} after ${lastSeq}`);
      await second.recording!.flush();
      const reader = second.recording!.history()!;
      const recorded: number[] = [];
      for await (const it of reader.events({ from: 0, to: Date.now() + 1000 })) {
        recorded.push(it.seq);
      }
      reader.close();
      assert.deepEqual(recorded, [...recorded].sort((a, b) => a - b));
      assert.equal(new Set(recorded).size, recorded.length, "no sequence number twice");
      assert.ok(recorded.includes(lastSeq) && recorded.includes(seqs[0]));
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

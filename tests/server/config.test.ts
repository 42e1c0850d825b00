import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../core/server/config.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import { binance } from "../../plugins/binance/mod.ts";

Deno.test("configuration", async (t) => {
  await t.step("defaults: port 3000, the four seed symbols, every channel", () => {
    const { core } = loadConfig([], {});
    assert.equal(core.port, 3000);
    assert.equal(core.host, "0.0.0.0");
    assert.deepEqual(core.symbols, ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"]);
    assert.equal(core.logLevel, "info");
  });
  await t.step("environment sets values and flags override it", () => {
    const { core } = loadConfig(["--port", "4000"], {
      PORT: "5000",
      SYMBOLS: "btcusdt, ethbtc",
      LOG_LEVEL: "debug",
    });
    assert.equal(core.port, 4000);
    assert.deepEqual(core.symbols, ["BTCUSDT", "ETHBTC"]);
    assert.equal(core.logLevel, "debug");
  });
  await t.step("bad values give one clear message naming the setting", () => {
    assert.throws(
      () => loadConfig([], { PORT: "70000" }),
      (err: Error) =>
        err instanceof ConfigError && /PORT \(--port\)/.test(err.message) &&
        /65535/.test(err.message),
    );
    assert.throws(() => loadConfig([], { SYMBOLS: "BTC USDT" }), /SYMBOLS/);
    assert.throws(() => loadConfig([], { LOG_LEVEL: "loud" }), /LOG_LEVEL/);
    assert.throws(() => loadConfig(["--nope"], {}), /bad command line/);
  });
  await t.step(
    "plugin settings come from the plugin's own variables, validated by its schema",
    () => {
      const cfg = pluginConfig(binance, {
        BINANCE_WS_URL: "ws://127.0.0.1:9443",
        BINANCE_REST_URL: "http://127.0.0.1:9443",
      });
      assert.equal(cfg.wsUrl, "ws://127.0.0.1:9443");
      assert.equal(cfg.restUrl, "http://127.0.0.1:9443");
      assert.deepEqual(binance.hosts(cfg), ["127.0.0.1:9443"]);
      const live = pluginConfig(binance, {});
      assert.equal(live.wsUrl, "wss://stream.binance.com:9443");
      assert.equal(live.restUrl, "https://api.binance.com");
      assert.throws(
        () => pluginConfig(binance, { BINANCE_WS_URL: "ftp://x" }),
        /BINANCE_WS_URL \(binance\)/,
      );
    },
  );
});

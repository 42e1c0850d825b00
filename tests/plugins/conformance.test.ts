/**
 * Every shipped plugin passes the plugin conformance kit (testing.ts) against its
 * own emulator. The overrides only shorten stale limits and reconnect backoff so
 * the stale and reconnect checks take seconds, not minutes.
 */
import assert from "node:assert/strict";
import { eventProblems, testPlugin } from "../../testing.ts";
import { registry } from "../../plugins/registry.ts";
import type { ConformanceOptions } from "../../testing.ts";

const options: Record<string, ConformanceOptions> = {
  binance: {
    symbols: ["BTCUSDT"],
    config: {
      staleMs: { trade: 1500, quote: 1500, book: 1500, kline: 1500 },
      backoffBaseMs: 50,
      backoffCapMs: 500,
    },
  },
  coinbase: {
    symbols: ["BTC-USD"],
    config: { deadAfterMs: 2500, backoffBaseMs: 50, backoffCapMs: 500 },
  },
  kraken: {
    symbols: ["BTC/USD"],
    // A connection opened while the emulator is still silent gets no subscription
    // acknowledgement; the ping/pong timeout is what notices it.
    config: {
      deadAfterMs: 2500,
      pingIntervalMs: 1000,
      pongTimeoutMs: 1000,
      backoffBaseMs: 50,
      backoffCapMs: 500,
    },
  },
};

for (const entry of registry) {
  const name = entry.plugin.name;
  Deno.test(
    `${name} passes the plugin conformance kit`,
    testPlugin(entry, options[name] ?? {}),
  );
}

Deno.test("the kit's event validator names each problem of a bad event", () => {
  const good = {
    type: "trade",
    exchange: "myex",
    symbol: "BTCUSD",
    price: 100.5,
    quantity: 0.1,
    timestamp: "2026-01-02T03:04:05.678Z",
    tradeId: 7,
    side: "buy",
    eventTime: 1767323045678,
    receiveTime: 1767323045680,
  };
  assert.deepEqual(eventProblems(good, "myex"), []);
  const problems = eventProblems(
    { ...good, exchange: "other", price: Number.NaN, timestamp: "yesterday", side: "up" },
    "myex",
  );
  assert.equal(problems.length, 4, problems.join("\n"));
  for (const field of ["price", "timestamp", "side", "exchange"]) {
    assert.ok(problems.some((p) => p.startsWith(`${field}:`)), `${field} in ${problems}`);
  }
  assert.ok(eventProblems({ ...good, price: -1 }, "myex").some((p) => p.startsWith("price:")));
  assert.ok(eventProblems({ type: "nonsense" }, "myex").length > 0);
});

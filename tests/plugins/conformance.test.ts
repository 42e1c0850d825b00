/**
 * Every shipped plugin passes the plugin conformance kit (testing.ts) against its
 * own emulator. The overrides only shorten stale limits and reconnect backoff so
 * the stale and reconnect checks take seconds, not minutes.
 */
import assert from "node:assert/strict";
import { eventProblems, testPlugin } from "../../testing.ts";
import { registry } from "../../plugins/registry.ts";
import type { ConformanceOptions } from "../../testing.ts";
import type { FeedContext, MarketEvent, PluginEntry } from "../../mod.ts";
import { entry as toyex } from "../fixtures/external_plugin/entry.ts";

const options: Record<string, ConformanceOptions> = {
  binance: {
    symbols: ["BTCUSDT"],
    silenceMs: 3000,
    config: {
      staleMs: { trade: 1500, quote: 1500, book: 1500, kline: 1500 },
      backoffBaseMs: 50,
      backoffCapMs: 500,
    },
  },
  coinbase: {
    symbols: ["BTC-USD"],
    silenceMs: 4000,
    config: { deadAfterMs: 2500, backoffBaseMs: 50, backoffCapMs: 500 },
  },
  kraken: {
    symbols: ["BTC/USD"],
    silenceMs: 4000,
    // A connection opened while the emulator is still silent gets no instrument
    // snapshot: the ping/pong timeout notices the silence, the snapshot timeout
    // (resyncTimeoutMs) a connection left without its subscriptions.
    config: {
      deadAfterMs: 2500,
      pingIntervalMs: 1000,
      pongTimeoutMs: 1000,
      resyncTimeoutMs: 1500,
      backoffBaseMs: 50,
      backoffCapMs: 500,
    },
  },
  deribit: {
    symbols: ["BTC-PERPETUAL"],
    silenceMs: 4000,
    // Requests unanswered for requestTimeoutMs (a connection opened while the emulator is
    // silent) reconnect, like a silent connection does after deadAfterMs.
    config: { deadAfterMs: 2500, requestTimeoutMs: 1500, backoffBaseMs: 50, backoffCapMs: 500 },
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
  const btc = {
    symbol: "BTCUSD",
    base: "BTC",
    quote: "USD",
    unified: "BTC/USD",
    tickSize: 0.01,
    stepSize: 0.00001,
    minQuantity: 0.00001,
    maxQuantity: 9000,
    minNotional: 5,
  };
  const listing = (instrument: object) => ({
    type: "instruments",
    exchange: "myex",
    instruments: [instrument],
    streamed: ["BTCUSD"],
  });
  assert.deepEqual(
    eventProblems(listing(btc), "myex"),
    [],
    "instrument rules are optional numbers",
  );
  assert.deepEqual(
    eventProblems(listing({ ...btc, tickSize: 0, minNotional: "5" }), "myex").map((p) =>
      p.split(":")[0]
    ),
    ["instruments.0.tickSize", "instruments.0.minNotional"],
    "a plugin may leave a rule out, never send a zero or a string",
  );
});

/** Runs a kit with a recording stand-in for Deno's TestContext: each step's outcome by name. */
async function outcomes(
  kit: (t: Deno.TestContext) => Promise<void>,
): Promise<Map<string, "passed" | "ignored" | string>> {
  const seen = new Map<string, "passed" | "ignored" | string>();
  const t = {
    async step(
      def: string | { name: string; ignore?: boolean; fn: (t: Deno.TestContext) => unknown },
      fn?: (t: Deno.TestContext) => unknown,
    ) {
      const step = typeof def === "string" ? { name: def, fn: fn! } : def;
      const name = step.name.replace(/ \(.*$/, ""); // without "(details)"
      if (step.ignore) {
        seen.set(name, "ignored");
        return false;
      }
      try {
        await step.fn(t as unknown as Deno.TestContext);
        seen.set(name, "passed");
        return true;
      } catch (err) {
        seen.set(name, `failed: ${err instanceof Error ? err.message : err}`);
        return false;
      }
    },
  };
  await kit(t as unknown as Deno.TestContext);
  return seen;
}

const toyexOptions = {
  symbols: ["TOYUSD"],
  config: { staleMs: 1000, backoffMs: 50 },
  silenceMs: 2500,
};

Deno.test("a check whose emulator fault switch is missing is reported as ignored, never as passed", async () => {
  const bare: PluginEntry = {
    ...toyex,
    async emulator(symbols) {
      const emu = await toyex.emulator(symbols);
      return {
        env: emu.env,
        faults: { sendMalformed: emu.faults!.sendMalformed },
        close: emu.close,
      };
    },
  };
  const seen = await outcomes(testPlugin(bare, toyexOptions));
  assert.equal(seen.get("counts malformed frames"), "passed");
  assert.equal(seen.get("reconnects after the emulator drops the connection"), "ignored");
  assert.equal(seen.get("reports stale when the emulator goes silent"), "ignored");
  assert.equal(seen.get("closes every socket on shutdown"), "ignored");
});

Deno.test("a plugin that emits a bad event fails the kit's event check, naming the problem", async () => {
  const sloppy: PluginEntry = {
    ...toyex,
    plugin: {
      ...toyex.plugin,
      run: (ctx: FeedContext) =>
        toyex.plugin.run({
          ...ctx,
          emit: (e: MarketEvent) => ctx.emit(e.type === "trade" ? { ...e, price: -e.price } : e),
        }),
    },
  };
  const seen = await outcomes(testPlugin(sloppy, toyexOptions));
  const events = seen.get("emits valid normalized events");
  assert.match(String(events), /^failed: .*invalid event.*price: /s);
});

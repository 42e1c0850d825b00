/**
 * Options through the gateway on the Deribit emulator: our implied volatility of every mark
 * equals the emulator's independent mark IV; the chain, one option's price (by instrument and
 * from Black-76 inputs: Haug's example), the surface fitted to the live quotes with no
 * butterfly or calendar arbitrage over the quoted strikes, and the `options` channel.
 */
import assert from "node:assert/strict";
import { startDeribitEmulator } from "../../plugins/deribit/emulator/mod.ts";
import { deribit } from "../../plugins/deribit/mod.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import { connect, gatewayWith, getJson, waitFor } from "../helpers.ts";

interface Row {
  instrument: string;
  type: "call" | "put";
  venue: { markIv: number | null };
  ours: { markIv: number | null; greeks: { delta: number } | null };
  ivDiff: number | null;
}
interface Chain {
  expiries: {
    expiry: number;
    forward: number;
    strikes: { strike: number; call: Row | null; put: Row | null }[];
  }[];
}

async function start() {
  const emu = await startDeribitEmulator({ seed: 5, tickMs: 50 });
  const gateway = await gatewayWith([{
    plugin: deribit,
    workerUrl: new URL("../../plugins/deribit/worker.ts", import.meta.url),
    config: pluginConfig(deribit, { DERIBIT_WS_URL: emu.wsUrl, DERIBIT_EMULATOR: "true" }),
    symbols: [],
    channels: ["trade", "quote", "book"],
  }]);
  return { emu, gateway };
}

const quoted = (chain: Chain) =>
  chain.expiries.flatMap((e) => e.strikes.flatMap((s) => [s.call, s.put]))
    .filter((r): r is Row => r !== null && r.venue.markIv !== null);

Deno.test("options: our IV of each mark equals the emulator's independent mark IV; chain and prices", async () => {
  const { emu, gateway } = await start();
  try {
    let chain: Chain = { expiries: [] };
    await waitFor(
      async () => {
        const { status, body } = await getJson(gateway, "/api/options/chain?underlying=BTC");
        chain = body as unknown as Chain;
        return status === 200 && quoted(chain).length >= 20;
      },
      20_000,
      "20 BTC options with a mark",
    );
    const rows = quoted(chain);
    for (const row of rows) {
      // The emulator's mark IV has 2 decimals and its mark price is Black-76 at that IV (its own
      // normal CDF, ~1e-7): ours solves it back to within 0.005 vol points.
      assert.ok(row.ours.markIv !== null, `${row.instrument}: our IV`);
      assert.ok(Math.abs(row.ivDiff!) < 0.005, `${row.instrument}: ${row.ivDiff} vol points apart`);
      const delta = row.ours.greeks!.delta;
      assert.ok(
        row.type === "call" ? delta > 0 && delta < 1 : delta < 0 && delta > -1,
        `${row.instrument} delta`,
      );
    }
    // One option by name: the same line.
    const one = await getJson(gateway, `/api/options/price?instrument=${rows[0].instrument}`);
    assert.equal(one.status, 200);
    assert.equal((one.body as unknown as Row).instrument, rows[0].instrument);
    // From inputs: Haug's Black-76 example (F = K = 19, T = 0.75, r = 10 %, σ = 28 %): 1.7011.
    const haug = await getJson(
      gateway,
      "/api/options/price?forward=19&strike=19&timeYears=0.75&rate=0.1&vol=0.28&type=call",
    );
    assert.ok(Math.abs((haug.body.price as number) - 1.7011) < 5e-5, `${haug.body.price}`);
    // And back: the implied vol of that price.
    const back = await getJson(
      gateway,
      `/api/options/price?forward=19&strike=19&timeYears=0.75&rate=0.1&price=${haug.body.price}&type=call`,
    );
    assert.ok(Math.abs((back.body.inputs as { vol: number }).vol - 0.28) < 1e-12);
    // Bad queries are JSON 4xx.
    assert.equal((await getJson(gateway, "/api/options/chain?underlying=DOGE")).status, 404);
    assert.equal(
      (await getJson(gateway, "/api/options/price?forward=19&strike=19&type=call")).status,
      400,
    );
    assert.equal(
      (await getJson(gateway, "/api/options/chain?expiry=soon&underlying=BTC")).status,
      400,
    );
  } finally {
    await gateway.close();
    await emu.close();
  }
});

Deno.test("options: the surface of the live quotes has no butterfly or calendar arbitrage over the quoted strikes; the options channel streams our figures", async () => {
  const { emu, gateway } = await start();
  const client = await connect(gateway);
  try {
    let surface: Record<string, unknown> = {};
    await waitFor(
      async () => {
        const { status, body } = await getJson(
          gateway,
          "/api/options/surface?underlying=BTC&points=11",
        );
        surface = body;
        return status === 200 && (body.slices as unknown[]).length >= 2;
      },
      20_000,
      "a BTC surface of two expiries",
    );
    const slices = surface.slices as {
      butterflyArbitrage: boolean;
      quotes: number;
      grid: { iv: number }[];
    }[];
    for (const s of slices) {
      assert.equal(s.butterflyArbitrage, false);
      assert.ok(s.quotes >= 5);
      for (const g of s.grid) assert.ok(g.iv > 0 && g.iv < 5, `iv ${g.iv}`);
    }
    assert.deepEqual(surface.calendarArbitrage, []);

    const chain = (await getJson(gateway, "/api/options/chain?underlying=BTC"))
      .body as unknown as Chain;
    const instrument = quoted(chain)[0].instrument;
    client.send({
      action: "subscribe",
      id: "o",
      symbols: [instrument],
      exchanges: ["deribit"],
      channels: ["options"],
    });
    const ack = await client.next((f) => f.id === "o", 5000, 0, "the subscribe answer");
    assert.equal(ack.type, "subscribed", JSON.stringify(ack));
    const frame = await client.next((f) => f.type === "options", 10_000, 0, "an options frame");
    assert.equal(frame.symbol, instrument);
    assert.ok(["call", "put"].includes(frame.optionType as string));
    assert.ok(Math.abs(frame.ivDiff as number) < 0.005);
  } finally {
    await client.close();
    await gateway.close();
    await emu.close();
  }
});

/**
 * The Deribit emulator on its own: its Black-76 against textbook values and identities, the
 * chain it lists (expiries at 08:00 UTC, strike spacings, futures), tickers whose mark price
 * is its Black-76 of the mark IV on the forward, and the protocol rules it enforces on a raw
 * JSON-RPC client (heartbeats, credit limits).
 */
import assert from "node:assert/strict";
import { waitFor } from "../../helpers.ts";
import {
  black76,
  buildChain,
  CURRENCIES,
  impliedVol,
  normCdf,
  smileVol,
  startDeribitEmulator,
} from "../../../plugins/deribit/emulator/mod.ts";

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

Deno.test("the emulator's normal CDF: reference values (Abramowitz & Stegun table 26.1)", () => {
  close(normCdf(0), 0.5, 1e-7, "N(0)");
  close(normCdf(1), 0.8413447461, 1e-7, "N(1)");
  close(normCdf(-1.96), 0.0249978951, 1e-7, "N(-1.96)");
  close(normCdf(2.5), 0.9937903347, 1e-7, "N(2.5)");
});

Deno.test("Black-76: the ATM closed form, Hull's example, put-call parity and greeks by finite differences", () => {
  // ATM, r = 0: call = put = F·(2N(σ√T/2) − 1); F=100, σ=0.5, T=1 → 19.7413.
  const atm = black76({ forward: 100, strike: 100, timeYears: 1, vol: 0.5, rate: 0, type: "call" });
  close(atm.price, 19.74126, 1e-4, "ATM call");
  // Hull, Options Futures and Other Derivatives, Example 18.6 (Black's model): F=20, K=20,
  // r=9 %, σ=25 %, T=4/12: put = 1.12.
  const hull = black76({
    forward: 20,
    strike: 20,
    timeYears: 4 / 12,
    vol: 0.25,
    rate: 0.09,
    type: "put",
  });
  close(hull.price, 1.12, 0.005, "Hull 18.6 put");
  for (const [F, K, T, s, r] of [[100, 80, 0.5, 0.6, 0.03], [3600, 4000, 0.1, 0.8, 0]]) {
    const c = black76({ forward: F, strike: K, timeYears: T, vol: s, rate: r, type: "call" });
    const p = black76({ forward: F, strike: K, timeYears: T, vol: s, rate: r, type: "put" });
    close(c.price - p.price, Math.exp(-r * T) * (F - K), 1e-6 * F, "parity C − P = D(F − K)");
    const h = 1e-4 * F;
    const up = black76({ forward: F + h, strike: K, timeYears: T, vol: s, rate: r, type: "call" });
    const dn = black76({ forward: F - h, strike: K, timeYears: T, vol: s, rate: r, type: "call" });
    close(c.delta, (up.price - dn.price) / (2 * h), 1e-5, "delta");
    close(c.gamma, (up.price - 2 * c.price + dn.price) / (h * h), 1e-4 * c.gamma + 1e-9, "gamma");
    const vUp = black76({
      forward: F,
      strike: K,
      timeYears: T,
      vol: s + 1e-5,
      rate: r,
      type: "call",
    });
    close(c.vega, (vUp.price - c.price) / 1e-5, 1e-3 * c.vega, "vega");
    const tLess = black76({
      forward: F,
      strike: K,
      timeYears: T - 1e-6,
      vol: s,
      rate: r,
      type: "call",
    });
    close(c.theta, (tLess.price - c.price) / 1e-6, 1e-3 * Math.abs(c.theta), "theta per year");
  }
});

Deno.test("property: the emulator's implied vol recovers the volatility of its own prices", () => {
  for (let i = 0; i < 200; i++) {
    const vol = 0.1 + (i % 17) * 0.1;
    const strike = 60 + (i % 9) * 10;
    const T = 0.01 + (i % 5) * 0.2;
    const type = i % 2 === 0 ? "call" : "put";
    const input = { forward: 100, strike, timeYears: T, rate: 0, type } as const;
    const price = black76({ ...input, vol }).price;
    const intrinsic = Math.max(type === "call" ? 100 - strike : strike - 100, 0);
    if (price - intrinsic < 1e-6) continue; // no time value left to resolve σ from
    close(impliedVol(price, input)!, vol, 1e-6, `σ of ${type} K=${strike} T=${T}`);
  }
  assert.equal(
    impliedVol(0, { forward: 100, strike: 100, timeYears: 1, rate: 0, type: "call" }),
    undefined,
  );
});

Deno.test("the chain: four expiries at 08:00 UTC, Deribit-style names, strikes at the spacing around the forward", () => {
  const now = Date.UTC(2026, 11, 7, 15, 0);
  const btc = buildChain(CURRENCIES[0], now, 6);
  const expiries = [...new Set(btc.filter((i) => i.expiry).map((i) => i.expiry!))];
  assert.deepEqual(
    expiries.map((e) => new Date(e).toISOString()),
    [
      "2026-12-08T08:00:00.000Z",
      "2026-12-14T08:00:00.000Z",
      "2027-01-06T08:00:00.000Z",
      "2027-03-08T08:00:00.000Z",
    ],
  );
  assert.deepEqual(btc.filter((i) => i.kind === "future").map((i) => i.name), [
    "BTC-PERPETUAL",
    "BTC-8DEC26",
    "BTC-14DEC26",
    "BTC-6JAN27",
    "BTC-8MAR27",
  ]);
  const firstCalls = btc.filter((i) => i.name.startsWith("BTC-8DEC26-") && i.optionType === "call");
  assert.equal(firstCalls.length, 13);
  assert.deepEqual(firstCalls.slice(0, 3).map((i) => i.name), [
    "BTC-8DEC26-95000-C",
    "BTC-8DEC26-95500-C",
    "BTC-8DEC26-96000-C",
  ]);
  const quarterly = btc.filter((i) => i.name.startsWith("BTC-8MAR27-") && i.optionType === "put");
  assert.deepEqual(quarterly.slice(0, 2).map((i) => i.strike! % 5000), [0, 0]);
  assert.equal(btc.length, 1 + 4 * (1 + 26));
});

Deno.test("the smile: a put skew, a convex wing, an ATM term structure that falls with maturity", () => {
  for (const T of [1 / 365, 7 / 365, 30 / 365, 91 / 365]) {
    assert.ok(smileVol(0.5, -0.1, T) > smileVol(0.5, 0.1, T), "puts richer than calls");
    assert.ok(smileVol(0.5, 0.3, T) > smileVol(0.5, 0.05, T), "a convex call wing");
  }
  assert.ok(smileVol(0.5, 0, 1 / 365) > smileVol(0.5, 0, 91 / 365));
});

Deno.test("tickers: mark price = the emulator's Black-76 of mark IV on the underlying price, in coin; bid/ask IVs bracket it", async () => {
  // The books are built at the last tick and the ticker at the call: both now.
  const startTime = Date.now();
  const emu = await startDeribitEmulator({ autoStart: false, seed: 3, startTime });
  emu.tick(1);
  try {
    const chain = CURRENCIES.flatMap((c) => buildChain(c, startTime, 6));
    const options = chain.filter((i) => i.kind === "option");
    assert.equal(options.length, 2 * 4 * 13 * 2);
    let bids = 0;
    for (const spec of options.filter((_, i) => i % 5 === 0)) {
      const t = emu.ticker(spec.name) as Record<string, number> & {
        greeks: Record<string, number>;
      };
      const timeYears = (spec.expiry! - t.timestamp) / (365 * 86_400_000);
      const b = black76({
        forward: t.underlying_price,
        strike: spec.strike!,
        timeYears,
        vol: t.mark_iv / 100,
        rate: t.interest_rate,
        type: spec.optionType!,
      });
      // Inverse option: the premium in coin is the USD price over the underlying price.
      close(t.mark_price, b.price / t.underlying_price, 1e-12, `${spec.name} mark price`);
      // Deribit's greek units: vega per 1 %, theta per day.
      close(t.greeks.delta, b.delta, 1e-12, `${spec.name} delta`);
      close(t.greeks.vega, b.vega / 100, 1e-9, `${spec.name} vega`);
      close(t.greeks.theta, b.theta / 365, 1e-9, `${spec.name} theta`);
      // Where there is a bid, its IV is at most the mark's (0 when below intrinsic, as Deribit).
      if (t.best_bid_price > 0) {
        assert.ok(t.best_bid_price < t.best_ask_price, `${spec.name}: bid below ask`);
        assert.ok(t.bid_iv <= t.mark_iv, `${spec.name}: bid_iv ${t.bid_iv} ≤ ${t.mark_iv}`);
        bids++;
      } else assert.equal(t.bid_iv, 0);
      assert.ok(t.mark_iv <= t.ask_iv, `${spec.name}: mark_iv ${t.mark_iv} ≤ ask_iv ${t.ask_iv}`);
      assert.equal(t.underlying_index, `${spec.currency}-${spec.name.split("-")[1]}`);
    }
    assert.ok(bids > 30, `most options have a bid (${bids})`);
  } finally {
    await emu.close();
  }
});

/** A raw JSON-RPC client of the emulator. */
async function rawClient(url: string) {
  const ws = new WebSocket(url);
  const frames: Record<string, unknown>[] = [];
  let closed = false;
  ws.onmessage = (e) => frames.push(JSON.parse(String(e.data)));
  ws.onclose = () => closed = true;
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  return {
    frames,
    closed: () => closed,
    call(method: string, params: Record<string, unknown> = {}) {
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }));
      return id;
    },
    close() {
      ws.close();
    },
  };
}

Deno.test("the emulator closes a connection that leaves a test_request unanswered, and keeps one that answers", async () => {
  const emu = await startDeribitEmulator({ autoStart: false, minHeartbeatSec: 0.1 });
  const silent = await rawClient(emu.wsUrl);
  const polite = await rawClient(emu.wsUrl);
  try {
    silent.call("public/set_heartbeat", { interval: 0.1 });
    polite.call("public/set_heartbeat", { interval: 0.1 });
    let answered = 0;
    const answer = setInterval(() => {
      const asks = polite.frames.filter((f) => f.method === "heartbeat").length;
      while (answered < asks) {
        polite.call("public/test");
        answered++;
      }
    }, 10);
    await waitFor(() => silent.closed(), 3000, "the silent client closed");
    assert.ok(
      silent.frames.some((f) =>
        f.method === "heartbeat" && (f.params as { type: string }).type === "test_request"
      ),
    );
    assert.equal(emu.heartbeats().closedUnanswered, 1);
    await waitFor(() => answered >= 5, 3000, "five test_requests answered");
    clearInterval(answer);
    assert.equal(polite.closed(), false);
    // Deribit refuses an interval below its minimum (10 s; 0.1 s in this emulator).
    const id = polite.call("public/set_heartbeat", { interval: 0.01 });
    await waitFor(() => polite.frames.some((f) => f.id === id), 2000, "the answer");
    assert.equal((polite.frames.find((f) => f.id === id)!.error as { code: number }).code, -32602);
  } finally {
    silent.close();
    polite.close();
    await emu.close();
  }
});

Deno.test("the emulator answers a request beyond the credits with too_many_requests (10028) and closes the session", async () => {
  const emu = await startDeribitEmulator({ autoStart: false });
  const c = await rawClient(emu.wsUrl);
  try {
    for (let i = 0; i < 11; i++) {
      c.call("public/subscribe", { channels: ["ticker.BTC-PERPETUAL.100ms"] });
    }
    await waitFor(() => c.closed(), 3000, "the session closed");
    const refused = c.frames.filter((f) => f.error !== undefined);
    assert.deepEqual(refused.map((f) => (f.error as { code: number }).code), [10028]);
    assert.equal(refused[0].id, 11, "the 11th subscribe: the pool of 30 000 pays for 10");
    assert.equal(emu.rateLimited(), 1);
  } finally {
    await emu.close();
  }
});

Deno.test("the emulator is reproducible: the same seed gives the same chain, books and tickers", async () => {
  const start = Date.UTC(2026, 11, 7, 12);
  const a = await startDeribitEmulator({ autoStart: false, seed: 9, startTime: start });
  const b = await startDeribitEmulator({ autoStart: false, seed: 9, startTime: start });
  try {
    assert.deepEqual(a.instruments(), b.instruments());
    a.tick(20);
    b.tick(20);
    for (const name of ["BTC-PERPETUAL", a.instruments()[10], a.instruments().at(-1)!]) {
      assert.deepEqual(a.book(name).bids, b.book(name).bids);
      assert.deepEqual(a.book(name).asks, b.book(name).asks);
    }
  } finally {
    await a.close();
    await b.close();
  }
});

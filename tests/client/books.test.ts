/**
 * The typed client's local books and paper requests against the real Binance plugin on its
 * emulator, held still (`autoStart: false`, advanced with `emu.tick`): after updates the local
 * book equals `GET /api/book`; a lost delta (dropped by a proxy between client and gateway)
 * breaks the `seq` chain and the client gets a fresh snapshot by itself; a cut connection
 * leaves the book unsynced until the snapshot of the new connection. `request()` of a paper
 * order resolves with the order frame and rejects a bad one with `invalid_order`.
 */
import assert from "node:assert/strict";
import { ClientError, connect, type LocalBook, type QuantClient } from "../../client.ts";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import { gatewayWith, getJson, waitFor } from "../helpers.ts";
import { binanceFeed } from "../replay/helpers.ts";
import type { Gateway } from "../../core/server/gateway.ts";
import { startProxy } from "./_proxy.ts";

const DEPTH = 5;

async function stillBinance() {
  const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], seed: 23, autoStart: false });
  const gateway = await gatewayWith([binanceFeed(emu, ["BTCUSDT"])], {
    paperBalances: "USDT=100000,BTC=1",
  });
  await waitFor(
    async () => {
      emu.tick(1);
      const { status, body } = await getJson(
        gateway,
        `/api/book?exchange=binance&symbol=BTCUSDT&depth=${DEPTH}`,
      );
      return status === 200 && body.synced === true &&
        emu.book("BTCUSDT").lastUpdateId === body.updateId;
    },
    20_000,
    "the BTCUSDT book synced and equal to the emulator's",
  );
  return { emu, gateway };
}

/** Ticks the emulator `n` times and waits until the gateway's book has the emulator's last update. */
async function advance(
  emu: Awaited<ReturnType<typeof stillBinance>>["emu"],
  gateway: Gateway,
  n: number,
) {
  emu.tick(n);
  await waitFor(
    async () =>
      (await getJson(gateway, `/api/book?exchange=binance&symbol=BTCUSDT&depth=${DEPTH}`)).body
        .updateId === emu.book("BTCUSDT").lastUpdateId,
    5000,
    "the gateway caught up with the emulator",
  );
}

/** Waits until the client's local book equals the gateway's `/api/book` (levels and sync). */
async function assertBookMatches(client: QuantClient, gateway: Gateway): Promise<LocalBook> {
  let last = "";
  await waitFor(
    async () => {
      const body =
        (await getJson(gateway, `/api/book?exchange=binance&symbol=BTCUSDT&depth=${DEPTH}`)).body;
      const local = client.book("binance", "BTCUSDT");
      last = JSON.stringify({
        local: local && [local.bids, local.asks],
        gateway: [body.bids, body.asks],
      });
      return local?.synced === true &&
        JSON.stringify([local.bids, local.asks]) === JSON.stringify([body.bids, body.asks]);
    },
    5000,
    "the local book equal to /api/book",
  ).catch((err) => {
    throw new Error(`${err.message}: ${last}`);
  });
  return client.book("binance", "BTCUSDT")!;
}

Deno.test("client books: the local book follows snapshot and deltas and equals GET /api/book", async () => {
  const { emu, gateway } = await stillBinance();
  const client = connect({ url: gateway.url.replace("http", "ws") + "/ws?batch=1" });
  try {
    let updates = 0;
    client.onBook(() => updates++);
    await client.subscribe({ symbols: ["BTC/USDT"], channels: ["book"], depth: DEPTH, raw: false });
    await assertBookMatches(client, gateway);
    for (let i = 0; i < 5; i++) {
      await advance(emu, gateway, 3);
      await assertBookMatches(client, gateway);
    }
    const book = client.book("binance", "BTC/USDT")!;
    assert.ok(book.seq > 0, `deltas applied (seq ${book.seq})`);
    assert.equal(book.resnapshots, 0);
    assert.equal(book.bids.length, DEPTH);
    assert.ok(updates > 1);
    await client.unsubscribe({ symbols: ["BTC/USDT"], channels: ["book"], depth: DEPTH });
    assert.equal(client.book("binance", "BTCUSDT"), undefined, "forgotten after the unsubscribe");
  } finally {
    client.close();
    await gateway.close();
    await emu.close();
  }
});

Deno.test("client books: a lost delta breaks the seq chain; the client re-snapshots by itself; a cut resyncs", async () => {
  const { emu, gateway } = await stillBinance();
  const proxy = startProxy(gateway.url.replace("http", "ws"));
  const client = connect({ url: proxy.url + "/ws", reconnect: { baseMs: 50 } });
  try {
    await client.subscribe({ symbols: ["BTCUSDT"], channels: ["book"], depth: DEPTH, raw: false });
    await assertBookMatches(client, gateway);
    const seen: boolean[] = [];
    client.onBook((b) => seen.push(b.synced));
    let dropped = 0;
    proxy.drop = (m) =>
      m.includes('"type":"book"') && m.includes('"snapshot":false') && dropped++ === 0;
    while (dropped === 0) await advance(emu, gateway, 1);
    await advance(emu, gateway, 2);
    const book = await assertBookMatches(client, gateway);
    assert.equal(book.resnapshots, 1, "one fresh snapshot after the break");
    assert.ok(seen.includes(false), "the book was marked unsynced in between");

    proxy.drop = () => false;
    proxy.cut();
    await waitFor(
      () => client.book("binance", "BTCUSDT")?.synced === false,
      2000,
      "unsynced by the cut",
    );
    await waitFor(() => client.state === "open", 5000, "reconnected");
    await advance(emu, gateway, 2);
    const after = await assertBookMatches(client, gateway);
    assert.equal(after.resnapshots, 1, "a reconnect's snapshot is not a resnapshot");
  } finally {
    client.close();
    await proxy.close();
    await gateway.close();
    await emu.close();
  }
});

Deno.test("client request(): a paper order resolves with its order frame; a bad one rejects with invalid_order", async () => {
  const { emu, gateway } = await stillBinance();
  const client = connect({ url: gateway.url.replace("http", "ws") + "/ws" });
  try {
    const base = { action: "order", exchange: "binance", symbol: "BTCUSDT", side: "buy" };
    const reply = await client.request({
      ...base,
      type: "market",
      quantity: 0.001,
      clientOrderId: "c-1",
    });
    assert.equal(reply.type, "order");
    if (reply.type !== "order") return;
    assert.equal(reply.simulated, true);
    assert.equal(reply.order.clientOrderId, "c-1");
    assert.equal(reply.order.quantity, 0.001);

    const err = await client.request({ ...base, type: "limit", quantity: 0.001 }).then(
      () => assert.fail("a limit order without a price was accepted"),
      (e) => e,
    );
    assert.ok(err instanceof ClientError);
    assert.equal(err.code, "invalid_order");
    assert.match(err.message, /price/);

    const filter = await client.request({ ...base, type: "limit", price: 1, quantity: 0.001 })
      .catch((e) => e);
    assert.equal(filter.code, "filter_failure");
    assert.match(filter.exchangeError.msg, /NOTIONAL/);

    const account = await client.request({ action: "account" });
    assert.equal(account.type, "account");
  } finally {
    client.close();
    await gateway.close();
    await emu.close();
  }
});

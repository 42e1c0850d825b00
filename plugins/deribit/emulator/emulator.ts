/**
 * Composition of the Deribit emulator: the BTC and ETH markets, the client
 * connections, the faults, and one `node:http` server on 127.0.0.1 that upgrades
 * `/ws/api/v2` to WebSocket (npm:ws, so drops can be abrupt).
 * @module
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
import { createRng } from "../../../testing.ts";
import { CURRENCIES, instrumentPayload } from "./chain.ts";
import { attachClient, type Client } from "./client.ts";
import { malformedFrames } from "./malformed.ts";
import { createCurrencyMarket, type CurrencyMarket } from "./market.ts";
import type {
  DeribitEmulator,
  DeribitEmulatorOptions,
  DeribitFaults,
  RequestRecord,
} from "./types.ts";

/** Options with every default filled in. */
export type ResolvedOptions = Required<DeribitEmulatorOptions>;

/** Fills in the defaults (Deribit's real limits; a 100 ms market tick). */
export function resolveOptions(o: DeribitEmulatorOptions = {}): ResolvedOptions {
  return {
    port: o.port ?? 0,
    seed: o.seed ?? 1,
    tickMs: o.tickMs ?? 100,
    tradesPerSecond: o.tradesPerSecond ?? 10,
    strikesEachSide: o.strikesEachSide ?? 6,
    minHeartbeatSec: o.minHeartbeatSec ?? 10,
    volBoost: o.volBoost ?? 20,
    credits: o.credits ?? { cost: 500, max: 50_000, refillPerSec: 10_000 },
    subscribeCredits: o.subscribeCredits ?? { cost: 3_000, max: 30_000, refillPerSec: 10_000 },
    autoStart: o.autoStart ?? true,
    startTime: o.startTime ?? Date.now(),
  };
}

/**
 * Starts a Deribit emulator on 127.0.0.1 and resolves once it listens.
 *
 * @example
 * ```ts ignore
 * const emu = await startDeribitEmulator({ seed: 7, tickMs: 50 });
 * const ws = new WebSocket(emu.wsUrl);
 * // {"jsonrpc":"2.0","id":1,"method":"public/subscribe","params":{"channels":["book.BTC-PERPETUAL.100ms"]}}
 * await emu.close();
 * ```
 */
export async function startDeribitEmulator(
  options: DeribitEmulatorOptions = {},
): Promise<DeribitEmulator> {
  const opts = resolveOptions(options);
  const rng = createRng(opts.seed);
  const markets = new Map<string, CurrencyMarket>();
  for (const spec of CURRENCIES) {
    markets.set(
      spec.currency,
      createCurrencyMarket(spec, {
        rng,
        now: opts.startTime,
        tickMs: opts.tickMs,
        strikesEachSide: opts.strikesEachSide,
        tradesPerSecond: opts.tradesPerSecond,
        volBoost: opts.volBoost,
      }),
    );
  }
  const marketOf = (key: string) => markets.get(key.split("-")[0]);
  const payloads = new Map<string, Record<string, unknown>[]>();
  for (const [c, m] of markets) {
    payloads.set(c, m.instruments.map((i) => instrumentPayload(i, opts.startTime - 86_400_000)));
  }

  const clients = new Set<Client>();
  const requests: RequestRecord[] = [];
  const beats = { sent: 0, answered: 0, closedUnanswered: 0 };
  let rateLimited = 0;
  let totalConnections = 0;
  let running = false;
  let silentUntil = 0;
  let refuseUntil = 0;

  const tickAll = () => {
    const now = Date.now();
    const active = new Set<string>();
    for (const c of clients) for (const i of c.traded()) active.add(i);
    for (const m of markets.values()) {
      const result = m.tick(now, active);
      for (const c of clients) c.publish(m, result, now);
    }
  };
  const tickTimer = setInterval(() => {
    if (running) tickAll();
  }, opts.tickMs);

  const faults: DeribitFaults = {
    dropConnections(o) {
      for (const c of clients) c.drop(o?.abrupt ?? false);
    },
    dropBookChange(instrument) {
      marketOf(instrument)?.dropNextChange(instrument);
    },
    sendMalformed(count = 8) {
      const frames = malformedFrames(count, "BTC-PERPETUAL", Date.now());
      for (const c of clients) for (const f of frames) c.send(f);
    },
    silence(ms) {
      silentUntil = Date.now() + ms;
    },
    refuseConnections(ms) {
      refuseUntil = Date.now() + ms;
    },
    reset() {
      silentUntil = 0;
      refuseUntil = 0;
    },
  };

  const server = http.createServer((_req, res) => {
    res.writeHead(426, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "WebSocket upgrade expected: connect to /ws/api/v2" }));
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
  });
  server.on("upgrade", (req, socket: Socket, head) => {
    socket.on("error", () => socket.destroy());
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (Date.now() < refuseUntil || path !== "/ws/api/v2") {
      const [status, text] = Date.now() < refuseUntil
        ? [503, "Service Unavailable"]
        : [404, "Not Found"];
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client = attachClient({
        ws,
        id: ++totalConnections,
        minHeartbeatSec: opts.minHeartbeatSec,
        credits: opts.credits,
        subscribeCredits: opts.subscribeCredits,
        market: marketOf,
        instrumentsPayload: (currency, kind) =>
          (payloads.get(currency) ?? []).filter((p) => kind === undefined || p.kind === kind),
        silenced: () => Date.now() < silentUntil,
        record: (r) => requests.push(r),
        heartbeat: (e) => beats[e]++,
        rateLimited: () => rateLimited++,
        onClose: (c) => clients.delete(c),
      });
      clients.add(client);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  running = opts.autoStart;

  const market = (instrument: string): CurrencyMarket => {
    const m = marketOf(instrument);
    if (!m?.has(instrument)) throw new Error(`${instrument} is not listed by this emulator`);
    return m;
  };

  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws/api/v2`,
    faults,
    pause() {
      running = false;
    },
    resume() {
      running = true;
    },
    tick(n = 1) {
      for (let i = 0; i < n; i++) tickAll();
    },
    instruments: () => [...markets.values()].flatMap((m) => m.instruments.map((i) => i.name)),
    book: (instrument) => market(instrument).snapshot(instrument),
    ticker: (instrument) => market(instrument).ticker(instrument, Date.now()),
    index: (currency) => markets.get(currency.toUpperCase())!.index(),
    connectionCount: () => clients.size,
    totalConnections: () => totalConnections,
    subscriptions: () => [...clients].map((c) => c.subscriptions()),
    requests: () => [...requests],
    heartbeats: () => ({ ...beats }),
    rateLimited: () => rateLimited,
    async close() {
      running = false;
      clearInterval(tickTimer);
      for (const c of clients) c.drop(true);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

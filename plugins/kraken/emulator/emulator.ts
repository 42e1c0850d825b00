/**
 * Composition of the Kraken emulator: the pair markets, the client
 * connections, the faults, and one `node:http` server on 127.0.0.1 that
 * upgrades `/v2` to WebSocket (npm:ws, so drops can be abrupt) and answers any
 * plain HTTP request with the `x-emulator` header.
 * @module
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
import { unitsChecksum } from "./checksum.ts";
import { attachClient, type Client } from "./client.ts";
import { unitsValue } from "./decimal.ts";
import { malformedFrames } from "./malformed.ts";
import { createSymbolMarket, type SymbolMarket } from "./market.ts";
import { assetPayload, DEFAULT_PAIRS, pairPayload } from "./pairs.ts";
import type { KrakenEmulator, KrakenEmulatorOptions, KrakenFaults } from "./types.ts";

/** Header on every plain HTTP response: how a client tells the emulator from Kraken. */
export const EMULATOR_HEADER: readonly [string, string] = [
  "x-emulator",
  "quant-saas-kraken-emulator",
];

/** Options with every default filled in. */
export type ResolvedOptions = Required<KrakenEmulatorOptions>;

/** Fills in the defaults (Kraken's real timings; a 50 ms market tick). */
export function resolveOptions(options: KrakenEmulatorOptions = {}): ResolvedOptions {
  return {
    port: options.port ?? 0,
    symbols: options.symbols ?? DEFAULT_PAIRS.map((p) => p.symbol),
    seed: options.seed ?? 1,
    tickMs: options.tickMs ?? 50,
    tradesPerSecond: options.tradesPerSecond ?? 8,
    heartbeatMs: options.heartbeatMs ?? 1000,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    bookLevels: Math.max(1000, options.bookLevels ?? 1100),
    autoStart: options.autoStart ?? true,
  };
}

function rejectUpgrade(socket: Socket, status: number, text: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\n` +
      `${EMULATOR_HEADER[0]}: ${EMULATOR_HEADER[1]}\r\n` +
      `Content-Length: ${
        new TextEncoder().encode(body).length
      }\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Starts a Kraken emulator on 127.0.0.1 and resolves once it listens. */
export async function startKrakenEmulator(
  options: KrakenEmulatorOptions = {},
): Promise<KrakenEmulator> {
  const opts = resolveOptions(options);
  const startedAt = Date.now();
  const markets = new Map<string, SymbolMarket>();
  for (const spec of DEFAULT_PAIRS) {
    if (!opts.symbols.includes(spec.symbol)) continue;
    markets.set(
      spec.symbol,
      createSymbolMarket(spec, {
        seed: opts.seed,
        tickMs: opts.tickMs,
        tradesPerSecond: opts.tradesPerSecond,
        bookLevels: opts.bookLevels,
        now: startedAt,
      }),
    );
  }
  const specs = [...markets.values()].map((m) => m.spec);
  const assets = [...new Set(specs.flatMap((s) => [s.base, s.quote]))];
  const instrumentSnapshot = JSON.stringify({
    channel: "instrument",
    type: "snapshot",
    data: { assets: assets.map(assetPayload), pairs: specs.map(pairPayload) },
  });

  const clients = new Set<Client>();
  let totalConnections = 0;
  let running = false;
  let system = "online";
  let refuseUntil = 0;
  let silentUntil = 0;
  let maintenanceUntil = 0;
  let maintenanceTimer: ReturnType<typeof setTimeout> | undefined;
  const corrupt = new Map<string, number>();

  const tickAll = (): void => {
    const now = Date.now();
    for (const m of markets.values()) {
      const result = m.tick(now);
      for (const c of clients) c.publish(m, result, now);
    }
  };
  const tickTimer = setInterval(() => {
    if (running && Date.now() >= maintenanceUntil) tickAll();
  }, opts.tickMs);

  const endMaintenance = () => {
    clearTimeout(maintenanceTimer);
    maintenanceTimer = undefined;
    maintenanceUntil = 0;
    if (system === "online") return;
    system = "online";
    for (const c of clients) c.sendStatus();
  };

  const faults: KrakenFaults = {
    dropConnections(o) {
      for (const c of clients) c.drop(o?.abrupt ?? false);
    },
    refuseConnections(ms) {
      refuseUntil = Date.now() + ms;
    },
    corruptChecksum(symbol) {
      corrupt.set(symbol, (corrupt.get(symbol) ?? 0) + 1);
    },
    sendMalformed(count = 10) {
      const frames = malformedFrames(count, specs[0]?.symbol ?? "BTC/USD", Date.now());
      for (const c of clients) for (const f of frames) c.send(f);
    },
    silence(ms) {
      silentUntil = Date.now() + ms;
    },
    maintenance(ms, o) {
      system = "maintenance";
      maintenanceUntil = Date.now() + ms;
      for (const c of clients) c.sendStatus();
      if (o?.disconnect) {
        refuseUntil = Math.max(refuseUntil, maintenanceUntil);
        for (const c of clients) c.drop(false, "maintenance");
      }
      clearTimeout(maintenanceTimer);
      maintenanceTimer = setTimeout(endMaintenance, ms);
    },
    reset() {
      refuseUntil = 0;
      silentUntil = 0;
      corrupt.clear();
      endMaintenance();
    },
  };

  const server = http.createServer((_req, res) => {
    res.writeHead(426, {
      "content-type": "application/json",
      [EMULATOR_HEADER[0]]: EMULATOR_HEADER[1],
    });
    res.end(JSON.stringify({ error: "WebSocket upgrade expected: connect to /v2" }));
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
  });
  server.on("upgrade", (req, socket: Socket, head) => {
    socket.on("error", () => socket.destroy());
    if (Date.now() < refuseUntil) {
      rejectUpgrade(socket, 503, "Service Unavailable", `{"error":"Service unavailable"}`);
      return;
    }
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (path !== "/v2" && path !== "/v2/") {
      rejectUpgrade(socket, 404, "Not Found", `{"error":"Not found"}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client = attachClient({
        ws,
        id: ++totalConnections,
        seed: opts.seed,
        heartbeatMs: opts.heartbeatMs,
        idleTimeoutMs: opts.idleTimeoutMs,
        market: (symbol) => markets.get(symbol),
        instrumentSnapshot: () => instrumentSnapshot,
        // The maintenance is over once its time is (the timer that announces it may run late
        // on a busy machine; a connection accepted after the refusal ended must not see it).
        system: () => {
          if (system !== "online" && maintenanceUntil > 0 && Date.now() >= maintenanceUntil) {
            endMaintenance();
          }
          return system;
        },
        silenced: () => Date.now() < silentUntil,
        takeCorruption(symbol) {
          const n = corrupt.get(symbol) ?? 0;
          if (n <= 0) return false;
          corrupt.set(symbol, n - 1);
          return true;
        },
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

  const marketOf = (symbol: string): SymbolMarket => {
    const m = markets.get(symbol);
    if (!m) throw new Error(`pair ${symbol} is not listed by this emulator`);
    return m;
  };

  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/v2`,
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
    book(symbol, depth) {
      const m = marketOf(symbol);
      const bids = m.bids.top(depth), asks = m.asks.top(depth);
      const pp = m.spec.pricePrecision, qp = m.spec.qtyPrecision;
      return {
        bids: bids.map(([p, q]) => [unitsValue(p, pp), unitsValue(q, qp)]),
        asks: asks.map(([p, q]) => [unitsValue(p, pp), unitsValue(q, qp)]),
        checksum: unitsChecksum(asks, bids),
      };
    },
    lastTradeId: (symbol) => marketOf(symbol).lastTradeId(),
    connectionCount: () => clients.size,
    totalConnections: () => totalConnections,
    subscriptions: () => [...clients].map((c) => c.subscriptions()),
    async close() {
      running = false;
      clearInterval(tickTimer);
      clearTimeout(maintenanceTimer);
      for (const c of clients) c.drop(true);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

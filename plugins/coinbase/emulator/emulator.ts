/**
 * Composition of the Coinbase emulator: markets, publisher, faults, REST and
 * WebSocket handling on one `node:http` server (127.0.0.1), plus the timers
 * that drive the market and the batched publication.
 * @module
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
import { attachConnection, type ClientConnection, type ReceivedMessage } from "./connection.ts";
import { createFaults } from "./faults.ts";
import { malformedFrames } from "./malformed.ts";
import { createProductMarket, type ProductMarket } from "./market.ts";
import { createRng } from "../../../testing.ts";
import { DEFAULT_PRODUCTS, formatPrice, formatSize, productSpec } from "./products.ts";
import { createPublisher } from "./publisher.ts";
import { createRestHandler, EMULATOR_HEADER } from "./rest.ts";
import type { CoinbaseEmulator, CoinbaseEmulatorOptions } from "./types.ts";
import { wireTrade } from "./wire.ts";

/** Options with every default filled in. */
export type ResolvedOptions = Required<CoinbaseEmulatorOptions>;

/** Most client messages kept for {@link CoinbaseEmulator.received}. */
const RECEIVED_KEPT = 10_000;

/** Fills in the defaults (Coinbase's real rules; a 50 ms market tick). */
export function resolveOptions(options: CoinbaseEmulatorOptions = {}): ResolvedOptions {
  const seed = options.seed ?? 1;
  return {
    port: options.port ?? 0,
    products: (options.products ?? [...DEFAULT_PRODUCTS]).map((p) => p.toUpperCase()),
    seed,
    tickMs: options.tickMs ?? 50,
    tradesPerSecond: options.tradesPerSecond ?? 6,
    bookLevels: options.bookLevels ?? 150,
    level2BatchMs: options.level2BatchMs ?? 50,
    tradeBatchMs: options.tradeBatchMs ?? 250,
    candleIntervalMs: options.candleIntervalMs ?? 1000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
    heartbeatCounter: options.heartbeatCounter ?? "string",
    subscribeDeadlineMs: options.subscribeDeadlineMs ?? 5000,
    idleCloseMs: options.idleCloseMs ?? 60_000 + createRng(seed).int(30_001),
    maxMessagesPerSecond: options.maxMessagesPerSecond ?? 8,
    tradeSnapshotSize: options.tradeSnapshotSize ?? 50,
    autoStart: options.autoStart ?? true,
  };
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
function rejectUpgrade(socket: Socket, status: number, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} Service Unavailable\r\n` +
      `Content-Type: application/json\r\n` +
      `${EMULATOR_HEADER[0]}: ${EMULATOR_HEADER[1]}\r\n` +
      `Content-Length: ${new TextEncoder().encode(body).length}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

/** Starts an emulator on 127.0.0.1 and resolves once it listens. */
export async function startCoinbaseEmulator(
  options: CoinbaseEmulatorOptions = {},
): Promise<CoinbaseEmulator> {
  const opts = resolveOptions(options);
  const startedAt = Date.now();
  const connections = new Set<ClientConnection>();
  const markets = new Map<string, ProductMarket>();
  const received: ReceivedMessage[] = [];
  let running = false;
  let totalConnections = 0;
  let tickTimer: ReturnType<typeof setInterval> | undefined;

  const { faults, state } = createFaults({
    dropConnections(abrupt) {
      for (const c of connections) c.drop(abrupt);
    },
    skipSequence() {
      for (const c of connections) c.skipNext();
    },
    sendMalformed(count) {
      for (const c of connections) {
        for (const f of malformedFrames(count, c.subscriptions(), opts.products[0])) {
          c.sendBuilt(f.build);
        }
      }
    },
    releaseHeld() {
      for (const c of connections) c.flushHeld();
    },
  });
  const publisher = createPublisher({
    connections: () => connections,
    market: (id) => markets.get(id),
    tradeSnapshotSize: opts.tradeSnapshotSize,
    isRunning: () => running,
  });
  for (const id of opts.products) {
    markets.set(
      id,
      createProductMarket(productSpec(id), {
        seed: opts.seed,
        tickMs: opts.tickMs,
        tradesPerSecond: opts.tradesPerSecond,
        bookLevels: opts.bookLevels,
        history: Math.max(1000, opts.tradeSnapshotSize),
        now: startedAt,
      }, publisher.sink),
    );
  }
  const rest = createRestHandler(markets);

  const server = http.createServer((req, res) => {
    const answer = rest(req.method ?? "GET", new URL(req.url ?? "/", "http://127.0.0.1"));
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
  });
  server.on("upgrade", (req, socket: Socket, head) => {
    socket.on("error", () => socket.destroy());
    if (state.refusing(Date.now())) {
      rejectUpgrade(socket, 503, JSON.stringify({ error: "UNAVAILABLE", message: "refused" }));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = attachConnection({
        ws,
        id: ++totalConnections,
        products: new Set(opts.products),
        limits: opts,
        silenced: state.silenced,
        snapshot: publisher.snapshot,
        startedAt,
        record(message) {
          received.push(message);
          if (received.length > RECEIVED_KEPT) received.splice(0, received.length - RECEIVED_KEPT);
        },
        onClose: (c) => connections.delete(c),
      });
      connections.add(conn);
    });
  });

  const tickAll = (): void => {
    const now = Date.now();
    for (const m of markets.values()) m.tick(now);
  };
  const timers = [
    setInterval(() => publisher.flushLevel2(), opts.level2BatchMs),
    setInterval(() => publisher.flushTrades(), opts.tradeBatchMs),
    setInterval(() => publisher.pushCandles(), opts.candleIntervalMs),
    setInterval(() => {
      for (const c of connections) c.flushHeld();
    }, 20),
  ];

  const pause = (): void => {
    running = false;
    clearInterval(tickTimer);
    tickTimer = undefined;
  };
  const resume = (): void => {
    if (running) return;
    running = true;
    tickTimer = setInterval(tickAll, opts.tickMs);
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (opts.autoStart) resume();

  const marketOf = (id: string): ProductMarket => {
    const m = markets.get(id.toUpperCase());
    if (!m) throw new Error(`product ${id} is not listed by this emulator`);
    return m;
  };

  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}`,
    restUrl: `http://127.0.0.1:${port}`,
    faults,
    pause,
    resume,
    tick(n = 1) {
      for (let i = 0; i < n; i++) tickAll();
      publisher.flushLevel2();
      publisher.flushTrades();
      publisher.pushCandles();
    },
    book(id) {
      const m = marketOf(id);
      const wire = (levels: Array<[number, number]>) =>
        levels.map(([p, q]): [string, string] => [formatPrice(m.spec, p), formatSize(m.spec, q)]);
      return { bids: wire(m.bids.levels()), asks: wire(m.asks.levels()) };
    },
    lastTradeId: (id) => marketOf(id).lastTradeId(),
    trades(id, n = 50) {
      const m = marketOf(id);
      return m.recentTrades(n).map((t) => ({ ...wireTrade(m.spec, t), takerSide: t.takerSide }));
    },
    connectionCount: () => connections.size,
    totalConnections: () => totalConnections,
    subscriptions: () => [...connections].map((c) => c.subscriptions()),
    received: () => received.slice(),
    async close() {
      pause();
      for (const t of timers) clearInterval(t);
      for (const c of connections) c.drop(true);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

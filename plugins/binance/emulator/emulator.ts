/**
 * Composition of the Binance emulator: markets, publisher, faults, REST and
 * WebSocket handling on one `node:http` server (127.0.0.1), plus the timers
 * that drive the market and the depth/kline publication.
 * @module
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
import { attachConnection, type Connection } from "./connection.ts";
import { createFaults } from "./faults.ts";
import { createHub } from "./hub.ts";
import { malformedFrames } from "./malformed.ts";
import { createSymbolMarket, type SymbolMarket } from "./market.ts";
import { createPublisher } from "./publisher.ts";
import { createRestHandler, EMULATOR_HEADER } from "./rest.ts";
import { DEFAULT_SYMBOLS, formatPrice, formatQty, symbolSpec } from "./symbols.ts";
import type { BinanceEmulator, BinanceEmulatorOptions } from "./types.ts";
import { createWeightLimiter } from "./weights.ts";
import { parseWsUrl } from "./ws_url.ts";

/** Options with every default filled in. */
export type ResolvedOptions = Required<BinanceEmulatorOptions>;

/** Fills in the defaults (Binance's real limits; a 50 ms market tick). */
export function resolveOptions(options: BinanceEmulatorOptions = {}): ResolvedOptions {
  return {
    port: options.port ?? 0,
    symbols: (options.symbols ?? [...DEFAULT_SYMBOLS]).map((s) => s.toUpperCase()),
    seed: options.seed ?? 1,
    tickMs: options.tickMs ?? 50,
    tradesPerSecond: options.tradesPerSecond ?? 8,
    pingIntervalMs: options.pingIntervalMs ?? 20_000,
    pongTimeoutMs: options.pongTimeoutMs ?? 60_000,
    maxConnectionMs: options.maxConnectionMs ?? 24 * 3600_000,
    maxMessagesPerSecond: options.maxMessagesPerSecond ?? 5,
    maxStreams: options.maxStreams ?? 1024,
    maxWeightPerMinute: options.maxWeightPerMinute ?? 6000,
    bookLevels: options.bookLevels ?? 300,
    tradeHistory: options.tradeHistory ?? 20_000,
    autoStart: options.autoStart ?? true,
    stampField: options.stampField ?? "",
    benchTradesPerSecond: options.benchTradesPerSecond ?? 0,
  };
}

/** Most bench trades one timer callback may emit to catch up after a stall: 100 ms worth. */
const BENCH_CATCH_UP_MS = 100;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  404: "Not Found",
  503: "Service Unavailable",
};

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
function rejectUpgrade(socket: Socket, status: number, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n` +
      `Content-Type: application/json;charset=UTF-8\r\n` +
      `${EMULATOR_HEADER[0]}: ${EMULATOR_HEADER[1]}\r\n` +
      `Content-Length: ${
        new TextEncoder().encode(body).length
      }\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Starts an emulator on 127.0.0.1 and resolves once it listens. */
export async function startBinanceEmulator(
  options: BinanceEmulatorOptions = {},
): Promise<BinanceEmulator> {
  const opts = resolveOptions(options);
  const hub = createHub<Connection>();
  const connections = new Set<Connection>();
  const markets = new Map<string, SymbolMarket>();
  let running = false;
  let totalConnections = 0;
  let tickTimer: ReturnType<typeof setInterval> | undefined;

  const { faults, state } = createFaults({
    dropConnections(abrupt) {
      for (const c of connections) c.drop(abrupt);
    },
    serverShutdown(closeAfterMs) {
      for (const c of connections) c.shutdown(closeAfterMs);
    },
    sendMalformed(count) {
      const now = Date.now();
      for (const c of connections) {
        for (
          const f of malformedFrames(
            count,
            [...c.streams],
            c.combined,
            opts.symbols[0] ?? "BTCUSDT",
            now,
          )
        ) {
          c.send(f.text);
        }
      }
    },
    skipTrade: (symbol) => markets.get(symbol)?.skipNextTrade(),
    forgetTradeHistory: (symbol) => markets.get(symbol)?.forgetHistory(),
    resetTrades() {
      for (const m of markets.values()) m.resetTradeFaults();
    },
    releaseHeld: () => publisher.releaseHeld(),
  });
  const publisher = createPublisher({
    hub,
    faults: state,
    market: (symbol) => markets.get(symbol),
    isRunning: () => running,
    stampField: opts.stampField,
  });
  const startedAt = Date.now();
  for (const symbol of opts.symbols) {
    markets.set(
      symbol,
      createSymbolMarket(symbolSpec(symbol), {
        seed: opts.seed,
        tickMs: opts.tickMs,
        tradesPerSecond: opts.tradesPerSecond,
        bookLevels: opts.bookLevels,
        tradeHistory: opts.tradeHistory,
        now: startedAt,
      }, publisher.sink),
    );
  }
  const rest = createRestHandler({
    markets,
    faults: state,
    limiter: createWeightLimiter({ maxPerMinute: opts.maxWeightPerMinute }),
    maxWeightPerMinute: opts.maxWeightPerMinute,
    now: Date.now,
  });

  // Bench control (only when started with benchTradesPerSecond): POST /_bench/rate?tradesPerSecond=N.
  const benchControl = options.benchTradesPerSecond !== undefined;
  const server = http.createServer((req, res) => {
    if (benchControl && req.url?.startsWith("/_bench/rate")) {
      const value = Number(
        new URL(req.url, "http://127.0.0.1").searchParams.get("tradesPerSecond"),
      );
      try {
        setBenchRate(value);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ tradesPerSecond: value }));
      } catch (err) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: String(err) }));
      }
      return;
    }
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
      rejectUpgrade(
        socket,
        503,
        JSON.stringify({ code: -1008, msg: "Service unavailable: connections refused." }),
      );
      return;
    }
    const target = parseWsUrl(req.url ?? "/", opts.maxStreams);
    if (!target.ok) {
      rejectUpgrade(socket, target.status, target.body);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = attachConnection({
        ws,
        id: ++totalConnections,
        streams: target.streams,
        combined: target.combined,
        tm: target.tm,
        limits: opts,
        hub,
        onClose: (c) => connections.delete(c),
      });
      connections.add(conn);
    });
  });

  const tickAll = (): void => {
    const now = Date.now();
    for (const m of markets.values()) m.tick(now);
  };
  let beat = 0;
  const publishTimer = setInterval(() => {
    beat++;
    publisher.flushDepth(100);
    if (beat % 10 === 0) publisher.flushDepth(1000);
    if (running) {
      const now = Date.now();
      for (const m of markets.values()) m.rollCandles(now);
      if (beat % 20 === 0) publisher.pushKlines();
    }
  }, 100);

  // Bench rate mode: trades due by now at a constant rate, round-robin over symbols.
  let benchRate = opts.benchTradesPerSecond;
  let benchTimer: ReturnType<typeof setInterval> | undefined;
  const stopBench = (): void => {
    clearInterval(benchTimer);
    benchTimer = undefined;
  };
  const startBench = (): void => {
    const rate = benchRate;
    if (!(rate > 0) || benchTimer !== undefined) return;
    const list = [...markets.values()];
    if (list.length === 0) return;
    const origin = performance.now();
    const maxBurst = Math.max(1, Math.ceil(rate * BENCH_CATCH_UP_MS / 1000));
    let emitted = 0;
    let next = 0;
    benchTimer = setInterval(() => {
      const due = Math.floor((performance.now() - origin) * rate / 1000);
      let n = due - emitted;
      if (n <= 0) return;
      if (n > maxBurst) n = maxBurst;
      emitted = due;
      const now = Date.now();
      for (let i = 0; i < n; i++) {
        list[next].benchTrade(now);
        next = next + 1 === list.length ? 0 : next + 1;
      }
    }, 1);
  };
  const setBenchRate = (tradesPerSecond: number): void => {
    if (!(tradesPerSecond >= 0) || !Number.isFinite(tradesPerSecond)) {
      throw new RangeError("bench rate must be a finite number >= 0");
    }
    benchRate = tradesPerSecond;
    stopBench();
    if (running) startBench();
  };

  const pause = (): void => {
    running = false;
    clearInterval(tickTimer);
    tickTimer = undefined;
    stopBench();
  };
  const resume = (): void => {
    if (running) return;
    running = true;
    tickTimer = setInterval(tickAll, opts.tickMs);
    startBench();
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (opts.autoStart) resume();

  const marketOf = (symbol: string): SymbolMarket => {
    const m = markets.get(symbol.toUpperCase());
    if (!m) throw new Error(`symbol ${symbol} is not listed by this emulator`);
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
      const now = Date.now();
      for (const m of markets.values()) m.rollCandles(now);
      publisher.flushDepth(100);
      publisher.flushDepth(1000);
    },
    book(symbol) {
      const m = marketOf(symbol);
      const s = m.snapshot(Number.MAX_SAFE_INTEGER);
      return {
        lastUpdateId: s.lastUpdateId,
        bids: s.bids.map(([p, q]) => [formatPrice(m.spec, p), formatQty(m.spec, q)]),
        asks: s.asks.map(([p, q]) => [formatPrice(m.spec, p), formatQty(m.spec, q)]),
      };
    },
    lastTradeId: (symbol) => marketOf(symbol).lastTradeId(),
    setBenchRate,
    connectionCount: () => connections.size,
    totalConnections: () => totalConnections,
    subscriptions: () => [...connections].map((c) => [...c.streams]),
    async close() {
      pause();
      clearInterval(publishTimer);
      for (const c of connections) c.drop(true);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

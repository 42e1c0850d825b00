/**
 * `deno bench -A bench/binance_mapper.bench.ts`
 *
 * Cost of turning one Binance combined-stream frame (text, as received) into a
 * normalized event: our mapper with and without validation, its generic path
 * alone (`JSON.parse` + `mapBinanceMessage`, i.e. without the depth-frame
 * scanner), a zod-validated variant, bare `JSON.parse`, ccxt pro's Binance
 * handlers and tardis-dev's Binance mappers, on the same frames. Each iteration maps a batch of {@link BATCH}
 * distinct frames, so time/iter ÷ BATCH is the cost of one frame.
 *
 * ccxt and tardis-dev are loaded dynamically: tardis-dev's dependencies read
 * `os.homedir()` when imported, so without `--allow-sys` its benches are skipped
 * (with a note) instead of failing the whole file.
 * @module
 */
import { z } from "zod";
import { mapBinanceFrame, mapBinanceMessage } from "../plugins/binance/mapper.ts";

/** Frames per bench iteration. */
const BATCH = 256;
const SYMBOLS: ReadonlySet<string> = new Set(["BTCUSDT", "ETHUSDT"]);
const T0 = 1_767_225_600_000;

/** Deterministic PRNG (mulberry32) so every run maps the same frames. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = prng(7);
const px = (mid: number) => (mid + (rnd() - 0.5) * 20).toFixed(2);
const qty = () => (rnd() * 2).toFixed(5);
const levels = (mid: number, n: number, dir: number) =>
  Array.from(
    { length: n },
    (_, i) => [(mid + dir * (i + 1) * 0.01).toFixed(2), rnd() < 0.2 ? "0.00000000" : qty()],
  );
/** Levels as Binance Spot writes them for BTCUSDT: 8 decimals on both strings. */
const levels8 = (mid: number, n: number, dir: number) =>
  Array.from(
    { length: n },
    (_, i) => [(mid + dir * (i + 1) * 0.01).toFixed(8), (rnd() < 0.2 ? 0 : rnd() * 2).toFixed(8)],
  );

/** Recorded-style frames: what `wss://stream.binance.com:9443/stream?streams=...` sends. */

/** BATCH diff-depth frames with 8 bid and 8 ask levels drawn by `lv` (prices and sizes as strings). */
function depthFrames(lv: (from: number, n: number, dir: number) => unknown): string[] {
  return Array.from({ length: BATCH }, (_, i) =>
    JSON.stringify({
      stream: "btcusdt@depth@100ms",
      data: {
        e: "depthUpdate",
        E: T0 + i * 100,
        s: "BTCUSDT",
        U: 70_000_000_000 + i * 20,
        u: 70_000_000_000 + i * 20 + 19,
        b: lv(86_999, 8, -1),
        a: lv(87_001, 8, 1),
      },
    }));
}

const frames = {
  trade: Array.from({ length: BATCH }, (_, i) =>
    JSON.stringify({
      stream: "btcusdt@trade",
      data: {
        e: "trade",
        E: T0 + i * 7,
        s: "BTCUSDT",
        t: 5_000_000_000 + i,
        p: px(87_000),
        q: qty(),
        T: T0 + i * 7 - 1,
        m: rnd() < 0.5,
        M: true,
      },
    })),
  bookTicker: Array.from({ length: BATCH }, (_, i) =>
    JSON.stringify({
      stream: "btcusdt@bookTicker",
      data: {
        u: 70_000_000_000 + i,
        s: "BTCUSDT",
        b: px(86_999),
        B: qty(),
        a: px(87_001),
        A: qty(),
      },
    })),
  depthUpdate: depthFrames(levels),
  kline: Array.from({ length: BATCH }, (_, i) =>
    JSON.stringify({
      stream: "btcusdt@kline_1m",
      data: {
        e: "kline",
        E: T0 + i * 2000,
        s: "BTCUSDT",
        k: {
          t: T0,
          T: T0 + 59_999,
          s: "BTCUSDT",
          i: "1m",
          f: 100,
          L: 200 + i,
          o: "86990.00",
          c: px(87_000),
          h: "87100.00",
          l: "86900.00",
          v: qty(),
          n: 100 + i,
          x: false,
          q: "1234.50000",
          V: "500",
          Q: "0.500",
          B: "0",
        },
      },
    })),
  /** The same 16 levels with Binance's 8-decimal strings (longer frames). */
  depthUpdate8dp: depthFrames(levels8),
};

type Kind = keyof typeof frames;
const KINDS: Kind[] = ["trade", "bookTicker", "depthUpdate", "depthUpdate8dp", "kline"];
let sink = 0;

for (const kind of KINDS) {
  const batch = frames[kind];
  Deno.bench({
    name: `${kind}: mapBinanceFrame (validated)`,
    group: kind,
    baseline: true,
    fn() {
      const now = Date.now();
      for (let i = 0; i < BATCH; i++) {
        if (mapBinanceFrame(batch[i], now, SYMBOLS).kind !== "malformed") sink++;
      }
    },
  });
  Deno.bench({
    name: `${kind}: generic path (JSON.parse + mapBinanceMessage)`,
    group: kind,
    fn() {
      const now = Date.now();
      for (let i = 0; i < BATCH; i++) {
        if (mapBinanceMessage(JSON.parse(batch[i]), now, SYMBOLS).kind !== "malformed") sink++;
      }
    },
  });
  Deno.bench({
    name: `${kind}: mapBinanceFrame (no validation)`,
    group: kind,
    fn() {
      const now = Date.now();
      for (let i = 0; i < BATCH; i++) {
        if (mapBinanceFrame(batch[i], now, SYMBOLS, false).kind !== "malformed") sink++;
      }
    },
  });
  Deno.bench({
    name: `${kind}: JSON.parse only`,
    group: kind,
    fn() {
      for (let i = 0; i < BATCH; i++) if (JSON.parse(batch[i]).data) sink++;
    },
  });
}

// --- zod: the same checks as a schema, to show what choosing zod would cost.
const decimalString = z.string().regex(/^\d+(\.\d+)?$/).transform(Number);
const zodTrade = z.object({
  stream: z.string(),
  data: z.object({
    e: z.literal("trade"),
    E: z.number().int().positive(),
    s: z.string().refine((s) => SYMBOLS.has(s)),
    t: z.number().int().nonnegative(),
    p: decimalString.refine((n) => n > 0),
    q: decimalString.refine((n) => n > 0),
    T: z.number().int().positive(),
    m: z.boolean(),
  }),
});
const zodDepth = z.object({
  stream: z.string(),
  data: z.object({
    e: z.literal("depthUpdate"),
    E: z.number().int().positive(),
    s: z.string().refine((s) => SYMBOLS.has(s)),
    U: z.number().int().nonnegative(),
    u: z.number().int().nonnegative(),
    b: z.array(z.tuple([decimalString.refine((n) => n > 0), decimalString])),
    a: z.array(z.tuple([decimalString.refine((n) => n > 0), decimalString])),
  }),
});
Deno.bench({
  name: "trade: JSON.parse + zod schema + event",
  group: "trade",
  fn() {
    const now = Date.now();
    for (let i = 0; i < BATCH; i++) {
      const r = zodTrade.safeParse(JSON.parse(frames.trade[i]));
      if (!r.success) continue;
      const d = r.data.data;
      const ev = {
        type: "trade",
        exchange: "binance",
        symbol: d.s,
        eventTime: d.E,
        receiveTime: now,
        price: d.p,
        quantity: d.q,
        timestamp: new Date(d.T).toISOString(),
        tradeId: d.t,
        side: d.m ? "sell" : "buy",
        raw: d,
      };
      if (ev.price > 0) sink++;
    }
  },
});
Deno.bench({
  name: "depthUpdate: JSON.parse + zod schema",
  group: "depthUpdate",
  fn() {
    for (let i = 0; i < BATCH; i++) {
      if (zodDepth.safeParse(JSON.parse(frames.depthUpdate[i])).success) sink++;
    }
  },
});

/** Imports a comparison library, or notes why it is skipped. */
async function optional<T>(name: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    console.warn(`skipping ${name} benches: ${err instanceof Error ? err.message : err}`);
    return undefined;
  }
}

// --- ccxt pro: the full handleMessage path (envelope, dispatch, parse, cache).
const ccxt = await optional("ccxt", async () => (await import("ccxt")).default);
if (ccxt) {
  // deno-lint-ignore no-explicit-any
  const ccxtBinance = new (ccxt as any).pro.binance();
  ccxtBinance.setMarkets([{
    id: "BTCUSDT",
    symbol: "BTC/USDT",
    base: "BTC",
    quote: "USDT",
    baseId: "BTC",
    quoteId: "USDT",
    spot: true,
    type: "spot",
    active: true,
    precision: { price: 0.01, amount: 0.00001 },
    limits: {},
    info: {},
  }]);
  const ccxtClient = {
    url: "wss://stream.binance.com:9443/stream",
    subscriptions: {},
    futures: {},
    resolve() {},
    reject() {},
  };
  const ccxtBook = ccxtBinance.orderBook({});
  for (const kind of ["trade", "bookTicker", "kline"] as const) {
    Deno.bench({
      name: `${kind}: ccxt pro binance.handleMessage`,
      group: kind,
      fn() {
        for (let i = 0; i < BATCH; i++) {
          ccxtBinance.handleMessage(ccxtClient, JSON.parse(frames[kind][i]));
        }
        sink++;
      },
    });
  }
  Deno.bench({
    name: "depthUpdate: ccxt pro binance.handleOrderBookMessage",
    group: "depthUpdate",
    fn() {
      for (let i = 0; i < BATCH; i++) {
        const msg = JSON.parse(frames.depthUpdate[i]);
        ccxtBinance.handleOrderBookMessage(ccxtClient, msg.data, ccxtBook);
      }
      sink++;
    },
  });
}

// --- tardis-dev: its Binance mappers' map(message, localTimestamp).
const tardis = await optional("tardis-dev", () => import("tardis-dev"));
if (tardis) {
  const now = new Date();
  const tardisBook = tardis.normalizeBookChanges("binance", now);
  // deno-lint-ignore no-explicit-any
  const tardisMap = (mapper: any, msg: unknown) => {
    for (const _ of mapper.map(msg, new Date())) sink++;
  };
  // The book mapper buffers diffs until it has seen a snapshot.
  tardisMap(tardisBook, {
    stream: "btcusdt@depthSnapshot",
    generated: true,
    data: { lastUpdateId: 70_000_000_005, bids: [["86990.00", "1"]], asks: [["87010.00", "1"]] },
  });
  const tardisFor: Partial<Record<Kind, unknown>> = {
    trade: tardis.normalizeTrades("binance", now),
    bookTicker: tardis.normalizeBookTickers("binance", now),
    depthUpdate: tardisBook,
  };
  for (const kind of ["trade", "bookTicker", "depthUpdate"] as const) {
    Deno.bench({
      name: `${kind}: tardis-dev binance mapper.map`,
      group: kind,
      fn() {
        for (let i = 0; i < BATCH; i++) {
          tardisMap(tardisFor[kind], JSON.parse(frames[kind][i]));
        }
      },
    });
  }
}

// A mixed stream as a feed sees it (mostly depth and quotes), for the frames/s target.
const mixed = Array.from(
  { length: BATCH },
  (_, i) => [frames.depthUpdate, frames.bookTicker, frames.bookTicker, frames.trade][i % 4][i],
);
Deno.bench({
  name: "mixed: mapBinanceFrame (validated)",
  group: "mixed",
  fn() {
    const now = Date.now();
    for (let i = 0; i < BATCH; i++) {
      if (mapBinanceFrame(mixed[i], now, SYMBOLS).kind !== "malformed") sink++;
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});

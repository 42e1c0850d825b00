/**
 * The emulated market of one currency: an index that walks (seeded), futures at
 * F = S·e^{basis·T}, options marked by the emulator's own Black-76 on a smile, and
 * per instrument a book around the fair price whose changes carry Deribit's
 * `change_id` / `prev_change_id`, trades that take liquidity, and tickers.
 * @module
 */
import type { Rng } from "../../../testing.ts";
import { black76, impliedVol } from "./black76.ts";
import { buildChain, type CurrencySpec, type InstrumentSpec, smileVol } from "./chain.ts";

const YEAR_MS = 365 * 86_400_000;
const LEVELS = 5;

/** `[action, price, amount]` as Deribit sends it. */
export type WireLevel = ["new" | "change" | "delete", number, number];

/** One book notification's content. */
export interface BookChange {
  instrument: string;
  changeId: number;
  prevChangeId: number;
  bids: WireLevel[];
  asks: WireLevel[];
  timestamp: number;
  /** Dropped by the `dropBookChange` fault: `change_id` advanced, nothing sent. */
  dropped: boolean;
}

/** One public trade (Deribit fields). */
export interface TradePayload {
  trade_id: string;
  trade_seq: number;
  instrument_name: string;
  timestamp: number;
  price: number;
  amount: number;
  direction: "buy" | "sell";
  tick_direction: number;
  index_price: number;
  mark_price: number;
  iv?: number;
  contracts: number;
}

/** What one market tick produced. */
export interface TickResult {
  changes: BookChange[];
  trades: TradePayload[];
  /** Instruments whose ticker should be sent. */
  tickers: string[];
  index: { index_name: string; price: number; timestamp: number };
}

/** Per-instrument state. */
interface Inst {
  spec: InstrumentSpec;
  bids: Map<number, number>;
  asks: Map<number, number>;
  changeId: number;
  tradeSeq: number;
  lastPrice?: number;
  openInterest: number;
  dropNext: number;
}

/** The market of one currency. */
export interface CurrencyMarket {
  readonly spec: CurrencySpec;
  readonly instruments: readonly InstrumentSpec[];
  index(): number;
  has(name: string): boolean;
  /** Advances one tick; trades only on `active` instruments when it is not empty. */
  tick(now: number, active: ReadonlySet<string>): TickResult;
  /** A book snapshot: levels best first, the current `change_id`. */
  snapshot(name: string): { bids: [number, number][]; asks: [number, number][]; changeId: number };
  /** The `ticker` notification data of `name` at `now`. */
  ticker(name: string, now: number): Record<string, unknown>;
  /** The next book change of `name` is lost. */
  dropNextChange(name: string): void;
}

/** Options of {@link createCurrencyMarket}. */
export interface MarketOptions {
  rng: Rng;
  now: number;
  tickMs: number;
  strikesEachSide: number;
  tradesPerSecond: number;
  /** Speeds up the index walk (the emulator compresses time for a lively demo). */
  volBoost: number;
}

const decimalsOf = (step: number) => {
  const s = String(step);
  return s.includes(".") ? s.length - s.indexOf(".") - 1 : 0;
};
const roundTo = (x: number, d: number) => Number(x.toFixed(d));

/** Creates the market of `spec`. */
export function createCurrencyMarket(spec: CurrencySpec, o: MarketOptions): CurrencyMarket {
  const { rng } = o;
  const chain = buildChain(spec, o.now, o.strikesEachSide);
  const insts = new Map<string, Inst>();
  for (const s of chain) {
    insts.set(s.name, {
      spec: s,
      bids: new Map(),
      asks: new Map(),
      changeId: 1_000_000 + rng.int(1_000_000),
      tradeSeq: 0,
      openInterest: s.amountStep * (100 + rng.int(5000)),
      dropNext: 0,
    });
  }
  let index = spec.spot;
  let tradeIds = 0;

  const years = (i: InstrumentSpec, now: number) => Math.max((i.expiry! - now) / YEAR_MS, 1e-4);
  const forwardOf = (i: InstrumentSpec, now: number) =>
    i.perpetual ? index : index * Math.exp(spec.basis * years(i, now));
  /** Mark IV in percent, 2 decimals (as Deribit sends it); the mark price is computed from it. */
  const markIv = (i: InstrumentSpec, now: number) => {
    const F = forwardOf(i, now), T = years(i, now);
    return roundTo(100 * smileVol(spec.indexVol, Math.log(i.strike! / F), T), 2);
  };
  const optionQuote = (i: InstrumentSpec, now: number) => {
    const F = forwardOf(i, now), T = years(i, now), iv = markIv(i, now);
    const b = black76({
      forward: F,
      strike: i.strike!,
      timeYears: T,
      vol: iv / 100,
      rate: 0,
      type: i.optionType!,
    });
    return { F, T, iv, b, mark: b.price / F };
  };
  /** Fair price: coin premium for options, USD for futures. */
  const fair = (i: InstrumentSpec, now: number) =>
    i.kind === "option" ? optionQuote(i, now).mark : forwardOf(i, now);

  const amount = (i: InstrumentSpec) =>
    i.kind === "option"
      ? roundTo(i.amountStep * (1 + rng.int(60)), decimalsOf(i.amountStep))
      : i.amountStep * (1 + rng.int(2000));

  /** The book `inst` should hold: 5 levels a side around the fair price, amounts kept where prices stay. */
  const target = (inst: Inst, now: number) => {
    const i = inst.spec, tick = i.tick, d = decimalsOf(tick);
    const m = fair(i, now);
    const half = i.kind === "option" ? Math.max(tick, m * 0.04) : tick * 2;
    // An option worth less than a tick and a half has no bid (Deribit shows `best_bid_price: 0`).
    const bestBid = Math.floor((m - half) / tick) * tick;
    const bestAsk = Math.max(bestBid + tick, tick, Math.ceil((m + half) / tick) * tick);
    const side = (best: number, dir: -1 | 1, held: Map<number, number>) => {
      const out = new Map<number, number>();
      for (let n = 0; n < LEVELS; n++) {
        const p = roundTo(best + dir * n * tick, d);
        if (p < tick / 2) break;
        const kept = held.get(p);
        out.set(p, kept !== undefined && rng.next() > 0.05 ? kept : amount(i));
      }
      return out;
    };
    return { bids: side(bestBid, -1, inst.bids), asks: side(bestAsk, 1, inst.asks) };
  };

  const diff = (from: Map<number, number>, to: Map<number, number>): WireLevel[] => {
    const out: WireLevel[] = [];
    for (const [p, a] of to) {
      const was = from.get(p);
      if (was === undefined) out.push(["new", p, a]);
      else if (was !== a) out.push(["change", p, a]);
    }
    for (const [p, a] of from) if (!to.has(p)) out.push(["delete", p, 0 * a]);
    return out;
  };

  const apply = (side: Map<number, number>, levels: WireLevel[]) => {
    for (const [action, p, a] of levels) {
      if (action === "delete") side.delete(p);
      else side.set(p, a);
    }
  };

  const best = (side: Map<number, number>, dir: 1 | -1) => {
    let b: number | undefined;
    for (const p of side.keys()) if (b === undefined || dir * p > dir * b) b = p;
    return b;
  };

  const now0 = o.now;
  for (const inst of insts.values()) {
    const t = target(inst, now0);
    inst.bids = t.bids;
    inst.asks = t.asks;
  }

  const tradeMean = o.tradesPerSecond * o.tickMs / 1000;

  return {
    spec,
    instruments: chain,
    index: () => index,
    has: (name) => insts.has(name),
    tick(now, active) {
      const z = rng.normal();
      const s = spec.indexVol * Math.sqrt(o.tickMs / YEAR_MS) * o.volBoost;
      index *= Math.exp(s * z - 0.5 * s * s);
      const changes: BookChange[] = [];
      const tickers = new Set<string>();
      const pending = new Map<string, { bids: WireLevel[]; asks: WireLevel[] }>();
      const trades: TradePayload[] = [];
      // Trades first: they take liquidity at the best levels.
      const names = active.size > 0 ? [...active].filter((n) => insts.has(n)) : [...insts.keys()];
      const count = names.length > 0 ? rng.poisson(tradeMean) : 0;
      for (let n = 0; n < count; n++) {
        const inst = insts.get(names[rng.int(names.length)])!;
        const buy = rng.next() < 0.5;
        const side = buy ? inst.asks : inst.bids;
        const p = best(side, buy ? -1 : 1);
        if (p === undefined) continue;
        const have = side.get(p)!;
        const step = inst.spec.amountStep, d = decimalsOf(step);
        const take = Math.min(
          have,
          roundTo(step * (1 + rng.int(Math.max(1, Math.round(have / step)))), d),
        );
        const left = roundTo(have - take, d);
        const lv: WireLevel = left > 0 ? ["change", p, left] : ["delete", p, 0];
        apply(side, [lv]);
        const pend = pending.get(inst.spec.name) ?? { bids: [], asks: [] };
        (buy ? pend.asks : pend.bids).push(lv);
        pending.set(inst.spec.name, pend);
        const i = inst.spec;
        const q = i.kind === "option" ? optionQuote(i, now) : undefined;
        trades.push({
          trade_id: String(++tradeIds + (spec.currency === "BTC" ? 300_000_000 : 400_000_000)),
          trade_seq: ++inst.tradeSeq,
          instrument_name: i.name,
          timestamp: now,
          price: p,
          amount: take,
          direction: buy ? "buy" : "sell",
          tick_direction: inst.lastPrice === undefined || p >= inst.lastPrice ? 0 : 2,
          index_price: roundTo(index, 2),
          mark_price: q ? q.mark : roundTo(forwardOf(i, now), 2),
          ...(q ? { iv: q.iv } : {}),
          contracts: i.kind === "option" ? take : take / i.contractSize,
        });
        inst.lastPrice = p;
        inst.openInterest += take;
        tickers.add(i.name);
      }
      // Then every book moves towards its fair levels.
      for (const inst of insts.values()) {
        const t = target(inst, now);
        const bids = diff(inst.bids, t.bids), asks = diff(inst.asks, t.asks);
        inst.bids = t.bids;
        inst.asks = t.asks;
        const pend = pending.get(inst.spec.name);
        const allBids = pend ? mergeLevels(pend.bids, bids) : bids;
        const allAsks = pend ? mergeLevels(pend.asks, asks) : asks;
        if (allBids.length === 0 && allAsks.length === 0) continue;
        const prev = inst.changeId;
        inst.changeId = prev + 1 + rng.int(3);
        const dropped = inst.dropNext > 0;
        if (dropped) inst.dropNext--;
        changes.push({
          instrument: inst.spec.name,
          changeId: inst.changeId,
          prevChangeId: prev,
          bids: allBids,
          asks: allAsks,
          timestamp: now,
          dropped,
        });
        tickers.add(inst.spec.name);
      }
      return {
        changes,
        trades,
        tickers: [...tickers],
        index: {
          index_name: `${spec.currency.toLowerCase()}_usd`,
          price: roundTo(index, 2),
          timestamp: now,
        },
      };
    },
    snapshot(name) {
      const inst = insts.get(name)!;
      return {
        bids: [...inst.bids].sort((a, b) => b[0] - a[0]),
        asks: [...inst.asks].sort((a, b) => a[0] - b[0]),
        changeId: inst.changeId,
      };
    },
    ticker(name, now) {
      const inst = insts.get(name)!;
      const i = inst.spec;
      const bb = best(inst.bids, 1), ba = best(inst.asks, -1);
      const common = {
        timestamp: now,
        instrument_name: name,
        state: "open",
        best_bid_price: bb ?? 0,
        best_bid_amount: bb === undefined ? 0 : inst.bids.get(bb)!,
        best_ask_price: ba ?? 0,
        best_ask_amount: ba === undefined ? 0 : inst.asks.get(ba)!,
        last_price: inst.lastPrice ?? null,
        index_price: roundTo(index, 2),
        open_interest: inst.openInterest,
        min_price: i.tick,
        max_price: roundTo(fair(i, now) * 2 + i.tick, decimalsOf(i.tick)),
        stats: { volume: null, price_change: null, low: null, high: null },
      };
      if (i.kind !== "option") {
        const F = forwardOf(i, now);
        return {
          ...common,
          mark_price: roundTo(F, 2),
          estimated_delivery_price: roundTo(index, 2),
          settlement_price: roundTo(F, 2),
          ...(i.perpetual ? { current_funding: 0, funding_8h: 0, interest_value: 0 } : {}),
        };
      }
      const q = optionQuote(i, now);
      const ivOf = (price: number | undefined) => {
        if (price === undefined) return 0;
        const v = impliedVol(price * q.F, {
          forward: q.F,
          strike: i.strike!,
          timeYears: q.T,
          rate: 0,
          type: i.optionType!,
        });
        return v === undefined ? 0 : roundTo(100 * v, 2);
      };
      const future = `${i.currency}-${name.split("-")[1]}`;
      return {
        ...common,
        mark_price: q.mark,
        mark_iv: q.iv,
        bid_iv: ivOf(bb),
        ask_iv: ivOf(ba),
        underlying_price: q.F,
        underlying_index: future,
        interest_rate: 0,
        greeks: {
          // Deribit's units: delta per 1 USD of the underlying, vega and rho per 1 %, theta per day.
          delta: q.b.delta,
          gamma: q.b.gamma,
          vega: q.b.vega / 100,
          theta: q.b.theta / 365,
          rho: q.b.rho / 100,
        },
      };
    },
    dropNextChange(name) {
      const inst = insts.get(name);
      if (inst) inst.dropNext++;
    },
  };
}

/** Trade-side levels then book-move levels of one side, the later change of a price winning. */
function mergeLevels(first: WireLevel[], then: WireLevel[]): WireLevel[] {
  const byPrice = new Map<number, WireLevel>();
  for (const l of first) byPrice.set(l[1], l);
  for (const l of then) byPrice.set(l[1], l);
  return [...byPrice.values()];
}

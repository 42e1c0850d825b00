/**
 * A simulated spot account: balances per asset (free and locked), holds of open orders, fills
 * moving balances, positions per symbol by the average-cost method, realized and unrealized
 * PnL, fees paid. Pure state in a closure; no I/O, no clock.
 *
 * Accounting conventions:
 * - Fees are charged in the quote asset ({@link PaperFill.fee}); realized PnL is net of every
 *   fee at the moment it is paid (a buy's fee lowers realized PnL at once, it is not folded
 *   into the average price), so `equity − starting equity = realized + unrealized` when the
 *   starting balances are valued at the same marks.
 * - Spot only: a fill needs the base (sell) or the quote (buy) it spends; no borrowing.
 * - Positions count fills only. Selling base held from the starting balances opens a negative
 *   position at the sell price (its PnL is measured from that price).
 * - Quote assets of different symbols (USDT, USD) are added one to one in the totals
 *   (realized, unrealized, fees, equity), the same convention as the router's default
 *   `quoteRate` of 1.
 * @module
 */
import type { FeeSchedule, OrderRequest, PaperError, PaperFill } from "./types.ts";
import { type FeeOverrides, feeSchedule } from "./fees.ts";

/** One asset's balance. */
export interface Balance {
  /** Available for new orders. */
  free: number;
  /** Held by open orders. */
  locked: number;
}

/** An instrument's assets, so the account can value base balances at a symbol's mark. */
export interface Instrument {
  exchange: string;
  symbol: string;
  base: string;
  quote: string;
}

/** Options of {@link createAccount}. */
export interface AccountOptions {
  /** Starting free balance per asset (each finite, ≥ 0). */
  balances: Record<string, number>;
  /** Fee overrides per exchange, merged over the defaults of `fees.ts`. */
  fees?: FeeOverrides;
  /**
   * Instruments known in advance (e.g. the venues' rules), to value starting base balances in
   * {@link Account.snapshot}; instruments of fills are learned as they come.
   */
  instruments?: Instrument[];
}

/** What a hold locks for an order (see {@link Account.holdFor}). */
export interface HoldRequest {
  asset: string;
  amount: number;
}

/** A position in one symbol. */
export interface PositionSnapshot extends Instrument {
  /** Signed base quantity (negative only when starting base was sold). */
  quantity: number;
  /** Average entry price (average-cost method); 0 when flat. */
  averagePrice: number;
  /** Realized PnL of the symbol, quote asset, net of its fees. */
  realizedPnl: number;
  /** Fees paid on the symbol, quote asset. */
  fees: number;
  /** Mark given by the caller (the mid), if any. */
  mark?: number;
  /** (mark − averagePrice) × quantity; absent without a mark. */
  unrealizedPnl?: number;
}

/** What {@link Account.snapshot} returns. */
export interface AccountSnapshot {
  /** Balances per asset, with `total = free + locked`. */
  balances: Record<string, Balance & { total: number }>;
  /** Positions with fills, ordered by exchange then symbol. */
  positions: PositionSnapshot[];
  /** Σ realized PnL, net of fees (quote assets at 1:1). */
  realizedPnl: number;
  /** Σ unrealized PnL of the marked positions. */
  unrealizedPnl: number;
  /** Σ fees paid. */
  feesPaid: number;
  /**
   * Σ balances valued in the quote: a base asset at the mark of a symbol it is the base of,
   * any other asset at 1; undefined when a held base asset has no mark.
   */
  equity?: number;
}

/** A simulated account (see {@link createAccount}). */
export interface Account {
  /** The schedule this account pays on `exchange` (defaults merged with overrides). */
  fees(exchange: string): FeeSchedule;
  /** Free and locked balance of an asset (zeros when unknown). */
  balance(asset: string): Balance;
  /** `insufficient_balance` when `amount` exceeds the free balance of `asset`. */
  canAfford(asset: string, amount: number): PaperError | undefined;
  /**
   * What an order must lock: a buy locks `price × quantity × (1 + max(maker, taker))` of the
   * quote (a limit order may take on arrival, so the higher rate, to be safe; a market buy
   * uses `referencePrice`, e.g. the best ask, and should add its own slippage margin); a sell
   * locks `quantity` of the base. Undefined for a market buy without a reference price.
   */
  holdFor(
    request: OrderRequest,
    base: string,
    quote: string,
    referencePrice?: number,
  ): HoldRequest | undefined;
  /** Moves `amount` of `asset` from free to locked for `orderId`; refused if not free. */
  hold(orderId: string, asset: string, amount: number): PaperError | undefined;
  /** Returns what is still locked for `orderId` to free (the surplus when the order ends). */
  release(orderId: string): void;
  /** Amount still locked for `orderId` (0 without a hold). */
  held(orderId: string): number;
  /**
   * Applies a fill: a buy spends `price × quantity + fee` of the quote and receives `quantity`
   * base; a sell spends `quantity` base and receives `price × quantity − fee`. What is spent
   * comes first out of the order's hold (if the hold is of that asset), the rest out of free.
   * Refused (nothing changes) with `insufficient_balance` when hold + free cannot pay.
   */
  applyFill(fill: PaperFill, base: string, quote: string): PaperError | undefined;
  /** Balances, positions, PnL and equity marked at `marks(exchange, symbol)` (the mid). */
  snapshot(marks: (exchange: string, symbol: string) => number | undefined): AccountSnapshot;
  /** Back to the starting balances: no holds, positions, PnL or fees. */
  reset(): void;
}

interface PositionState extends Instrument {
  quantity: number;
  averagePrice: number;
  realizedPnl: number;
  fees: number;
}

/** Below this, a quantity is floating-point dust and counts as zero. */
const DUST = 1e-12;

/**
 * Creates a simulated spot account.
 *
 * @example
 * ```ts
 * import { createAccount } from "./account.ts";
 * const account = createAccount({ balances: { USDT: 1_000 } });
 * account.applyFill({ id: "F-1", orderId: "P-1", exchange: "binance", symbol: "BTCUSDT",
 *   side: "buy", price: 100, quantity: 1, liquidity: "taker", fee: 0.1, feeAsset: "USDT",
 *   time: 0, simulated: true }, "BTC", "USDT");
 * account.balance("USDT"); // { free: 899.9, locked: 0 }
 * account.snapshot(() => 101).unrealizedPnl; // 1
 * ```
 */
export function createAccount(options: AccountOptions): Account {
  const starting = { ...options.balances };
  const overrides = options.fees;
  const balances = new Map<string, Balance>();
  const holds = new Map<string, { asset: string; amount: number }>();
  const positions = new Map<string, PositionState>();
  const instruments = new Map<string, Instrument>();
  for (const i of options.instruments ?? []) instruments.set(key(i.exchange, i.symbol), i);

  function init(): void {
    balances.clear();
    holds.clear();
    positions.clear();
    for (const [asset, amount] of Object.entries(starting)) {
      balances.set(asset, { free: amount, locked: 0 });
    }
  }
  init();

  function entry(asset: string): Balance {
    let b = balances.get(asset);
    if (!b) {
      b = { free: 0, locked: 0 };
      balances.set(asset, b);
    }
    return b;
  }

  function insufficient(asset: string, amount: number, available: number): PaperError {
    return {
      code: "insufficient_balance",
      message: `needs ${amount} ${asset}, ${available} available`,
    };
  }

  function canAfford(asset: string, amount: number): PaperError | undefined {
    const free = balances.get(asset)?.free ?? 0;
    return amount > free + DUST ? insufficient(asset, amount, free) : undefined;
  }

  function release(orderId: string): void {
    const h = holds.get(orderId);
    if (!h) return;
    holds.delete(orderId);
    const b = entry(h.asset);
    b.locked -= h.amount;
    b.free += h.amount;
    if (Math.abs(b.locked) < DUST) b.locked = 0;
  }

  /** Takes `amount` of `asset`, first from the order's hold, then from free. */
  function spend(orderId: string, asset: string, amount: number): void {
    const b = entry(asset);
    const h = holds.get(orderId);
    let fromHold = 0;
    if (h && h.asset === asset) {
      fromHold = Math.min(h.amount, amount);
      h.amount -= fromHold;
      b.locked -= fromHold;
    }
    b.free -= amount - fromHold;
    if (Math.abs(b.free) < DUST) b.free = 0;
    if (Math.abs(b.locked) < DUST) b.locked = 0;
  }

  function available(orderId: string, asset: string): number {
    const h = holds.get(orderId);
    return (balances.get(asset)?.free ?? 0) + (h && h.asset === asset ? h.amount : 0);
  }

  function position(fill: PaperFill, base: string, quote: string): PositionState {
    const k = key(fill.exchange, fill.symbol);
    let p = positions.get(k);
    if (!p) {
      p = {
        exchange: fill.exchange,
        symbol: fill.symbol,
        base,
        quote,
        quantity: 0,
        averagePrice: 0,
        realizedPnl: 0,
        fees: 0,
      };
      positions.set(k, p);
    }
    if (!instruments.has(k)) {
      instruments.set(k, { exchange: fill.exchange, symbol: fill.symbol, base, quote });
    }
    return p;
  }

  return {
    fees: (exchange) => feeSchedule(exchange, overrides),
    balance(asset) {
      const b = balances.get(asset);
      return { free: b?.free ?? 0, locked: b?.locked ?? 0 };
    },
    canAfford,
    holdFor(request, base, quote, referencePrice) {
      if (request.side === "sell") return { asset: base, amount: request.quantity };
      const price = request.type === "limit" ? request.price : referencePrice;
      if (price === undefined) return undefined;
      const s = feeSchedule(request.exchange, overrides);
      return {
        asset: quote,
        amount: price * request.quantity * (1 + Math.max(s.maker, s.taker, 0)),
      };
    },
    hold(orderId, asset, amount) {
      if (!(amount >= 0) || !Number.isFinite(amount)) {
        return { code: "invalid_order", message: `hold amount ${amount} is not a finite ≥ 0` };
      }
      const refused = canAfford(asset, amount);
      if (refused) return refused;
      const b = entry(asset);
      const amountHeld = Math.min(amount, b.free);
      b.free -= amountHeld;
      b.locked += amountHeld;
      const h = holds.get(orderId);
      if (h && h.asset === asset) h.amount += amountHeld;
      else {
        if (h) release(orderId);
        holds.set(orderId, { asset, amount: amountHeld });
      }
      return undefined;
    },
    release,
    held: (orderId) => holds.get(orderId)?.amount ?? 0,
    applyFill(fill, base, quote) {
      if (!(fill.quantity > 0) || !(fill.price > 0)) {
        return { code: "invalid_order", message: "fill price and quantity must be > 0" };
      }
      const notional = fill.price * fill.quantity;
      if (fill.side === "buy") {
        const cost = notional + fill.fee;
        const can = available(fill.orderId, quote);
        if (cost > can + DUST) return insufficient(quote, cost, can);
        spend(fill.orderId, quote, cost);
        entry(base).free += fill.quantity;
      } else {
        const can = available(fill.orderId, base);
        if (fill.quantity > can + DUST) return insufficient(base, fill.quantity, can);
        spend(fill.orderId, base, fill.quantity);
        entry(quote).free += notional - fill.fee;
      }
      const p = position(fill, base, quote);
      const signed = fill.side === "buy" ? fill.quantity : -fill.quantity;
      const closing = p.quantity * signed < 0 ? Math.min(Math.abs(p.quantity), fill.quantity) : 0;
      if (closing > 0) {
        // Long closed by a sell gains (price − average); short closed by a buy gains (average − price).
        const direction = p.quantity > 0 ? 1 : -1;
        p.realizedPnl += (fill.price - p.averagePrice) * closing * direction;
      }
      const opening = fill.quantity - closing;
      const remaining = p.quantity + (closing > 0 ? Math.sign(signed) * closing : 0);
      if (opening > 0) {
        const newQuantity = remaining + Math.sign(signed) * opening;
        p.averagePrice = (Math.abs(remaining) * p.averagePrice + opening * fill.price) /
          Math.abs(newQuantity);
        p.quantity = newQuantity;
      } else {
        p.quantity = Math.abs(remaining) < DUST ? 0 : remaining;
        if (p.quantity === 0) p.averagePrice = 0;
      }
      p.realizedPnl -= fill.fee;
      p.fees += fill.fee;
      return undefined;
    },
    snapshot(marks) {
      const out: AccountSnapshot = {
        balances: {},
        positions: [],
        realizedPnl: 0,
        unrealizedPnl: 0,
        feesPaid: 0,
      };
      for (const asset of [...balances.keys()].sort()) {
        const b = balances.get(asset)!;
        out.balances[asset] = { free: b.free, locked: b.locked, total: b.free + b.locked };
      }
      for (const k of [...positions.keys()].sort()) {
        const p = positions.get(k)!;
        const snap: PositionSnapshot = {
          exchange: p.exchange,
          symbol: p.symbol,
          base: p.base,
          quote: p.quote,
          quantity: p.quantity,
          averagePrice: p.averagePrice,
          realizedPnl: p.realizedPnl,
          fees: p.fees,
        };
        const mark = marks(p.exchange, p.symbol);
        if (mark !== undefined && Number.isFinite(mark)) {
          snap.mark = mark;
          snap.unrealizedPnl = (mark - p.averagePrice) * p.quantity;
          out.unrealizedPnl += snap.unrealizedPnl;
        }
        out.realizedPnl += p.realizedPnl;
        out.feesPaid += p.fees;
        out.positions.push(snap);
      }
      out.equity = equity(out.balances, marks);
      return out;
    },
    reset: init,
  };

  function equity(
    totals: Record<string, Balance & { total: number }>,
    marks: (exchange: string, symbol: string) => number | undefined,
  ): number | undefined {
    const bases = new Map<string, Instrument[]>();
    for (const k of [...instruments.keys()].sort()) {
      const i = instruments.get(k)!;
      const list = bases.get(i.base) ?? [];
      list.push(i);
      bases.set(i.base, list);
    }
    let sum = 0;
    for (const [asset, b] of Object.entries(totals)) {
      const of = bases.get(asset);
      if (!of) {
        sum += b.total;
        continue;
      }
      if (Math.abs(b.total) < DUST) continue;
      let mark: number | undefined;
      for (const i of of) {
        mark = marks(i.exchange, i.symbol);
        if (mark !== undefined && Number.isFinite(mark)) break;
        mark = undefined;
      }
      if (mark === undefined) return undefined;
      sum += b.total * mark;
    }
    return sum;
  }
}

function key(exchange: string, symbol: string): string {
  return `${exchange}\u0000${symbol}`;
}

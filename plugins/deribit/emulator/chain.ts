/**
 * The emulated instrument list: for BTC and ETH, a perpetual, a future per expiry
 * and an option chain per expiry (1 day, 1 week, 1 month, 3 months; 08:00 UTC as on
 * Deribit), strikes around the forward at Deribit-like spacings, and the payloads
 * `public/get_instruments` returns for them.
 * @module
 */

/** One currency's market parameters. */
export interface CurrencySpec {
  currency: "BTC" | "ETH";
  /** Index at start, USD. */
  spot: number;
  /** Annual drift-free volatility of the index walk. */
  indexVol: number;
  /** Annualized basis of the futures (F = S·e^{basis·T}). */
  basis: number;
  /** Strike spacing per expiry (1d, 1w, 1m, 3m). */
  strikeSteps: [number, number, number, number];
  /** Futures tick, USD. */
  futureTick: number;
}

/** Defaults: spacings like Deribit's short and long BTC/ETH expiries. */
export const CURRENCIES: readonly CurrencySpec[] = [
  {
    currency: "BTC",
    spot: 98_000,
    indexVol: 0.5,
    basis: 0.06,
    strikeSteps: [500, 1000, 2000, 5000],
    futureTick: 2.5,
  },
  {
    currency: "ETH",
    spot: 3_600,
    indexVol: 0.65,
    basis: 0.06,
    strikeSteps: [25, 50, 100, 200],
    futureTick: 0.05,
  },
];

/** Days to each expiry from the start. */
export const EXPIRY_DAYS: readonly number[] = [1, 7, 30, 91];

/** One emulated instrument. */
export interface InstrumentSpec {
  name: string;
  currency: "BTC" | "ETH";
  kind: "option" | "future";
  perpetual: boolean;
  /** Epoch ms; perpetuals have none. */
  expiry?: number;
  strike?: number;
  optionType?: "call" | "put";
  /** Price tick: coin for options, USD for futures. */
  tick: number;
  /** Book amounts step: contracts (options) or USD (futures). */
  amountStep: number;
  contractSize: number;
  id: number;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** Deribit's date code, e.g. `27DEC26`. */
export function dateCode(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()}${MONTHS[d.getUTCMonth()]}${String(d.getUTCFullYear() % 100)}`;
}

/** 08:00 UTC `days` days after the day of `now`. */
export function expiryAfter(now: number, days: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + days, 8);
}

/** The instruments of `spec` at `now`: `strikesEachSide` strikes each side of the forward. */
export function buildChain(
  spec: CurrencySpec,
  now: number,
  strikesEachSide: number,
): InstrumentSpec[] {
  let id = spec.currency === "BTC" ? 100_000 : 200_000;
  const out: InstrumentSpec[] = [{
    name: `${spec.currency}-PERPETUAL`,
    currency: spec.currency,
    kind: "future",
    perpetual: true,
    tick: spec.futureTick,
    amountStep: 10,
    contractSize: 10,
    id: ++id,
  }];
  EXPIRY_DAYS.forEach((days, e) => {
    const expiry = expiryAfter(now, days);
    const code = dateCode(expiry);
    const T = (expiry - now) / (365 * 86_400_000);
    const forward = spec.spot * Math.exp(spec.basis * T);
    const step = spec.strikeSteps[e];
    const atm = Math.round(forward / step) * step;
    out.push({
      name: `${spec.currency}-${code}`,
      currency: spec.currency,
      kind: "future",
      perpetual: false,
      expiry,
      tick: spec.futureTick,
      amountStep: 10,
      contractSize: 10,
      id: ++id,
    });
    for (let k = -strikesEachSide; k <= strikesEachSide; k++) {
      const strike = atm + k * step;
      for (const type of ["call", "put"] as const) {
        out.push({
          name: `${spec.currency}-${code}-${strike}-${type === "call" ? "C" : "P"}`,
          currency: spec.currency,
          kind: "option",
          perpetual: false,
          expiry,
          strike,
          optionType: type,
          tick: 0.0005,
          amountStep: spec.currency === "BTC" ? 0.1 : 1,
          contractSize: 1,
          id: ++id,
        });
      }
    }
  });
  return out;
}

/** The `public/get_instruments` entry of `i` (Deribit's field names). */
export function instrumentPayload(i: InstrumentSpec, createdAt: number): Record<string, unknown> {
  const base = {
    instrument_name: i.name,
    instrument_id: i.id,
    kind: i.kind,
    base_currency: i.currency,
    counter_currency: "USD",
    settlement_currency: i.currency,
    is_active: true,
    creation_timestamp: createdAt,
    tick_size: i.tick,
    contract_size: i.contractSize,
    min_trade_amount: i.amountStep,
    maker_commission: i.kind === "option" ? 0.0003 : 0,
    taker_commission: i.kind === "option" ? 0.0003 : 0.0005,
    price_index: `${i.currency.toLowerCase()}_usd`,
    rfq: false,
  };
  if (i.kind === "option") {
    return {
      ...base,
      quote_currency: i.currency,
      instrument_type: "reversed",
      option_type: i.optionType,
      strike: i.strike,
      expiration_timestamp: i.expiry,
      settlement_period: i.expiry! - createdAt <= 86_400_000 * 2 ? "day" : "week",
    };
  }
  return {
    ...base,
    quote_currency: "USD",
    instrument_type: "reversed",
    future_type: "reversed",
    max_leverage: 50,
    settlement_period: i.perpetual ? "perpetual" : "month",
    expiration_timestamp: i.perpetual ? 32_503_708_800_000 : i.expiry,
  };
}

/**
 * Implied volatility (a fraction) of the emulated market: a quadratic smile in
 * log-moneyness k = ln(K/F) over an ATM term structure,
 * σ(k, T) = σ_atm(T) + skew(T)·k + curv(T)·k², σ_atm(T) = base + 0.15·e^{−T/0.1},
 * skew(T) = −0.15/√(1 + 12T), curv(T) = 0.6/√(1 + 12T); floored at 5 %.
 */
export function smileVol(base: number, k: number, T: number): number {
  const atm = base + 0.15 * Math.exp(-T / 0.1);
  const damp = 1 / Math.sqrt(1 + 12 * T);
  return Math.max(0.05, atm - 0.15 * damp * k + 0.6 * damp * k * k);
}

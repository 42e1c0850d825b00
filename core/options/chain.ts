/**
 * An option chain as the gateway sees it: each option instrument's terms (from the instrument
 * list), its latest quote with the venue's ticker (Deribit's mark price, mark/bid/ask IV, greeks,
 * underlying forward), and beside them our own figures from the pricing engine — the implied
 * volatility of the venue's mark price, of the book's bid, ask and mid, and Black-76 price and
 * greeks at our mark IV — so a user sees where we and the venue agree and where not.
 *
 * Conventions (Deribit's, see docs/options.md): Black-76 on the forward the venue quotes the
 * option against (`underlyingPrice`: the matching future or a synthetic one), discounted at the
 * venue's `interestRate`; time in 365-day years to the expiry; an inverse option's premium is in
 * the coin, so its USD price is premium × forward. IVs are decimals here (0.523), where Deribit
 * sends percent (52.3).
 * @module
 */
import type { OptionContract, QuoteEvent, QuoteOptionFields } from "../events.ts";
import { black76, YEAR_MS } from "./black76.ts";
import { impliedVol } from "./implied_vol.ts";
import type { SmileInput } from "./surface.ts";

/** One option's line of the chain. */
export interface OptionRow {
  exchange: string;
  instrument: string;
  underlying: string;
  expiry: number;
  strike: number;
  type: "call" | "put";
  inverse: boolean;
  /** Best bid and ask (premium, in the coin for inverse options), when quoted. */
  bid: number | null;
  ask: number | null;
  /** What the venue says (its ticker), IVs as decimals. */
  venue: {
    markPrice: number | null;
    markIv: number | null;
    bidIv: number | null;
    askIv: number | null;
    forward: number | null;
    indexPrice: number | null;
    rate: number;
    greeks: QuoteOptionFields["greeks"] | null;
  };
  /** What we compute from the same inputs; null where the input is missing or outside the bounds. */
  ours: {
    /** IV of the venue's mark price. */
    markIv: number | null;
    bidIv: number | null;
    askIv: number | null;
    /** IV of the book's mid. */
    midIv: number | null;
    /** Black-76 at our mark IV: USD price, premium in the coin, and greeks in the venue's units
     * (delta per 1 of the forward, gamma, vega per 1 vol point, theta per day, rho per 1 %). */
    price: number | null;
    premium: number | null;
    greeks: { delta: number; gamma: number; vega: number; theta: number; rho: number } | null;
  };
  /** Our mark IV − the venue's, in vol points (percent); null without both. */
  ivDiff: number | null;
  /** Event time of the quote, ms. */
  time: number | null;
}

/** What {@link optionRow} needs of one option. */
export interface OptionInput {
  exchange: string;
  instrument: string;
  terms: OptionContract;
  /** The latest quote of the instrument, if any. */
  quote?: QuoteEvent;
}

const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v / 100);

/**
 * The chain line of one option at `now` (ms).
 * @example
 * ```ts ignore
 * const row = optionRow({ exchange: "deribit", instrument: "BTC-27DEC26-100000-C", terms, quote }, Date.now());
 * row.ours.markIv; // our IV of Deribit's mark price, e.g. 0.5230000000001
 * ```
 */
export function optionRow(input: OptionInput, now: number): OptionRow {
  const { terms, quote } = input;
  const t = quote?.option;
  const forward = t?.underlyingPrice !== undefined && t.underlyingPrice > 0
    ? t.underlyingPrice
    : null;
  const rate = t?.interestRate !== undefined && Number.isFinite(t.interestRate)
    ? t.interestRate
    : 0;
  const timeYears = Math.max(0, (terms.expiry - now) / YEAR_MS);
  const usd = (premium: number | null | undefined) =>
    premium === null || premium === undefined || forward === null
      ? null
      : terms.inverse
      ? premium * forward
      : premium;
  const ivOf = (premium: number | null | undefined): number | null => {
    const price = usd(premium);
    if (price === null || forward === null || !(timeYears > 0)) return null;
    const r = impliedVol({
      price,
      forward,
      strike: terms.strike,
      timeYears,
      rate,
      type: terms.type,
    });
    return r.vol;
  };
  const bid = quote && quote.bidPrice > 0 ? quote.bidPrice : null;
  const ask = quote && quote.askPrice > 0 ? quote.askPrice : null;
  const mid = bid !== null && ask !== null ? (bid + ask) / 2 : null;
  const markIv = ivOf(t?.markPrice);
  let price: number | null = null, premium: number | null = null;
  let greeks: OptionRow["ours"]["greeks"] = null;
  if (markIv !== null && forward !== null) {
    const q = black76({
      forward,
      strike: terms.strike,
      timeYears,
      vol: markIv,
      rate,
      type: terms.type,
    });
    price = q.price;
    premium = terms.inverse ? q.priceInUnderlying : q.price;
    greeks = {
      delta: q.delta,
      gamma: q.gamma,
      vega: q.vega / 100,
      theta: q.thetaPerDay,
      rho: q.rho / 100,
    };
  }
  const venueMarkIv = pct(t?.markIv);
  return {
    exchange: input.exchange,
    instrument: input.instrument,
    underlying: terms.underlying,
    expiry: terms.expiry,
    strike: terms.strike,
    type: terms.type,
    inverse: terms.inverse,
    bid,
    ask,
    venue: {
      markPrice: t?.markPrice ?? null,
      markIv: venueMarkIv,
      bidIv: pct(t?.bidIv),
      askIv: pct(t?.askIv),
      forward,
      indexPrice: t?.indexPrice ?? null,
      rate,
      greeks: t?.greeks ?? null,
    },
    ours: {
      markIv,
      bidIv: ivOf(bid),
      askIv: ivOf(ask),
      midIv: ivOf(mid),
      price,
      premium,
      greeks,
    },
    ivDiff: markIv !== null && venueMarkIv !== null ? (markIv - venueMarkIv) * 100 : null,
    time: quote?.eventTime ?? null,
  };
}

/**
 * The smiles to fit a surface to: per expiry, each strike's IV — the mid of our bid and ask IVs
 * where both exist, else our mark IV — on the out-of-the-money side (calls above the forward,
 * puts below), weighted by 1 / (spread in vol + 1 point) so tight quotes count more.
 * @example
 * ```ts ignore
 * const surface = buildSurface(smilesOf(rows), Date.now());
 * ```
 */
export function smilesOf(rows: readonly OptionRow[]): SmileInput[] {
  const byExpiry = new Map<number, OptionRow[]>();
  for (const row of rows) {
    const list = byExpiry.get(row.expiry) ?? [];
    list.push(row);
    byExpiry.set(row.expiry, list);
  }
  const smiles: SmileInput[] = [];
  for (const [expiry, list] of byExpiry) {
    const forwards = list.map((r) => r.venue.forward).filter((f): f is number => f !== null);
    if (forwards.length === 0) continue;
    const forward = forwards.reduce((a, b) => a + b, 0) / forwards.length;
    const points: SmileInput["points"] = [];
    for (const r of list) {
      const otm = r.type === "call" ? r.strike >= forward : r.strike < forward;
      if (!otm) continue;
      const both = r.ours.bidIv !== null && r.ours.askIv !== null;
      const iv = both ? (r.ours.bidIv! + r.ours.askIv!) / 2 : r.ours.markIv;
      if (iv === null || !(iv > 0)) continue;
      const spread = both ? (r.ours.askIv! - r.ours.bidIv!) * 100 : 5;
      points.push({ strike: r.strike, iv, weight: 1 / (Math.max(0, spread) + 1) });
    }
    smiles.push({ expiry, forward, points });
  }
  return smiles.sort((a, b) => a.expiry - b.expiry);
}

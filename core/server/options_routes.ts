/**
 * Options over REST (issue #17): the chain with our IV and greeks beside the venue's marks, one
 * option's price (by instrument, or from explicit Black-76 inputs), and the fitted surface.
 * Every bad query is a 400 with a JSON `{"error":{"code","message"}}` body.
 * @module
 */
import { z } from "zod";
import type { OptionsBoard } from "../options/board.ts";
import { black76, impliedVol, YEAR_MS } from "../options/mod.ts";
import { httpError, json, parseQuery as parse } from "./rest.ts";

/** Paths of the options endpoints, for `GET /`. */
export const OPTIONS_ENDPOINTS = {
  optionsChain: "/api/options/chain",
  optionsPrice: "/api/options/price",
  optionsSurface: "/api/options/surface",
} as const;

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/**
 * An expiry: Deribit's `27DEC26` (08:00 UTC that day), an ISO date/time, or epoch ms.
 * @example
 * ```ts
 * parseExpiry("27DEC26"); // Date.UTC(2026, 11, 27, 8)
 * ```
 */
export function parseExpiry(text: string): number | undefined {
  const m = /^(\d{1,2})([A-Z]{3})(\d{2})$/.exec(text.toUpperCase());
  if (m) {
    const month = MONTHS.indexOf(m[2]);
    return month < 0 ? undefined : Date.UTC(2000 + Number(m[3]), month, Number(m[1]), 8);
  }
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}

const expiryParam = z.string().max(32).transform((s, ctx) => {
  const t = parseExpiry(s);
  if (t === undefined) {
    ctx.addIssue({ code: "custom", message: "expected 27DEC26, an ISO date or epoch ms" });
    return z.NEVER;
  }
  return t;
});
const underlyingParam = z.string().regex(/^[A-Za-z0-9]{1,16}$/).transform((s) => s.toUpperCase());
const positive = z.coerce.number().positive().finite();

const chainQuery = z.strictObject({ underlying: underlyingParam, expiry: expiryParam.optional() });
const surfaceQuery = z.strictObject({
  underlying: underlyingParam,
  /** Strikes per expiry in the answer's grid, from 0.5 to 2 × the forward. */
  points: z.coerce.number().int().min(3).max(201).default(31),
});
const byInstrument = z.strictObject({
  instrument: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/),
  exchange: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional(),
});
const explicit = z.strictObject({
  forward: positive,
  strike: positive,
  expiry: expiryParam.optional(),
  timeYears: z.coerce.number().min(0).max(100).optional(),
  vol: z.coerce.number().min(0).max(20).optional(),
  price: z.coerce.number().min(0).finite().optional(),
  rate: z.coerce.number().min(-1).max(1).default(0),
  type: z.enum(["call", "put"]),
});

/**
 * Creates the options routes over a board; `now` is the wall clock (the board's valuation time).
 * @example
 * ```ts ignore
 * const route = createOptionsRoutes(board, Date.now);
 * await route("/api/options/chain")?.(new URL("http://x/api/options/chain?underlying=BTC"));
 * ```
 */
export function createOptionsRoutes(
  board: OptionsBoard,
  now: () => number,
): (pathname: string) => ((url: URL) => Response) | undefined {
  const unknownUnderlying = (u: string) =>
    httpError(
      404,
      "unknown_underlying",
      `no option of ${u} is listed; listed: ${board.underlyings().join(", ") || "none"}`,
    );

  const chain = (url: URL) => {
    const q = parse(url, chainQuery);
    if (!q.ok) return q.response;
    const { underlying, expiry } = q.value;
    if (!board.underlyings().includes(underlying)) return unknownUnderlying(underlying);
    const t = now();
    return json({ underlying, now: t, expiries: board.chain(underlying, t, expiry) });
  };

  const price = (url: URL) => {
    if (url.searchParams.has("instrument")) {
      const q = parse(url, byInstrument);
      if (!q.ok) return q.response;
      const row = board.row(q.value.instrument, now(), q.value.exchange);
      if (!row) {
        return httpError(404, "unknown_instrument", `no option "${q.value.instrument}" is listed`);
      }
      return json(row);
    }
    const q = parse(url, explicit);
    if (!q.ok) return q.response;
    const { forward, strike, rate, type } = q.value;
    const timeYears = q.value.timeYears ??
      (q.value.expiry !== undefined ? Math.max(0, (q.value.expiry - now()) / YEAR_MS) : undefined);
    if (timeYears === undefined) {
      return httpError(400, "bad_query", "expiry or timeYears: one is required");
    }
    let vol = q.value.vol;
    let solved: ReturnType<typeof impliedVol> | undefined;
    if (vol === undefined) {
      if (q.value.price === undefined) {
        return httpError(
          400,
          "bad_query",
          "vol (to price) or price (for the implied vol): one is required",
        );
      }
      solved = impliedVol({ price: q.value.price, forward, strike, timeYears, rate, type });
      if (solved.vol === null) {
        return httpError(400, "no_implied_vol", `no implied volatility: ${solved.reason}`);
      }
      vol = solved.vol;
    }
    return json({
      inputs: { forward, strike, timeYears, vol, rate, type },
      ...(solved ? { impliedVol: solved } : {}),
      ...black76({ forward, strike, timeYears, vol, rate, type }),
    });
  };

  const surface = (url: URL) => {
    const q = parse(url, surfaceQuery);
    if (!q.ok) return q.response;
    const { underlying, points } = q.value;
    if (!board.underlyings().includes(underlying)) return unknownUnderlying(underlying);
    const fitted = board.surface(underlying, now());
    if (!fitted) {
      return httpError(
        503,
        "no_surface",
        `the ${underlying} surface cannot be fitted yet: no expiry has 5 quotes with an implied volatility`,
      );
    }
    const { surface: s } = fitted;
    return json({
      underlying,
      fittedAt: fitted.fittedAt,
      slices: s.slices.map((slice) => ({
        expiry: slice.expiry,
        timeYears: slice.timeYears,
        forward: slice.forward,
        quotes: fitted.points.find((p) => p.expiry === slice.expiry)?.count ?? 0,
        svi: slice.fit.params,
        rmse: slice.fit.rmse,
        kRange: slice.fit.kRange,
        butterflyArbitrage: slice.fit.butterflyArbitrage,
        wingButterflyArbitrage: slice.fit.wingButterflyArbitrage,
        grid: Array.from({ length: points }, (_, i) => {
          const strike = slice.forward * (0.5 + (1.5 * i) / (points - 1));
          return { strike, iv: s.iv(strike, slice.expiry) };
        }),
      })),
      calendarArbitrage: s.calendarArbitrage(),
      wingCalendarArbitrage: s.calendarArbitrage("wide").length,
    });
  };

  const routes: Record<string, (url: URL) => Response> = {
    [OPTIONS_ENDPOINTS.optionsChain]: chain,
    [OPTIONS_ENDPOINTS.optionsPrice]: price,
    [OPTIONS_ENDPOINTS.optionsSurface]: surface,
  };
  return (pathname) => routes[pathname];
}

/**
 * The first script of the page, a few KiB that run before the main bundle is even parsed: it asks
 * for the symbols and, for the default view, the chart's history, so both requests run while the
 * browser evaluates React and the charts. The main bundle takes the promises from here.
 *
 * @example
 * ```ts
 * const boot = bootRequests(); // in main.tsx: the same promises, started once
 * ```
 */
import { getJson } from "./api.ts";
import { defaultSelection, type SymbolsAnswer, type SymbolSpace, symbolSpace } from "./markets.ts";
import { type KlinesAnswer, klinesRequest } from "./history.ts";

/** What the boot script started. */
export interface Boot {
  symbols: Promise<SymbolSpace>;
  /** The default chart's history, keyed `exchange|symbol|interval`. */
  klines: Promise<{ key: string; answer: Promise<KlinesAnswer> } | undefined>;
}

/** The interval the chart opens on (1 s: a fresh demo has bars at once). */
export const DEFAULT_INTERVAL = "1s";
const DEFAULT_INTERVAL_MS = 1000;

/** Starts the early requests once per page and returns them. */
export function bootRequests(): Boot {
  const w = globalThis as unknown as { __qsBoot?: Boot };
  if (w.__qsBoot) return w.__qsBoot;
  const symbols = getJson<SymbolsAnswer>("/api/symbols").then(symbolSpace);
  const klines = symbols.then((space) => {
    const first = defaultSelection(space);
    if (!first || !(location.hash === "" || location.hash === "#/markets")) return undefined;
    const native = space.native(first.exchange, first.unified);
    const key = `${first.exchange}|${native}|${DEFAULT_INTERVAL}`;
    const answer = klinesRequest(first.exchange, native, DEFAULT_INTERVAL, DEFAULT_INTERVAL_MS);
    answer.catch(() => {}); // the chart reports a failure; no unhandled rejection meanwhile
    return { key, answer };
  });
  // A failure is shown by the app (e.g. 401 with access control on); none goes unhandled here.
  symbols.catch(() => {});
  klines.catch(() => {});
  w.__qsBoot = { symbols, klines };
  return w.__qsBoot;
}

if (typeof document !== "undefined") bootRequests();

/**
 * Resolving a command's selection against what a recording holds: exchanges must
 * be recorded, symbols may be native (`BTCUSDT`, `BTC-USDT`) or unified
 * (`BTC/USDT`, matched by base + quote letters) and must be recorded on at least
 * one selected exchange.
 * @module
 */
import type { EventFilter, HistoryReader } from "../history/mod.ts";
import { type SelectionArgs, UsageError } from "./args.ts";

/** Letters and digits only, upper case: `BTC/USDT`, `btc-usdt` and `BTCUSDT` all become `BTCUSDT`. */
const canonical = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, "");

/**
 * The reader filter for `sel` (markers included), with symbols resolved to the
 * recorded native names. Throws {@link UsageError} for an exchange or symbol the
 * recording does not hold.
 */
export function filterOf(history: HistoryReader, sel: SelectionArgs, raw: boolean): EventFilter {
  const streams = history.catalog().streams;
  const recordedExchanges = [...new Set(streams.map((s) => s.exchange).filter((e) => e !== ""))];
  for (const exchange of sel.exchanges ?? []) {
    if (!recordedExchanges.includes(exchange)) {
      throw new UsageError(
        `--exchanges: ${exchange} is not in the recording (recorded: ${
          recordedExchanges.join(", ") || "nothing"
        })`,
      );
    }
  }
  let symbols: string[] | undefined;
  if (sel.symbols) {
    const candidates = [
      ...new Set(
        streams
          .filter((s) => s.symbol !== "" && (!sel.exchanges || sel.exchanges.includes(s.exchange)))
          .map((s) => s.symbol),
      ),
    ];
    symbols = [];
    for (const wanted of sel.symbols) {
      const matches = candidates.filter((c) => c === wanted || canonical(c) === canonical(wanted));
      if (matches.length === 0) {
        throw new UsageError(
          `--symbols: ${wanted} is not in the recording (recorded: ${
            candidates.join(", ") || "nothing"
          })`,
        );
      }
      symbols.push(...matches);
    }
  }
  return {
    from: sel.from,
    to: sel.to,
    exchanges: sel.exchanges,
    symbols,
    channels: sel.channels,
    markers: true,
    raw,
  };
}

/**
 * The subscriptions a typed client remembers, to send them again after a reconnect. Kept as
 * atoms (one symbol × one channel with its options) so an unsubscribe of part of a request
 * forgets just that part; {@link Subscriptions.requests} groups the atoms back into as few
 * subscribe requests as their options allow.
 * @module
 */
import type { SubscribeRequest } from "./_frames.ts";

interface Atom {
  symbol: string;
  channel: string;
  exchanges?: string[];
  raw?: boolean;
  depth?: number;
  metrics?: string[];
}

/** Remembered subscriptions. */
export interface Subscriptions {
  /** Remembers every symbol × channel of a subscribe. */
  add(request: SubscribeRequest): void;
  /**
   * Forgets what an unsubscribe removes: the atoms of its symbols × channels; with `exchanges`,
   * only those exchanges of atoms subscribed with an explicit list (an atom subscribed on every
   * exchange stays remembered whole).
   */
  remove(request: SubscribeRequest): void;
  /** The remembered subscriptions as subscribe requests (without ids). */
  requests(): SubscribeRequest[];
}

/**
 * Creates an empty set of remembered subscriptions.
 * @example
 * ```ts
 * const subs = createSubscriptions();
 * subs.add({ symbols: ["BTCUSDT", "ETHUSDT"], channels: ["trade", "quote"] });
 * subs.remove({ symbols: ["ETHUSDT"], channels: ["quote"] });
 * subs.requests();
 * // [{ symbols: ["BTCUSDT"], channels: ["trade", "quote"] }, { symbols: ["ETHUSDT"], channels: ["trade"] }]
 * ```
 */
export function createSubscriptions(): Subscriptions {
  const atoms = new Map<string, Atom>();
  const optionsKey = (a: Omit<Atom, "symbol" | "channel">) =>
    JSON.stringify([a.exchanges ?? null, a.raw ?? null, a.depth ?? null, a.metrics ?? null]);
  const atomKey = (a: Atom) => `${a.symbol}|${a.channel}|${optionsKey(a)}`;

  return {
    add(request) {
      for (const channel of request.channels ?? ["trade"]) {
        for (const symbol of request.symbols) {
          const atom: Atom = {
            symbol,
            channel,
            exchanges: request.exchanges ? [...request.exchanges].sort() : undefined,
            raw: request.raw,
            depth: channel === "book" ? request.depth : undefined,
            metrics: channel === "analytics" && request.metrics
              ? [...request.metrics].sort()
              : undefined,
          };
          atoms.set(atomKey(atom), atom);
        }
      }
    },
    remove(request) {
      const channels = request.channels ?? ["trade"];
      for (const [key, atom] of [...atoms]) {
        if (!request.symbols.includes(atom.symbol) || !channels.includes(atom.channel)) continue;
        if (!request.exchanges) {
          atoms.delete(key);
        } else if (atom.exchanges) {
          const left = atom.exchanges.filter((e) => !request.exchanges!.includes(e));
          atoms.delete(key);
          if (left.length > 0) {
            const kept = { ...atom, exchanges: left };
            atoms.set(atomKey(kept), kept);
          }
        }
      }
    },
    requests() {
      // symbol + options → its channels; then options + channels → their symbols.
      const bySymbol = new Map<string, { atom: Atom; channels: string[] }>();
      for (const atom of atoms.values()) {
        const key = `${atom.symbol}|${optionsKey(atom)}`;
        const entry = bySymbol.get(key) ?? { atom, channels: [] };
        entry.channels.push(atom.channel);
        bySymbol.set(key, entry);
      }
      const grouped = new Map<string, SubscribeRequest>();
      for (const { atom, channels } of bySymbol.values()) {
        const key = `${optionsKey(atom)}|${channels.join(",")}`;
        const request = grouped.get(key) ?? withoutUndefined({
          symbols: [],
          channels,
          exchanges: atom.exchanges,
          raw: atom.raw,
          depth: atom.depth,
          metrics: atom.metrics,
        });
        request.symbols.push(atom.symbol);
        grouped.set(key, request);
      }
      return [...grouped.values()];
    },
  };
}

function withoutUndefined(request: SubscribeRequest): SubscribeRequest {
  return Object.fromEntries(
    Object.entries(request).filter(([, v]) => v !== undefined),
  ) as unknown as SubscribeRequest;
}

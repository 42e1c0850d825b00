/**
 * The application shell: the header (connection state, EMULATOR notice), the exchange and symbol
 * pickers in the unified symbol space, and the tab bar of the five views (hash-routed,
 * arrow keys move between tabs).
 */
import { type KeyboardEvent, useEffect, useState } from "react";
import type { QuantClient } from "./client_adapter.ts";
import { type ApiError, getJson } from "./api.ts";
import { defaultSelection, type SymbolSpace } from "./markets.ts";
import { Markets } from "./views/Markets.tsx";
import { Analytics } from "./views/Analytics.tsx";
import { Paper } from "./views/Paper.tsx";
import { Operations } from "./views/Operations.tsx";
import { Accounts } from "./views/Accounts.tsx";
import { expose } from "./debug.ts";

/** The views, in tab order. */
export const TABS = [
  { id: "markets", label: "Markets" },
  { id: "analytics", label: "Analytics" },
  { id: "paper", label: "Paper trading" },
  { id: "operations", label: "Operations" },
  { id: "accounts", label: "Accounts" },
] as const;

type TabId = typeof TABS[number]["id"];

const tabFromHash = (): TabId => {
  const h = location.hash.replace(/^#\/?/, "");
  return (TABS.find((t) => t.id === h)?.id ?? "markets") as TabId;
};

interface Info {
  exchanges: { exchange: string; source: string }[];
}

/**
 * The whole app for one client connection.
 *
 * @example
 * ```tsx
 * createRoot(el).render(<App client={connect({ url })} />);
 * ```
 */
export function App({ client, symbols }: { client: QuantClient; symbols: Promise<SymbolSpace> }) {
  const [tab, setTab] = useState<TabId>(tabFromHash);
  const [state, setState] = useState(client.state);
  const [space, setSpace] = useState<SymbolSpace>();
  const [info, setInfo] = useState<Info>();
  const [unified, setUnified] = useState<string>();
  const [exchange, setExchange] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const off = client.onState(setState);
    setState(client.state); // it may have opened before this effect ran
    return off;
  }, [client]);
  useEffect(() => {
    const on = () => setTab(tabFromHash());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() => {
    symbols.then((s) => {
      const first = defaultSelection(s);
      setSpace(s);
      setUnified(first?.unified);
      setExchange(first?.exchange);
    }, (e: ApiError) =>
      setError(
        e.status === 401
          ? "access control is on: sign in on the Accounts tab, create a key and use it for this app"
          : `GET /api/symbols failed: ${e.message}`,
      ));
    getJson<Info>("/").then(setInfo, () => {});
  }, [symbols]);
  const venues = space && unified ? space.exchangesOf(unified) : [];
  const pickUnified = (u: string) => {
    setUnified(u);
    const v = space?.exchangesOf(u) ?? [];
    if (!exchange || !v.includes(exchange)) setExchange(v[0]);
  };
  const native = space && unified && exchange ? space.native(exchange, unified) : undefined;
  useEffect(() => expose("app", { tab, exchange, unified, native, connection: state }), [
    tab,
    exchange,
    unified,
    native,
    state,
  ]);
  const emulated = info?.exchanges.filter((e) => e.source === "emulator").map((e) => e.exchange) ??
    [];
  const go = (id: TabId) => {
    location.hash = `#/${id}`;
    setTab(id);
  };
  const onTabKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === tab);
    const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!d) return;
    const next = TABS[(i + d + TABS.length) % TABS.length].id;
    go(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  const ready = native && unified && exchange;
  return (
    <div className="app">
      <header className="top">
        <h1>Quant-SaaS</h1>
        <span className={`conn conn-${state}`} data-testid="connection">{state}</span>
        {emulated.length > 0 && (
          <span className="badge emu" title="synthetic data from the bundled exchange emulators">
            EMULATOR: {emulated.join(", ")}
          </span>
        )}
        <div className="pickers">
          <label>
            symbol
            <select
              data-testid="symbol-picker"
              value={unified ?? ""}
              onChange={(e) => pickUnified(e.target.value)}
            >
              {space?.unified.map((u) => <option key={u} value={u}>{u}</option>)}
            </select>
          </label>
          <label>
            exchange
            <select
              data-testid="exchange-picker"
              value={exchange ?? ""}
              onChange={(e) => setExchange(e.target.value)}
            >
              {venues.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          </label>
        </div>
      </header>
      <nav className="tabs" role="tablist" aria-label="views" onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            type="button"
            role="tab"
            key={t.id}
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls="view"
            tabIndex={tab === t.id ? 0 : -1}
            className={tab === t.id ? "on" : ""}
            onClick={() => go(t.id)}
          >
            {t.label}
          </button>
        ))}
      </nav>
      <main id="view" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {error && tab !== "accounts" && <div className="error" role="alert">{error}</div>}
        {!ready && tab !== "operations" && tab !== "accounts" && !error && (
          <div className="muted">loading symbols…</div>
        )}
        {ready && tab === "markets" && (
          <Markets client={client} exchange={exchange} unified={unified} native={native} />
        )}
        {ready && tab === "analytics" && (
          <Analytics client={client} exchange={exchange} unified={unified} native={native} />
        )}
        {ready && tab === "paper" && (
          <Paper client={client} exchange={exchange} unified={unified} native={native} />
        )}
        {tab === "operations" && <Operations client={client} space={space} />}
        {tab === "accounts" && <Accounts />}
      </main>
      <footer className="foot">
        Charts by{" "}
        <a href="https://www.tradingview.com/" target="_blank" rel="noopener noreferrer">
          TradingView
        </a>{" "}
        lightweight-charts. Speaks only the public protocol: <code>/ws</code> and REST (see{" "}
        <a href="/">GET /</a>).
      </footer>
    </div>
  );
}

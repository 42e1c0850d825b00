/**
 * Operations: each feed's state and source (EMULATOR or live exchange), reconnects and malformed
 * frames, each book's sync state and resyncs, clients, delivery pressure and the recording, from
 * `GET /health` polled every second and the `status` frames as they come.
 */
import { useEffect, useState } from "react";
import type { QuantClient } from "../client_adapter.ts";
import { usePolled, useSubscription } from "../hooks.ts";
import type { SymbolSpace } from "../markets.ts";
import { expose } from "../debug.ts";
import { ago, clock, fmt } from "../format.ts";

/** The parts of `/health` shown. */
export interface Health {
  status: string;
  role?: string;
  uptimeSeconds?: number;
  clients?: number;
  delivery?: {
    held: number;
    budget: number;
    pressure: string;
    disconnects: number;
    backlogged: number;
    highWaterMark: number;
  };
  recording?: {
    enabled: boolean;
    healthy?: boolean;
    dir?: string;
    recorded?: number;
    dropped?: number;
    bytes?: number;
    errors?: number;
    days?: string[];
  };
  paper?: { enabled: boolean; simulated: boolean; accounts: number; openOrders: number };
  feeds: {
    exchange: string;
    state: string;
    source?: string;
    emulator?: boolean;
    reason?: string;
    since?: string;
    lastMessageAgeMs?: number;
    reconnects: number;
    restarts?: number;
    malformed?: number;
    events?: number;
  }[];
  books?: {
    exchange: string;
    symbol: string;
    synced: boolean;
    resyncs: number;
    sequence: number;
  }[];
}

/**
 * Records a feed state seen (from `/health` or a status frame) in `window.__qs.ops`: the current
 * state per exchange and the sequence of distinct states seen since the page opened.
 */
function remember(exchange: string, state: string): void {
  const w = globalThis as unknown as {
    __qs?: { ops?: { feeds?: Record<string, string>; seen?: Record<string, string[]> } };
  };
  const ops = w.__qs?.ops ?? {};
  const seen = { ...(ops.seen ?? {}) };
  const list = seen[exchange] ?? [];
  if (list.at(-1) !== state) seen[exchange] = [...list, state];
  expose("ops", { feeds: { ...(ops.feeds ?? {}), [exchange]: state }, seen });
}

interface StatusEvent {
  time: number;
  exchange?: string;
  symbol?: string;
  state: string;
  reason?: string;
}

/**
 * The Operations view.
 *
 * @example
 * ```tsx
 * <Operations client={client} space={space} />
 * ```
 */
export function Operations({ client, space }: { client: QuantClient; space?: SymbolSpace }) {
  const { data: health, error } = usePolled<Health>("/health", 1000);
  // A subscriber of an exchange gets its feed's status frames (the current one at once, then each
  // change): the candles of one symbol every exchange streams are the cheapest way to be one.
  const watched = space?.unified.slice().sort((a, b) =>
    space.exchangesOf(b).length - space.exchangesOf(a).length
  )[0];
  useSubscription(
    client,
    watched ? { symbols: [watched], channels: ["kline"], raw: false } : undefined,
  );
  const [events, setEvents] = useState<StatusEvent[]>([]);
  // The feeds' status frames as they come (the subscription above makes this page a subscriber).
  useEffect(() => {
    const off = client.on("status", (f) => {
      if (f.replay) return;
      const e: StatusEvent = {
        time: Date.now(),
        exchange: "exchange" in f ? f.exchange : undefined,
        symbol: "symbol" in f ? f.symbol : undefined,
        state: String(f.state),
        reason: "reason" in f ? f.reason : undefined,
      };
      setEvents((x) => [e, ...x].slice(0, 50));
      if (e.exchange && !e.symbol) remember(e.exchange, e.state);
    });
    return off;
  }, [client]);
  useEffect(() => {
    if (!health) return;
    for (const f of health.feeds) remember(f.exchange, f.state);
  }, [health]);
  if (!health) {
    return (
      <div className="muted">{error ? `GET /health failed: ${error}` : "loading /health…"}</div>
    );
  }
  return (
    <div className="ops">
      <div className="cards">
        <Card
          label="gateway"
          value={health.status}
          hint={`role ${health.role ?? "all"} · up ${fmt(health.uptimeSeconds, 0)} s`}
        />
        <Card label="clients" value={String(health.clients ?? 0)} />
        <Card
          label="delivery pressure"
          value={health.delivery?.pressure ?? "—"}
          hint={`${fmt((health.delivery?.held ?? 0) / 1024, 0)} KiB held · ${
            health.delivery?.backlogged ?? 0
          } backlogged · ${health.delivery?.disconnects ?? 0} disconnects`}
        />
        <Card
          label="recording"
          value={health.recording?.enabled
            ? (health.recording.healthy === false ? "unhealthy" : "on")
            : "off"}
          hint={health.recording?.enabled
            ? `${fmt(health.recording.recorded, 0)} items · ${
              fmt((health.recording.bytes ?? 0) / 1048576, 1)
            } MiB · ${health.recording.dropped ?? 0} dropped`
            : "no RECORD_DIR"}
        />
        <Card
          label="paper trading"
          value={health.paper?.enabled ? "SIMULATED" : "off"}
          hint={health.paper
            ? `${health.paper.accounts} accounts · ${health.paper.openOrders} open orders`
            : undefined}
        />
      </div>
      <section className="panel" aria-label="feeds">
        <header>
          <h2>Feeds</h2>
        </header>
        <table data-testid="feeds">
          <thead>
            <tr>
              <th>exchange</th>
              <th>source</th>
              <th>state</th>
              <th className="num">last message</th>
              <th className="num">reconnects</th>
              <th className="num">restarts</th>
              <th className="num">malformed</th>
              <th className="num">events</th>
              <th>reason</th>
            </tr>
          </thead>
          <tbody>
            {health.feeds.map((f) => (
              <tr key={f.exchange} data-feed={f.exchange}>
                <td>{f.exchange}</td>
                <td>
                  {f.emulator || f.source === "emulator"
                    ? <span className="badge emu">EMULATOR</span>
                    : <span className="badge live">live exchange</span>}
                </td>
                <td>
                  <span className={`state st-${f.state}`}>{f.state}</span>
                </td>
                <td className="num">{ago(f.lastMessageAgeMs)}</td>
                <td className="num">{f.reconnects}</td>
                <td className="num">{f.restarts ?? 0}</td>
                <td className="num">{f.malformed ?? 0}</td>
                <td className="num">{fmt(f.events, 0)}</td>
                <td className="small">{f.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <div className="grid2">
        <section className="panel" aria-label="books">
          <header>
            <h2>Books</h2>
          </header>
          <table data-testid="books">
            <thead>
              <tr>
                <th>exchange</th>
                <th>symbol</th>
                <th>sync</th>
                <th className="num">resyncs</th>
                <th className="num">sequence</th>
              </tr>
            </thead>
            <tbody>
              {(health.books ?? []).map((b) => (
                <tr key={`${b.exchange}${b.symbol}`}>
                  <td>{b.exchange}</td>
                  <td>{b.symbol}</td>
                  <td>
                    <span className={`state ${b.synced ? "st-connected" : "st-resyncing"}`}>
                      {b.synced ? "synced" : "resyncing"}
                    </span>
                  </td>
                  <td className="num">{b.resyncs}</td>
                  <td className="num">{fmt(b.sequence, 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="panel" aria-label="status frames">
          <header>
            <h2>Status frames (live)</h2>
          </header>
          {events.length === 0
            ? <div className="muted">none since this page opened</div>
            : (
              <table data-testid="status-events">
                <tbody>
                  {events.map((e, i) => (
                    <tr key={i}>
                      <td>{clock(e.time)}</td>
                      <td>{e.exchange}{e.symbol ? ` ${e.symbol}` : ""}</td>
                      <td>
                        <span className={`state st-${e.state}`}>{e.state}</span>
                      </td>
                      <td className="small">{e.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
        </section>
      </div>
    </div>
  );
}

function Card({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="card">
      <div className="label">{label}</div>
      <div className="big">{value}</div>
      {hint && <div className="muted small">{hint}</div>}
    </div>
  );
}

/**
 * Analytics: OFI, VPIN, microprice, VWAP and realized volatility of the chosen exchange and
 * symbol as live time series, from the `analytics` channel (docs/analytics.md).
 */
import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";
import { getJson } from "../api.ts";
import type { QuantClient } from "../client_adapter.ts";
import { useSubscription } from "../hooks.ts";
import { SeriesChart, type SeriesPoint } from "../components/SeriesChart.tsx";
import { expose } from "../debug.ts";
import { fmt, priceDigits } from "../format.ts";

/** The parts of an analytics frame the view reads. */
export interface AnalyticsFrame {
  time: number;
  exchange: string;
  symbol: string;
  ofi?: { windows: { ms: number; ofi: number; normalized: number }[] } | null;
  vpin?: {
    exact?: { vpin: number | null; value: number | null; partial?: boolean; buckets?: number };
    rank?: number | null;
    bucketVolumeSource?: string;
  } | null;
  microprice?: { mid: number; weightedMid: number } | null;
  flow?:
    | { windows: { windowMs: number; vwap: number | null; volume: number; trades: number }[] }
    | null;
  volatility?:
    | { windows: { windowMs: number; sigmaAnn: number | null; complete: boolean }[] }
    | null;
}

/** How much history the charts open with, from `GET /api/history/analytics`. */
const HISTORY_MS = 120_000;

/**
 * The last two minutes of the symbol's analytics recomputed from the recording, one point a
 * second (an empty list without a recording: the charts then start live).
 */
function recentHistory(exchange: string, symbol: string): Promise<AnalyticsFrame[]> {
  const to = Date.now();
  const q = new URLSearchParams({
    exchange,
    symbol,
    from: String(to - HISTORY_MS),
    to: String(to),
    step: "1s",
    warmup: "5m",
  });
  return getJson<{ points: Omit<AnalyticsFrame, "exchange" | "symbol">[] }>(
    `/api/history/analytics?${q}`,
  ).then(
    (h) => h.points.map((p) => ({ ...p, exchange, symbol })),
    () => [],
  );
}

/** The figures plotted, read from a frame. */
export function figures(f: AnalyticsFrame) {
  const ofi10 = f.ofi?.windows.find((w) => w.ms === 10_000);
  const ofi1 = f.ofi?.windows.find((w) => w.ms === 1_000);
  const vwap10 = f.flow?.windows.find((w) => w.windowMs === 10_000);
  const vwap60 = f.flow?.windows.find((w) => w.windowMs === 60_000);
  const vol60 = f.volatility?.windows.find((w) => w.windowMs === 60_000);
  const vol300 = f.volatility?.windows.find((w) => w.windowMs === 300_000);
  return {
    ofi1: ofi1?.ofi,
    ofi10: ofi10?.ofi,
    ofi10n: ofi10?.normalized,
    vpin: f.vpin?.exact?.vpin ?? null,
    vpinPartial: f.vpin?.exact?.value ?? null,
    vpinRank: f.vpin?.rank ?? null,
    mid: f.microprice?.mid,
    micro: f.microprice?.weightedMid,
    vwap10: vwap10?.vwap,
    vwap60: vwap60?.vwap,
    vol60: vol60?.sigmaAnn,
    vol300: vol300?.sigmaAnn,
  };
}

/**
 * The Analytics view.
 *
 * @example
 * ```tsx
 * <Analytics client={client} exchange="binance" native="BTCUSDT" unified="BTC/USDT" />
 * ```
 */
export function Analytics(
  props: { client: QuantClient; exchange: string; native: string; unified: string },
) {
  const { client, exchange, native, unified } = props;
  useSubscription(client, { symbols: [native], exchanges: [exchange], channels: ["analytics"] });
  const [latest, setLatest] = useState<AnalyticsFrame>();
  useEffect(() => {
    setLatest(undefined);
    let frames = 0;
    const off = client.on("analytics", (f) => {
      if (f.exchange !== exchange || f.symbol !== native) return;
      frames++;
      expose("analytics", { frames, time: f.time });
      setLatest(f as unknown as AnalyticsFrame);
    });
    return off;
  }, [client, exchange, native]);
  // One request for the four charts' history.
  const history = useMemo(() => recentHistory(exchange, native), [exchange, native]);
  const feed = useCallback(
    (pick: (f: ReturnType<typeof figures>) => (number | null | undefined)[]) =>
    (push: (p: SeriesPoint) => void) => {
      // Live frames wait until the history is drawn: a chart takes points in time order.
      let ready = false;
      let held: SeriesPoint[] = [];
      const off = client.on("analytics", (f) => {
        if (f.exchange !== exchange || f.symbol !== native) return;
        const a = f as unknown as AnalyticsFrame;
        const point = { time: a.time, values: pick(figures(a)) };
        if (ready) push(point);
        else held.push(point);
      });
      history.then((points) => {
        for (const p of points) push({ time: p.time, values: pick(figures(p)) });
        expose("analyticsHistory", { points: points.length });
        ready = true;
        for (const p of held) push(p);
        held = [];
      });
      return off;
    },
    [client, exchange, native, history],
  );
  const ofiFeed = useCallback(feed((x) => [x.ofi1, x.ofi10]), [feed]);
  const vpinFeed = useCallback(feed((x) => [x.vpin, x.vpinPartial]), [feed]);
  const priceFeed = useCallback(feed((x) => [x.mid, x.micro, x.vwap10, x.vwap60]), [feed]);
  const volFeed = useCallback(feed((x) => [x.vol60, x.vol300]), [feed]);
  const x = latest ? figures(latest) : undefined;
  const d = priceDigits(x?.mid);
  return (
    <div className="analytics">
      <p className="muted">
        {unified} on {exchange}{" "}
        ({native}): figures computed by the gateway from every trade and book update, at most 10
        frames a second; the charts open with the last two minutes recomputed from the recording.
        Definitions: docs/analytics.md.
      </p>
      <div className="cards" data-testid="analytics-values">
        <Card label="OFI 10 s" value={fmt(x?.ofi10, 4)} hint={`normalized ${fmt(x?.ofi10n, 2)}`} />
        <Card
          label="VPIN"
          value={x?.vpin === null || x?.vpin === undefined ? "not yet" : fmt(x.vpin, 3)}
          hint={x?.vpinPartial !== null && x?.vpinPartial !== undefined
            ? `partial ${fmt(x.vpinPartial, 3)}`
            : "needs a bucket volume"}
        />
        <Card label="microprice" value={fmt(x?.micro, d)} hint={`mid ${fmt(x?.mid, d)}`} />
        <Card label="VWAP 60 s" value={fmt(x?.vwap60, d)} hint={`10 s ${fmt(x?.vwap10, d)}`} />
        <Card
          label="volatility (ann.)"
          value={x?.vol60 == null ? "—" : `${fmt(x.vol60 * 100, 1)} %`}
          hint="realized, 60 s window"
        />
      </div>
      <div className="grid2">
        <Chart title="Order-flow imbalance (OFI)">
          <SeriesChart
            testId="chart-ofi"
            lines={[{ name: "OFI 1s", color: "#4fc3f7" }, { name: "OFI 10s", color: "#ffb74d" }]}
            subscribe={ofiFeed}
          />
        </Chart>
        <Chart title="VPIN">
          <SeriesChart
            lines={[{ name: "VPIN", color: "#ba68c8" }, { name: "partial", color: "#7e57c2" }]}
            subscribe={vpinFeed}
            digits={3}
          />
        </Chart>
        <Chart title="Mid, microprice and VWAP">
          <SeriesChart
            lines={[
              { name: "mid", color: "#90a4ae" },
              { name: "microprice", color: "#4fc3f7" },
              { name: "VWAP 10s", color: "#ffb74d" },
              { name: "VWAP 60s", color: "#81c784" },
            ]}
            subscribe={priceFeed}
            digits={d}
          />
        </Chart>
        <Chart title="Realized volatility (annualized)">
          <SeriesChart
            lines={[{ name: "60s", color: "#e57373" }, { name: "300s", color: "#f06292" }]}
            subscribe={volFeed}
          />
        </Chart>
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

function Chart({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="panel" aria-label={title}>
      <header>
        <h2>{title}</h2>
      </header>
      {children}
    </section>
  );
}

/**
 * Candlestick chart with a volume pane (TradingView lightweight-charts): history from
 * `GET /api/history/klines` (the recording), then the live candle built from `trade` frames
 * (and replaced by `kline` frames when their interval is the one shown).
 */
import { useEffect, useRef, useState } from "react";
import {
  type CandlestickData,
  CandlestickSeries,
  createChart,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import type { QuantClient } from "../client_adapter.ts";
import { type KlinesAnswer, loadKlines } from "../history.ts";
import { expose } from "../debug.ts";
import { chartTheme } from "./theme.ts";

/** Intervals offered (any of 1s..1d works with the history endpoint). */
export const INTERVALS: { label: string; ms: number }[] = [
  { label: "1s", ms: 1_000 },
  { label: "5s", ms: 5_000 },
  { label: "1m", ms: 60_000 },
  { label: "5m", ms: 300_000 },
  { label: "15m", ms: 900_000 },
  { label: "1h", ms: 3_600_000 },
];

/** A bar as the chart holds it (time in UTC seconds). */
export interface Bar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Props of {@link CandleChart}. */
export interface CandleChartProps {
  client: QuantClient;
  exchange: string;
  symbol: string;
  interval: string;
}

/**
 * The chart for one exchange + native symbol at one interval.
 *
 * @example
 * ```tsx
 * <CandleChart client={client} exchange="binance" symbol="BTCUSDT" interval="1m" />
 * ```
 */
export function CandleChart(props: CandleChartProps) {
  const { client, exchange, symbol, interval } = props;
  const box = useRef<HTMLDivElement>(null);
  const [note, setNote] = useState("loading history…");
  useEffect(() => {
    const ms = INTERVALS.find((i) => i.label === interval)?.ms ?? 60_000;
    const el = box.current!;
    const chart: IChartApi = createChart(el, {
      ...chartTheme(),
      autoSize: true,
      timeScale: { timeVisible: true, secondsVisible: ms < 60_000 },
    });
    const candles: ISeriesApi<"Candlestick"> = chart.addSeries(CandlestickSeries, {
      upColor: "#26a69a",
      downColor: "#ef5350",
      borderVisible: false,
      wickUpColor: "#26a69a",
      wickDownColor: "#ef5350",
    });
    const volume = chart.addSeries(HistogramSeries, {
      priceFormat: { type: "volume" },
      color: "#5c6bc0",
    }, 1);
    chart.panes()[1]?.setHeight(70);
    let last: Bar | undefined;
    let bars = 0;
    let updates = 0;
    let firstDrawn = false;
    const drawn = () => {
      if (firstDrawn) return;
      firstDrawn = true;
      performance.mark("qs:first-candle");
      // performance.now() counts from the navigation's start: the time to the first candle.
      expose("chart", { firstCandleMs: Math.round(performance.now()) });
    };
    const show = (bar: Bar) => {
      const t = bar.time as UTCTimestamp;
      candles.update({ time: t, open: bar.open, high: bar.high, low: bar.low, close: bar.close });
      volume.update({
        time: t,
        value: bar.volume,
        color: bar.close >= bar.open ? "#26a69a80" : "#ef535080",
      });
      last = bar;
      updates++;
      expose("chart", { lastBar: { ...bar }, updates, bars });
      drawn();
    };
    const onPrice = (timeMs: number, price: number, qty: number) => {
      const time = Math.floor(timeMs / ms) * ms / 1000;
      if (last && time < last.time) return;
      if (last && time === last.time) {
        show({
          ...last,
          high: Math.max(last.high, price),
          low: Math.min(last.low, price),
          close: price,
          volume: last.volume + qty,
        });
      } else show({ time, open: price, high: price, low: price, close: price, volume: qty });
    };
    let historyDone = false;
    const early: { t: number; p: number; q: number }[] = [];
    const offTrade = client.on("trade", (f) => {
      if (f.exchange !== exchange || f.symbol !== symbol) return;
      const t = Number(f.eventTime), p = Number(f.price), q = Number(f.quantity);
      if (!historyDone) early.push({ t, p, q });
      else onPrice(t, p, q);
    });
    const offKline = client.on("kline", (f) => {
      if (!historyDone || f.exchange !== exchange || f.symbol !== symbol) return;
      if (f.interval !== interval) return;
      const time = Number(f.openTime) / 1000;
      if (last && time < last.time) return;
      show({
        time,
        open: Number(f.open),
        high: Number(f.high),
        low: Number(f.low),
        close: Number(f.close),
        volume: Number(f.volume),
      });
    });
    let cancelled = false;
    loadKlines(exchange, symbol, interval, ms).then(
      (answer: KlinesAnswer) => {
        if (cancelled) return;
        const data: CandlestickData[] = answer.klines.map((k) => ({
          time: (k.openTime / 1000) as UTCTimestamp,
          open: k.open,
          high: k.high,
          low: k.low,
          close: k.close,
        }));
        candles.setData(data);
        volume.setData(answer.klines.map((k) => ({
          time: (k.openTime / 1000) as UTCTimestamp,
          value: k.volume,
          color: k.close >= k.open ? "#26a69a80" : "#ef535080",
        })));
        bars = data.length;
        const k = answer.klines.at(-1);
        if (k) {
          last = {
            time: k.openTime / 1000,
            open: k.open,
            high: k.high,
            low: k.low,
            close: k.close,
            volume: k.volume,
          };
          expose("chart", { historyBars: bars, bars, lastBar: { ...last }, updates });
          drawn();
        } else expose("chart", { historyBars: 0, bars: 0 });
        setNote(bars ? `${bars} bars from the recording, then live` : "no history yet: live only");
      },
      (err: Error) => {
        if (cancelled) return;
        expose("chart", { historyBars: 0, historyError: err.message });
        setNote(`no history (${err.message}): live candles only`);
      },
    ).finally(() => {
      historyDone = true;
      for (const e of early.splice(0)) onPrice(e.t, e.p, e.q);
    });
    expose("chart", { exchange, symbol, interval, lastBar: undefined, updates: 0 });
    return () => {
      cancelled = true;
      offTrade();
      offKline();
      chart.remove();
    };
  }, [client, exchange, symbol, interval]);
  return (
    <div className="chart-wrap">
      <div ref={box} className="chart" data-testid="candle-chart" />
      <div className="chart-note">{note}</div>
    </div>
  );
}

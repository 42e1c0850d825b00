/**
 * A small live line chart (lightweight-charts) of one or more named series; points are kept one
 * per second (a later point in the same second replaces the earlier one).
 */
import { useEffect, useRef } from "react";
import { createChart, type ISeriesApi, LineSeries, type UTCTimestamp } from "lightweight-charts";
import { chartTheme } from "./theme.ts";

/** One line: its name, colour and the latest value pushed to it. */
export interface LineSpec {
  name: string;
  color: string;
}

/** A point pushed to the chart: epoch-ms time and one value per line (null: none). */
export interface SeriesPoint {
  time: number;
  values: (number | null | undefined)[];
}

/**
 * A line chart fed by `subscribe(push)`: the caller calls `push` with each new point.
 *
 * @example
 * ```tsx
 * <SeriesChart lines={[{ name: "OFI 10s", color: "#4fc3f7" }]} subscribe={(push) => off} />
 * ```
 */
export function SeriesChart(props: {
  lines: LineSpec[];
  subscribe: (push: (p: SeriesPoint) => void) => () => void;
  digits?: number;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const { lines, subscribe, digits = 4 } = props;
  const key = lines.map((l) => l.name).join("|");
  useEffect(() => {
    const chart = createChart(box.current!, {
      ...chartTheme(),
      autoSize: true,
      timeScale: { timeVisible: true, secondsVisible: true },
    });
    const series: ISeriesApi<"Line">[] = lines.map((l) =>
      chart.addSeries(LineSeries, {
        color: l.color,
        lineWidth: 2,
        title: l.name,
        priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits },
      })
    );
    let lastTime = 0;
    const off = subscribe((p) => {
      const t = Math.floor(p.time / 1000);
      if (t < lastTime) return;
      lastTime = t;
      p.values.forEach((v, i) => {
        if (v === null || v === undefined || !Number.isFinite(v)) return;
        series[i].update({ time: t as UTCTimestamp, value: v });
      });
    });
    return () => {
      off();
      chart.remove();
    };
  }, [key, subscribe, digits]);
  return <div ref={box} className="series-chart" data-testid={props.testId} />;
}

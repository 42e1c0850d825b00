/**
 * The order-book ladder and depth chart of one book, from the client's local book (kept from
 * `book` frames with the `seq` check), redrawn at most once per animation frame.
 */
import { useEffect, useRef, useState } from "react";
import type { LocalBook, QuantClient } from "../client_adapter.ts";
import { expose } from "../debug.ts";
import { fmt, priceDigits } from "../format.ts";

/** Levels shown per side. */
const ROWS = 12;

/** The client's local book of (exchange, symbol), re-rendered per animation frame. */
export function useLocalBook(
  client: QuantClient,
  exchange: string,
  symbol: string,
): LocalBook | undefined {
  const [, setN] = useState(0);
  useEffect(() => {
    let raf = 0;
    const off = client.onBook((b) => {
      if (b.exchange !== exchange || b.symbol !== symbol) return;
      expose("ladder", {
        exchange,
        symbol,
        bestBid: b.bids[0]?.[0],
        bestAsk: b.asks[0]?.[0],
        seq: b.seq,
        synced: b.synced,
        resnapshots: b.resnapshots,
      });
      if (!raf) {
        raf = requestAnimationFrame(() => {
          raf = 0;
          setN((n) => n + 1);
        });
      }
    });
    return () => {
      off();
      cancelAnimationFrame(raf);
    };
  }, [client, exchange, symbol]);
  return client.book(exchange, symbol);
}

/**
 * Price / size / cumulative ladder, asks above bids, the spread between.
 *
 * @example
 * ```tsx
 * <Ladder book={client.book("binance", "BTCUSDT")} />
 * ```
 */
export function Ladder({ book }: { book: LocalBook | undefined }) {
  if (!book) return <div className="muted">waiting for the book snapshot…</div>;
  const digits = priceDigits(book.bids[0]?.[0] ?? book.asks[0]?.[0]);
  const asks = book.asks.slice(0, ROWS);
  const bids = book.bids.slice(0, ROWS);
  const cum = (side: [number, number][]) => {
    let c = 0;
    return side.map(([, q]) => (c += q));
  };
  const askCum = cum(asks), bidCum = cum(bids);
  const max = Math.max(askCum.at(-1) ?? 0, bidCum.at(-1) ?? 0) || 1;
  const spread = (book.asks[0]?.[0] ?? NaN) - (book.bids[0]?.[0] ?? NaN);
  const row = (side: "ask" | "bid", [p, q]: [number, number], c: number, i: number) => (
    <tr key={`${side}${i}`} className={side}>
      <td className="num price">{fmt(p, digits)}</td>
      <td className="num">{fmt(q, 5)}</td>
      <td className="num cum">
        <span className="bar" style={{ width: `${(c / max) * 100}%` }} />
        {fmt(c, 4)}
      </td>
    </tr>
  );
  return (
    <table className="ladder" data-testid="ladder" aria-label="order book ladder">
      <thead>
        <tr>
          <th className="num">price</th>
          <th className="num">size</th>
          <th className="num">cumulative</th>
        </tr>
      </thead>
      <tbody>
        {asks.map((l, i) => ({ l, c: askCum[i], i })).reverse().map(({ l, c, i }) =>
          row("ask", l, c, i)
        )}
        <tr className="spread">
          <td colSpan={3}>
            spread {fmt(spread, digits)} · seq {book.seq}
            {book.synced ? "" : " · resyncing"} · re-snapshots {book.resnapshots}
          </td>
        </tr>
        {bids.map((l, i) => row("bid", l, bidCum[i], i))}
      </tbody>
    </table>
  );
}

/**
 * Cumulative bid and ask step areas around the mid, on a canvas.
 *
 * @example
 * ```tsx
 * <DepthChart book={book} />
 * ```
 */
export function DepthChart({ book }: { book: LocalBook | undefined }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = canvas.current;
    if (!c || !book || !book.bids.length || !book.asks.length) return;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    c.width = w * dpr;
    c.height = h * dpr;
    const g = c.getContext("2d")!;
    g.scale(dpr, dpr);
    g.clearRect(0, 0, w, h);
    const bids = book.bids, asks = book.asks;
    const lo = bids.at(-1)![0], hi = asks.at(-1)![0];
    const mid = (bids[0][0] + asks[0][0]) / 2;
    const half = Math.max(mid - lo, hi - mid) || 1;
    const x = (p: number) => ((p - (mid - half)) / (2 * half)) * w;
    let total = 0;
    const cb: [number, number][] = bids.map(([p, q]) => [p, total += q]);
    const bidTotal = total;
    total = 0;
    const ca: [number, number][] = asks.map(([p, q]) => [p, total += q]);
    const maxQ = Math.max(bidTotal, total) || 1;
    const y = (q: number) => h - 14 - (q / maxQ) * (h - 24);
    const area = (pts: [number, number][], fill: string, stroke: string) => {
      g.beginPath();
      g.moveTo(x(pts[0][0]), y(0));
      let prev = 0;
      for (const [p, q] of pts) {
        g.lineTo(x(p), y(prev));
        g.lineTo(x(p), y(q));
        prev = q;
      }
      g.lineTo(x(pts.at(-1)![0]), y(0));
      g.closePath();
      g.fillStyle = fill;
      g.fill();
      g.strokeStyle = stroke;
      g.stroke();
    };
    area(cb, "rgba(38,166,154,0.25)", "#26a69a");
    area(ca, "rgba(239,83,80,0.25)", "#ef5350");
    g.fillStyle = "#8a91a0";
    g.font = "11px system-ui, sans-serif";
    const digits = priceDigits(mid);
    g.fillText(fmt(mid - half, digits), 2, h - 2);
    const midLabel = `mid ${fmt(mid, digits)}`;
    g.fillText(midLabel, w / 2 - g.measureText(midLabel).width / 2, h - 2);
    const hiLabel = fmt(mid + half, digits);
    g.fillText(hiLabel, w - g.measureText(hiLabel).width - 2, h - 2);
  });
  return <canvas ref={canvas} className="depth" aria-label="depth chart" />;
}

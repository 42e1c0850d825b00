/**
 * Markets: candles (history + live), the book ladder and depth chart, the trades tape and the
 * consolidated best bid/offer across exchanges for the chosen unified symbol.
 */
import { useEffect, useState } from "react";
import type { QuantClient } from "../client_adapter.ts";
import { useSubscription } from "../hooks.ts";
import { CandleChart, INTERVALS } from "../components/CandleChart.tsx";
import { DEFAULT_INTERVAL } from "../boot.ts";
import { DepthChart, Ladder, useLocalBook } from "../components/Ladder.tsx";
import { clock, fmt, priceDigits } from "../format.ts";

/** Props of {@link Markets}. */
export interface MarketsProps {
  client: QuantClient;
  exchange: string;
  unified: string;
  native: string;
}

interface TapeTrade {
  id: string;
  time: number;
  price: number;
  quantity: number;
  side: string;
}

/**
 * The Markets view.
 *
 * @example
 * ```tsx
 * <Markets client={client} exchange="binance" unified="BTC/USDT" native="BTCUSDT" />
 * ```
 */
export function Markets({ client, exchange, unified, native }: MarketsProps) {
  const [interval, setChartInterval] = useState(DEFAULT_INTERVAL);
  useSubscription(client, {
    symbols: [native],
    exchanges: [exchange],
    channels: ["trade", "kline", "book"],
    depth: 50,
    raw: false,
  });
  const book = useLocalBook(client, exchange, native);
  return (
    <div className="markets">
      <section className="panel chart-panel" aria-label="candles">
        <header>
          <h2>
            {unified} <span className="muted">on {exchange} ({native})</span>
          </h2>
          <div role="group" aria-label="interval" className="intervals">
            {INTERVALS.map((i) => (
              <button
                type="button"
                key={i.label}
                aria-pressed={interval === i.label}
                className={interval === i.label ? "on" : ""}
                onClick={() => setChartInterval(i.label)}
              >
                {i.label}
              </button>
            ))}
          </div>
        </header>
        <CandleChart client={client} exchange={exchange} symbol={native} interval={interval} />
      </section>
      <section className="panel book-panel" aria-label="order book">
        <header>
          <h2>Order book</h2>
        </header>
        <Ladder book={book} />
        <DepthChart book={book} />
      </section>
      <section className="panel" aria-label="consolidated best bid and offer">
        <header>
          <h2>Best bid/offer across exchanges</h2>
        </header>
        <Consolidated client={client} unified={unified} />
      </section>
      <section className="panel tape-panel" aria-label="trades">
        <header>
          <h2>Trades</h2>
        </header>
        <Tape client={client} exchange={exchange} symbol={native} />
      </section>
    </div>
  );
}

/** The last trades of one exchange + symbol, newest first, side-coloured. */
function Tape(
  { client, exchange, symbol }: { client: QuantClient; exchange: string; symbol: string },
) {
  const [trades, setTrades] = useState<TapeTrade[]>([]);
  useEffect(() => {
    setTrades([]);
    let batch: TapeTrade[] = [];
    let raf = 0;
    const off = client.on("trade", (f) => {
      if (f.exchange !== exchange || f.symbol !== symbol) return;
      batch.push({
        id: `${f.tradeId ?? f.pos}`,
        time: Number(f.eventTime),
        price: Number(f.price),
        quantity: Number(f.quantity),
        side: String(f.side ?? ""),
      });
      if (!raf) {
        raf = requestAnimationFrame(() => {
          raf = 0;
          const add = batch.reverse();
          batch = [];
          setTrades((t) => [...add, ...t].slice(0, 40));
        });
      }
    });
    return () => {
      off();
      cancelAnimationFrame(raf);
    };
  }, [client, exchange, symbol]);
  if (!trades.length) return <div className="muted">waiting for trades…</div>;
  const digits = priceDigits(trades[0].price);
  return (
    <table className="tape" data-testid="tape">
      <thead>
        <tr>
          <th>time (UTC)</th>
          <th className="num">price</th>
          <th className="num">size</th>
        </tr>
      </thead>
      <tbody>
        {trades.map((t, i) => (
          <tr key={`${t.id}-${i}`} className={t.side === "sell" ? "ask" : "bid"}>
            <td>{clock(t.time)}</td>
            <td className="num">{fmt(t.price, digits)}</td>
            <td className="num">{fmt(t.quantity, 5)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface ConsolidatedFrame {
  bidPrice?: number;
  bidQuantity?: number;
  bidExchange?: string;
  askPrice?: number;
  askQuantity?: number;
  askExchange?: string;
  crossed?: boolean;
  venues?: {
    exchange: string;
    bidPrice?: number;
    askPrice?: number;
    bidQuantity?: number;
    askQuantity?: number;
  }[];
}

/** The consolidated BBO of a unified symbol with each side's venue and every venue's top. */
function Consolidated({ client, unified }: { client: QuantClient; unified: string }) {
  const [c, setC] = useState<ConsolidatedFrame>();
  useSubscription(client, { symbols: [unified], channels: ["consolidated"], raw: false });
  useEffect(() => {
    setC(undefined);
    let latest: ConsolidatedFrame | undefined;
    let raf = 0;
    const off = client.on("consolidated", (f) => {
      if (f.symbol !== unified) return;
      latest = f as ConsolidatedFrame;
      if (!raf) {
        raf = requestAnimationFrame(() => {
          raf = 0;
          setC(latest);
        });
      }
    });
    return () => {
      off();
      cancelAnimationFrame(raf);
    };
  }, [client, unified]);
  if (!c) return <div className="muted">waiting for quotes…</div>;
  const d = priceDigits(c.bidPrice);
  return (
    <div data-testid="consolidated">
      <div className="bbo">
        <div className="bid">
          <div className="label">best bid</div>
          <div className="big">{fmt(c.bidPrice, d)}</div>
          <div>
            {fmt(c.bidQuantity, 5)} on <b>{c.bidExchange}</b>
          </div>
        </div>
        <div className="ask">
          <div className="label">best offer</div>
          <div className="big">{fmt(c.askPrice, d)}</div>
          <div>
            {fmt(c.askQuantity, 5)} on <b>{c.askExchange}</b>
          </div>
        </div>
      </div>
      {c.crossed && <div className="warn">crossed across venues (bid ≥ offer)</div>}
      <table className="venues">
        <thead>
          <tr>
            <th>venue</th>
            <th className="num">bid</th>
            <th className="num">ask</th>
          </tr>
        </thead>
        <tbody>
          {(c.venues ?? []).map((v) => (
            <tr key={v.exchange}>
              <td>{v.exchange}</td>
              <td className="num bidc">{fmt(v.bidPrice, d)}</td>
              <td className="num askc">{fmt(v.askPrice, d)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

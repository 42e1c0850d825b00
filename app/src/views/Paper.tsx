/**
 * Paper trading (SIMULATED): an order ticket, open orders, fills, balances and PnL, and the smart
 * order router's plan and result, over the `/ws` paper actions (docs/paper-trading.md).
 */
import { type FormEvent, useEffect, useState } from "react";
import type { QuantClient, ServerFrame } from "../client_adapter.ts";
import { expose } from "../debug.ts";
import { clock, fmt, priceDigits } from "../format.ts";

interface Order {
  id: string;
  exchange: string;
  symbol: string;
  side: string;
  type: string;
  timeInForce?: string;
  price?: number;
  quantity: number;
  filledQuantity: number;
  status: string;
  updateTime?: number;
  reason?: string;
}
interface Fill {
  id: string;
  orderId: string;
  exchange: string;
  symbol: string;
  side: string;
  price: number;
  quantity: number;
  liquidity: string;
  fee: number;
  feeAsset: string;
  time: number;
}
interface Account {
  balances: Record<string, { free: number; locked: number; total: number }>;
  positions: {
    exchange: string;
    symbol: string;
    quantity: number;
    averagePrice: number;
    mark?: number;
    unrealizedPnl?: number;
    realizedPnl: number;
  }[];
  realizedPnl: number;
  unrealizedPnl: number;
  feesPaid: number;
  equity: number;
}
interface RouteReport {
  id: string;
  status: string;
  plan?: {
    legs: {
      exchange: string;
      symbol: string;
      quantity: number;
      expectedAveragePrice: number;
      fee: number;
      allInCost: number;
    }[];
    totals?: { averagePrice: number; allInAveragePrice: number; fees: number };
    bestSingleVenue?: { exchange: string; allInAveragePrice: number } | null;
    saving?: { amount: number; bps: number };
    skipped?: unknown[];
  };
  children?: {
    exchange: string;
    orderId: string;
    status: string;
    filledQuantity: number;
    averagePrice: number;
    fees: number;
  }[];
  filledQuantity?: number;
  averagePrice?: number;
  allInAveragePrice?: number;
  achievedSaving?: number;
}

const ENDED = new Set(["filled", "cancelled", "rejected"]);

/**
 * The Paper trading view; the account is the connection's (open access) or the key's.
 *
 * @example
 * ```tsx
 * <Paper client={client} exchange="binance" native="BTCUSDT" unified="BTC/USDT" exchanges={["binance"]} />
 * ```
 */
export function Paper(
  props: { client: QuantClient; exchange: string; native: string; unified: string },
) {
  const { client, exchange, native, unified } = props;
  const [orders, setOrders] = useState<Map<string, Order>>(new Map());
  const [fills, setFills] = useState<Fill[]>([]);
  const [account, setAccount] = useState<Account>();
  const [route, setRoute] = useState<RouteReport>();
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  useEffect(() => {
    const upsert = (o: Order) =>
      setOrders((m) => {
        const next = new Map(m);
        next.set(o.id, o);
        return next;
      });
    const offs = [
      client.on("order", (f) => upsert(f.order as Order)),
      client.on("fill", (f) => {
        const fill = f.fill as Fill;
        setFills((x) => {
          const next = [fill, ...x].slice(0, 100);
          expose("paper", { fills: next.length, lastFill: fill });
          return next;
        });
      }),
      client.on("account", (f) => setAccount(f.account as Account)),
      client.on("route", (f) => setRoute(f.route as unknown as RouteReport)),
    ];
    const ask = (frame: { action: string; [k: string]: unknown }) =>
      client.request(frame).catch((err: Error) => {
        setMessage({ ok: false, text: err.message });
        return undefined;
      });
    ask({ action: "orders" }).then((r) => {
      const list = (r as ServerFrame & { orders?: Order[] })?.orders ?? [];
      for (const o of list) upsert(o);
    });
    ask({ action: "fills" }).then((r) =>
      setFills(((r as { fills?: Fill[] })?.fills ?? []).slice().reverse())
    );
    ask({ action: "account" });
    return () => offs.forEach((off) => off());
  }, [client]);
  const open = [...orders.values()].filter((o) => !ENDED.has(o.status));
  const recent = [...orders.values()].filter((o) => ENDED.has(o.status)).slice(-10).reverse();
  const cancel = (id: string) =>
    client.request({ action: "cancel", orderId: id }).catch((e: Error) =>
      setMessage({ ok: false, text: e.message })
    );
  return (
    <div className="paper">
      <div className="simulated-banner" role="note">
        SIMULATED — paper trading against the gateway's books. No order ever reaches an exchange.
      </div>
      <div className="grid2">
        <section className="panel" aria-label="order ticket">
          <header>
            <h2>Order ticket (simulated)</h2>
          </header>
          <Ticket client={client} exchange={exchange} native={native} onResult={setMessage} />
          {message && (
            <div className={message.ok ? "ok" : "error"} data-testid="ticket-message">
              {message.text}
            </div>
          )}
        </section>
        <section className="panel" aria-label="balances and PnL">
          <header>
            <h2>Balances and PnL (simulated)</h2>
          </header>
          <AccountView account={account} />
        </section>
        <section className="panel" aria-label="open orders">
          <header>
            <h2>Open orders</h2>
          </header>
          <OrdersTable
            orders={open}
            onCancel={cancel}
            empty="no open orders"
            testId="open-orders"
          />
          <h3>Recently ended</h3>
          <OrdersTable orders={recent} empty="none yet" testId="ended-orders" />
        </section>
        <section className="panel" aria-label="fills">
          <header>
            <h2>Fills (simulated)</h2>
          </header>
          <FillsTable fills={fills} />
        </section>
        <section className="panel wide" aria-label="smart order routing">
          <header>
            <h2>Smart order routing across exchanges (simulated)</h2>
          </header>
          <RouteTicket client={client} unified={unified} onResult={setMessage} />
          <RouteView route={route} />
        </section>
      </div>
    </div>
  );
}

function Ticket(props: {
  client: QuantClient;
  exchange: string;
  native: string;
  onResult(m: { ok: boolean; text: string }): void;
}) {
  const [side, setSide] = useState("buy");
  const [kind, setKind] = useState("market");
  const [tif, setTif] = useState("GTC");
  const [price, setPrice] = useState("");
  const [quantity, setQuantity] = useState("0.01");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const frame: Record<string, unknown> = {
      action: "order",
      exchange: props.exchange,
      symbol: props.native,
      side,
      type: kind,
      quantity: Number(quantity),
    };
    if (kind === "limit") {
      frame.price = Number(price);
      frame.timeInForce = tif;
    }
    try {
      const r = await props.client.request(frame as { action: string });
      if (r.type !== "order") throw new Error(`unexpected ${r.type} frame`);
      const o = r.order as unknown as Order;
      props.onResult({ ok: true, text: `simulated order ${o.id} ${o.status}` });
    } catch (err) {
      props.onResult({ ok: false, text: `refused: ${(err as Error).message}` });
    }
  };
  return (
    <form className="ticket" onSubmit={submit} aria-label="order ticket">
      <div className="row">
        <span className="muted">
          {props.exchange} {props.native}
        </span>
      </div>
      <div className="row" role="radiogroup" aria-label="side">
        {["buy", "sell"].map((s) => (
          <label key={s} className={`side ${s} ${side === s ? "on" : ""}`}>
            <input
              type="radio"
              name="side"
              value={s}
              checked={side === s}
              onChange={() =>
                setSide(s)}
            />
            {s}
          </label>
        ))}
      </div>
      <label>
        type
        <select name="type" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="market">market</option>
          <option value="limit">limit</option>
        </select>
      </label>
      <label>
        time in force
        <select
          name="tif"
          value={tif}
          onChange={(e) => setTif(e.target.value)}
          disabled={kind !== "limit"}
        >
          <option value="GTC">GTC</option>
          <option value="IOC">IOC</option>
          <option value="FOK">FOK</option>
          <option value="POST_ONLY">post-only</option>
        </select>
      </label>
      <label>
        price
        <input
          name="price"
          inputMode="decimal"
          value={price}
          onChange={(e) => setPrice(e.target.value)}
          disabled={kind !== "limit"}
          placeholder={kind === "limit" ? "limit price" : "at market"}
        />
      </label>
      <label>
        quantity
        <input
          name="quantity"
          inputMode="decimal"
          value={quantity}
          onChange={(e) => setQuantity(e.target.value)}
        />
      </label>
      <button type="submit" className={`submit ${side}`}>
        Place simulated {side}
      </button>
    </form>
  );
}

function OrdersTable(
  props: { orders: Order[]; onCancel?: (id: string) => void; empty: string; testId: string },
) {
  if (!props.orders.length) {
    return <div className="muted" data-testid={props.testId}>{props.empty}</div>;
  }
  return (
    <table data-testid={props.testId}>
      <thead>
        <tr>
          <th>id</th>
          <th>market</th>
          <th>side</th>
          <th>type</th>
          <th className="num">price</th>
          <th className="num">filled / qty</th>
          <th>status</th>
          {props.onCancel && <th />}
        </tr>
      </thead>
      <tbody>
        {props.orders.map((o) => (
          <tr key={o.id}>
            <td>{o.id}</td>
            <td>{o.exchange} {o.symbol}</td>
            <td className={o.side === "buy" ? "bidc" : "askc"}>{o.side}</td>
            <td>{o.type}{o.timeInForce ? ` ${o.timeInForce}` : ""}</td>
            <td className="num">{o.price ? fmt(o.price, priceDigits(o.price)) : "market"}</td>
            <td className="num">{fmt(o.filledQuantity, 5)} / {fmt(o.quantity, 5)}</td>
            <td>{o.status}</td>
            {props.onCancel && (
              <td>
                <button type="button" onClick={() => props.onCancel!(o.id)}>cancel</button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function FillsTable({ fills }: { fills: Fill[] }) {
  if (!fills.length) return <div className="muted" data-testid="fills">no fills yet</div>;
  return (
    <table data-testid="fills">
      <thead>
        <tr>
          <th>time (UTC)</th>
          <th>order</th>
          <th>market</th>
          <th>side</th>
          <th className="num">price</th>
          <th className="num">qty</th>
          <th className="num">fee</th>
          <th>liq.</th>
        </tr>
      </thead>
      <tbody>
        {fills.map((f) => (
          <tr key={f.id} data-order={f.orderId}>
            <td>{clock(f.time)}</td>
            <td>{f.orderId}</td>
            <td>{f.exchange} {f.symbol}</td>
            <td className={f.side === "buy" ? "bidc" : "askc"}>{f.side}</td>
            <td className="num">{fmt(f.price, priceDigits(f.price))}</td>
            <td className="num">{fmt(f.quantity, 5)}</td>
            <td className="num">{fmt(f.fee, 4)} {f.feeAsset}</td>
            <td>{f.liquidity}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AccountView({ account }: { account: Account | undefined }) {
  if (!account) return <div className="muted">loading the simulated account…</div>;
  return (
    <div data-testid="account">
      <div className="cards">
        <div className="card">
          <div className="label">equity</div>
          <div className="big">{fmt(account.equity, 2)}</div>
        </div>
        <div className="card">
          <div className="label">realized PnL</div>
          <div className={`big ${account.realizedPnl >= 0 ? "bidc" : "askc"}`}>
            {fmt(account.realizedPnl, 2)}
          </div>
        </div>
        <div className="card">
          <div className="label">unrealized PnL</div>
          <div className={`big ${account.unrealizedPnl >= 0 ? "bidc" : "askc"}`}>
            {fmt(account.unrealizedPnl, 2)}
          </div>
        </div>
        <div className="card">
          <div className="label">fees paid</div>
          <div className="big">{fmt(account.feesPaid, 2)}</div>
        </div>
      </div>
      <table>
        <thead>
          <tr>
            <th>asset</th>
            <th className="num">free</th>
            <th className="num">locked</th>
            <th className="num">total</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(account.balances).map(([asset, b]) => (
            <tr key={asset}>
              <td>{asset}</td>
              <td className="num">{fmt(b.free, 6)}</td>
              <td className="num">{fmt(b.locked, 6)}</td>
              <td className="num">{fmt(b.total, 6)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {account.positions.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>position</th>
              <th className="num">qty</th>
              <th className="num">avg price</th>
              <th className="num">mark</th>
              <th className="num">unrealized</th>
            </tr>
          </thead>
          <tbody>
            {account.positions.map((p) => (
              <tr key={`${p.exchange}${p.symbol}`}>
                <td>{p.exchange} {p.symbol}</td>
                <td className="num">{fmt(p.quantity, 5)}</td>
                <td className="num">{fmt(p.averagePrice, priceDigits(p.averagePrice))}</td>
                <td className="num">{fmt(p.mark, priceDigits(p.mark))}</td>
                <td className="num">{fmt(p.unrealizedPnl, 2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function RouteTicket(
  props: { client: QuantClient; unified: string; onResult(m: { ok: boolean; text: string }): void },
) {
  const [side, setSide] = useState("buy");
  const [quantity, setQuantity] = useState("0.05");
  const [limit, setLimit] = useState("");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const frame: Record<string, unknown> = {
      action: "route",
      symbol: props.unified,
      side,
      quantity: Number(quantity),
    };
    if (limit) frame.limitPrice = Number(limit);
    try {
      await props.client.request(frame as { action: string });
      props.onResult({ ok: true, text: "simulated route sent" });
    } catch (err) {
      props.onResult({ ok: false, text: `route refused: ${(err as Error).message}` });
    }
  };
  return (
    <form className="ticket inline" onSubmit={submit} aria-label="route ticket">
      <span className="muted">{props.unified} across every exchange</span>
      <label>
        side
        <select value={side} onChange={(e) => setSide(e.target.value)}>
          <option value="buy">buy</option>
          <option value="sell">sell</option>
        </select>
      </label>
      <label>
        quantity
        <input inputMode="decimal" value={quantity} onChange={(e) => setQuantity(e.target.value)} />
      </label>
      <label>
        limit price
        <input
          inputMode="decimal"
          value={limit}
          placeholder="none"
          onChange={(e) => setLimit(e.target.value)}
        />
      </label>
      <button type="submit">Route (simulated)</button>
    </form>
  );
}

function RouteView({ route }: { route: RouteReport | undefined }) {
  if (!route) return <div className="muted">no routed order yet</div>;
  const plan = route.plan;
  const d = priceDigits(route.averagePrice ?? plan?.totals?.averagePrice);
  return (
    <div className="route" data-testid="route">
      <div>
        route {route.id}: <b>{route.status}</b>
        {route.filledQuantity !== undefined && (
          <>
            · filled {fmt(route.filledQuantity, 5)} at {fmt(route.averagePrice, d)} (all-in{" "}
            {fmt(route.allInAveragePrice, d)})
          </>
        )}
        {route.achievedSaving !== undefined && (
          <>· saving vs best single venue {fmt(route.achievedSaving, 2)}</>
        )}
      </div>
      {plan && (
        <table>
          <thead>
            <tr>
              <th>planned leg</th>
              <th className="num">qty</th>
              <th className="num">expected avg</th>
              <th className="num">fee</th>
              <th className="num">all-in cost</th>
            </tr>
          </thead>
          <tbody>
            {plan.legs.map((l) => (
              <tr key={l.exchange}>
                <td>{l.exchange} {l.symbol}</td>
                <td className="num">{fmt(l.quantity, 5)}</td>
                <td className="num">{fmt(l.expectedAveragePrice, d)}</td>
                <td className="num">{fmt(l.fee, 4)}</td>
                <td className="num">{fmt(l.allInCost, 2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {plan?.bestSingleVenue && (
        <div className="muted">
          best single venue: {plan.bestSingleVenue.exchange} at all-in{" "}
          {fmt(plan.bestSingleVenue.allInAveragePrice, d)}; planned saving{" "}
          {fmt(plan.saving?.amount, 2)} ({fmt(plan.saving?.bps, 2)} bps)
        </div>
      )}
      {route.children && route.children.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>child</th>
              <th>venue</th>
              <th>status</th>
              <th className="num">filled</th>
              <th className="num">avg price</th>
              <th className="num">fees</th>
            </tr>
          </thead>
          <tbody>
            {route.children.map((c) => (
              <tr key={c.orderId}>
                <td>{c.orderId}</td>
                <td>{c.exchange}</td>
                <td>{c.status}</td>
                <td className="num">{fmt(c.filledQuantity, 5)}</td>
                <td className="num">{fmt(c.averagePrice, d)}</td>
                <td className="num">{fmt(c.fees, 4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

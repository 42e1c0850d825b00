/**
 * Malformed frames for the `sendMalformed` fault. Each is broken in one way
 * (bad JSON, wrong types, NaN, negative size, zero price, unknown product, no
 * events array) and, like every message, takes the connection's next
 * `sequence_num` (readable in all but the bad-JSON frame). They are fabricated:
 * the emulated market does not change.
 * @module
 */
import { envelopeText, nanoTime } from "./wire.ts";

/** How a frame is broken, cycled through in this order. */
export const MALFORMED_KINDS = [
  "badJson",
  "wrongTypes",
  "nan",
  "negativeSize",
  "zeroPrice",
  "unknownProduct",
  "noEvents",
] as const;

/** One kind of breakage. */
export type MalformedKind = typeof MALFORMED_KINDS[number];

/** A broken frame, built from the sequence number it takes. */
export interface MalformedFrame {
  kind: MalformedKind;
  build(seq: number): string;
}

/** Products per channel of the receiving connection. */
type Subscriptions = Readonly<Record<string, readonly string[]>>;

const level = (price: unknown, size: unknown) => ({
  side: "bid",
  event_time: "2024-01-01T00:00:00Z",
  price_level: price,
  new_quantity: size,
});

const trade = (product: string, price: unknown) => ({
  trade_id: "1",
  product_id: product,
  price,
  size: "0.5",
  side: "BUY",
  time: "2024-01-01T00:00:00.000000Z",
});

/** `count` broken frames aimed at the channels of `subs` (falling back to `fallbackProduct`). */
export function malformedFrames(
  count: number,
  subs: Subscriptions,
  fallbackProduct: string,
): MalformedFrame[] {
  const productOf = (channel: string) => subs[channel]?.[0] ?? fallbackProduct;
  const l2 = subs.level2 !== undefined;
  const out: MalformedFrame[] = [];
  for (let i = 0; i < count; i++) {
    const kind = MALFORMED_KINDS[i % MALFORMED_KINDS.length];
    let channel: string;
    let events: unknown;
    switch (kind) {
      case "badJson":
      case "wrongTypes":
      case "negativeSize":
        channel = l2 ? "l2_data" : "market_trades";
        events = l2
          ? [{
            type: "update",
            product_id: productOf("level2"),
            updates: [kind === "negativeSize" ? level("100.5", "-1.5") : level(100.5, "1")],
          }]
          : [{ type: "update", trades: [trade(productOf("market_trades"), 100.5)] }];
        break;
      case "nan":
        channel = "market_trades";
        events = [{ type: "update", trades: [trade(productOf("market_trades"), "NaN")] }];
        break;
      case "zeroPrice":
        channel = "ticker";
        events = [{
          type: "update",
          tickers: [{
            type: "ticker",
            product_id: productOf("ticker"),
            price: "100",
            best_bid: "0",
            best_bid_quantity: "1",
            best_ask: "101",
            best_ask_quantity: "1",
          }],
        }];
        break;
      case "unknownProduct":
        channel = "market_trades";
        events = [{ type: "update", trades: [trade("XXX-MALFORMED", "100")] }];
        break;
      case "noEvents":
        channel = l2 ? "l2_data" : "market_trades";
        events = { broken: true };
        break;
    }
    const body = JSON.stringify(events);
    out.push({
      kind,
      build(seq) {
        const text = envelopeText({ channel, timestamp: nanoTime(Date.now()), events: body }, seq);
        return kind === "badJson" ? text.slice(0, Math.floor(text.length / 2)) : text;
      },
    });
  }
  return out;
}

/**
 * Coinbase Advanced Trade public REST endpoints over the emulated markets
 * (`/api/v3/brokerage/market/products`, `/market/products/{id}`,
 * `/market/product_book`, `/time`). Every response carries
 * {@link EMULATOR_HEADER}.
 * @module
 */
import type { ProductMarket } from "./market.ts";
import { formatPrice, formatSize, increment, type ProductSpec } from "./products.ts";

/** Header every REST response carries so a client can tell it is not the real exchange. */
export const EMULATOR_HEADER: readonly [string, string] = [
  "x-emulator",
  "quant-saas-coinbase-emulator",
];

/** A REST answer. */
export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const BASE = "/api/v3/brokerage";

/** The product object as `GET /market/products` lists it. */
export function productJson(market: ProductMarket): Record<string, unknown> {
  const spec: ProductSpec = market.spec;
  const s = market.stats();
  const bb = market.bids.best(), ba = market.asks.best();
  const mid = bb !== undefined && ba !== undefined ? Math.round((bb + ba) / 2) : s.last;
  return {
    product_id: spec.productId,
    price: formatPrice(spec, s.last),
    price_percentage_change_24h: String(s.open > 0 ? ((s.last - s.open) / s.open) * 100 : 0),
    volume_24h: formatSize(spec, s.volume),
    volume_percentage_change_24h: "0",
    base_increment: increment(spec.sizeDecimals),
    quote_increment: increment(spec.priceDecimals),
    quote_min_size: "1",
    quote_max_size: "150000000",
    base_min_size: increment(spec.sizeDecimals),
    base_max_size: "3400",
    base_name: spec.baseName,
    quote_name: spec.quoteName,
    watched: false,
    is_disabled: false,
    new: false,
    status: "online",
    cancel_only: false,
    limit_only: false,
    post_only: false,
    trading_disabled: false,
    auction_mode: false,
    product_type: "SPOT",
    quote_currency_id: spec.quote,
    base_currency_id: spec.base,
    fcm_trading_session_details: null,
    mid_market_price: formatPrice(spec, mid),
    alias: "",
    alias_to: [],
    base_display_symbol: spec.base,
    quote_display_symbol: spec.quote,
    view_only: false,
    price_increment: increment(spec.priceDecimals),
    display_name: `${spec.base}-${spec.quote}`,
    product_venue: "CBE",
    approximate_quote_24h_volume: formatPrice(
      spec,
      Math.round(s.volume * s.last / 10 ** spec.sizeDecimals),
    ),
  };
}

/** Creates the REST handler: `(method, url) → response`. */
export function createRestHandler(
  markets: ReadonlyMap<string, ProductMarket>,
): (method: string, url: URL) => RestResponse {
  const answer = (status: number, body: unknown): RestResponse => ({
    status,
    headers: {
      "content-type": "application/json",
      [EMULATOR_HEADER[0]]: EMULATOR_HEADER[1],
    },
    body: JSON.stringify(body),
  });
  const notFound = (message: string) =>
    answer(404, { error: "NOT_FOUND", error_details: message, message });

  const productBook = (params: URLSearchParams): RestResponse => {
    const id = params.get("product_id") ?? "";
    const market = markets.get(id);
    if (!market) return notFound("ProductID not found");
    const limitRaw = params.get("limit");
    const limit = limitRaw && /^\d{1,6}$/.test(limitRaw) && Number(limitRaw) > 0
      ? Number(limitRaw)
      : undefined;
    const spec = market.spec;
    const side = (levels: Array<[number, number]>) =>
      levels.map(([p, q]) => ({ price: formatPrice(spec, p), size: formatSize(spec, q) }));
    const bids = market.bids.levels(limit);
    const asks = market.asks.levels(limit);
    const bb = bids[0]?.[0], ba = asks[0]?.[0];
    return answer(200, {
      pricebook: {
        product_id: id,
        bids: side(bids),
        asks: side(asks),
        time: new Date().toISOString(),
      },
      last: formatPrice(spec, market.stats().last),
      mid_market: bb !== undefined && ba !== undefined
        ? formatPrice(spec, Math.round((bb + ba) / 2))
        : "",
      spread_bps: bb !== undefined && ba !== undefined ? String(((ba - bb) / bb) * 10_000) : "",
      spread_absolute: bb !== undefined && ba !== undefined ? formatPrice(spec, ba - bb) : "",
    });
  };

  return (method, url) => {
    if (method !== "GET") return answer(405, { error: "METHOD_NOT_ALLOWED", message: method });
    const path = url.pathname.replace(/\/+$/, "");
    if (path === `${BASE}/market/products`) {
      const products = [...markets.values()].map(productJson);
      return answer(200, { products, num_products: products.length });
    }
    if (path.startsWith(`${BASE}/market/products/`)) {
      const id = decodeURIComponent(path.slice(`${BASE}/market/products/`.length));
      const market = markets.get(id);
      return market ? answer(200, productJson(market)) : notFound("ProductID not found");
    }
    if (path === `${BASE}/market/product_book`) return productBook(url.searchParams);
    if (path === `${BASE}/time`) {
      const ms = Date.now();
      return answer(200, {
        iso: new Date(ms).toISOString(),
        epochSeconds: String(Math.floor(ms / 1000)),
        epochMillis: String(ms),
      });
    }
    return notFound("Not Found");
  };
}

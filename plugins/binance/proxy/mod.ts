/**
 * Binance-compatible proxy: mount it on the gateway (`extensions`) and point
 * existing Binance clients (ccxt, python-binance, binance-connector,
 * hand-written code) at `ws://HOST:PORT/binance/ws` and
 * `http://HOST:PORT/binance/api/v3`. See README.md beside this file.
 *
 * ```ts
 * const proxy = createBinanceProxy({
 *   wsUrl: "wss://stream.binance.com:9443",
 *   restUrl: "https://api.binance.com",
 * });
 * const gateway = await startGateway({ config, feeds, extensions: [proxy] });
 * ```
 * @module
 */
export { type BinanceProxy, type BinanceProxyStats, createBinanceProxy } from "./proxy.ts";
export type { BinanceProxyOptions } from "./options.ts";

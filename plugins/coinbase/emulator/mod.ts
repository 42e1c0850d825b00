/**
 * Coinbase Advanced Trade emulator: a local server (one port, 127.0.0.1)
 * speaking Coinbase's public market-data WebSocket and REST protocol over a
 * seeded synthetic market, with switchable faults for testing a gateway.
 *
 * ```ts
 * const emu = await startCoinbaseEmulator({ products: ["BTC-USD"], seed: 7 });
 * const ws = new WebSocket(emu.wsUrl);
 * ws.onopen = () =>
 *   ws.send(JSON.stringify({ type: "subscribe", channel: "level2", product_ids: ["BTC-USD"] }));
 * // ...
 * await emu.close();
 * ```
 * @module
 */
export { resolveOptions, startCoinbaseEmulator } from "./emulator.ts";
export { EMULATOR_HEADER } from "./rest.ts";
export type {
  CoinbaseEmulator,
  CoinbaseEmulatorOptions,
  CoinbaseFaults,
  EmulatorBook,
  EmulatorTrade,
  ReceivedMessage,
  WireLevel,
} from "./types.ts";

/**
 * Binance Spot emulator: a local server (one port, 127.0.0.1) speaking Binance's
 * public WebSocket and REST protocol over a seeded synthetic market, with
 * switchable faults for testing a gateway.
 *
 * ```ts
 * const emu = await startBinanceEmulator({ symbols: ["BTCUSDT"], seed: 7 });
 * const ws = new WebSocket(`${emu.wsUrl}/stream?streams=btcusdt@trade/btcusdt@depth@100ms`);
 * // ...
 * await emu.close();
 * ```
 * @module
 */
export { resolveOptions, startBinanceEmulator } from "./emulator.ts";
export { EMULATOR_HEADER } from "./rest.ts";
export type {
  BinanceEmulator,
  BinanceEmulatorOptions,
  BinanceFaults,
  EmulatorBook,
  WireLevel,
} from "./types.ts";

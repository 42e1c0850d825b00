/**
 * Deribit emulator: a local server (one port, 127.0.0.1) speaking Deribit's public
 * JSON-RPC 2.0 WebSocket API over a seeded BTC and ETH market (index, futures, an
 * option chain of four expiries marked by its own Black-76 on a volatility smile),
 * with switchable faults for testing a gateway.
 *
 * ```ts ignore
 * const emu = await startDeribitEmulator({ seed: 7 });
 * // DERIBIT_WS_URL=emu.wsUrl
 * await emu.close();
 * ```
 * @module
 */
export { resolveOptions, startDeribitEmulator } from "./emulator.ts";
export { black76, impliedVol, normCdf } from "./black76.ts";
export { buildChain, CURRENCIES, EXPIRY_DAYS, smileVol } from "./chain.ts";
export type {
  DeribitEmulator,
  DeribitEmulatorOptions,
  DeribitFaults,
  EmulatorCreditLimit,
  RequestRecord,
} from "./types.ts";

/**
 * Kraken Spot WebSocket v2 emulator: a local server (one port, 127.0.0.1)
 * speaking Kraken's public v2 protocol over a seeded synthetic market, with
 * switchable faults for testing a gateway.
 *
 * ```ts
 * const emu = await startKrakenEmulator({ symbols: ["BTC/USD"], seed: 7 });
 * const ws = new WebSocket(emu.wsUrl);
 * ws.onopen = () =>
 *   ws.send(JSON.stringify({ method: "subscribe", params: { channel: "book", symbol: ["BTC/USD"] } }));
 * // ...
 * await emu.close();
 * ```
 * @module
 */
export { EMULATOR_HEADER, resolveOptions, startKrakenEmulator } from "./emulator.ts";
export { DEFAULT_PAIRS, type PairSpec } from "./pairs.ts";
export type { EmulatorBook, KrakenEmulator, KrakenEmulatorOptions, KrakenFaults } from "./types.ts";

/**
 * Test helpers of the Quant-SaaS plugin SDK: the conformance kit every plugin must pass
 * against its own emulator, the normalized-event validator, and what an exchange emulator
 * needs (a seeded random source, an emulator order book). Import it beside `mod.ts`.
 *
 * ```ts
 * import { createEmulatorBookSide, createRng } from "@quant-saas/gateway/testing";
 *
 * const rng = createRng(42);
 * const bids = createEmulatorBookSide("bid");
 * bids.set(100 - rng.int(5), 1 + rng.int(10));
 * ```
 *
 * ```ts ignore
 * import { testPlugin } from "@quant-saas/gateway/testing";
 * import { entry } from "./entry.ts";
 *
 * Deno.test("myex passes the plugin conformance kit", testPlugin(entry, { symbols: ["BTCUSDT"] }));
 * ```
 * @module
 */

// Conformance kit (testPlugin) and the normalized-event validator
export { testPlugin } from "./core/testing/conformance.ts";
export type { ConformanceOptions } from "./core/testing/conformance.ts";
export { eventProblems, marketEventSchema } from "./core/testing/event_schema.ts";

// Emulator helpers
export { emulatorFaults } from "./core/testing/emulator_faults.ts";
export type { FaultingEmulator } from "./core/testing/emulator_faults.ts";
export { createRng, hashString } from "./core/testing/prng.ts";
export type { Rng } from "./core/testing/prng.ts";
export { createEmulatorBookSide } from "./core/testing/emulator_book.ts";
export { runEmulatorCli, WS_ENV } from "./core/testing/emulator_cli.ts";
export type { BookSideName, EmulatorBookSide } from "./core/testing/emulator_book.ts";

/**
 * Test helpers of the Quant-SaaS plugin SDK: what a plugin's exchange emulator
 * and tests need (a seeded random source, an emulator order book).
 *
 * ```ts
 * import { createEmulatorBookSide, createRng } from "@quant-saas/gateway/testing";
 *
 * const rng = createRng(42);
 * const bids = createEmulatorBookSide("bid");
 * bids.set(100 - rng.int(5), 1 + rng.int(10));
 * ```
 * @module
 */
export { createRng, hashString } from "./core/testing/prng.ts";
export type { Rng } from "./core/testing/prng.ts";
export { createEmulatorBookSide } from "./core/testing/emulator_book.ts";
export type { BookSideName, EmulatorBookSide } from "./core/testing/emulator_book.ts";

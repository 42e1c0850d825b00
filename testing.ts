/**
 * Quant-SaaS plugin SDK, testing entry point: what a plugin author needs in
 * their tests. Import it beside `mod.ts`.
 *
 * ```ts
 * import { testPlugin } from "./testing.ts";
 * import { entry } from "./tests/fixtures/external_plugin/entry.ts";
 *
 * Deno.test("toyex passes the plugin conformance kit", testPlugin(entry, { symbols: ["TOYUSD"] }));
 * ```
 * @module
 */

// --- Conformance kit (testPlugin) and the normalized-event validator ---
export { testPlugin } from "./core/testing/conformance.ts";
export type { ConformanceOptions } from "./core/testing/conformance.ts";
export { eventProblems, marketEventSchema } from "./core/testing/event_schema.ts";

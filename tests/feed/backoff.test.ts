/** The SDK's reconnect backoff: capped exponential with full jitter. */
import assert from "node:assert/strict";
import { backoffDelay } from "../../mod.ts";

Deno.test("backoff is capped exponential with full jitter", () => {
  const opts = { baseMs: 100, capMs: 1000 };
  assert.equal(backoffDelay(0, opts, () => 0), 0);
  assert.equal(backoffDelay(0, opts, () => 0.999999), 100);
  assert.equal(backoffDelay(3, opts, () => 0.999999), 800);
  assert.equal(backoffDelay(4, opts, () => 0.999999), 1000, "capped");
  assert.equal(backoffDelay(60, opts, () => 0.5), 500, "no overflow on long outages");
});

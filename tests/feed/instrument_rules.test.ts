/**
 * Instrument rules from raw exchange metadata: positive amounts are kept,
 * anything else leaves its rule out.
 */
import assert from "node:assert/strict";
import { instrumentRules, positiveDecimal } from "../../mod.ts";

Deno.test("positiveDecimal reads decimal strings and numbers, and nothing that is not a positive amount", () => {
  assert.equal(positiveDecimal("0.01000000"), 0.01);
  assert.equal(positiveDecimal("9000.00000000"), 9000);
  assert.equal(positiveDecimal(0.5), 0.5);
  assert.equal(positiveDecimal(1e-8), 0.00000001);
  for (const bad of ["0", "0.00000000", 0, "-1", -0.1, "abc", "", "1e3", NaN, Infinity, null, {}]) {
    assert.equal(positiveDecimal(bad), undefined, String(bad));
  }
});

Deno.test("instrumentRules keeps the usable rules and leaves the others out (no undefined keys)", () => {
  const rules = instrumentRules({
    tickSize: "0.01000000",
    stepSize: 0.00001,
    minQuantity: "0",
    maxQuantity: "-5",
    minNotional: "five",
  });
  assert.deepEqual(rules, { tickSize: 0.01, stepSize: 0.00001 });
  assert.deepEqual(Object.keys(rules), ["tickSize", "stepSize"]);
  assert.deepEqual(instrumentRules({}), {});
});

/** Shared assertions of the options tests. */
import assert from "node:assert/strict";

/** |actual − expected| ≤ tol·|expected| (relative), with a message naming the quantity. */
export function relClose(actual: number, expected: number, tol: number, what: string): void {
  const err = Math.abs(actual - expected);
  assert.ok(
    err <= tol * Math.abs(expected),
    `${what}: ${actual} vs ${expected} (relative error ${err / Math.abs(expected)} > ${tol})`,
  );
}

/** |actual − expected| ≤ tol (absolute). */
export function absClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual} vs ${expected} (|error| ${Math.abs(actual - expected)} > ${tol})`,
  );
}

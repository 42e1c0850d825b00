/**
 * The queue models of resting paper orders: trades consume the quantity ahead 1:1, cancels move
 * the order by the model's share, increases never move it forward, and a decrease the feed
 * sends after trades already seen is not counted twice.
 */
import { strict as assert } from "node:assert";
import {
  logQueueModel,
  powerQueueModel,
  queueAfterDepthChange,
  queueAfterTrade,
  riskAverseQueueModel,
} from "../../core/paper/queue.ts";

const cents = (x: number): number => Math.round(x * 100) / 100;

Deno.test("a trade consumes the quantity ahead first: 3.0 ahead, trades of 2.0 then 1.5 leave 0.5 for the order", () => {
  const first = queueAfterTrade(3, 2);
  assert.deepEqual(first, { ahead: 1, excess: 0 });
  assert.deepEqual(queueAfterTrade(first.ahead, 1.5), { ahead: 0, excess: 0.5 });
});

Deno.test("power(2): a cancel of 1 with 1 ahead and 3 behind is ahead with probability 1/10", () => {
  // p = 3² / (3² + 1²) = 0.9 that it was behind: front = 1 − 0.1 × 1 = 0.9.
  assert.equal(cents(powerQueueModel(2).decrease(1, 4, 1)), 0.9);
  // Same cancel, n = 3: p = 27/28, front = 1 − 1/28 ≈ 0.96.
  assert.equal(cents(powerQueueModel(3).decrease(1, 4, 1)), 0.96);
  // Default exponent is 2.
  assert.equal(powerQueueModel().name, "power(2)");
});

Deno.test("log model: p = ln 4 / (ln 4 + ln 2) = 2/3, the order moves to 0.67", () => {
  assert.equal(cents(logQueueModel().decrease(1, 4, 1)), 0.67);
});

Deno.test("a cancel larger than what can be behind moves the order by the overflow too", () => {
  // front 1, back 1, 1.5 cancelled: p = 0.5, front = 1 − 0.75 + min(1 − 0.75, 0) = 0.25.
  assert.equal(cents(queueAfterDepthChange(powerQueueModel(2), 1, 2, 0.5)), 0.25);
  // front 1, back 3, 3 cancelled: p = 0.9, front = 1 − 0.3 + min(3 − 2.7, 0) = 0.7.
  assert.equal(cents(queueAfterDepthChange(powerQueueModel(2), 1, 4, 1)), 0.7);
  // Nothing behind: every cancel was ahead.
  assert.equal(queueAfterDepthChange(powerQueueModel(2), 2, 2, 1.5), 1.5);
});

Deno.test("increases never move the order forward", () => {
  assert.equal(queueAfterDepthChange(powerQueueModel(2), 2, 5, 8), 2);
  assert.equal(queueAfterDepthChange(logQueueModel(), 2, 5, 8), 2);
});

Deno.test("the quantity ahead stays within [0, displayed]", () => {
  assert.equal(queueAfterDepthChange(riskAverseQueueModel(), 3, 5, 1), 1);
  assert.equal(queueAfterDepthChange(powerQueueModel(2), 3, 5, 0), 0);
  assert.equal(queueAfterDepthChange(powerQueueModel(2), 0, 5, 4), 0);
});

Deno.test("risk-averse: cancels never advance the order unless the level shrinks below it", () => {
  assert.equal(queueAfterDepthChange(riskAverseQueueModel(), 3, 5, 4), 3);
  assert.equal(queueAfterDepthChange(riskAverseQueueModel(), 3, 5, 2), 2);
});

Deno.test("a decrease the trades already explain is not a cancel (no double counting)", () => {
  // 2 shown, all ahead; a trade of 1 moved the order to 1 ahead; the feed then shows 2 → 1.
  const afterTrade = queueAfterTrade(2, 1).ahead;
  assert.equal(afterTrade, 1);
  assert.equal(queueAfterDepthChange(powerQueueModel(2), afterTrade, 2, 1, 1), 1);
  // Counted twice it would have moved to 0.5 (front 1, back 1, p = 0.5).
  assert.equal(queueAfterDepthChange(powerQueueModel(2), afterTrade, 2, 1, 0), 0.5);
  // 5 shown, 1 ahead after a trade of 1 there; the feed shows 5 → 3: only 1.0 is a cancel.
  assert.equal(cents(queueAfterDepthChange(powerQueueModel(2), 1, 5, 3, 1)), 0.9);
});

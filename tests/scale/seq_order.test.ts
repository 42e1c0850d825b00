import { deepStrictEqual, equal } from "node:assert/strict";
import { createSeqOrder, type Released } from "../../core/scale/seq_order.ts";

/** Released entries as `seq` numbers and `[from, to]` gaps. */
const shape = (out: Released<string>[]) =>
  out.map((r) => "gap" in r ? [r.gap.fromSeq, r.gap.toSeq] : r.seq);

Deno.test("seq order: early seqs wait for the missing ones, then everything goes in order", () => {
  const order = createSeqOrder<string>({ floor: 0, maxWaitMs: 1000 });
  for (const s of [1, 2, 3]) order.offer(s, `s${s}`, undefined, 0);
  deepStrictEqual(shape(order.release(0, false)), [1, 2, 3]);
  for (const s of [6, 7]) order.offer(s, `s${s}`, undefined, 0);
  deepStrictEqual(shape(order.release(10, false)), [], "4 and 5 are missing");
  equal(order.offer(6, "again", undefined, 0), "duplicate", "held already");
  equal(order.offer(2, "again", undefined, 0), "duplicate", "released already");
  order.offer(5, "s5", undefined, 15);
  order.offer(4, "s4", undefined, 15);
  deepStrictEqual(shape(order.release(20, false)), [4, 5, 6, 7]);
});

Deno.test("seq order: a hole becomes a gap after the wait, or at once when the hold is full", () => {
  const order = createSeqOrder<string>({ floor: 10, maxWaitMs: 1000, maxHeld: 3 });
  order.offer(11, "a", undefined, 0);
  order.offer(14, "b", undefined, 0);
  deepStrictEqual(shape(order.release(0, false)), [11]);
  deepStrictEqual(shape(order.release(999, false)), [], "still waiting");
  deepStrictEqual(shape(order.release(1000, false)), [[12, 13], 14]);
  for (const s of [16, 17, 18]) order.offer(s, "c", undefined, 1001);
  deepStrictEqual(shape(order.release(1001, false)), [[15, 15], 16, 17, 18], "hold full");
});

Deno.test("seq order: the start waits for the lowest seq unless the reader caught up", () => {
  const order = createSeqOrder<string>({ floor: 100, maxWaitMs: 1000 });
  order.offer(104, "d", undefined, 0);
  deepStrictEqual(shape(order.release(0, false)), [], "102 may still come");
  order.offer(102, "b", undefined, 0);
  deepStrictEqual(shape(order.release(10, true)), [102], "caught up: starts at the lowest");
  equal(order.expected(), 103);
  equal(order.offer(101, "late", undefined, 0), "duplicate", "ordering started at 102");
});

Deno.test("seq order: holes one after another are each given up when their wait is over, not one wait after the other", () => {
  const order = createSeqOrder<string>({ floor: 0, maxWaitMs: 1000 });
  order.offer(1, "a", undefined, 0);
  order.release(0, false);
  order.offer(3, "c", undefined, 100); // 2 missing since 100
  order.offer(5, "e", undefined, 200); // 4 missing since 200
  deepStrictEqual(shape(order.release(1099, false)), []);
  deepStrictEqual(shape(order.release(1100, false)), [[2, 2], 3]);
  deepStrictEqual(shape(order.release(1200, false)), [[4, 4], 5], "4 missing since 200");
});

Deno.test("seq order: a missing seq arriving restarts the wait for the next one", () => {
  const order = createSeqOrder<string>({ floor: 0, maxWaitMs: 1000 });
  order.offer(1, "a", undefined, 0);
  order.offer(5, "e", undefined, 0);
  deepStrictEqual(shape(order.release(0, false)), [1]);
  order.offer(2, "b", undefined, 900); // republished, slowly
  deepStrictEqual(shape(order.release(900, false)), [2]);
  deepStrictEqual(shape(order.release(1800, false)), [], "3 may still come");
  deepStrictEqual(shape(order.release(1900, false)), [[3, 4], 5]);
});

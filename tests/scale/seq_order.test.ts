import { deepStrictEqual, equal } from "node:assert/strict";
import { createSeqOrder, type Released } from "../../core/scale/seq_order.ts";

/** Released entries as `seq` numbers and `[from, to]` gaps. */
const shape = (out: Released<string>[]) =>
  out.map((r) => "gap" in r ? [r.gap.fromSeq, r.gap.toSeq] : r.seq);

Deno.test("seq order: early seqs wait for the missing ones, then everything goes in order", () => {
  const order = createSeqOrder<string>({ floor: 0, maxWaitMs: 1000 });
  for (const s of [1, 2, 3]) order.offer(s, `s${s}`);
  deepStrictEqual(shape(order.release(0, false)), [1, 2, 3]);
  for (const s of [6, 7]) order.offer(s, `s${s}`);
  deepStrictEqual(shape(order.release(10, false)), [], "4 and 5 are missing");
  equal(order.offer(6, "again"), "duplicate", "held already");
  equal(order.offer(2, "again"), "duplicate", "released already");
  order.offer(5, "s5");
  order.offer(4, "s4");
  deepStrictEqual(shape(order.release(20, false)), [4, 5, 6, 7]);
});

Deno.test("seq order: a hole becomes a gap after the wait, or at once when the hold is full", () => {
  const order = createSeqOrder<string>({ floor: 10, maxWaitMs: 1000, maxHeld: 3 });
  order.offer(11, "a");
  order.offer(14, "b");
  deepStrictEqual(shape(order.release(0, false)), [11]);
  deepStrictEqual(shape(order.release(999, false)), [], "still waiting");
  deepStrictEqual(shape(order.release(1000, false)), [[12, 13], 14]);
  for (const s of [16, 17, 18]) order.offer(s, "c");
  deepStrictEqual(shape(order.release(1001, false)), [[15, 15], 16, 17, 18], "hold full");
});

Deno.test("seq order: a skipped seq (a replaced rolled-up message) is no gap", () => {
  const order = createSeqOrder<string>({ floor: 0, maxWaitMs: 1000 });
  order.offer(1, "a");
  order.offer(3, "c");
  order.skip(2);
  deepStrictEqual(shape(order.release(0, false)), [1, 3]);
});

Deno.test("seq order: the start waits for the lowest seq unless the reader caught up", () => {
  const order = createSeqOrder<string>({ floor: 100, maxWaitMs: 1000 });
  order.offer(104, "d");
  deepStrictEqual(shape(order.release(0, false)), [], "102 may still come");
  order.offer(102, "b");
  deepStrictEqual(shape(order.release(10, true)), [102], "caught up: starts at the lowest");
  equal(order.expected(), 103);
  equal(order.offer(101, "late"), "duplicate", "ordering started at 102");
});

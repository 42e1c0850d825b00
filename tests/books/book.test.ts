import assert from "node:assert/strict";
import fc from "fast-check";
import type { BookUpdate, Level } from "../../core/events.ts";
import {
  applyLevel,
  applySnapshot,
  applyUpdate,
  bestAsk,
  bestBid,
  BookError,
  createBook,
  depthOf,
  isCrossed,
  levelsEqual,
  type LevelUpdate,
  type OrderBook,
  topN,
  topNInto,
  truncate,
} from "../../core/books/book.ts";
import {
  advanceView,
  createBookView,
  DEFAULT_VIEW_DEPTH,
  MAX_VIEW_DEPTH,
  resetView,
  type ViewDelta,
  viewSnapshot,
} from "../../core/books/view.ts";

// ---------------------------------------------------------------- helpers --

/** A book built from a snapshot. */
function bookOf(bids: Level[], asks: Level[], updateId?: number): OrderBook {
  const book = createBook();
  applySnapshot(book, bids, asks, updateId);
  return book;
}

/** Everything in the book, as plain data (for deep comparisons). */
function dump(book: OrderBook) {
  return {
    ...topN(book, Infinity),
    sequence: book.sequence,
    updateId: book.updateId,
  };
}

/** Reference model: a Map per side, sorted only when read. */
interface Model {
  bids: Map<number, number>;
  asks: Map<number, number>;
}

function setModel(side: Map<number, number>, [price, qty]: Level): void {
  if (qty === 0) side.delete(price);
  else side.set(price, qty);
}

function sorted(side: Map<number, number>, descending: boolean): Level[] {
  return [...side].sort(([a], [b]) => descending ? b - a : a - b);
}

function assertStrictlySorted(levels: Level[], descending: boolean): void {
  for (let i = 1; i < levels.length; i++) {
    const [prev] = levels[i - 1];
    const [cur] = levels[i];
    assert.ok(descending ? prev > cur : prev < cur, `unsorted at ${i}`);
  }
}

// Prices on a small grid so that updates collide; quantities include 0.
const price = fc.integer({ min: 1, max: 24 }).map((k) => 100 + k / 4);
const qty = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 5 }),
  fc.double({ min: 0.001, max: 10, noNaN: true }),
);
const level: fc.Arbitrary<Level> = fc.tuple(price, qty);
const levels = fc.array(level, { maxLength: 12 });
const update: fc.Arbitrary<LevelUpdate> = fc.record({
  bids: levels,
  asks: levels,
});

// --------------------------------------------------------- example tests --

Deno.test("order book", async (t) => {
  await t.step("starts empty with sequence 0 and no updateId", () => {
    const book = createBook();
    assert.deepEqual(topN(book, 10), { bids: [], asks: [] });
    assert.equal(book.sequence, 0);
    assert.equal(book.updateId, undefined);
    assert.equal(bestBid(book), undefined);
    assert.equal(bestAsk(book), undefined);
    assert.deepEqual(depthOf(book), { bids: 0, asks: 0 });
  });

  await t.step("applyLevel inserts, replaces and removes (qty 0)", () => {
    const book = createBook();
    applyLevel(book, "bid", 100, 1);
    applyLevel(book, "bid", 101, 2);
    applyLevel(book, "ask", 102, 3);
    assert.deepEqual(topN(book, 10), {
      bids: [[101, 2], [100, 1]],
      asks: [[102, 3]],
    });
    applyLevel(book, "bid", 100, 5);
    assert.deepEqual(topN(book, 10).bids, [[101, 2], [100, 5]]);
    applyLevel(book, "bid", 101, 0);
    assert.deepEqual(topN(book, 10).bids, [[100, 5]]);
  });

  await t.step("removing a level that is not there changes nothing", () => {
    const book = bookOf([[100, 1]], [[101, 1]]);
    applyLevel(book, "ask", 105, 0);
    applyLevel(book, "bid", 99, 0);
    assert.deepEqual(topN(book, 10), { bids: [[100, 1]], asks: [[101, 1]] });
  });

  await t.step("keeps bids descending and asks ascending", () => {
    const book = createBook();
    for (const p of [100, 98, 103, 99, 101]) applyLevel(book, "bid", p, 1);
    for (const p of [110, 108, 113, 109, 111]) applyLevel(book, "ask", p, 1);
    assert.deepEqual(
      topN(book, 10).bids.map(([p]) => p),
      [103, 101, 100, 99, 98],
    );
    assert.deepEqual(
      topN(book, 10).asks.map(([p]) => p),
      [108, 109, 110, 111, 113],
    );
  });

  await t.step("best bid is the highest bid, best ask the lowest ask", () => {
    const book = bookOf([[99, 1], [100, 2]], [[102, 3], [101, 4]]);
    assert.deepEqual(bestBid(book), [100, 2]);
    assert.deepEqual(bestAsk(book), [101, 4]);
  });

  await t.step("topN returns at most n levels per side, best first", () => {
    const book = bookOf([[100, 1], [99, 1], [98, 1]], [[101, 1]]);
    assert.deepEqual(topN(book, 2), {
      bids: [[100, 1], [99, 1]],
      asks: [[101, 1]],
    });
    assert.deepEqual(topN(book, 0), { bids: [], asks: [] });
    assert.throws(() => topN(book, -1), BookError);
  });

  await t.step("topN hands out copies, not the book's own arrays", () => {
    const book = bookOf([[100, 1]], []);
    topN(book, 1).bids[0][1] = 42;
    assert.deepEqual(bestBid(book), [100, 1]);
  });

  await t.step("crossed when best bid >= best ask", () => {
    assert.equal(isCrossed(bookOf([[100, 1]], [[101, 1]])), false);
    assert.equal(isCrossed(bookOf([[101, 1]], [[101, 1]])), true);
    assert.equal(isCrossed(bookOf([[102, 1]], [[101, 1]])), true);
    assert.equal(isCrossed(bookOf([[102, 1]], [])), false);
    assert.equal(isCrossed(bookOf([], [[101, 1]])), false);
  });

  await t.step("truncate keeps only the best `depth` levels per side", () => {
    const book = bookOf(
      [[100, 1], [99, 2], [98, 3]],
      [[101, 1], [102, 2], [103, 3]],
    );
    truncate(book, 2);
    assert.deepEqual(topN(book, 10), {
      bids: [[100, 1], [99, 2]],
      asks: [[101, 1], [102, 2]],
    });
    truncate(book, 5);
    assert.deepEqual(depthOf(book), { bids: 2, asks: 2 });
    truncate(book, 0);
    assert.deepEqual(depthOf(book), { bids: 0, asks: 0 });
    assert.throws(() => truncate(book, 1.5), BookError);
  });

  await t.step(
    "Kraken style: update then truncate lets a deeper level never return",
    () => {
      const book = bookOf([[100, 1], [99, 1]], []);
      applyUpdate(book, { bids: [[101, 1]], asks: [] });
      truncate(book, 2);
      assert.deepEqual(topN(book, 10).bids, [[101, 1], [100, 1]]);
      applyUpdate(book, { bids: [[101, 0], [98, 4]], asks: [] });
      truncate(book, 2);
      assert.deepEqual(topN(book, 10).bids, [[100, 1], [98, 4]]);
    },
  );

  await t.step(
    "applyUpdate applies levels in order (last wins) and counts once",
    () => {
      const book = bookOf([[100, 1]], [[101, 1]], 7);
      applyUpdate(book, {
        bids: [[99, 1], [99, 3], [100, 0], [100, 2]],
        asks: [[101, 0]],
        updateId: 9,
      });
      assert.deepEqual(dump(book), {
        bids: [[100, 2], [99, 3]],
        asks: [],
        sequence: 1,
        updateId: 9,
      });
      applyUpdate(book, { bids: [], asks: [] });
      assert.equal(book.sequence, 2);
      assert.equal(book.updateId, 9, "kept when the update carries none");
    },
  );

  await t.step("a snapshot replaces everything and resets sequence", () => {
    const book = bookOf([[100, 1]], [[101, 1]], 5);
    applyUpdate(book, { bids: [[99, 1]], asks: [], updateId: 6 });
    applySnapshot(book, [[90, 1]], [[95, 2]], 40);
    assert.deepEqual(dump(book), {
      bids: [[90, 1]],
      asks: [[95, 2]],
      sequence: 0,
      updateId: 40,
    });
    applySnapshot(book, [], []);
    assert.deepEqual(dump(book), {
      bids: [],
      asks: [],
      sequence: 0,
      updateId: undefined,
    });
  });

  await t.step(
    "a snapshot may be unsorted, repeat a price (last wins) and hold zeros",
    () => {
      const book = bookOf(
        [[99, 1], [101, 2], [100, 0], [99, 4]],
        [[103, 1], [102, 0], [104, 2]],
      );
      assert.deepEqual(topN(book, 10), {
        bids: [[101, 2], [99, 4]],
        asks: [[103, 1], [104, 2]],
      });
    },
  );

  await t.step(
    "bad input throws BookError and leaves the book as it was",
    () => {
      const bad: Level[] = [
        [0, 1],
        [-1, 1],
        [NaN, 1],
        [Infinity, 1],
        [100, -1],
        [100, NaN],
        [100, Infinity],
        ["100" as unknown as number, 1],
        [100, null as unknown as number],
      ];
      for (const level of bad) {
        const book = bookOf([[100, 1], [99, 2]], [[101, 1]], 3);
        applyUpdate(book, { bids: [], asks: [] });
        const before = dump(book);
        // The bad level comes last, so nothing before it may have been applied.
        assert.throws(
          () =>
            applyUpdate(book, {
              bids: [[100, 0], [98, 5]],
              asks: [[101, 0], level],
              updateId: 4,
            }),
          BookError,
        );
        assert.throws(() => applyLevel(book, "bid", level[0], level[1]));
        assert.throws(() => applySnapshot(book, [[50, 1], level], []));
        assert.deepEqual(dump(book), before, `after ${String(level)}`);
      }
    },
  );

  await t.step("malformed shapes are rejected too", () => {
    const book = bookOf([[100, 1]], []);
    const before = dump(book);
    const notLevel = [100] as unknown as Level;
    assert.throws(() => applyUpdate(book, { bids: [notLevel], asks: [] }));
    assert.throws(() =>
      applyUpdate(book, {
        bids: null as unknown as Level[],
        asks: [],
      })
    );
    assert.throws(() => applyUpdate(book, { bids: [], asks: [], updateId: NaN }));
    assert.throws(() => applyLevel(book, "mid" as "bid", 100, 1), BookError);
    assert.deepEqual(dump(book), before);
  });

  await t.step("a plugin's BookUpdate event applies as it is", () => {
    const book = bookOf([[100, 1]], [[101, 1]], 10);
    const event: BookUpdate = {
      type: "book",
      exchange: "binance",
      symbol: "BTCUSDT",
      eventTime: 0,
      receiveTime: 0,
      timestamp: "1970-01-01T00:00:00.000Z",
      snapshot: false,
      firstUpdateId: 11,
      updateId: 12,
      bids: [[100, 2]],
      asks: [[101, 0], [102, 3]],
    };
    applyUpdate(book, event);
    assert.deepEqual(dump(book), {
      bids: [[100, 2]],
      asks: [[102, 3]],
      sequence: 1,
      updateId: 12,
    });
  });

  await t.step(
    "a 5000-level book keeps its order under top-of-book churn",
    () => {
      const bids = Array.from(
        { length: 5000 },
        (_, k): Level => [10_000 - k, 1],
      );
      const asks = Array.from(
        { length: 5000 },
        (_, k): Level => [10_001 + k, 1],
      );
      const book = bookOf(bids, asks);
      applyUpdate(book, {
        bids: [[10_000, 0], [10_000.5, 2], [6_000, 5]],
        asks: [[10_000.75, 3], [10_001, 0]],
      });
      assert.deepEqual(depthOf(book), { bids: 5000, asks: 5000 });
      assert.deepEqual(topN(book, 2), {
        bids: [[10_000.5, 2], [9_999, 1]],
        asks: [[10_000.75, 3], [10_002, 1]],
      });
      const all = topN(book, Infinity);
      assertStrictlySorted(all.bids, true);
      assertStrictlySorted(all.asks, false);
      assert.deepEqual(all.bids.find(([p]) => p === 6_000), [6_000, 5]);
    },
  );

  await t.step("levelsEqual compares prices and quantities exactly", () => {
    assert.equal(levelsEqual([[1, 2], [3, 4]], [[1, 2], [3, 4]]), true);
    assert.equal(levelsEqual([[1, 2]], [[1, 2.0000001]]), false);
    assert.equal(levelsEqual([[1, 2]], [[1, 2], [3, 4]]), false);
    assert.equal(levelsEqual([], []), true);
  });
});

// ------------------------------------------------------------- properties --

Deno.test("order book properties", async (t) => {
  await t.step(
    "after any sequence of updates the book is strictly sorted, holds no zero and equals a Map model",
    () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              update.map((u) => ({ kind: "update" as const, u })),
              fc.record({
                kind: fc.constant("level" as const),
                side: fc.constantFrom("bid" as const, "ask" as const),
                level,
              }),
            ),
            { maxLength: 60 },
          ),
          (ops) => {
            const book = createBook();
            const model: Model = { bids: new Map(), asks: new Map() };
            let updates = 0;
            for (const op of ops) {
              if (op.kind === "update") {
                applyUpdate(book, op.u);
                op.u.bids.forEach((l) => setModel(model.bids, l));
                op.u.asks.forEach((l) => setModel(model.asks, l));
                updates++;
              } else {
                applyLevel(book, op.side, op.level[0], op.level[1]);
                setModel(op.side === "bid" ? model.bids : model.asks, op.level);
              }
              const { bids, asks } = topN(book, Infinity);
              assertStrictlySorted(bids, true);
              assertStrictlySorted(asks, false);
              assert.ok([...bids, ...asks].every(([, q]) => q > 0));
            }
            assert.deepEqual(topN(book, Infinity), {
              bids: sorted(model.bids, true),
              asks: sorted(model.asks, false),
            });
            assert.equal(book.sequence, updates);
          },
        ),
      );
    },
  );

  await t.step("a snapshot equals the Map model of its levels", () => {
    fc.assert(
      fc.property(levels, levels, (bids, asks) => {
        const model: Model = { bids: new Map(), asks: new Map() };
        bids.forEach((l) => setModel(model.bids, l));
        asks.forEach((l) => setModel(model.asks, l));
        assert.deepEqual(topN(bookOf(bids, asks), Infinity), {
          bids: sorted(model.bids, true),
          asks: sorted(model.asks, false),
        });
      }),
    );
  });

  await t.step("an update with one bad level anywhere changes nothing", () => {
    const badLevel = fc.oneof(
      fc.tuple(fc.constantFrom(0, -1, NaN, Infinity, -Infinity), qty),
      fc.tuple(price, fc.constantFrom(-1, -0.5, NaN, Infinity)),
    );
    fc.assert(
      fc.property(
        update,
        update,
        badLevel,
        fc.nat(),
        fc.boolean(),
        (start, u, bad, at, onBids) => {
          const book = createBook();
          applyUpdate(book, start);
          const before = dump(book);
          const target = [...(onBids ? u.bids : u.asks)];
          target.splice(at % (target.length + 1), 0, bad);
          const poisoned = onBids ? { ...u, bids: target } : { ...u, asks: target };
          assert.throws(() => applyUpdate(book, poisoned), BookError);
          assert.deepEqual(dump(book), before);
        },
      ),
    );
  });
});

// ------------------------------------------------------------- book views --

Deno.test("book view", async (t) => {
  const bids: Level[] = [[100, 1], [99, 2], [98, 3]];
  const asks: Level[] = [[101, 1], [102, 2], [103, 3]];

  await t.step("starts from the book's top N with seq 0", () => {
    const view = createBookView(bookOf(bids, asks), 2);
    assert.deepEqual(viewSnapshot(view), {
      bids: [[100, 1], [99, 2]],
      asks: [[101, 1], [102, 2]],
      seq: 0,
    });
  });

  await t.step("depth defaults to 20 and must be 1..1000", () => {
    assert.equal(DEFAULT_VIEW_DEPTH, 20);
    assert.equal(createBookView(createBook()).depth, 20);
    assert.equal(createBookView(createBook(), MAX_VIEW_DEPTH).depth, 1000);
    for (const depth of [0, -1, 1.5, 1001, NaN]) {
      assert.throws(() => createBookView(createBook(), depth), BookError);
    }
  });

  await t.step("a change inside the top N is sent with seq 1", () => {
    const book = bookOf(bids, asks);
    const view = createBookView(book, 2);
    applyUpdate(book, { bids: [[99, 7]], asks: [] });
    assert.deepEqual(advanceView(view, book), {
      bids: [[99, 7]],
      asks: [],
      seq: 1,
    });
  });

  await t.step("a change outside the top N sends nothing, seq stays", () => {
    const book = bookOf(bids, asks);
    const view = createBookView(book, 2);
    applyUpdate(book, { bids: [[98, 9], [90, 1]], asks: [[103, 0]] });
    assert.equal(advanceView(view, book), null);
    assert.equal(viewSnapshot(view).seq, 0);
  });

  await t.step("a better level pushes the last one out with qty 0", () => {
    const book = bookOf(bids, asks);
    const view = createBookView(book, 2);
    applyUpdate(book, { bids: [[100.5, 4]], asks: [] });
    assert.deepEqual(advanceView(view, book), {
      bids: [[100.5, 4], [99, 0]],
      asks: [],
      seq: 1,
    });
  });

  await t.step("removing a level pulls the next one in as an insert", () => {
    const book = bookOf(bids, asks);
    const view = createBookView(book, 2);
    applyUpdate(book, { bids: [], asks: [[101, 0]] });
    assert.deepEqual(advanceView(view, book), {
      bids: [],
      asks: [[101, 0], [103, 3]],
      seq: 1,
    });
  });

  await t.step("seq counts emitted deltas only", () => {
    const book = bookOf(bids, asks);
    const view = createBookView(book, 1);
    applyUpdate(book, { bids: [[100, 5]], asks: [] });
    assert.equal(advanceView(view, book)?.seq, 1);
    applyUpdate(book, { bids: [[98, 5]], asks: [] });
    assert.equal(advanceView(view, book), null);
    applyUpdate(book, { bids: [], asks: [[101, 5]] });
    assert.equal(advanceView(view, book)?.seq, 2);
  });

  await t.step("after a book snapshot the next delta is a full diff", () => {
    const book = bookOf(bids, asks);
    const view = createBookView(book, 2);
    applySnapshot(book, [[100, 1], [97, 1]], [[110, 1]]);
    assert.deepEqual(advanceView(view, book), {
      bids: [[99, 0], [97, 1]],
      asks: [[101, 0], [102, 0], [110, 1]],
      seq: 1,
    });
  });

  await t.step("resetView re-captures the book without a delta", () => {
    const book = bookOf(bids, asks);
    const view = createBookView(book, 2);
    applyUpdate(book, { bids: [[100, 9]], asks: [] });
    advanceView(view, book);
    applySnapshot(book, [[50, 1]], [[60, 1]]);
    assert.deepEqual(resetView(view, book), {
      bids: [[50, 1]],
      asks: [[60, 1]],
      seq: 1,
    });
    assert.equal(advanceView(view, book), null);
  });
});

Deno.test("book view properties", async (t) => {
  await t.step(
    "a client applying every delta to its snapshot always holds exactly topN(book, N)",
    () => {
      const op = fc.oneof(
        {
          weight: 8,
          arbitrary: update.map((u) => ({ kind: "update" as const, u })),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant("snapshot" as const),
            bids: levels,
            asks: levels,
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant("truncate" as const),
            depth: fc.nat({ max: 12 }),
          }),
        },
      );
      fc.assert(
        fc.property(
          update,
          fc.integer({ min: 1, max: 14 }),
          fc.array(op, { maxLength: 40 }),
          (start, depth, ops) => {
            const book = createBook();
            applyUpdate(book, start);
            const view = createBookView(book, depth);
            const first = viewSnapshot(view);
            const client: Model = {
              bids: new Map(first.bids),
              asks: new Map(first.asks),
            };
            let seq = first.seq;
            let previousTop = topN(book, depth);
            for (const o of ops) {
              if (o.kind === "update") applyUpdate(book, o.u);
              else if (o.kind === "snapshot") {
                applySnapshot(book, o.bids, o.asks);
              } else truncate(book, o.depth);

              const top = topN(book, depth);
              const delta: ViewDelta | null = advanceView(view, book);
              const unchanged = levelsEqual(top.bids, previousTop.bids) &&
                levelsEqual(top.asks, previousTop.asks);
              assert.equal(delta === null, unchanged, "null iff top N same");
              if (delta !== null) {
                assert.equal(delta.seq, seq + 1);
                seq = delta.seq;
                for (
                  const [side, changes] of [
                    [client.bids, delta.bids],
                    [client.asks, delta.asks],
                  ] as const
                ) {
                  for (const l of changes) {
                    assert.notEqual(side.get(l[0]) ?? 0, l[1], "no no-ops");
                    setModel(side, l);
                  }
                }
              }
              assert.deepEqual(
                {
                  bids: sorted(client.bids, true),
                  asks: sorted(client.asks, false),
                },
                top,
              );
              assert.deepEqual(viewSnapshot(view), { ...top, seq });
              previousTop = top;
            }
          },
        ),
      );
    },
  );
});

Deno.test("topNInto gives what topN gives, reusing the target's level arrays as the book changes", () => {
  const book = createBook();
  applySnapshot(book, [[100, 1], [99, 2], [98, 3]], [[101, 1], [102, 2]]);
  const target = { bids: [] as Level[], asks: [] as Level[] };
  topNInto(book, 2, target);
  assert.deepEqual(target, topN(book, 2));
  const firstBid = target.bids[0];
  applyUpdate(book, { bids: [[100, 0], [99, 5]], asks: [[102, 0]] });
  topNInto(book, 2, target);
  assert.deepEqual(target, topN(book, 2)); // bids [[99, 5], [98, 3]], asks [[101, 1]]
  assert.equal(target.bids[0], firstBid, "the same level array, rewritten");
  assert.equal(target.asks.length, 1, "a side shorter than n shrinks");
});

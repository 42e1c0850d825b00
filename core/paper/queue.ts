/**
 * Queue position of a simulated resting order in an L2 book: how much displayed quantity is
 * estimated ahead of it at its price. L2 data says only the level's total, so when the total
 * shrinks without a trade nobody knows whether the cancelled quantity was ahead of the order
 * or behind it; a {@link QueueModel} decides. The models are those of hftbacktest
 * (`ProbQueueModel`, `RiskAdverseQueueModel`):
 *
 * - trades at the order's price reduce the quantity ahead 1:1 ({@link queueAfterTrade});
 * - a decrease `chg` not explained by trades, with `front` ahead and `back = prev − front`
 *   behind, moves the order to `front − (1−p)·chg + min(back − p·chg, 0)` where
 *   `p = f(back) / (f(back) + f(front))` is the probability that the cancel was behind it
 *   ({@link powerQueueModel}: `f(x) = xⁿ`, {@link logQueueModel}: `f(x) = ln(1+x)`);
 *   the risk-averse model ({@link riskAverseQueueModel}) never advances on cancels;
 * - increases never move the order forward (new quantity joins behind it);
 * - the quantity ahead is never below 0 nor above the displayed quantity.
 *
 * Pure functions, no state: the venue keeps the numbers.
 * @module
 */

/**
 * How a resting order's queue position reacts to cancels at its price.
 *
 * @example
 * ```ts
 * import { powerQueueModel, type QueueModel } from "./queue.ts";
 *
 * const model: QueueModel = powerQueueModel(2);
 * model.decrease(3, 5, 1); // ahead after 1 of 5 cancelled with 3 ahead
 * ```
 */
export interface QueueModel {
  /** Name for logs and reports, e.g. `"power(2)"`. */
  readonly name: string;
  /**
   * Quantity ahead after the level at the order's price shrank by `chg` (> 0, trades already
   * taken out) from `prev`, with `front` ahead (`front ≤ prev`). Unclamped: use
   * {@link queueAfterDepthChange}, which clamps to `[0, new displayed quantity]`.
   */
  decrease(front: number, prev: number, chg: number): number;
}

/**
 * The default exponent of {@link powerQueueModel}: 2, the value hftbacktest's own examples use
 * (`power_prob_queue_model(2.0)`). With n = 2 a cancel is attributed to the larger part of the
 * queue more than in proportion (cancels cluster where the quantity is, and resting size behind
 * a fresh order is mostly recent, likelier-to-cancel size), without the near-certainty n = 3
 * gives: an order with 1 ahead and 3 behind gets 10 % of a cancel ahead of it (25 % linear,
 * 3.6 % with n = 3).
 *
 * @example
 * ```ts
 * import { DEFAULT_QUEUE_POWER, powerQueueModel } from "./queue.ts";
 *
 * const model = powerQueueModel(DEFAULT_QUEUE_POWER);
 * ```
 */
export const DEFAULT_QUEUE_POWER = 2;

/** The probabilistic model with a given weight function `f`. */
function probModel(name: string, f: (x: number) => number): QueueModel {
  return {
    name,
    decrease(front: number, prev: number, chg: number): number {
      const back = Math.max(prev - front, 0);
      const fb = f(back);
      const ff = f(front);
      let p = fb / (fb + ff);
      if (!Number.isFinite(p)) p = 1;
      return front - (1 - p) * chg + Math.min(back - p * chg, 0);
    },
  };
}

/**
 * hftbacktest's `ProbQueueModel` with `PowerProbQueueFunc`: `f(x) = xⁿ`
 * (default n = {@link DEFAULT_QUEUE_POWER}).
 *
 * @example 1 of 4 cancelled with 1 ahead, 3 behind: p = 9/10, the order moves to 0.9
 * ```ts
 * import { powerQueueModel } from "./queue.ts";
 *
 * powerQueueModel(2).decrease(1, 4, 1); // 0.9
 * ```
 */
export function powerQueueModel(n: number = DEFAULT_QUEUE_POWER): QueueModel {
  return probModel(`power(${n})`, (x) => Math.pow(x, n));
}

/**
 * hftbacktest's `ProbQueueModel` with `LogProbQueueFunc`: `f(x) = ln(1 + x)`.
 *
 * @example
 * ```ts
 * import { logQueueModel } from "./queue.ts";
 *
 * logQueueModel().decrease(1, 4, 1); // ≈ 0.67 (p = ln 4 / (ln 4 + ln 2) = 2/3)
 * ```
 */
export function logQueueModel(): QueueModel {
  return probModel("log", Math.log1p);
}

/**
 * hftbacktest's `RiskAdverseQueueModel`: only trades advance the order; a cancel moves it only
 * when the level shrinks below the quantity ahead (clamped by {@link queueAfterDepthChange}).
 *
 * @example
 * ```ts
 * import { riskAverseQueueModel } from "./queue.ts";
 *
 * riskAverseQueueModel().decrease(3, 5, 1); // 3
 * ```
 */
export function riskAverseQueueModel(): QueueModel {
  return { name: "risk_averse", decrease: (front) => front };
}

/** What a trade at the order's price did to it. */
export interface TradeQueueEffect {
  /** Quantity still ahead after the trade. */
  ahead: number;
  /** Trade quantity left after the quantity ahead was consumed: what reaches the order. */
  excess: number;
}

/**
 * A trade of `quantity` at the order's price (taker on the other side) consumes the quantity
 * ahead 1:1; what is left reaches the order.
 *
 * @example 3.0 ahead, trades of 2.0 then 1.5: 0.5 reaches the order
 * ```ts
 * import { queueAfterTrade } from "./queue.ts";
 *
 * const first = queueAfterTrade(3, 2); // { ahead: 1, excess: 0 }
 * queueAfterTrade(first.ahead, 1.5); // { ahead: 0, excess: 0.5 }
 * ```
 */
export function queueAfterTrade(ahead: number, quantity: number): TradeQueueEffect {
  if (quantity <= ahead) return { ahead: ahead - quantity, excess: 0 };
  return { ahead: 0, excess: quantity - ahead };
}

/**
 * Quantity ahead after the displayed quantity at the order's price went from `prev` to `next`.
 * `tradedSince` is the quantity traded at that price since the level's last book update: the
 * trades already moved the order ({@link queueAfterTrade}), and the feed reports the same
 * quantity again as a decrease, so it is taken out before the model sees the change (no double
 * counting). An increase (or a decrease fully explained by trades) never moves the order
 * forward; the result is clamped to `[0, next]`.
 *
 * @example 1.0 traded, then the level falls 5 → 3: only 1.0 is a cancel
 * ```ts
 * import { powerQueueModel, queueAfterDepthChange } from "./queue.ts";
 *
 * queueAfterDepthChange(powerQueueModel(2), 1, 5, 3, 1); // 0.9
 * ```
 */
export function queueAfterDepthChange(
  model: QueueModel,
  front: number,
  prev: number,
  next: number,
  tradedSince: number = 0,
): number {
  const shown = Math.max(prev - tradedSince, front, 0);
  const chg = shown - next;
  let ahead = front;
  if (chg > 0) ahead = model.decrease(front, shown, chg);
  if (!(ahead > 0)) return 0;
  return ahead > next ? Math.max(next, 0) : ahead;
}

/**
 * Pacing of a replay: each item is due at the wall time its receive time maps to
 * (offset from `from`, divided by `speed`), and never before the client's socket
 * has drained below half its high-water mark, so a replay at `max` runs as fast
 * as the client reads and nothing piles up in memory or gets conflated.
 * @module
 */
import { bufferedCost, type Client, type Delivery } from "../delivery/policy.ts";

/** Most work between two yields to the event loop, ms (live clients share the thread). */
const SLICE_MS = 8;

/** Poll period while the client's socket drains, ms. */
const DRAIN_POLL_MS = 2;

/** Paces one replay. */
export interface Pacer {
  /**
   * Resolves when the item received at `receiveTime` is due and the client can take
   * it; false when the client is gone or `signal` aborted (stop then).
   */
  wait(receiveTime: number): Promise<boolean>;
  /** Waits only for the socket to drain (items delivered as fast as possible). */
  drained(): Promise<boolean>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Creates the pacer of one replay starting now at recorded time `from`. */
export function createPacer(
  client: Client,
  delivery: Pick<Delivery, "highWaterMark">,
  from: number,
  speed: number | "max",
  signal: AbortSignal,
): Pacer {
  const start = performance.now();
  let sliceStart = performance.now();

  const gone = () => signal.aborted || client.closing;
  const full = () => client.backlog !== null || bufferedCost(client) > delivery.highWaterMark() / 2;

  const drained = async (): Promise<boolean> => {
    if (gone()) return false;
    if (performance.now() - sliceStart >= SLICE_MS) {
      await sleep(0);
      sliceStart = performance.now();
    }
    while (full()) {
      await sleep(DRAIN_POLL_MS);
      sliceStart = performance.now();
      if (gone()) return false;
    }
    return !gone();
  };

  return {
    drained,
    async wait(receiveTime) {
      if (speed !== "max") {
        const due = start + (receiveTime - from) / speed;
        const ahead = due - performance.now();
        if (ahead >= 1) {
          await sleep(ahead);
          sliceStart = performance.now();
        }
      }
      return await drained();
    },
  };
}

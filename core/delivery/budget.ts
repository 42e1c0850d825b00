/**
 * The process-wide memory budget for data held on behalf of clients: bytes waiting in
 * socket buffers (Deno's `bufferedAmount`, which `send()` grows without bound) plus the
 * slow-consumer backlogs. The per-client high-water mark bounds one client; this bounds
 * all of them together, however many are slow.
 *
 * Socket memory is estimated as payload plus ~1 KiB per queued message
 * ({@link bufferedCost}): for small frames the per-message cost dominates.
 *
 * The per-client high-water mark in force is at most an equal share of half the budget
 * (`budget / 2 / clients`, at least 64 KiB), updated on every connect and close, so the
 * clients' socket buffers together stay within half the budget even between samples.
 *
 * Sampled periodically (all sockets, one cheap read each):
 * - below half the budget: nothing changes;
 * - from half the budget: the high-water mark in force drops to a quarter of that
 *   (at least 64 KiB: a reader of small frames routinely has dozens in flight), so clients that fall behind switch to conflation (latest quote/book per
 *   symbol, trades queued by reference) instead of growing socket buffers;
 * - above the budget: the clients holding the most that have been over their
 *   high-water mark for at least `graceMs` (1 s) are disconnected (`slow_consumer`,
 *   close 1008) until the total is back under three quarters of it, and new WebSocket
 *   connections are refused (HTTP 503, `overloaded`) while it stays above.
 *
 * Sockets already closed by the gateway whose peer still does not read are counted too:
 * Deno cannot free them before the peer or the kernel gives up (deno-runtime-notes §1).
 * @module
 */
import { bufferedCost, type Client, type Delivery } from "./policy.ts";

/** Budget settings. */
export interface BudgetPolicy {
  /** Bytes held for all clients together before the budget applies; 0 = no budget. */
  budget: number;
  /** The configured per-client high-water mark (restored when pressure falls). */
  highWaterMark: number;
  /**
   * How long a client must have been over its high-water mark before the budget may
   * shed it, ms: a reader briefly behind (the gateway's own pause) is never shed.
   */
  graceMs?: number;
}

/** What the last sample found. */
export interface BudgetState {
  /** Bytes held for clients (socket buffers + backlogs + closed-but-stuck sockets). */
  held: number;
  /** `held` in closed sockets the peer still does not read. */
  lingering: number;
  /** The budget, bytes (0 = none). */
  budget: number;
  /** `normal`, `tight` (high-water mark lowered) or `over` (shedding clients, refusing new ones). */
  pressure: "normal" | "tight" | "over";
  /** High-water mark in force, bytes. */
  highWaterMark: number;
  /** Clients disconnected by the budget since start. */
  disconnects: number;
}

/** The budget's sampler. */
export interface MemoryBudget {
  /**
   * Measures what is held and applies the policy. `lingering` are sockets the gateway
   * has closed whose close has not completed.
   */
  sample(clients: Iterable<Client>, lingering: Iterable<Client>, now?: number): BudgetState;
  /** The last sample. */
  state(): BudgetState;
  /** True while new connections should be refused. */
  overloaded(): boolean;
  /** Tells the budget how many clients are connected (on every connect and close). */
  clientsChanged(count: number): void;
}

/** Smallest high-water mark the budget sets (≈ 50 small frames in flight, estimated). */
const MIN_TIGHT_HWM = 64 * 1024;

/**
 * Creates the budget. `disconnect` closes a client with the given detail (the gateway's
 * slow-consumer disconnect).
 */
export function createMemoryBudget(
  policy: BudgetPolicy,
  delivery: Pick<Delivery, "setHighWaterMark" | "highWaterMark">,
  disconnect: (client: Client, detail: string) => void,
): MemoryBudget {
  let clientCount = 0;
  let pressure: BudgetState["pressure"] = "normal";
  /**
   * The per-client mark: the configured one, but never more than an equal share of half
   * the budget, so all clients at their marks together stay within it between samples.
   */
  const baseHwm = () =>
    policy.budget > 0
      ? Math.max(
        MIN_TIGHT_HWM,
        Math.min(policy.highWaterMark, Math.floor(policy.budget / 2 / Math.max(1, clientCount))),
      )
      : policy.highWaterMark;
  const tightHwm = () => Math.max(MIN_TIGHT_HWM, Math.floor(baseHwm() / 4));
  const apply = () => delivery.setHighWaterMark(pressure === "normal" ? baseHwm() : tightHwm());
  let state: BudgetState = {
    held: 0,
    lingering: 0,
    budget: policy.budget,
    pressure: "normal",
    highWaterMark: policy.highWaterMark,
    disconnects: 0,
  };

  const heldBy = (client: Client): number => bufferedCost(client) + (client.backlog?.bytes ?? 0);

  return {
    sample(clients, lingering, now = performance.now()) {
      let lingeringBytes = 0;
      for (const client of lingering) lingeringBytes += bufferedCost(client);
      let held = lingeringBytes;
      const holders: { client: Client; bytes: number }[] = [];
      let count = 0;
      for (const client of clients) {
        count++;
        const bytes = heldBy(client);
        if (bytes === 0) continue;
        held += bytes;
        holders.push({ client, bytes });
      }
      let disconnects = state.disconnects;
      const budget = policy.budget;
      if (budget > 0 && held > budget) {
        // Shed the biggest holders that are really behind (above the tightened mark);
        // a client with a few frames in flight is never shed. Their socket part keeps
        // counting (as lingering) until the close completes, so later samples stay honest.
        holders.sort((a, b) => b.bytes - a.bytes);
        let projected = held;
        const graceMs = policy.graceMs ?? 1000;
        const behindMark = tightHwm();
        for (const { client, bytes } of holders) {
          if (projected <= budget * 0.75 || bytes < behindMark) break;
          // Only clients that have stayed behind (conflating) for the grace period.
          if (client.slowSince === 0 || now - client.slowSince < graceMs) continue;
          disconnect(
            client,
            `gateway memory budget (${budget} bytes) exceeded; this connection held the most (${bytes} bytes)`,
          );
          disconnects++;
          projected -= bytes;
        }
      }
      clientCount = count;
      pressure = budget === 0
        ? "normal"
        : held > budget
        ? "over"
        : held >= budget / 2
        ? "tight"
        : "normal";
      apply();
      state = {
        held,
        lingering: lingeringBytes,
        budget,
        pressure,
        highWaterMark: delivery.highWaterMark(),
        disconnects,
      };
      return state;
    },
    state: () => state,
    overloaded: () => state.pressure === "over",
    clientsChanged(count) {
      clientCount = count;
      apply();
    },
  };
}

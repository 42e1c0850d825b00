/**
 * Test helpers: start a gateway on an ephemeral port with given feeds, and a
 * WebSocket client that records what it receives.
 */
import { type CoreConfig, coreConfigSchema } from "../core/server/config.ts";
import type { FeedSpec } from "../core/ingest/supervisor.ts";
import { type Gateway, startGateway } from "../core/server/gateway.ts";
import { pluginConfig } from "../core/ingest/plugin_config.ts";
import { scripted } from "./fixtures/scripted_plugin.ts";

/** Core settings for tests: ephemeral port on loopback, quiet shutdown. */
export function testConfig(overrides: Partial<Record<keyof CoreConfig, unknown>> = {}): CoreConfig {
  return coreConfigSchema.parse({
    port: 0,
    host: "127.0.0.1",
    shutdownGraceMs: 1000,
    ...overrides,
  });
}

/** A feed spec for the scripted test exchange. */
export function scriptedFeed(
  symbols: string[],
  config: Record<string, unknown> = {},
): FeedSpec {
  return {
    plugin: scripted,
    workerUrl: new URL("./fixtures/scripted_worker.ts", import.meta.url),
    config: pluginConfig(scripted, {}, config),
    symbols,
    channels: ["trade", "quote"],
  };
}

/** Starts a gateway for a test. */
export function gatewayWith(
  feeds: FeedSpec[],
  overrides: Partial<Record<keyof CoreConfig, unknown>> = {},
): Promise<Gateway> {
  return startGateway({ config: testConfig(overrides), feeds });
}

/** A test WebSocket client that keeps every parsed frame. */
export interface TestClient {
  socket: WebSocket;
  frames: Record<string, unknown>[];
  send(frame: unknown): void;
  /**
   * Resolves with the first frame received at index `from` or later (default: from now on)
   * that matches. Rejects with `timed out after N ms waiting for: <what>` (default: the
   * matcher's source), or as soon as the socket closes without such a frame.
   */
  next(
    match: (f: Record<string, unknown>) => boolean,
    timeoutMs?: number,
    from?: number,
    what?: string,
  ): Promise<Record<string, unknown>>;
  /** Index of the first frame at index `from` or later that matches (waits like `next`). */
  indexOf(
    match: (f: Record<string, unknown>) => boolean,
    timeoutMs?: number,
    from?: number,
    what?: string,
  ): Promise<number>;
  /** Resolves once `predicate(frames)` holds; rejects like `next`. */
  until(
    predicate: (frames: Record<string, unknown>[]) => boolean,
    timeoutMs?: number,
    what?: string,
  ): Promise<void>;
  close(): Promise<void>;
}

/** A short description of a predicate for timeout messages: its source, on one line. */
export function describe(fn: (...args: never[]) => unknown): string {
  const text = fn.toString().replace(/\s+/g, " ");
  return text.length > 160 ? text.slice(0, 157) + "..." : text;
}

/** Connects a test client to `gateway`'s `/ws`. */
export async function connect(gateway: Gateway, path = "/ws"): Promise<TestClient> {
  const socket = new WebSocket(gateway.url.replace("http", "ws") + path);
  const frames: Record<string, unknown>[] = [];
  const waiters = new Set<(closed: boolean) => void>();
  let isClosed = false;
  /**
   * Waiters are checked once per burst of frames, not once per frame: a predicate that scans
   * every frame would otherwise be quadratic and starve the gateway sharing this event loop.
   */
  let checkPending = false;
  const checkWaiters = () => {
    checkPending = false;
    for (const w of waiters) w(false);
  };
  socket.onmessage = (e) => {
    frames.push(JSON.parse(e.data));
    if (!checkPending && waiters.size > 0) {
      checkPending = true;
      setTimeout(checkWaiters, 0);
    }
  };
  const closed = new Promise<void>((r) =>
    socket.addEventListener("close", () => {
      isClosed = true;
      for (const w of waiters) w(true);
      r();
    })
  );
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("connect failed"));
  });
  const lastFrames = () => JSON.stringify(frames.slice(-3)).slice(0, 600);
  const until = (
    predicate: (frames: Record<string, unknown>[]) => boolean,
    timeoutMs = 5000,
    what = describe(predicate),
  ) =>
    new Promise<void>((resolve, reject) => {
      if (predicate(frames)) return resolve();
      const fail = (why: string) => {
        waiters.delete(check);
        clearTimeout(timer);
        reject(new Error(`${why} waiting for: ${what}; last frames: ${lastFrames()}`));
      };
      const check = (closing: boolean) => {
        if (predicate(frames)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        } else if (closing) {
          fail(`socket closed after ${frames.length} frames`);
        }
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      if (isClosed) return fail(`socket closed after ${frames.length} frames`);
      waiters.add(check);
    });
  const indexOf = async (
    match: (f: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
    from = frames.length,
    what = `frame matching ${describe(match)}`,
  ) => {
    let found = -1;
    await until(
      (fs) => {
        for (let i = Math.max(0, from); i < fs.length; i++) {
          if (match(fs[i])) {
            found = i;
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      `${what} (from frame ${from})`,
    );
    return found;
  };
  return {
    socket,
    frames,
    send: (frame) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    async next(match, timeoutMs, from, what) {
      return frames[await indexOf(match, timeoutMs, from, what)];
    },
    indexOf,
    until,
    async close() {
      if (socket.readyState < WebSocket.CLOSING) socket.close();
      await closed;
    },
  };
}

/** GET a gateway path and parse the JSON body. */
export async function getJson(
  gateway: Gateway,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(gateway.url + path);
  return { status: res.status, body: await res.json() };
}

/** GET the gateway's Prometheus text. */
export async function metricsText(gateway: Gateway): Promise<string> {
  const res = await fetch(gateway.url + "/metrics");
  return await res.text();
}

/**
 * The value of one sample in Prometheus text (`name{labels} value`), or undefined when absent.
 * `labels` is matched exactly as printed, e.g. `exchange="scripted"`.
 */
export function metricValue(text: string, name: string, labels = ""): number | undefined {
  const series = labels ? `${name}{${labels}}` : name;
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** Pause between polls of `waitFor`, ms. */
const POLL_MS = 10;

/**
 * Waits until `predicate` holds, polling every 10 ms. Throws
 * `timed out after N ms waiting for: <what>` (default: the predicate's source) when it does
 * not hold in time, so a wait never runs out silently before the asserts that follow it.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what: string = describe(predicate),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Waits until `value()` returns something other than undefined and resolves with it; throws
 * like `waitFor` otherwise.
 */
export async function waitForValue<T>(
  value: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
  what: string = describe(value),
): Promise<T> {
  let found: T | undefined;
  await waitFor(async () => (found = await value()) !== undefined, timeoutMs, what);
  return found!;
}

/**
 * The one kind of timed pause a test may take: when the behaviour under test is that something
 * does NOT happen within `ms` (no frame, no reconnect, no resend). Waits `ms`, checking
 * `violated()` every 10 ms, and throws `<what> within N ms` if it ever returns true.
 * Without `violated`, it only lets `ms` pass (the caller asserts afterwards).
 */
export async function assertQuietFor(
  ms: number,
  what: string,
  violated: () => boolean | Promise<boolean> = () => false,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await violated()) throw new Error(`expected no ${what} within ${ms} ms, but it happened`);
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
  }
  if (await violated()) throw new Error(`expected no ${what} within ${ms} ms, but it happened`);
}

/**
 * A pause for behaviour measured in time itself (e.g. a per-second rate window that must
 * end), where no event can be waited on. `why` says what the time is for; prefer
 * {@link waitFor} or {@link assertQuietFor} wherever a condition exists.
 */
export async function elapse(ms: number, _why: string): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

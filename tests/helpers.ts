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
  /** Resolves with the first frame (from now on, or already received after index `from`) that matches. */
  next(
    match: (f: Record<string, unknown>) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves once `predicate(frames)` holds. */
  until(
    predicate: (frames: Record<string, unknown>[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  close(): Promise<void>;
}

/** Connects a test client to `gateway`'s `/ws`. */
export async function connect(gateway: Gateway, path = "/ws"): Promise<TestClient> {
  const socket = new WebSocket(gateway.url.replace("http", "ws") + path);
  const frames: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  socket.onmessage = (e) => {
    frames.push(JSON.parse(e.data));
    for (const w of waiters) w();
  };
  const closed = new Promise<void>((r) => socket.addEventListener("close", () => r()));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("connect failed"));
  });
  const until = (
    predicate: (frames: Record<string, unknown>[]) => boolean,
    timeoutMs = 5000,
  ) =>
    new Promise<void>((resolve, reject) => {
      if (predicate(frames)) return resolve();
      const check = () => {
        if (predicate(frames)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms; last frames: ${
              JSON.stringify(frames.slice(-3)).slice(0, 600)
            }`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
    });
  return {
    socket,
    frames,
    send: (frame) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    async next(match, timeoutMs = 5000, from = frames.length) {
      let found: Record<string, unknown> | undefined;
      await until((fs) => (found = fs.slice(from).find(match)) !== undefined, timeoutMs);
      return found!;
    },
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

/** Waits until `predicate` holds, polling. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The plain WebSocket client the emulator tests talk through: it records every frame
 * (raw and parsed) and waits for frames by condition, saying what it waited for when it
 * gives up.
 * @module
 */
import { describe } from "../helpers.ts";

// deno-lint-ignore no-explicit-any
export type Json = any;

/** A WebSocket client that records every frame. */
export interface EmulatorClient {
  ws: WebSocket;
  /** Every text frame, as received. */
  frames: string[];
  /** Every frame parsed (`{ unparsable: text }` when it is not JSON). */
  messages: Json[];
  /**
   * The next frame (after the last one `next` returned) matching `pred`. Throws
   * `timed out after N ms waiting for: <what>` or when the socket closes first.
   */
  next(pred?: (m: Json) => boolean, timeoutMs?: number, what?: string): Promise<Json>;
  /** The first frame received so far, in any position, matching `pred`; waits like `next`. */
  until(pred: (m: Json) => boolean, timeoutMs?: number, what?: string): Promise<Json>;
  /** Parsed frames received so far. */
  parsed(): Json[];
  send(message: unknown): void;
  closed: Promise<CloseEvent>;
  close(): Promise<CloseEvent>;
}

/** Connects to `url` and records every frame. */
export async function connect(url: string): Promise<EmulatorClient> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  const messages: Json[] = [];
  let cursor = 0;
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const w of wakers) w();
  };
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
  ws.addEventListener("message", (e) => {
    const text = e.data as string;
    frames.push(text);
    try {
      messages.push(JSON.parse(text));
    } catch {
      messages.push({ unparsable: text });
    }
    wake();
  });
  ws.addEventListener("close", wake);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), {
      once: true,
    });
  });
  /** Resolves with `find()`'s first non-undefined result, re-checking on every frame. */
  const waitFrame = async (
    find: () => Json | undefined,
    timeoutMs: number,
    what: string,
  ): Promise<Json> => {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = find();
      if (found !== undefined) return found;
      const last = JSON.stringify(messages.slice(-2)).slice(0, 400);
      if (ws.readyState !== WebSocket.OPEN) {
        throw new Error(`socket closed waiting for: ${what}; last: ${last}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}; last: ${last}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      let waker: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        waker = resolve;
        wakers.add(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      wakers.delete(waker!);
    }
  };
  return {
    ws,
    frames,
    messages,
    next(pred = () => true, timeoutMs = 3000, what = `next frame matching ${describe(pred)}`) {
      return waitFrame(
        () => {
          while (cursor < messages.length) {
            const m = messages[cursor++];
            if (pred(m)) return m;
          }
          return undefined;
        },
        timeoutMs,
        what,
      );
    },
    until(pred, timeoutMs = 3000, what = `a frame matching ${describe(pred)}`) {
      return waitFrame(() => messages.find(pred), timeoutMs, what);
    },
    parsed: () => messages.slice(),
    send: (message) => ws.send(typeof message === "string" ? message : JSON.stringify(message)),
    closed,
    close() {
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close();
      return closed;
    },
  };
}

/**
 * The SDK's reconnecting socket against a local WebSocket server: reconnect
 * with backoff after a drop, stale detection (silence and a plugin's own
 * check), make-before-break replacement, and a clean stop.
 */
import assert from "node:assert/strict";
import {
  type Connection,
  createReconnectingSocket,
  type HandoverEvent,
  type ReconnectingSocket,
  type ReconnectingSocketOptions,
} from "../../mod.ts";
import { waitFor } from "../helpers.ts";

interface TestServer {
  url: string;
  /** Server side of every accepted connection, in order. */
  sockets: WebSocket[];
  /** Text received on each connection. */
  received: string[][];
  /** Connections currently open. */
  openCount(): number;
  close(): Promise<void>;
}

/** A WebSocket server on 127.0.0.1; `onSocket` runs for each accepted connection. */
function startServer(onSocket: (socket: WebSocket, index: number) => void = () => {}): TestServer {
  const sockets: WebSocket[] = [];
  const received: string[][] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    const index = sockets.length;
    sockets.push(socket);
    received.push([]);
    socket.onmessage = (e) => received[index].push(String(e.data));
    socket.onopen = () => onSocket(socket, index);
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/`,
    sockets,
    received,
    openCount: () => sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
    async close() {
      for (const s of sockets) if (s.readyState === WebSocket.OPEN) s.close();
      await server.shutdown();
    },
  };
}

/** Sends `tick` every 10 ms while the socket is open and `enabled()` holds. */
function ticking(socket: WebSocket, enabled: () => boolean = () => true): void {
  const timer = setInterval(() => {
    if (socket.readyState !== WebSocket.OPEN) return clearInterval(timer);
    if (enabled()) socket.send("tick");
  }, 10);
}

interface Recorder {
  socket: ReconnectingSocket;
  opens: Connection[];
  frames: Array<[Connection, string]>;
  stale: string[];
  reconnecting: Array<{ reason: string; delay: number; reconnect: number }>;
  handover: HandoverEvent[];
}

/** A reconnecting socket that records every callback and reports data frames as delivering. */
function recorded(
  url: string,
  options: Partial<ReconnectingSocketOptions> = {},
): Recorder {
  const r: Recorder = {
    opens: [],
    frames: [],
    stale: [],
    reconnecting: [],
    handover: [],
  } as unknown as Recorder;
  r.socket = createReconnectingSocket({
    url,
    connectTimeoutMs: 2000,
    deadAfterMs: 5000,
    backoff: { baseMs: 50, capMs: 200 },
    onOpen(connection) {
      r.opens.push(connection);
      connection.send("subscribe");
    },
    onFrame(connection, text) {
      r.frames.push([connection, text]);
      if (text === "tick") r.socket.delivering(connection);
    },
    onStale: (reason) => r.stale.push(reason),
    onReconnecting: (reason, delay, reconnect) => r.reconnecting.push({ reason, delay, reconnect }),
    onHandover: (event) => r.handover.push(event),
    ...options,
  });
  return r;
}

Deno.test("after the server drops the connection it reconnects within the backoff ceiling and subscribes again", async () => {
  const server = startServer((socket) => ticking(socket));
  const r = recorded(server.url);
  try {
    r.socket.start();
    await waitFor(
      () => server.received[0]?.includes("subscribe") ?? false,
      5000,
      "the first subscribe",
    );
    await waitFor(() => r.frames.length > 0, 5000, "a first frame");
    server.sockets[0].close(1001, "going away");
    await waitFor(() => r.reconnecting.length === 1, 5000, "the reconnect report");
    assert.match(r.reconnecting[0].reason, /connection closed: code 1001/);
    assert.equal(r.reconnecting[0].reconnect, 1);
    assert.ok(
      r.reconnecting[0].delay >= 0 && r.reconnecting[0].delay <= 50,
      "first delay within baseMs",
    );
    await waitFor(
      () => server.received[1]?.includes("subscribe") ?? false,
      5000,
      "the subscribe on the new connection",
    );
    assert.equal(r.opens.length, 2);
    assert.equal(r.socket.reconnects(), 1);
    assert.equal(r.socket.current(), r.opens[1]);
  } finally {
    await r.socket.stop();
    await server.close();
  }
});

Deno.test("a connection silent for deadAfterMs is reported stale and replaced by a new one", async () => {
  const server = startServer(); // never sends anything
  const r = recorded(server.url, { deadAfterMs: 150 });
  try {
    r.socket.start();
    await waitFor(() => r.reconnecting.length >= 1, 5000, "the stale connection to be dropped");
    assert.match(r.stale[0], /^no data for \d+ ms$/);
    assert.equal(r.reconnecting[0].reason, `stale: ${r.stale[0]}`);
    await waitFor(() => r.opens.length >= 2, 5000, "a new connection after the stale one");
    await waitFor(
      () => server.sockets[0].readyState === WebSocket.CLOSED,
      5000,
      "the stale socket to close",
    );
  } finally {
    await r.socket.stop();
    await server.close();
  }
});

Deno.test("the plugin's own stale check (e.g. an unanswered ping) drops a connection that still delivers", async () => {
  const server = startServer((socket) => ticking(socket));
  let pingDue = false;
  const r = recorded(server.url, {
    describeSilence: (ms) => `no message for ${ms} ms`,
    staleCheckEveryMs: 20,
    checkStale: () => pingDue ? "ping 1 unanswered for 999 ms" : undefined,
  });
  try {
    r.socket.start();
    await waitFor(() => r.frames.length > 0, 5000, "a first frame");
    assert.equal(r.stale.length, 0, "frames keep it alive");
    pingDue = true;
    await waitFor(() => r.reconnecting.length === 1, 5000, "the connection to be dropped");
    assert.deepEqual(r.stale, ["ping 1 unanswered for 999 ms"]);
    assert.equal(r.reconnecting[0].reason, "stale: ping 1 unanswered for 999 ms");
  } finally {
    await r.socket.stop();
    await server.close();
  }
});

Deno.test("replace() is make-before-break: the old connection closes only once the replacement delivers", async () => {
  let releaseSecond = false;
  const server = startServer((socket, index) =>
    ticking(socket, () => index === 0 || releaseSecond)
  );
  const r = recorded(server.url);
  try {
    r.socket.start();
    await waitFor(() => r.frames.length > 0, 5000, "data on the first connection");
    const first = r.socket.current()!;
    r.socket.replace("serverShutdown");
    await waitFor(() => r.handover.some((e) => e.kind === "open"), 5000, "the replacement to open");
    assert.equal(
      server.openCount(),
      2,
      "both connections are open while the replacement is silent",
    );
    assert.equal(r.socket.current(), first, "the old connection stays current");
    releaseSecond = true;
    await waitFor(() => r.handover.some((e) => e.kind === "done"), 5000, "the handover");
    await waitFor(
      () => server.sockets[0].readyState === WebSocket.CLOSED,
      5000,
      "the old socket to close",
    );
    assert.deepEqual(r.handover.map((e) => e.kind), ["start", "open", "done"]);
    assert.equal(r.socket.current(), r.opens[1]);
    assert.equal(r.socket.handovers(), 1);
    assert.equal(r.socket.reconnects(), 0, "a handover is not a reconnect");
    assert.equal(r.reconnecting.length, 0);
  } finally {
    await r.socket.stop();
    await server.close();
  }
});

Deno.test("stop() closes every socket and sends nothing afterwards", async () => {
  const server = startServer((socket) => ticking(socket));
  const r = recorded(server.url);
  r.socket.start();
  try {
    await waitFor(() => r.frames.length > 0, 5000, "a first frame");
    await r.socket.stop();
    await waitFor(() => server.openCount() === 0, 5000, "the server to see the socket close");
    assert.equal(r.socket.current(), undefined);
    assert.equal(r.socket.send("late"), false, "nothing is sent after stop");
    assert.equal(r.reconnecting.length, 0, "a requested stop is not reported as a lost connection");
  } finally {
    await server.close();
  }
});

/**
 * One fan-out isolate of bench/parallel_ceiling.ts: its own
 * `Deno.serve({ reusePort: true })` on the shared port, and a broadcast of every
 * frame the main isolate posts to the clients this isolate accepted. Same
 * per-client logic as bench/ceiling_server.ts (any first text frame subscribes,
 * 1 MiB `bufferedAmount` skip, `idleTimeout: 0`).
 *
 * Protocol (worker ← main): `{ type: "start", index, port, host }`, then
 * `{ type: "frame", seq, us, bytes }` per event, `{ type: "stats" }` on request.
 * Protocol (worker → main): `{ type: "listening", index, port }`,
 * `{ type: "clients", index, n }` (throttled), `{ type: "ack", index, seq }`
 * one event-loop turn after each broadcast, `{ type: "stats", index, ... }`.
 * @module
 */

/// <reference lib="deno.worker" />
import { setImmediate } from "node:timers";

/** Messages the main isolate sends to a fan-out worker. */
export type ToWorker =
  | { type: "start"; index: number; port: number; host: string }
  | { type: "frame"; seq: number; us: number; bytes: Uint8Array }
  | { type: "stats" };

/** Per-worker counters reported on `stats`. */
export interface WorkerStats {
  type: "stats";
  index: number;
  clients: number;
  /** Clients ever subscribed to this isolate (connection split). */
  accepted: number;
  frames: number;
  sent: number;
  skipped: number;
  /** Main stamp → worker receipt of the frame (µs): mean and max. */
  hopMeanUs: number;
  hopMaxUs: number;
  /** Time spent inside broadcast loops (µs, mean per frame). */
  broadcastMeanUs: number;
}

/** Messages a fan-out worker sends to the main isolate. */
export type FromWorker =
  | { type: "listening"; index: number; port: number }
  | { type: "clients"; index: number; n: number }
  | { type: "ack"; index: number; seq: number }
  | WorkerStats;

const HIGH_WATER_MARK = 1024 * 1024;
const clients = new Set<WebSocket>();
let index = -1;
let accepted = 0;
let frames = 0;
let sent = 0;
let skipped = 0;
let hopSumUs = 0;
let hopMaxUs = 0;
let broadcastSumUs = 0;
let clientsReportPending = false;

const post = (msg: FromWorker) => self.postMessage(msg);

function reportClients(): void {
  if (clientsReportPending) return;
  clientsReportPending = true;
  setTimeout(() => {
    clientsReportPending = false;
    post({ type: "clients", index, n: clients.size });
  }, 20);
}

function broadcast(bytes: Uint8Array): void {
  for (const ws of clients) {
    if (ws.bufferedAmount > HIGH_WATER_MARK) {
      skipped++;
      continue;
    }
    ws.send(bytes);
    sent++;
  }
}

function serve(port: number, host: string): void {
  Deno.serve({
    port,
    hostname: host,
    reusePort: true,
    onListen: (addr) => post({ type: "listening", index, port: addr.port }),
  }, (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("upgrade required", { status: 426 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    socket.onmessage = () => {
      if (clients.has(socket)) return;
      clients.add(socket);
      accepted++;
      socket.send(JSON.stringify({ type: "subscribed", isolate: index }));
      reportClients();
    };
    socket.onclose = () => {
      if (clients.delete(socket)) reportClients();
    };
    socket.onerror = () => {};
    return response;
  });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === "frame") {
    const t0 = performance.now();
    const hop = (performance.timeOrigin + t0) * 1000 - msg.us;
    hopSumUs += hop;
    if (hop > hopMaxUs) hopMaxUs = hop;
    frames++;
    broadcast(msg.bytes);
    broadcastSumUs += (performance.now() - t0) * 1000;
    // Ack after one event-loop turn (the writes just queued get polled first), as the
    // ceiling's `broadcast(); setImmediate(loop)`: at saturation the main isolate
    // stamps the next frame only then.
    const seq = msg.seq;
    setImmediate(() => post({ type: "ack", index, seq }));
  } else if (msg.type === "start") {
    index = msg.index;
    serve(msg.port, msg.host);
  } else if (msg.type === "stats") {
    post({
      type: "stats",
      index,
      clients: clients.size,
      accepted,
      frames,
      sent,
      skipped,
      hopMeanUs: frames ? hopSumUs / frames : 0,
      hopMaxUs,
      broadcastMeanUs: frames ? broadcastSumUs / frames : 0,
    });
  }
};

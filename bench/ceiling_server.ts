/**
 * Per-write ceiling: the least a Deno WebSocket server can do per delivery. A bare
 * `Deno.serve` + `upgradeWebSocket` broadcast of one pre-encoded frame (default
 * 200 B, carrying the same µs stamp field as the emulator's trades) to every
 * subscribed client, as in deno-runtime-notes.md §6: no parsing, no routing, no
 * per-client state beyond a 1 MiB `bufferedAmount` skip. The gateway is measured
 * against it in the same run (target ≥ 85% of it).
 *
 * ```sh
 * deno run --allow-net bench/ceiling_server.ts --port 3200            # saturate
 * deno run --allow-net bench/ceiling_server.ts --port 3200 --rate 100 # 100 events/s
 * ```
 * Saturation is a closed loop: broadcast one frame to everyone, yield with
 * `setImmediate`, repeat. Any first text frame from a client subscribes it.
 * @module
 */
import { parseArgs } from "node:util";
import { setImmediate } from "node:timers";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "3200" },
    host: { type: "string", default: "127.0.0.1" },
    rate: { type: "string", default: "0" },
    size: { type: "string", default: "200" },
    "stamp-field": { type: "string", default: "benchTs" },
  },
});
const rate = Number(values.rate);
const size = Number(values.size);
const field = values["stamp-field"]!;
const HIGH_WATER_MARK = 1024 * 1024;

const clients = new Set<WebSocket>();
const encoder = new TextEncoder();
let seq = 0;
let skipped = 0;
let sent = 0;

/** One pre-encoded frame of exactly `size` bytes with the send stamp. */
function frame(): Uint8Array {
  const us = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const head = `{"type":"trade","seq":${++seq},"${field}":${us},"pad":"`;
  const pad = Math.max(0, size - head.length - 2);
  return encoder.encode(head + "x".repeat(pad) + `"}`);
}

function broadcast(): void {
  if (clients.size === 0) return;
  const bytes = frame();
  for (const ws of clients) {
    if (ws.bufferedAmount > HIGH_WATER_MARK) {
      skipped++;
      continue;
    }
    ws.send(bytes);
    sent++;
  }
}

if (rate > 0) {
  const origin = performance.now();
  let emitted = 0;
  setInterval(() => {
    const due = Math.floor((performance.now() - origin) * rate / 1000);
    let n = due - emitted;
    if (n > rate / 10) n = Math.ceil(rate / 10);
    emitted = due;
    for (let i = 0; i < n; i++) broadcast();
  }, 1);
} else {
  const loop = () => {
    broadcast();
    setImmediate(loop);
  };
  // Idle until someone subscribes, then spin.
  const wait = () => clients.size > 0 ? loop() : setTimeout(wait, 5);
  wait();
}

const server = Deno.serve({
  port: Number(values.port),
  hostname: values.host,
  onListen: ({ port }) => console.log(`ceiling server listening on 127.0.0.1:${port}`),
}, (req) => {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("upgrade required", { status: 426 });
  }
  const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
  socket.onmessage = () => {
    if (clients.has(socket)) return;
    clients.add(socket);
    socket.send(JSON.stringify({ type: "subscribed" }));
  };
  socket.onclose = () => clients.delete(socket);
  socket.onerror = () => {};
  return response;
});

const stop = () => {
  console.log(JSON.stringify({ sent, skipped, seq }));
  server.shutdown().finally(() => Deno.exit(0));
  setTimeout(() => Deno.exit(0), 1000);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

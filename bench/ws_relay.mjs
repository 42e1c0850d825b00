// The minimal broadcast relay most users would write themselves on Node's `ws`
// package: one upstream WebSocket to the exchange (here the Binance emulator's
// combined stream), every upstream message broadcast unchanged to every client
// that sent a subscribe frame. It is the comparison point for the gateway in
// bench/run.ts, so it is kept reasonable: the `ws` docs' broadcast loop (the
// received Buffer is sent as is, no re-encoding), no permessage-deflate, and a
// 1 MiB bufferedAmount guard so a stuck client cannot grow memory without bound.
// It does not normalize, validate, backfill or conflate anything.
//
//   node bench/ws_relay.mjs --port 3100 --upstream 'ws://127.0.0.1:9443/stream?streams=btcusdt@trade'
//
// `ws` resolves from /work/main/node_modules (a symlink into node_modules/.deno/).
import http from "node:http";
import { parseArgs } from "node:util";
import { WebSocket, WebSocketServer } from "ws";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "3100" },
    host: { type: "string", default: "127.0.0.1" },
    upstream: { type: "string" },
    "high-water-mark": { type: "string", default: String(1024 * 1024) },
  },
});
if (!values.upstream) {
  console.error("--upstream ws://... is required");
  process.exit(2);
}
const highWaterMark = Number(values["high-water-mark"]);

const server = http.createServer((_req, res) => {
  res.writeHead(404, { "content-type": "application/json" });
  res.end('{"error":"not_found"}');
});
const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false });
const subscribers = new Set();
let skipped = 0;

wss.on("connection", (ws) => {
  ws.on("message", (data) => {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg?.action === "subscribe") {
      subscribers.add(ws);
      ws.send(JSON.stringify({ type: "subscribed", id: msg.id }));
    } else if (msg?.action === "unsubscribe") {
      subscribers.delete(ws);
    }
  });
  ws.on("close", () => subscribers.delete(ws));
  ws.on("error", () => subscribers.delete(ws));
});

let upstreamMessages = 0;
function connectUpstream() {
  const up = new WebSocket(values.upstream, { perMessageDeflate: false });
  up.on("open", () => console.log(`relay upstream connected: ${values.upstream}`));
  up.on("message", (data, isBinary) => {
    upstreamMessages++;
    for (const client of subscribers) {
      if (client.readyState !== WebSocket.OPEN) continue;
      if (client.bufferedAmount > highWaterMark) {
        skipped++;
        continue;
      }
      client.send(data, { binary: isBinary });
    }
  });
  up.on("close", () => setTimeout(connectUpstream, 500));
  up.on("error", (err) => console.error(`relay upstream error: ${err.message}`));
}

server.listen(Number(values.port), values.host, () => {
  console.log(`relay listening on ${values.host}:${server.address().port}`);
  connectUpstream();
});

const stop = () => {
  console.log(JSON.stringify({ upstreamMessages, skipped, clients: wss.clients.size }));
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

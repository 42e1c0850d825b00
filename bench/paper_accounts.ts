/**
 * Opens `--accounts` WebSocket connections to a gateway and gives each (an open-access account
 * per connection) one resting paper order on `--symbol`: a GTC buy one to 20 ticks below the
 * best bid, so the book updates the gateway applies touch the prices the orders rest at. Prints
 * `{"event":"ready",...}` once every order rests, then holds the connections until stdin closes
 * or SIGTERM. Used by bench/recording_overhead.ts `--feature paper`.
 *
 *   deno run -A bench/paper_accounts.ts --url ws://127.0.0.1:3000/ws --accounts 1000
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string", default: "ws://127.0.0.1:3000/ws" },
    accounts: { type: "string", default: "1000" },
    exchange: { type: "string", default: "binance" },
    symbol: { type: "string", default: "BTCUSDT" },
  },
});
const N = Number(values.accounts);
const http = values.url!.replace(/^ws/, "http").replace(/\/ws$/, "");
const book = await (await fetch(
  `${http}/api/book?exchange=${values.exchange}&symbol=${values.symbol}&depth=20`,
)).json();
const bids = book.bids as [number, number][];
if (!bids?.length) throw new Error(`no book of ${values.symbol}: ${JSON.stringify(book)}`);

const sockets: WebSocket[] = [];
let resting = 0;
let refused = 0;
await new Promise<void>((resolve, reject) => {
  for (let i = 0; i < N; i++) {
    const ws = new WebSocket(values.url!);
    sockets.push(ws);
    ws.onopen = () =>
      ws.send(JSON.stringify({
        action: "order",
        id: i,
        exchange: values.exchange,
        symbol: values.symbol,
        side: "buy",
        type: "limit",
        price: bids[i % bids.length][0],
        quantity: 0.001,
      }));
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.id !== i) return;
      if (f.type === "order") resting++;
      else refused++;
      if (resting + refused === N) resolve();
    };
    ws.onerror = () => reject(new Error(`connection ${i} failed`));
  }
});
console.log(JSON.stringify({ event: "ready", accounts: N, resting, refused }));
const stop = () => {
  for (const ws of sockets) ws.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", stop);
for await (const _ of Deno.stdin.readable) { /* hold until stdin closes */ }
stop();

/**
 * A WebSocket proxy between a client and a gateway, for client tests: it forwards every
 * frame both ways, can drop gateway frames (`drop`), and can cut every connection at once
 * (`cut`), as a network failure would; the gateway sees its client leave, the client sees
 * its socket close.
 */

/** A running proxy. */
export interface WsProxy {
  /** `ws://127.0.0.1:PORT` (append the gateway path, e.g. `/ws?batch=1`). */
  readonly url: string;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Gateway → client messages for which this returns true are not forwarded. */
  drop: (message: string) => boolean;
  /** Closes both sides of every open connection. */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`ws://host:port`). */
export function startProxy(target: string): WsProxy {
  const pairs = new Set<{ client: WebSocket; upstream: WebSocket }>();
  let cuts = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const url = new URL(req.url);
    const { socket: client, response } = Deno.upgradeWebSocket(req);
    const upstream = new WebSocket(target + url.pathname + url.search);
    const early: string[] = [];
    const pair = { client, upstream };
    pairs.add(pair);
    upstream.onopen = () => early.splice(0).forEach((m) => upstream.send(m));
    upstream.onmessage = (e) => {
      if (client.readyState === WebSocket.OPEN && !proxy.drop(e.data)) client.send(e.data);
    };
    client.onmessage = (e) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(e.data);
      else early.push(e.data);
    };
    const end = () => {
      pairs.delete(pair);
      if (client.readyState < WebSocket.CLOSING) client.close();
      if (upstream.readyState < WebSocket.CLOSING) upstream.close();
    };
    upstream.onclose = end;
    client.onclose = end;
    upstream.onerror = () => {};
    client.onerror = () => {};
    return response;
  });
  const proxy: WsProxy = {
    url: `ws://127.0.0.1:${server.addr.port}`,
    get cuts() {
      return cuts;
    },
    drop: () => false,
    cut() {
      cuts++;
      for (const { client, upstream } of [...pairs]) {
        client.close();
        upstream.close();
      }
      pairs.clear();
    },
    async close() {
      proxy.cut();
      await server.shutdown();
    },
  };
  return proxy;
}

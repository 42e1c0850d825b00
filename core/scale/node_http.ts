/**
 * The HTTP face of a node that serves no clients (the recorder): `GET /health` with
 * the node's state as JSON, `GET /ready`, and a JSON 404 for everything else.
 * @module
 */
import { getLogger } from "../server/log.ts";

/** A running health listener. */
export interface NodeHttp {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `/health` (the node's `health()` as JSON) and `/ready` on `host:port`. */
export function serveNodeHealth(
  o: { port: number; host: string; role: string; health: () => object },
): NodeHttp {
  const server = Deno.serve({ port: o.port, hostname: o.host, onListen: () => {} }, (req) => {
    const { pathname } = new URL(req.url);
    if (req.method !== "GET") {
      return Response.json({ error: "method_not_allowed", message: "GET only" }, { status: 405 });
    }
    if (pathname === "/health") return Response.json({ role: o.role, ...o.health() });
    if (pathname === "/ready") return Response.json({ ready: true });
    return Response.json(
      { error: "not_found", message: `a ${o.role} node serves GET /health and /ready only` },
      { status: 404 },
    );
  });
  const port = (server.addr as Deno.NetAddr).port;
  getLogger(["quant-saas", "node"]).info("{role} node: health on http://{host}:{port}/health", {
    role: o.role,
    host: o.host,
    port,
  });
  return { port, close: () => server.shutdown() };
}

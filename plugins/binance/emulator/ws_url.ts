/**
 * The WebSocket URL forms Binance accepts: raw `/ws/<a>/<b>`, bare `/ws`,
 * combined `/stream?streams=<a>/<b>` (or bare `/stream`), with an optional
 * `timeUnit=MICROSECOND`.
 * @module
 */
import type { TimeMultiplier } from "./payloads.ts";
import { parseStream } from "./streams.ts";

/** An accepted connection request. */
export interface WsTarget {
  ok: true;
  streams: string[];
  combined: boolean;
  tm: TimeMultiplier;
}

/** A refused connection request: HTTP status and Binance-shaped body. */
export interface WsRefusal {
  ok: false;
  status: number;
  body: string;
}

const refuse = (status: number, code: number, msg: string): WsRefusal => ({
  ok: false,
  status,
  body: JSON.stringify({ code, msg }),
});

/** Parses a WebSocket request path (`/ws/...` or `/stream?...`). */
export function parseWsUrl(path: string, maxStreams: number): WsTarget | WsRefusal {
  const url = new URL(path, "http://localhost");
  let streams: string[];
  let combined: boolean;
  if (url.pathname === "/ws" || url.pathname.startsWith("/ws/")) {
    combined = false;
    try {
      streams = url.pathname.slice(3).split("/").filter((s) => s !== "").map(decodeURIComponent);
    } catch {
      return refuse(400, -1100, "Invalid request: invalid stream");
    }
  } else if (url.pathname === "/stream" || url.pathname === "/stream/") {
    combined = true;
    streams = (url.searchParams.get("streams") ?? "").split("/").filter((s) => s !== "");
  } else {
    return refuse(404, -1000, `Unknown path: ${url.pathname}`);
  }
  const unit = (url.searchParams.get("timeUnit") ?? "MILLISECOND").toUpperCase();
  if (unit !== "MILLISECOND" && unit !== "MICROSECOND") {
    return refuse(400, -1100, "Invalid timeUnit: expected MILLISECOND or MICROSECOND.");
  }
  const unique = [...new Set(streams)];
  const bad = unique.find((s) => parseStream(s) === undefined);
  if (bad !== undefined) return refuse(400, -1100, `Invalid request: invalid stream ${bad}`);
  if (unique.length > maxStreams) {
    return refuse(
      400,
      -1100,
      `Invalid request: too many streams (maximum ${maxStreams} per connection)`,
    );
  }
  return { ok: true, streams: unique, combined, tm: unit === "MICROSECOND" ? 1000 : 1 };
}

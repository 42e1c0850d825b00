/**
 * The downstream WebSocket URL forms Binance accepts, below the proxy's
 * prefix: raw `/ws` and `/ws/<a>/<b>`, combined `/stream?streams=<a>/<b>` (or
 * bare `/stream`), with an optional `timeUnit=MICROSECOND`.
 * @module
 */
import { parseStreamName } from "./stream_names.ts";

/** An accepted connection request. */
export interface ClientTarget {
  ok: true;
  streams: string[];
  combined: boolean;
  /** 1 for milliseconds, 1000 for microseconds. */
  timeMultiplier: 1 | 1000;
}

/** A refused request: HTTP status and Binance-shaped body. */
export interface ClientRefusal {
  ok: false;
  status: number;
  body: string;
}

const refuse = (status: number, code: number, msg: string): ClientRefusal => ({
  ok: false,
  status,
  body: JSON.stringify({ code, msg }),
});

/** True for the paths that take a WebSocket. */
export function isStreamPath(path: string): boolean {
  return path === "/ws" || path.startsWith("/ws/") || path === "/stream" || path === "/stream/";
}

/**
 * Parses a stream path (below the prefix) and its query. Path segments of
 * `/ws/...` that are not stream names are ignored, as Binance does (ccxt
 * connects to `/ws/<n>` and subscribes afterwards); an invalid name in
 * `streams=` is refused.
 */
export function parseClientUrl(
  path: string,
  query: URLSearchParams,
  maxStreams: number,
): ClientTarget | ClientRefusal {
  let streams: string[];
  let combined: boolean;
  if (path === "/ws" || path.startsWith("/ws/")) {
    combined = false;
    try {
      streams = path.slice(3).split("/").filter((s) => s !== "").map(decodeURIComponent);
    } catch {
      return refuse(400, -1100, "Invalid request: invalid stream");
    }
    streams = streams.filter((s) => parseStreamName(s) !== undefined);
  } else if (path === "/stream" || path === "/stream/") {
    combined = true;
    streams = (query.get("streams") ?? "").split("/").filter((s) => s !== "");
    const bad = streams.find((s) => parseStreamName(s) === undefined);
    if (bad !== undefined) return refuse(400, -1100, `Invalid request: invalid stream ${bad}`);
  } else {
    return refuse(404, -1000, `Unknown path: ${path}`);
  }
  const unit = (query.get("timeUnit") ?? "MILLISECOND").toUpperCase();
  if (unit !== "MILLISECOND" && unit !== "MICROSECOND") {
    return refuse(400, -1100, "Invalid timeUnit: expected MILLISECOND or MICROSECOND.");
  }
  const unique = [...new Set(streams)];
  if (unique.length > maxStreams) {
    return refuse(
      400,
      -1100,
      `Invalid request: too many streams (maximum ${maxStreams} per connection)`,
    );
  }
  return { ok: true, streams: unique, combined, timeMultiplier: unit === "MICROSECOND" ? 1000 : 1 };
}

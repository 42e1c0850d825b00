/**
 * The query of a `/replay` request: `from` and `to` as ISO 8601 or epoch ms,
 * `speed` a positive factor or `max`, `batch` as on `/ws`. Checked before the
 * upgrade; a bad one is answered 400 with the gateway's JSON error.
 * @module
 */

/** A valid replay query. */
export interface ReplayQuery {
  /** Start of the window, epoch ms (receive time, inclusive). */
  from: number;
  /** End of the window, epoch ms (inclusive); absent: catch up and continue live. */
  to?: number;
  /** Pacing factor over recorded receive times, or `"max"` (as fast as the socket drains). */
  speed: number | "max";
  /** Batched delivery (`?batch=1`), as on `/ws`. */
  batch: boolean;
}

/** Why a query was refused. */
export interface ReplayQueryError {
  code: "invalid_query";
  message: string;
}

/** Largest accepted speed factor. */
export const MAX_SPEED = 1_000_000;

/** Epoch ms of `text`: digits are epoch ms, anything else must be an ISO 8601 date(-time). */
export function parseTime(text: string): number | undefined {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Validates a replay query; `now` bounds `from` and `to` (neither may be in the future). */
export function parseReplayQuery(
  params: URLSearchParams,
  now: number,
): ReplayQuery | ReplayQueryError {
  const fail = (message: string): ReplayQueryError => ({ code: "invalid_query", message });
  const known = new Set(["from", "to", "speed", "batch"]);
  for (const key of params.keys()) {
    if (!known.has(key)) return fail(`unknown parameter ${key}; expected from, to, speed, batch`);
  }
  const fromText = params.get("from");
  if (fromText === null || fromText === "") {
    return fail("from is required (ISO 8601 or epoch ms)");
  }
  const from = parseTime(fromText);
  if (from === undefined) return fail(`from must be ISO 8601 or epoch ms, got ${fromText}`);
  if (from > now) return fail("from is in the future");
  const toText = params.get("to");
  let to: number | undefined;
  if (toText !== null && toText !== "") {
    to = parseTime(toText);
    if (to === undefined) return fail(`to must be ISO 8601 or epoch ms, got ${toText}`);
    if (to <= from) return fail("to must be after from");
    if (to > now) return fail("to is in the future; omit it to continue live after the replay");
  }
  const speedText = params.get("speed") ?? "1";
  let speed: number | "max";
  if (speedText === "max") speed = "max";
  else {
    speed = /^\d+(\.\d+)?$/.test(speedText) ? Number(speedText) : NaN;
    if (!(speed > 0) || speed > MAX_SPEED) {
      return fail(`speed must be a positive number up to ${MAX_SPEED} or max, got ${speedText}`);
    }
    if (to === undefined && speed <= 1) {
      return fail(
        "a replay without to must catch up with live: speed must be above 1 (or max)",
      );
    }
  }
  const batch = params.get("batch");
  return { from, to, speed, batch: batch === "1" || batch === "true" };
}

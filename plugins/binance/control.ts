/**
 * Binance's WebSocket control messages (SUBSCRIBE, UNSUBSCRIBE,
 * LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY) and Binance's replies and
 * error objects, byte for byte. Shared by the emulator and the proxy; each
 * passes its own stream-name grammar.
 * @module
 */

/** A request id: 64-bit integer, alphanumeric string of up to 36 characters, or null. */
export type ControlId = number | string | null;

/** A valid control request. */
export type ControlCommand =
  | { method: "SUBSCRIBE" | "UNSUBSCRIBE"; streams: string[]; id: ControlId }
  | { method: "LIST_SUBSCRIPTIONS"; id: ControlId }
  | { method: "SET_PROPERTY"; combined: boolean; id: ControlId }
  | { method: "GET_PROPERTY"; id: ControlId };

/** Either a command to run, or the error reply to send. */
export type ControlParse = { ok: true; command: ControlCommand } | { ok: false; reply: string };

const METHODS = ["SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY"];
const MAX_I64 = 2n ** 63n;

/** `{"result":<result>,"id":<id>}`. */
export function resultReply(result: unknown, id: ControlId): string {
  return `{"result":${JSON.stringify(result ?? null)},"id":${JSON.stringify(id)}}`;
}

/** `{"error":{"code":<code>,"msg":"<msg>"},"id":<id>}`. */
export function errorReply(code: number, msg: string, id: ControlId): string {
  return `{"error":{"code":${code},"msg":${JSON.stringify(msg)}},"id":${JSON.stringify(id)}}`;
}

/** `{"id":null,"error":{"code":3,"msg":"Invalid JSON: ..."}}` for unparsable text. */
export function invalidJsonReply(text: string, error: unknown): string {
  const [line, column] = errorPosition(text, error);
  return `{"id":null,"error":{"code":3,"msg":"Invalid JSON: expected value at line ${line} column ${column}"}}`;
}

function errorPosition(text: string, error: unknown): [number, number] {
  const message = error instanceof Error ? error.message : "";
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return [Number(lc[1]), Number(lc[2])];
  const pos = /position (\d+)/.exec(message);
  const offset = pos ? Number(pos[1]) : text.length;
  const before = text.slice(0, offset).split("\n");
  return [before.length, before[before.length - 1].length + 1];
}

function validId(value: unknown): value is ControlId {
  if (value === null) return true;
  if (typeof value === "number") {
    return Number.isInteger(value) && BigInt(value) < MAX_I64 && BigInt(value) >= -MAX_I64;
  }
  return typeof value === "string" && /^[A-Za-z0-9]{1,36}$/.test(value);
}

const invalid = (msg: string, id: ControlId): ControlParse => ({
  ok: false,
  reply: errorReply(2, `Invalid request: ${msg}`, id),
});

/** Parses one text frame into a control command, or the exact error reply. */
export function parseControl(
  text: string,
  isStream: (name: string) => boolean,
): ControlParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reply: invalidJsonReply(text, error) };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalid("expected a JSON object", null);
  }
  const message = value as Record<string, unknown>;
  const rawId = "id" in message ? message.id : null;
  if (!validId(rawId)) return invalid("request ID must be an unsigned integer", null);
  const id = rawId;
  const method = message.method;
  if (method === undefined) return invalid("missing field `method`", id);
  if (typeof method !== "string" || !METHODS.includes(method)) {
    return invalid(
      `unknown variant \`${String(method)}\`, expected one of ${
        METHODS.map((m) => `\`${m}\``).join(", ")
      }`,
      id,
    );
  }
  const params = message.params;
  if (params !== undefined && !Array.isArray(params)) {
    return invalid("invalid type: expected a sequence for `params`", id);
  }
  const list: unknown[] = params ?? [];
  switch (method) {
    case "SUBSCRIBE":
    case "UNSUBSCRIBE": {
      if (params === undefined) return invalid("missing field `params`", id);
      const streams: string[] = [];
      for (const item of list) {
        if (typeof item !== "string" || !isStream(item)) {
          return invalid("invalid stream", id);
        }
        if (!streams.includes(item)) streams.push(item);
      }
      return { ok: true, command: { method, streams, id } };
    }
    case "LIST_SUBSCRIPTIONS":
      if (list.length > 0) return invalid("too many parameters", id);
      return { ok: true, command: { method, id } };
    case "GET_PROPERTY":
      if (list.length > 1) return invalid("too many parameters", id);
      if (list.length === 0) return invalid("missing parameters", id);
      if (list[0] !== "combined") {
        return { ok: false, reply: errorReply(0, "Unknown property", id) };
      }
      return { ok: true, command: { method, id } };
    default: {
      if (list.length > 2) return invalid("too many parameters", id);
      if (list.length < 2) return invalid("missing parameters", id);
      if (list[0] !== "combined") {
        return { ok: false, reply: errorReply(0, "Unknown property", id) };
      }
      if (typeof list[1] !== "boolean") {
        return { ok: false, reply: errorReply(1, "Invalid value type: expected Boolean", id) };
      }
      return { ok: true, command: { method: "SET_PROPERTY", combined: list[1], id } };
    }
  }
}

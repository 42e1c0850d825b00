/**
 * The combined-stream envelope `{"stream":"<name>","data":<payload>}`: split
 * without parsing, so a payload is relayed as the exact bytes received, and
 * the raw form is a slice of the combined one.
 * @module
 */

/** One upstream data frame in both downstream forms. */
export interface Envelope {
  stream: string;
  /** The frame as received: what combined-stream clients get. */
  combined: string;
  /** The payload alone: what raw-stream clients get. */
  data: string;
}

const HEAD = '{"stream":"';
const MIDDLE = '","data":';

/**
 * Splits a combined-stream frame. Binance's own serialization takes the fast
 * path (no parsing, no copy of the payload); anything else that is still a
 * valid envelope is re-serialized once. `undefined` when `text` is no envelope.
 */
export function splitEnvelope(text: string): Envelope | undefined {
  if (text.startsWith(HEAD)) {
    const end = text.indexOf('"', HEAD.length);
    if (
      end > HEAD.length && text.startsWith(MIDDLE, end) &&
      text.charCodeAt(text.length - 1) === 125 /* } */ &&
      !text.slice(HEAD.length, end).includes("\\")
    ) {
      const data = text.slice(end + MIDDLE.length, text.length - 1);
      const first = data.charCodeAt(0);
      if (first === 123 /* { */ || first === 91 /* [ */) {
        return { stream: text.slice(HEAD.length, end), combined: text, data };
      }
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { stream, data } = value as { stream?: unknown; data?: unknown };
  if (typeof stream !== "string" || typeof data !== "object" || data === null) return undefined;
  const payload = JSON.stringify(data);
  return { stream, combined: wrapCombined(stream, payload), data: payload };
}

/** `{"stream":"<name>","data":<payload>}`, as Binance serializes it. */
export function wrapCombined(stream: string, payload: string): string {
  return `{"stream":${JSON.stringify(stream)},"data":${payload}}`;
}

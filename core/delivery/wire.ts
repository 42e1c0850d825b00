/**
 * Client wire format on the fan-out path: each event is serialized at most once
 * per distinct form (with or without `raw`), never once per client. The frame
 * itself is defined in protocol/frames.ts.
 * @module
 */
import { type Position, type StreamEvent, streamEventFrame } from "../protocol/frames.ts";

/** Lazily serialized forms of one event. */
export interface Encoded {
  /** With the `raw` field (the seed's default). */
  withRaw(): string;
  /** Without the `raw` field. */
  plain(): string;
}

/** Wraps an event (at its stream position, if any) so each form is serialized on first use and then reused. */
export function encodeOnce(event: StreamEvent, unified?: string, at?: Position): Encoded {
  let raw: string | undefined;
  let plain: string | undefined;
  return {
    withRaw: () => raw ??= streamEventFrame(event, true, unified, at),
    plain: () => plain ??= streamEventFrame(event, false, unified, at),
  };
}

/**
 * The recording writer's Worker: owns a {@link BlockWriter} and writes the batches
 * the recorder posts, one after the other, answering each with its results.
 * @module
 */
import { type BlockWriter, type BlockWriterOptions, createBlockWriter } from "./block_writer.ts";
import { closeWriter, type FromWriter, type ToWriter, writeParts } from "./sink.ts";

let writer: BlockWriter | undefined;
let options: BlockWriterOptions | undefined;
let openError = "recording not opened";

const open = () => {
  if (!options) return;
  try {
    writer = createBlockWriter(options);
  } catch (err) {
    openError = err instanceof Error ? err.message : String(err);
  }
};
interface WriterScope {
  onmessage: ((e: MessageEvent<ToWriter>) => void) | null;
  postMessage(message: FromWriter): void;
}
const scope = self as unknown as WriterScope;
const post = (msg: FromWriter) => scope.postMessage(msg);

scope.onmessage = (e) => {
  const msg = e.data;
  switch (msg.type) {
    case "open":
      options = msg.options;
      open();
      post(writer ? { type: "opened" } : { type: "opened", error: openError });
      break;
    case "write":
      // Not open yet: try again, the folder may have become writable.
      if (!writer) open();
      post({
        type: "written",
        id: msg.id,
        results: writer
          ? writeParts(writer, msg.parts)
          : msg.parts.map(() => ({ ok: false as const, error: openError })),
      });
      break;
    case "close": {
      let warnings: string[] = [];
      try {
        if (writer) warnings = closeWriter(writer);
      } catch (err) {
        warnings = [`closing the recording: ${err instanceof Error ? err.message : String(err)}`];
      }
      writer = undefined;
      post({ type: "closed", warnings });
      break;
    }
  }
};

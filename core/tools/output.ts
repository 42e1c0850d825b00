/**
 * Buffered text output for the command-line tools: lines are gathered into
 * chunks of ~64 KiB and written fully, awaiting each write, so memory stays
 * bounded whatever the reader's speed. A closed pipe (`| head`) ends quietly.
 * @module
 */

/** Where text goes. */
export interface TextSink {
  /** Appends `text`; awaits a write when the buffer is full. Resolves false once the reader is gone. */
  write(text: string): Promise<boolean>;
  /** Writes what is buffered. */
  flush(): Promise<boolean>;
}

const CHUNK = 64 * 1024;

/** A buffered sink over a writer such as `Deno.stdout` or an opened file. */
export function bufferedSink(writer: { write(p: Uint8Array): Promise<number> }): TextSink {
  const encoder = new TextEncoder();
  let parts: string[] = [];
  let size = 0;
  let closed = false;
  const flush = async (): Promise<boolean> => {
    if (closed) return false;
    if (parts.length === 0) return true;
    let bytes = encoder.encode(parts.join(""));
    parts = [];
    size = 0;
    try {
      while (bytes.length > 0) bytes = bytes.subarray(await writer.write(bytes));
    } catch (err) {
      if (err instanceof Deno.errors.BrokenPipe) {
        closed = true;
        return false;
      }
      throw err;
    }
    return true;
  };
  return {
    write(text) {
      parts.push(text);
      size += text.length;
      return size >= CHUNK ? flush() : Promise.resolve(!closed);
    },
    flush,
  };
}

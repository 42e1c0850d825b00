/** Helpers of the command-line tool tests: a recording made here, and the tasks run as a user runs them. */
import type { RecordedItem } from "../../core/history/mod.ts";
import { generateStream } from "../history/fixture_stream.ts";
import { recordAll } from "../history/helpers.ts";

/** Start of the generated recording: 2026-12-07T10:00:00Z. */
export const START = Date.UTC(2026, 11, 7, 10, 0, 0);

/** A recording of `seconds` of generated Binance + Kraken data in a fresh temporary folder. */
export async function makeRecording(
  seconds = 10,
): Promise<{ dir: string; recorded: RecordedItem[]; cleanup(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "tools-test-" });
  const { items } = generateStream({ start: START, seconds });
  const recorded = await recordAll(items, dir, { worker: false });
  return { dir, recorded, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

/** What a finished command printed and returned. */
export interface TaskResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno task <name> -- ...args` from the repository root, with the program's deno.json. */
export async function runTask(name: string, args: string[]): Promise<TaskResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--config", "deno.json", "-q", name, "--", ...args],
    cwd: new URL("../../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF records). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

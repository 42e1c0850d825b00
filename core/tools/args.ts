/**
 * Argument parsing shared by the `replay` and `export` commands: the recording
 * folder, the time range and the filters, validated with messages a user can act
 * on. A bad argument is a {@link UsageError}; the commands print it with their
 * usage text and exit with code 2.
 * @module
 */
import { parseArgs } from "node:util";
import { type Channel, CHANNELS } from "../events.ts";

/** A command-line argument was missing or invalid (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** What both commands read: the recording and which part of it. */
export interface SelectionArgs {
  dir: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, inclusive. */
  to: number;
  exchanges?: string[];
  symbols?: string[];
  channels?: Channel[];
}

/** Options of `node:util` parseArgs understood by both commands. */
export const SELECTION_OPTIONS = {
  dir: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  exchanges: { type: "string" },
  symbols: { type: "string" },
  channels: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * A time given as ISO 8601 (`2026-12-07`, `2026-12-07T10:00:00Z`) or epoch ms
 * (`1796638110494`). Throws {@link UsageError} naming the flag.
 */
export function parseTime(flag: string, text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed);
    if (Number.isSafeInteger(ms)) return ms;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(
    `--${flag} must be an ISO 8601 time (2026-12-07T10:00:00Z) or epoch milliseconds, got "${text}"`,
  );
}

/** A comma-separated list (`binance,kraken`), without empty entries. */
export function parseList(flag: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw new UsageError(`--${flag} must name at least one value`);
  return list;
}

/** Flag values as `node:util` parseArgs returns them. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Parses `args` with `options` (strict, no positionals), turning parse errors into {@link UsageError}. */
export function parseFlags(
  args: string[],
  options: NonNullable<Parameters<typeof parseArgs>[0]>["options"],
): FlagValues {
  // `deno task replay -- --dir ...` passes the `--` on: skip it.
  const rest = args[0] === "--" ? args.slice(1) : args;
  try {
    return parseArgs({ args: rest, options, strict: true, allowPositionals: false })
      .values as FlagValues;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Validates the selection flags shared by both commands. With `defaultTo`, `--to` may be
 * left out and is then `defaultTo()` (`replay`: up to now).
 */
export async function selectionOf(
  values: FlagValues,
  defaultTo?: () => number,
): Promise<SelectionArgs> {
  const text = (flag: string): string | undefined => {
    const v = values[flag];
    return typeof v === "string" ? v : undefined;
  };
  const dir = text("dir");
  if (dir === undefined || dir === "") throw new UsageError("--dir <recording folder> is required");
  const stat = await Deno.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory) throw new UsageError(`--dir ${dir}: no such folder`);
  const fromText = text("from");
  const toText = text("to");
  if (fromText === undefined) throw new UsageError("--from <time> is required");
  if (toText === undefined && !defaultTo) throw new UsageError("--to <time> is required");
  const from = parseTime("from", fromText);
  const to = toText === undefined ? defaultTo!() : parseTime("to", toText);
  if (to < from) {
    throw new UsageError(
      toText === undefined
        ? `--from (${fromText}) is in the future`
        : `--to (${toText}) is before --from (${fromText})`,
    );
  }
  const channels = parseList("channels", text("channels"));
  for (const c of channels ?? []) {
    if (!(CHANNELS as readonly string[]).includes(c)) {
      throw new UsageError(`--channels: unknown channel "${c}" (one of ${CHANNELS.join(", ")})`);
    }
  }
  return {
    dir,
    from,
    to,
    exchanges: parseList("exchanges", text("exchanges")),
    symbols: parseList("symbols", text("symbols")),
    channels: channels as Channel[] | undefined,
  };
}

/**
 * Runs a command's `main`: a {@link UsageError} prints its message and `usage` on
 * stderr and exits with 2; any other error prints it and exits with 1.
 */
export async function runCommand(usage: string, main: () => Promise<void>): Promise<never> {
  try {
    await main();
    Deno.exit(0);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${usage}`);
      Deno.exit(2);
    }
    console.error(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    Deno.exit(1);
  }
}

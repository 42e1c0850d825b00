/**
 * Structured logging through LogTape: one `setupLogging` at start-up, then
 * `getLogger(["quant-saas", ...])` anywhere.
 * @module
 */
import {
  configure,
  getConsoleSink,
  getJsonLinesFormatter,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogLevel,
} from "@logtape/logtape";

export { getLogger, type Logger };

/** Root category of every gateway log record. */
export const LOG_ROOT = "quant-saas";

/** Configures LogTape for the process (idempotent: replaces any earlier setup). */
export async function setupLogging(
  level: LogLevel,
  format: "text" | "json" = "text",
): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      console: getConsoleSink({
        formatter: format === "json" ? getJsonLinesFormatter() : getTextFormatter({
          timestamp: "date-time-tz",
          value: (v) => typeof v === "string" ? v : Deno.inspect(v, { colors: false }),
        }),
      }),
    },
    loggers: [
      { category: [LOG_ROOT], lowestLevel: level, sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

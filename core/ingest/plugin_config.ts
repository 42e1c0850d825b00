/**
 * Builds a plugin's configuration from environment variables through the
 * plugin's own zod schema, with a clear message on bad values.
 * @module
 */
import type { FeedPlugin } from "../feed/plugin.ts";
import { ConfigError, describeIssues } from "../server/config.ts";

/** Validated configuration of `plugin` from `env` (its declared variables only) plus `overrides`. */
export function pluginConfig<C>(
  plugin: FeedPlugin<C>,
  env: Record<string, string | undefined>,
  overrides: Record<string, unknown> = {},
): C {
  const input: Record<string, unknown> = {};
  const varOf: Record<string, string> = {};
  for (const [name, key] of Object.entries(plugin.env)) {
    varOf[key] = name;
    const value = env[name];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const result = plugin.configSchema.safeParse({ ...input, ...overrides });
  if (!result.success) {
    throw new ConfigError(
      describeIssues(result.error, (key) => `${varOf[key] ?? key} (${plugin.name})`),
    );
  }
  return result.data;
}

/**
 * API keys and plans. Keys are kept only as SHA-256 hashes (hex) and compared in
 * constant time; a presented key is hashed and matched against every stored hash.
 * Keys come from a JSON file (`--auth-file` / `AUTH_FILE`) or from the environment
 * (`API_KEYS`, `ADMIN_KEYS`, `PLANS`). With no key configured, authentication is off.
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { CHANNELS } from "../events.ts";
import { ConfigError } from "../server/config.ts";

const limit = z.number().int().min(0);

/** Limits of one plan (tier). `0` means "none allowed"; omit a field to take the default. */
export const planSchema = z.strictObject({
  /** Concurrent WebSocket connections per key. */
  maxConnections: limit.default(10),
  /** Subscriptions (exchange × symbol × channel) per connection. */
  maxSubscriptions: limit.default(100),
  /** Exchanges this plan may stream; `["*"]` for all. */
  exchanges: z.array(z.string().regex(/^([a-z0-9_-]+|\*)$/)).min(1).default(["*"]),
  /** Channels this plan may stream (including `consolidated` and `analytics`); `["*"]` for all. */
  channels: z.array(z.enum(["*", ...CHANNELS, "consolidated", "analytics", "options"])).min(1)
    .default(["*"]),
  /** REST requests per minute per key. */
  restPerMinute: limit.default(600),
  /** Frames per second a client of this plan may send. */
  messagesPerSecond: z.number().int().min(1).default(20),
  /** Paper-trading order actions (order, cancel, amend, route) per second. */
  paperOrdersPerSecond: z.number().int().min(0).default(10),
  /** Open paper orders at once. */
  paperOpenOrders: z.number().int().min(0).default(200),
});

/** Validated limits of one plan. */
export type Plan = z.infer<typeof planSchema>;

const hashOrKey = z.string().min(8).max(256);

/** Schema of the auth file. Keys are SHA-256 hex hashes (`sha256:` prefix optional). */
export const authFileSchema = z.strictObject({
  plans: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), planSchema).default({}),
  keys: z.array(z.strictObject({
    /** Label used in logs and metrics instead of the key. */
    name: z.string().min(1).max(64).optional(),
    /** Hex SHA-256 of the key. */
    sha256: z.string().regex(/^(sha256:)?[0-9a-fA-F]{64}$/, "sha256 must be 64 hex digits"),
    plan: z.string().min(1).max(32).default("default"),
    /** May read `/metrics` and admin views. */
    admin: z.boolean().default(false),
  })).default([]),
});

/** The parsed auth file. */
export type AuthFile = z.infer<typeof authFileSchema>;

/** Who is making a request. */
export interface Principal {
  /** Key label (never the key) or `ip:<address>` without keys. */
  readonly id: string;
  readonly plan: Plan;
  readonly admin: boolean;
  /** True when authenticated with a key. */
  readonly keyed: boolean;
}

/** One stored key. */
interface StoredKey {
  hash: Uint8Array;
  name: string;
  plan: Plan;
  admin: boolean;
}

/** The key store. */
export interface KeyStore {
  /** True when at least one key is configured: requests must then present one. */
  readonly required: boolean;
  /** True when an admin key is configured. */
  readonly hasAdmin: boolean;
  /** The principal of a presented key, or undefined if no stored key matches. */
  lookup(key: string): Promise<Principal | undefined>;
  /** The plans by name (`default` always among them), when the store knows them. */
  readonly plans?: Readonly<Record<string, Plan>>;
}

/** Hex SHA-256 of a key, as stored in the auth file (`deno eval` one-liner in the docs). */
export async function hashKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const fromHex = (hex: string) =>
  Uint8Array.from(hex.replace(/^sha256:/, "").match(/../g)!.map((h) => parseInt(h, 16)));

/** Raised for an invalid auth file or key/plan variables. */
export class AuthConfigError extends ConfigError {
  override name = "AuthConfigError";
}

/** Where keys come from. */
export interface AuthSources {
  /** Contents of the auth file, if any (already read). */
  file?: string;
  /** `API_KEYS`: comma-separated `hash-or-key:plan` pairs (plan defaults to `default`). */
  apiKeys?: string;
  /** `ADMIN_KEYS`: comma-separated hashes or keys with admin rights. */
  adminKeys?: string;
  /** `PLANS`: JSON object plan name → limits. */
  plans?: string;
}

const isHash = (s: string) => /^(sha256:)?[0-9a-fA-F]{64}$/.test(s);

/**
 * Builds the key store. Plain keys given in the environment are hashed at once;
 * only hashes are kept. Every key's plan must exist (`default` always does).
 */
export async function createKeyStore(sources: AuthSources): Promise<KeyStore> {
  let file: AuthFile = { plans: {}, keys: [] };
  if (sources.file !== undefined) {
    let data: unknown;
    try {
      data = JSON.parse(sources.file);
    } catch (err) {
      throw new AuthConfigError(`auth file is not JSON: ${(err as Error).message}`);
    }
    const parsed = authFileSchema.safeParse(data);
    if (!parsed.success) throw new AuthConfigError(`auth file: ${describe(parsed.error)}`);
    file = parsed.data;
  }
  const plans: Record<string, Plan> = { default: planSchema.parse({}), ...file.plans };
  if (sources.plans) {
    let data: unknown;
    try {
      data = JSON.parse(sources.plans);
    } catch (err) {
      throw new AuthConfigError(`PLANS is not JSON: ${(err as Error).message}`);
    }
    const parsed = z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), planSchema).safeParse(
      data,
    );
    if (!parsed.success) throw new AuthConfigError(`PLANS: ${describe(parsed.error)}`);
    Object.assign(plans, parsed.data);
  }
  const planOf = (name: string, where: string) => {
    const plan = plans[name];
    if (!plan) throw new AuthConfigError(`${where}: unknown plan "${name}"`);
    return plan;
  };
  const keys: StoredKey[] = file.keys.map((k, i) => ({
    hash: fromHex(k.sha256),
    name: k.name ?? `key${i + 1}`,
    plan: planOf(k.plan, `auth file key ${k.name ?? i + 1}`),
    admin: k.admin,
  }));
  const envKey = async (value: string, n: number, plan: Plan, admin: boolean, label: string) => {
    if (!hashOrKey.safeParse(value).success) {
      throw new AuthConfigError(`${label} entry ${n}: keys are 8 to 256 characters`);
    }
    const hex = isHash(value) ? value : await hashKey(value);
    keys.push({ hash: fromHex(hex), name: `${label.toLowerCase()}${n}`, plan, admin });
  };
  const entries = (value?: string) =>
    (value ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  let n = 0;
  for (const entry of entries(sources.apiKeys)) {
    n++;
    const colon = entry.lastIndexOf(":");
    const suffix = entry.slice(colon + 1);
    const hasPlan = colon > 0 && entry.slice(0, colon) !== "sha256" &&
      /^[A-Za-z0-9_-]{1,32}$/.test(suffix);
    const value = hasPlan ? entry.slice(0, colon) : entry;
    const plan = hasPlan ? suffix : "default";
    await envKey(value, n, planOf(plan, `API_KEYS entry ${n}`), false, "API_KEYS");
  }
  n = 0;
  for (const entry of entries(sources.adminKeys)) {
    await envKey(entry, ++n, plans.admin ?? plans.default, true, "ADMIN_KEYS");
  }
  return {
    required: keys.length > 0,
    hasAdmin: keys.some((k) => k.admin),
    plans,
    async lookup(key) {
      if (key.length === 0 || key.length > 256) return undefined;
      const hash = fromHex(await hashKey(key));
      let found: StoredKey | undefined;
      // Compare against every key so the time taken does not depend on which matched.
      for (const stored of keys) {
        if (timingSafeEqual(stored.hash, hash) && !found) found = stored;
      }
      return found && { id: found.name, plan: found.plan, admin: found.admin, keyed: true };
    },
  };
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** Subprotocol prefix a browser uses to carry its key: `new WebSocket(url, ["quant-saas", "bearer.KEY"])`. */
export const BEARER_PROTOCOL_PREFIX = "bearer.";
/** Subprotocol the gateway selects when a client offers it. */
export const GATEWAY_PROTOCOL = "quant-saas";

/** Where a request's key was found. */
export type KeySource = "header" | "protocol" | "query";

/**
 * The key presented with a request: `Authorization: Bearer`, else (WebSocket only)
 * a `bearer.<key>` subprotocol, else a `token` query parameter.
 */
export function presentedKey(
  req: Request,
  url: URL,
  websocket: boolean,
): { key: string; source: KeySource } | undefined {
  const header = req.headers.get("authorization");
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (match) return { key: match[1], source: "header" };
  if (!websocket) return undefined;
  const offered = offeredProtocols(req);
  const bearer = offered.find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (bearer) return { key: bearer.slice(BEARER_PROTOCOL_PREFIX.length), source: "protocol" };
  const token = url.searchParams.get("token");
  if (token) return { key: token, source: "query" };
  return undefined;
}

/**
 * The subprotocols a WebSocket client offered: `Sec-WebSocket-Protocol` is a
 * comma-separated token list with optional whitespace (RFC 6455 §11.3.4, RFC 9110
 * §5.6.1), so `a,b`, `a, b` and `a ,\tb` are the same offer; the header may repeat.
 */
export function offeredProtocols(req: Request): string[] {
  return parseProtocolList(req.headers.get("sec-websocket-protocol") ?? "");
}

/** Splits a `Sec-WebSocket-Protocol` value into its tokens (empty elements dropped). */
export function parseProtocolList(header: string): string[] {
  return header.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

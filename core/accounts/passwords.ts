/**
 * Password hashing with scrypt (memory-hard, `node:crypto`): N = 2^15, r = 8, p = 1 (32 MiB and
 * about 200 ms per hash on a shared 2-core machine), a random 16-byte salt per password, a 32-byte hash,
 * compared in constant time. The parameters are stored with each hash
 * (`scrypt$N$r$p$salt$hash`, base64url), so they can be raised later without breaking old ones.
 * @module
 */
import { Buffer } from "node:buffer";
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/** The parameters new hashes are made with. */
export const SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 2 ** 15, r: 8, p: 1 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;

const derive = (password: string, salt: Uint8Array, params: ScryptParams) =>
  new Promise<Uint8Array>((resolve, reject) =>
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_BYTES,
      { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(new Uint8Array(key))),
    )
  );

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

/**
 * Hashes a password for storage.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./passwords.ts";
 *
 * const stored = await hashPassword("correct horse battery staple");
 * console.log(await verifyPassword("correct horse battery staple", stored)); // true
 * ```
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = SCRYPT_PARAMS,
): Promise<string> {
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${b64(salt)}$${b64(key)}`;
}

/**
 * True when `password` matches `stored` (a {@link hashPassword} result). A malformed `stored`
 * is false. The comparison takes the same time wherever the bytes differ.
 *
 * @example
 * ```ts
 * import { verifyPassword } from "./passwords.ts";
 *
 * console.log(await verifyPassword("guess", "not-a-hash")); // false
 * ```
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 2 ** 20) return false;
  const salt = new Uint8Array(Buffer.from(parts[4], "base64url"));
  const expected = new Uint8Array(Buffer.from(parts[5], "base64url"));
  if (expected.length !== KEY_BYTES) return false;
  const actual = await derive(password, salt, { N, r, p });
  return timingSafeEqual(actual, expected);
}

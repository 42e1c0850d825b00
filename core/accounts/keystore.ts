/**
 * The composite key store: the configured keys (auth file, `API_KEYS`, `ADMIN_KEYS`) first,
 * then the keys users created, from the accounts database. A database key authenticates while
 * it is not revoked and its owner exists and is not disabled; its plan is its own or else its
 * owner's, looked up in the configured plans at every use (a plan an admin assigns applies to
 * the next request). Access control is on while any configured key, user or active key exists.
 * @module
 */
import { hashKey, type KeyStore, type Plan, type Principal } from "../access/keys.ts";
import type { AccountsStore } from "./store.ts";

/** The principal id of a database key: `acct:<key id>` (never the key). */
export const accountKeyPrincipal = (keyId: string): string => `acct:${keyId}`;

/** `last_used_at` is written at most this often per key, ms. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Combines the configured key store with the accounts database.
 *
 * @example
 * ```ts ignore
 * const keys = createCompositeKeyStore(await createKeyStore({}), openAccountsStore(path));
 * const who = await keys.lookup(presentedKey); // { id: "acct:…", plan, admin, keyed: true }
 * ```
 */
export function createCompositeKeyStore(
  base: KeyStore,
  accounts: AccountsStore,
  now: () => number = Date.now,
): KeyStore & { readonly plans: Readonly<Record<string, Plan>> } {
  const plans = base.plans ?? {};
  return {
    plans,
    get required() {
      return base.required || accounts.userCount() > 0 || accounts.activeKeyCount() > 0;
    },
    get hasAdmin() {
      return base.hasAdmin || accounts.adminCount() > 0;
    },
    async lookup(key): Promise<Principal | undefined> {
      const configured = await base.lookup(key);
      if (configured) return configured;
      if (key.length === 0 || key.length > 256) return undefined;
      const row = accounts.keyByHash(await hashKey(key));
      if (!row || row.revokedAt !== null) return undefined;
      const owner = accounts.getUser(row.owner);
      if (!owner || owner.disabled) return undefined;
      // A plan removed from the configuration since: the key does not authenticate.
      const plan = plans[row.plan ?? owner.plan];
      if (!plan) return undefined;
      const at = now();
      if (row.lastUsedAt === null || at - row.lastUsedAt >= TOUCH_EVERY_MS) {
        accounts.touchKey(row.id, at);
      }
      return { id: accountKeyPrincipal(row.id), plan, admin: owner.admin, keyed: true };
    },
  };
}

/**
 * Opens the accounts of a gateway: the database (`ACCOUNTS_DB`), the first admin
 * (`ADMIN_USER` + `ADMIN_PASSWORD`, created if missing, never logged), the composite key store,
 * sessions and lockout. The gateway adds its usage counters and connection closing to build the
 * routes.
 * @module
 */
import type { KeyStore, Plan } from "../access/keys.ts";
import { type AccountsStore, openAccountsStore } from "./store.ts";
import { hashPassword } from "./passwords.ts";
import { createSessions, type Sessions } from "./sessions.ts";
import { createLockout, type Lockout } from "./lockout.ts";
import { createCompositeKeyStore } from "./keystore.ts";

/** What {@link openAccounts} needs. */
export interface AccountsOptions {
  /** The database file. */
  path: string;
  /** The configured key store (auth file, env keys) and its plans. */
  base: KeyStore;
  /** First admin, created at start if no user has this name. */
  adminUser?: string;
  adminPassword?: string;
  /** Session lifetimes, ms. */
  sessionIdleMs: number;
  sessionMaxMs: number;
  now?: () => number;
}

/** Open accounts. */
export interface Accounts {
  readonly store: AccountsStore;
  /** Configured keys, then database keys. */
  readonly keys: KeyStore & { readonly plans: Readonly<Record<string, Plan>> };
  readonly sessions: Sessions;
  readonly lockout: Lockout;
  /** True when the first admin was created by this start. */
  readonly createdAdmin: boolean;
  close(): void;
}

/**
 * Opens the accounts database and everything built on it.
 *
 * @example
 * ```ts
 * import { createKeyStore } from "../access/keys.ts";
 * import { openAccounts } from "./open.ts";
 *
 * const accounts = await openAccounts({
 *   path: ":memory:",
 *   base: await createKeyStore({}),
 *   adminUser: "root",
 *   adminPassword: "a long passphrase",
 *   sessionIdleMs: 3_600_000,
 *   sessionMaxMs: 43_200_000,
 * });
 * console.log(accounts.keys.required); // true: a user exists, keys are needed
 * accounts.close();
 * ```
 */
export async function openAccounts(options: AccountsOptions): Promise<Accounts> {
  const now = options.now ?? Date.now;
  const store = openAccountsStore(options.path);
  try {
    const keys = createCompositeKeyStore(options.base, store, now);
    let createdAdmin = false;
    if (options.adminUser !== undefined && options.adminPassword !== undefined) {
      if (!store.getUser(options.adminUser)) {
        store.insertUser({
          username: options.adminUser,
          passwordHash: await hashPassword(options.adminPassword),
          admin: true,
          plan: keys.plans.admin ? "admin" : "default",
          disabled: false,
          createdAt: now(),
        });
        createdAdmin = true;
      }
    }
    return {
      store,
      keys,
      sessions: createSessions(store, {
        idleMs: options.sessionIdleMs,
        maxMs: options.sessionMaxMs,
        now,
      }),
      lockout: createLockout(store, { now }),
      createdAdmin,
      close: () => store.close(),
    };
  } catch (err) {
    store.close();
    throw err;
  }
}

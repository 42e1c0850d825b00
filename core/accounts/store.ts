/**
 * The accounts database (`ACCOUNTS_DB`, one `node:sqlite` file): users, API keys, sessions and
 * failed sign-ins, behind a schema version table and forward-only migrations. Secrets are never
 * stored: passwords as scrypt hashes (passwords.ts), keys and session tokens as SHA-256 hex.
 * Every statement is prepared with parameters; no value is ever spliced into SQL.
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** A user as stored (the password hash stays in here). */
export interface UserRow {
  username: string;
  passwordHash: string;
  admin: boolean;
  plan: string;
  disabled: boolean;
  createdAt: number;
}

/** An API key as stored: its hash, never the key. */
export interface KeyRow {
  id: string;
  owner: string;
  name: string;
  /** Hex SHA-256 of the key (as core/access/keys.ts stores auth-file keys). */
  hash: string;
  /** The first characters of the key, shown so a user can tell keys apart. */
  prefix: string;
  /** The key's own plan; null = the owner's. */
  plan: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A session as stored: the hash of its token. */
export interface SessionRow {
  tokenHash: string;
  username: string;
  csrf: string;
  createdAt: number;
  /** Absolute expiry, ms. */
  expiresAt: number;
  /** Idle expiry, ms (moves on with use). */
  idleExpiresAt: number;
}

/** The accounts database. */
export interface AccountsStore {
  /** Schema version after migrations. */
  readonly version: number;
  userCount(): number;
  getUser(username: string): UserRow | undefined;
  listUsers(): UserRow[];
  insertUser(user: UserRow): void;
  updateUser(username: string, change: Partial<Omit<UserRow, "username" | "createdAt">>): void;
  adminCount(): number;
  /** Active (not revoked) keys. */
  activeKeyCount(): number;
  insertKey(key: KeyRow): void;
  keyByHash(hash: string): KeyRow | undefined;
  getKey(id: string): KeyRow | undefined;
  /** Keys of one owner (or everyone's), revoked ones only when asked. */
  listKeys(owner?: string, withRevoked?: boolean): KeyRow[];
  touchKey(id: string, at: number): void;
  revokeKey(id: string, at: number): void;
  /** Sets a key's own plan (null: its owner's). */
  setKeyPlan(id: string, plan: string | null): void;
  insertSession(session: SessionRow): void;
  getSession(tokenHash: string): SessionRow | undefined;
  touchSession(tokenHash: string, idleExpiresAt: number): void;
  deleteSession(tokenHash: string): void;
  deleteSessionsOf(username: string): void;
  deleteExpiredSessions(now: number): void;
  insertFailure(username: string, ip: string, at: number): void;
  /** Times of failures since `since`, newest first, for a username or an IP. */
  failuresSince(column: "username" | "ip", value: string, since: number): number[];
  deleteFailuresBefore(at: number): void;
  deleteFailuresOf(username: string): void;
  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Forward-only migrations; index + 1 is the schema version each brings. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     username TEXT PRIMARY KEY,
     password_hash TEXT NOT NULL,
     admin INTEGER NOT NULL DEFAULT 0,
     plan TEXT NOT NULL DEFAULT 'default',
     disabled INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL REFERENCES users(username),
     name TEXT NOT NULL,
     key_hash TEXT NOT NULL UNIQUE,
     prefix TEXT NOT NULL,
     plan TEXT,
     created_at INTEGER NOT NULL,
     last_used_at INTEGER,
     revoked_at INTEGER
   );
   CREATE INDEX api_keys_owner ON api_keys(owner);
   CREATE TABLE sessions (
     token_hash TEXT PRIMARY KEY,
     username TEXT NOT NULL REFERENCES users(username),
     csrf TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     idle_expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_user ON sessions(username);
   CREATE TABLE login_failures (
     id INTEGER PRIMARY KEY,
     username TEXT NOT NULL,
     ip TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX login_failures_user ON login_failures(username, at);
   CREATE INDEX login_failures_ip ON login_failures(ip, at);`,
];

type Row = Record<string, unknown>;

const toUser = (r: Row): UserRow => ({
  username: String(r.username),
  passwordHash: String(r.password_hash),
  admin: r.admin === 1,
  plan: String(r.plan),
  disabled: r.disabled === 1,
  createdAt: Number(r.created_at),
});

const toKey = (r: Row): KeyRow => ({
  id: String(r.id),
  owner: String(r.owner),
  name: String(r.name),
  hash: String(r.key_hash),
  prefix: String(r.prefix),
  plan: r.plan === null ? null : String(r.plan),
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

const toSession = (r: Row): SessionRow => ({
  tokenHash: String(r.token_hash),
  username: String(r.username),
  csrf: String(r.csrf),
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  idleExpiresAt: Number(r.idle_expires_at),
});

/**
 * Opens (creating if missing) the accounts database at `path` and brings its schema up to date.
 *
 * @example
 * ```ts
 * import { openAccountsStore } from "./store.ts";
 *
 * const store = openAccountsStore(":memory:");
 * console.log(store.version, store.userCount()); // 1 0
 * store.close();
 * ```
 */
export function openAccountsStore(path: string): AccountsStore {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = db.prepare("SELECT version FROM schema_version").get() as Row | undefined;
    let version = row ? Number(row.version) : 0;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `accounts database schema ${version} is newer than this gateway knows (${MIGRATIONS.length})`,
      );
    }
    while (version < MIGRATIONS.length) {
      db.exec("BEGIN");
      try {
        db.exec(MIGRATIONS[version]);
        db.exec("DELETE FROM schema_version");
        db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(version + 1);
        db.exec("COMMIT");
      } catch (err) {
        db.exec("ROLLBACK");
        throw err;
      }
      version++;
    }
    return storeOver(db, version);
  } catch (err) {
    db.close();
    throw err;
  }
}

function storeOver(db: DatabaseSync, version: number): AccountsStore {
  const q = (sql: string) => db.prepare(sql);
  const s = {
    userCount: q("SELECT COUNT(*) AS n FROM users"),
    getUser: q("SELECT * FROM users WHERE username = ?"),
    listUsers: q("SELECT * FROM users ORDER BY username"),
    insertUser: q(
      "INSERT INTO users (username, password_hash, admin, plan, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    adminCount: q("SELECT COUNT(*) AS n FROM users WHERE admin = 1 AND disabled = 0"),
    activeKeyCount: q("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL"),
    insertKey: q(
      "INSERT INTO api_keys (id, owner, name, key_hash, prefix, plan, created_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    keyByHash: q("SELECT * FROM api_keys WHERE key_hash = ?"),
    getKey: q("SELECT * FROM api_keys WHERE id = ?"),
    listKeysOf: q("SELECT * FROM api_keys WHERE owner = ? ORDER BY created_at, id"),
    listAllKeys: q("SELECT * FROM api_keys ORDER BY owner, created_at, id"),
    touchKey: q("UPDATE api_keys SET last_used_at = ? WHERE id = ?"),
    revokeKey: q("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
    setKeyPlan: q("UPDATE api_keys SET plan = ? WHERE id = ?"),
    insertSession: q(
      "INSERT INTO sessions (token_hash, username, csrf, created_at, expires_at, idle_expires_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    getSession: q("SELECT * FROM sessions WHERE token_hash = ?"),
    touchSession: q("UPDATE sessions SET idle_expires_at = ? WHERE token_hash = ?"),
    deleteSession: q("DELETE FROM sessions WHERE token_hash = ?"),
    deleteSessionsOf: q("DELETE FROM sessions WHERE username = ?"),
    deleteExpired: q("DELETE FROM sessions WHERE expires_at <= ? OR idle_expires_at <= ?"),
    insertFailure: q("INSERT INTO login_failures (username, ip, at) VALUES (?, ?, ?)"),
    failuresByUser: q(
      "SELECT at FROM login_failures WHERE username = ? AND at > ? ORDER BY at DESC LIMIT 100",
    ),
    failuresByIp: q(
      "SELECT at FROM login_failures WHERE ip = ? AND at > ? ORDER BY at DESC LIMIT 100",
    ),
    deleteFailuresBefore: q("DELETE FROM login_failures WHERE at <= ?"),
    deleteFailuresOf: q("DELETE FROM login_failures WHERE username = ?"),
  };
  const count = (stmt: { get(): unknown }) => Number((stmt.get() as Row).n);
  const bit = (b: boolean) => (b ? 1 : 0);
  const COLUMNS: Record<string, string> = {
    passwordHash: "password_hash",
    admin: "admin",
    plan: "plan",
    disabled: "disabled",
  };
  return {
    version,
    userCount: () => count(s.userCount),
    getUser(username) {
      const row = s.getUser.get(username) as Row | undefined;
      return row && toUser(row);
    },
    listUsers: () => (s.listUsers.all() as Row[]).map(toUser),
    insertUser(u) {
      s.insertUser.run(
        u.username,
        u.passwordHash,
        bit(u.admin),
        u.plan,
        bit(u.disabled),
        u.createdAt,
      );
    },
    updateUser(username, change) {
      for (const [field, value] of Object.entries(change)) {
        const column = COLUMNS[field];
        if (column === undefined || value === undefined) continue;
        // Column names come from the fixed table above, values are bound parameters.
        db.prepare(`UPDATE users SET ${column} = ? WHERE username = ?`).run(
          typeof value === "boolean" ? bit(value) : value,
          username,
        );
      }
    },
    adminCount: () => count(s.adminCount),
    activeKeyCount: () => count(s.activeKeyCount),
    insertKey(k) {
      s.insertKey.run(
        k.id,
        k.owner,
        k.name,
        k.hash,
        k.prefix,
        k.plan,
        k.createdAt,
        k.lastUsedAt,
        k.revokedAt,
      );
    },
    keyByHash(hash) {
      const row = s.keyByHash.get(hash) as Row | undefined;
      return row && toKey(row);
    },
    getKey(id) {
      const row = s.getKey.get(id) as Row | undefined;
      return row && toKey(row);
    },
    listKeys(owner, withRevoked = false) {
      const rows = (owner === undefined ? s.listAllKeys.all() : s.listKeysOf.all(owner)) as Row[];
      return rows.map(toKey).filter((k) => withRevoked || k.revokedAt === null);
    },
    touchKey: (id, at) => void s.touchKey.run(at, id),
    revokeKey: (id, at) => void s.revokeKey.run(at, id),
    setKeyPlan: (id, plan) => void s.setKeyPlan.run(plan, id),
    insertSession(x) {
      s.insertSession.run(
        x.tokenHash,
        x.username,
        x.csrf,
        x.createdAt,
        x.expiresAt,
        x.idleExpiresAt,
      );
    },
    getSession(tokenHash) {
      const row = s.getSession.get(tokenHash) as Row | undefined;
      return row && toSession(row);
    },
    touchSession: (tokenHash, idle) => void s.touchSession.run(idle, tokenHash),
    deleteSession: (tokenHash) => void s.deleteSession.run(tokenHash),
    deleteSessionsOf: (username) => void s.deleteSessionsOf.run(username),
    deleteExpiredSessions: (now) => void s.deleteExpired.run(now, now),
    insertFailure: (username, ip, at) => void s.insertFailure.run(username, ip, at),
    failuresSince(column, value, since) {
      const stmt = column === "username" ? s.failuresByUser : s.failuresByIp;
      return (stmt.all(value, since) as Row[]).map((r) => Number(r.at));
    },
    deleteFailuresBefore: (at) => void s.deleteFailuresBefore.run(at),
    deleteFailuresOf: (username) => void s.deleteFailuresOf.run(username),
    transaction(fn) {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (err) {
        db.exec("ROLLBACK");
        throw err;
      }
    },
    close: () => db.close(),
  };
}

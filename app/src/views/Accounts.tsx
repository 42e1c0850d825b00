/**
 * Accounts and plans, over the accounts REST contract (issue #16): sign-in, one's own API keys
 * (created — the key shown once — and revoked), and for an admin the users, plans and every key's
 * usage against its plan. When the gateway has no access control (`/api/auth/session` answers
 * `{"access":"open"}`, or 404 on a gateway without accounts) it says so and shows no sign-in.
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { type ApiError, getJson, sendJson } from "../api.ts";
import { clock } from "../format.ts";

/** The signed-in user. */
export interface User {
  username: string;
  admin: boolean;
  plan: string;
}

/** What `/api/auth/session` told. */
export type Session =
  | { kind: "loading" }
  | { kind: "open" }
  | { kind: "signed-out" }
  | { kind: "signed-in"; user: User; csrf: string }
  | { kind: "error"; message: string };

interface Key {
  id: string;
  name?: string;
  prefix?: string;
  plan?: string;
  owner?: string;
  createdAt?: string | number;
  lastUsedAt?: string | number | null;
  usage?: Record<string, unknown>;
}

/** Reads the session: open access, signed out, or a user with the CSRF token. */
export async function readSession(): Promise<Session> {
  try {
    const s = await getJson<{ user: User | null; csrf?: string; access?: string }>(
      "/api/auth/session",
    );
    if (s.access === "open" || !s.user) {
      return s.access === "open" ? { kind: "open" } : { kind: "signed-out" };
    }
    return { kind: "signed-in", user: s.user, csrf: s.csrf ?? "" };
  } catch (err) {
    const e = err as ApiError;
    if (e.status === 404) return { kind: "open" };
    if (e.status === 401) return { kind: "signed-out" };
    return { kind: "error", message: e.message };
  }
}

/**
 * The Accounts view.
 *
 * @example
 * ```tsx
 * <Accounts />
 * ```
 */
export function Accounts() {
  const [session, setSession] = useState<Session>({ kind: "loading" });
  const refresh = useCallback(() => readSession().then(setSession), []);
  useEffect(() => {
    refresh();
  }, [refresh]);
  if (session.kind === "loading") return <div className="muted">reading the session…</div>;
  if (session.kind === "error") return <div className="error">session: {session.message}</div>;
  if (session.kind === "open") {
    return (
      <section className="panel" data-testid="access-open">
        <header>
          <h2>Access control is off</h2>
        </header>
        <p>
          This gateway has no users and no API keys: every client connects without a key, and there
          is nothing to sign in to. Configure users or keys (docs/security.md) to turn it on.
        </p>
      </section>
    );
  }
  if (session.kind === "signed-out") return <SignIn onSignedIn={refresh} />;
  return <SignedIn user={session.user} csrf={session.csrf} onSignedOut={refresh} />;
}

function SignIn({ onSignedIn }: { onSignedIn(): void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      await sendJson("/api/auth/signin", { method: "POST", body: { username, password } });
      onSignedIn();
    } catch (err) {
      const a = err as ApiError;
      setError(
        a.code === "bad_credentials"
          ? "wrong username or password"
          : a.code === "locked"
          ? "too many failed attempts: locked for a while"
          : a.message,
      );
    }
  };
  return (
    <section className="panel narrow">
      <header>
        <h2>Sign in</h2>
      </header>
      <form className="form" onSubmit={submit} aria-label="sign in">
        <label>
          username
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit">Sign in</button>
        {error && <div className="error" role="alert" data-testid="signin-error">{error}</div>}
      </form>
    </section>
  );
}

function SignedIn({ user, csrf, onSignedOut }: { user: User; csrf: string; onSignedOut(): void }) {
  const signOut = async () => {
    await sendJson("/api/auth/signout", { method: "POST", csrf }).catch(() => {});
    onSignedOut();
  };
  return (
    <div className="accounts">
      <div className="row">
        Signed in as <b>{user.username}</b> · plan <b>{user.plan}</b>
        {user.admin && <span className="badge live">admin</span>}
        <button type="button" onClick={signOut}>Sign out</button>
      </div>
      <OwnKeys csrf={csrf} />
      {user.admin && <Admin csrf={csrf} />}
    </div>
  );
}

const when = (t: string | number | null | undefined) =>
  t === null || t === undefined
    ? "never"
    : typeof t === "number"
    ? clock(t)
    : t.replace("T", " ").slice(0, 19);

/** Usage against the plan: `connections 1/10 · restPerMinute 3/600 · …`. */
function usageText(u: Record<string, unknown> | undefined): string {
  if (!u) return "—";
  const part = (v: unknown): string => {
    if (typeof v !== "object" || v === null) return String(v);
    const o = v as Record<string, unknown>;
    const max = o.max ?? o.maxPerConnection;
    return o.now !== undefined && max !== undefined
      ? `${o.now}/${max}${o.maxPerConnection !== undefined ? " per connection" : ""}`
      : JSON.stringify(v);
  };
  return Object.entries(u).map(([k, v]) => `${k} ${part(v)}`).join(" · ");
}

function OwnKeys({ csrf }: { csrf: string }) {
  const [keys, setKeys] = useState<Key[]>([]);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ id: string; key: string }>();
  const [error, setError] = useState<string>();
  const load = useCallback(
    () =>
      getJson<{ keys: Key[] } | Key[]>("/api/auth/keys").then(
        (r) => setKeys(Array.isArray(r) ? r : r.keys ?? []),
        (e: Error) => setError(e.message),
      ),
    [],
  );
  useEffect(() => {
    load();
  }, [load]);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      setCreated(
        await sendJson<{ id: string; key: string }>("/api/auth/keys", {
          method: "POST",
          body: { name },
          csrf,
        }),
      );
      setName("");
      load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const revoke = async (id: string) => {
    await sendJson(`/api/auth/keys/${encodeURIComponent(id)}`, { method: "DELETE", csrf }).catch((
      e: Error,
    ) => setError(e.message));
    load();
  };
  return (
    <section className="panel" aria-label="your API keys">
      <header>
        <h2>Your API keys</h2>
      </header>
      <form className="ticket inline" onSubmit={create}>
        <label>
          name
          <input name="keyname" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit">Create key</button>
      </form>
      {created && (
        <div className="ok" data-testid="new-key">
          New key (shown once, stored hashed — copy it now): <code>{created.key}</code>{" "}
          <button
            type="button"
            onClick={() => {
              localStorage.setItem("qs_key", created.key);
              location.reload();
            }}
          >
            use it for this app's connection
          </button>
        </div>
      )}
      {error && <div className="error">{error}</div>}
      <table data-testid="own-keys">
        <thead>
          <tr>
            <th>name</th>
            <th>prefix</th>
            <th>plan</th>
            <th>created</th>
            <th>last used</th>
            <th>usage</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}</code>
              </td>
              <td>{k.plan}</td>
              <td>{when(k.createdAt)}</td>
              <td>{when(k.lastUsedAt)}</td>
              <td className="small">{usageText(k.usage)}</td>
              <td>
                <button type="button" onClick={() => revoke(k.id)}>revoke</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Admin({ csrf }: { csrf: string }) {
  const [users, setUsers] = useState<
    { username: string; admin: boolean; plan: string; disabled?: boolean }[]
  >([]);
  const [plans, setPlans] = useState<{ name: string; [k: string]: unknown }[]>([]);
  const [keys, setKeys] = useState<Key[]>([]);
  const [error, setError] = useState<string>();
  const [form, setForm] = useState({ username: "", password: "", plan: "", admin: false });
  const list = <T,>(r: unknown, field: string): T[] =>
    Array.isArray(r) ? r as T[] : ((r as Record<string, T[]>)?.[field] ?? []);
  const load = useCallback(() => {
    getJson("/api/admin/users").then(
      (r) => setUsers(list(r, "users")),
      (e: Error) => setError(e.message),
    );
    getJson("/api/admin/plans").then((r) => {
      // `{plans: {name: limits}}` (or a list of `{name, ...}`).
      const raw = (r as { plans?: unknown })?.plans ?? r;
      const p = Array.isArray(raw)
        ? raw as { name: string }[]
        : Object.entries(raw as Record<string, object>).map(([name, limits]) => ({
          name,
          ...limits,
        }));
      setPlans(p);
      setForm((f) => (f.plan ? f : { ...f, plan: p[0]?.name ?? "" }));
    }, (e: Error) => setError(e.message));
    getJson("/api/admin/keys").then(
      (r) => setKeys(list(r, "keys")),
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(() => {
    load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, [load]);
  const act = (p: Promise<unknown>) => p.then(load, (e: Error) => setError(e.message));
  const createUser = (e: FormEvent) => {
    e.preventDefault();
    act(sendJson("/api/admin/users", { method: "POST", body: form, csrf }));
  };
  return (
    <>
      {error && <div className="error">{error}</div>}
      <section className="panel" aria-label="users">
        <header>
          <h2>Users (admin)</h2>
        </header>
        <form className="ticket inline" onSubmit={createUser}>
          <label>
            username
            <input
              value={form.username}
              onChange={(e) => setForm({ ...form, username: e.target.value })}
            />
          </label>
          <label>
            password
            <input
              type="password"
              value={form.password}
              onChange={(e) => setForm({ ...form, password: e.target.value })}
            />
          </label>
          <label>
            plan
            <select value={form.plan} onChange={(e) => setForm({ ...form, plan: e.target.value })}>
              {plans.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
            </select>
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={form.admin}
              onChange={(e) => setForm({ ...form, admin: e.target.checked })}
            />
            admin
          </label>
          <button type="submit">Create user</button>
        </form>
        <table>
          <thead>
            <tr>
              <th>user</th>
              <th>plan</th>
              <th>admin</th>
              <th>state</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.username}>
                <td>{u.username}</td>
                <td>
                  <select
                    aria-label={`plan of ${u.username}`}
                    value={u.plan}
                    onChange={(e) =>
                      act(
                        sendJson(`/api/admin/users/${encodeURIComponent(u.username)}`, {
                          method: "PATCH",
                          body: { plan: e.target.value },
                          csrf,
                        }),
                      )}
                  >
                    {plans.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
                  </select>
                </td>
                <td>{u.admin ? "yes" : "no"}</td>
                <td>{u.disabled ? "disabled" : "active"}</td>
                <td>
                  <button
                    type="button"
                    onClick={() =>
                      act(
                        sendJson(`/api/admin/users/${encodeURIComponent(u.username)}`, {
                          method: "PATCH",
                          body: { disabled: !u.disabled },
                          csrf,
                        }),
                      )}
                  >
                    {u.disabled ? "enable" : "disable"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-label="plans">
        <header>
          <h2>Plans</h2>
        </header>
        <table>
          <tbody>
            {plans.map((p) => (
              <tr key={p.name}>
                <td>
                  <b>{p.name}</b>
                </td>
                <td className="small">
                  {usageText(Object.fromEntries(Object.entries(p).filter(([k]) => k !== "name")))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-label="every key">
        <header>
          <h2>Every key: usage against its plan</h2>
        </header>
        <table>
          <thead>
            <tr>
              <th>owner</th>
              <th>name</th>
              <th>prefix</th>
              <th>plan</th>
              <th>usage</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>{k.owner}</td>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}</code>
                </td>
                <td>{k.plan}</td>
                <td className="small">{usageText(k.usage)}</td>
                <td>
                  <button
                    type="button"
                    onClick={() =>
                      act(
                        sendJson(`/api/admin/keys/${encodeURIComponent(k.id)}`, {
                          method: "DELETE",
                          csrf,
                        }),
                      )}
                  >
                    revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

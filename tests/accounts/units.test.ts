import assert from "node:assert/strict";
import { openAccountsStore } from "../../core/accounts/store.ts";
import { createLockout } from "../../core/accounts/lockout.ts";
import { createSessions } from "../../core/accounts/sessions.ts";
import { hashPassword, SCRYPT_PARAMS, verifyPassword } from "../../core/accounts/passwords.ts";

const user = (username: string) => ({
  username,
  passwordHash: "x",
  admin: false,
  plan: "default",
  disabled: false,
  createdAt: 0,
});

Deno.test("passwords: scrypt N=2^15 r=8 p=1 with a salt per hash", async () => {
  assert.deepEqual(SCRYPT_PARAMS, { N: 32768, r: 8, p: 1 });
  const a = await hashPassword("correct horse");
  const b = await hashPassword("correct horse");
  assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b, "salted");
  assert.equal(await verifyPassword("correct horse", a), true);
  assert.equal(await verifyPassword("correct hors", a), false);
  assert.equal(await verifyPassword("correct horse", "scrypt$1$1$1$$"), false);
});

Deno.test("lockout: unlocks when the 5th newest failure leaves the 15-minute window", () => {
  let now = 1_000_000;
  const store = openAccountsStore(":memory:");
  const lockout = createLockout(store, { now: () => now });
  for (let i = 0; i < 4; i++) lockout.failed("alice", "10.0.0.1");
  assert.equal(lockout.retryAfterMs("alice", "10.0.0.2"), 0, "4 failures: not yet");
  now += 60_000;
  lockout.failed("alice", "10.0.0.1");
  assert.equal(lockout.retryAfterMs("alice", "10.0.0.2"), 14 * 60_000, "by username");
  assert.equal(lockout.retryAfterMs("bob", "10.0.0.1"), 14 * 60_000, "by IP");
  assert.equal(lockout.retryAfterMs("bob", "10.0.0.2"), 0);
  now += 14 * 60_000;
  assert.equal(lockout.retryAfterMs("alice", "10.0.0.1"), 0, "the oldest left the window");
  // One failure is still in the window: four more lock again.
  for (let i = 0; i < 3; i++) lockout.failed("alice", "10.0.0.1");
  assert.equal(lockout.retryAfterMs("alice", "10.0.0.1"), 0, "4 in the window");
  lockout.failed("alice", "10.0.0.1");
  assert.ok(lockout.retryAfterMs("alice", "10.0.0.1") > 0, "5 in the window");
  lockout.succeeded("alice");
  assert.equal(lockout.retryAfterMs("alice", "10.0.0.3"), 0, "a success clears the username");
  store.close();
});

Deno.test("sessions: idle expiry moves on with use, the absolute one does not", async () => {
  let now = 0;
  const store = openAccountsStore(":memory:");
  store.insertUser(user("alice"));
  const sessions = createSessions(store, {
    idleMs: 10 * 60_000,
    maxMs: 60 * 60_000,
    now: () => now,
  });
  const s = await sessions.create("alice");
  for (let i = 0; i < 5; i++) {
    now += 9 * 60_000;
    assert.ok(await sessions.resolve(s.token), `used at ${now / 60_000} min`);
  }
  now += 11 * 60_000;
  assert.equal(await sessions.resolve(s.token), undefined, "idle for 11 minutes");
  const t = await sessions.create("alice");
  for (let i = 0; i < 6; i++) {
    now += 9 * 60_000;
    const alive = await sessions.resolve(t.token);
    assert.equal(alive !== undefined, i < 6 && (i + 1) * 9 < 60, `at ${(i + 1) * 9} min`);
  }
  const stored = JSON.stringify(store.getSession(t.token) ?? {});
  assert.equal(stored.includes(t.token), false);
  store.close();
});

Deno.test("store: migrations run once; a reopened file keeps its rows", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = openAccountsStore(`${dir}/a.sqlite`);
    assert.equal(first.version, 1);
    first.insertUser(user("alice"));
    first.close();
    const second = openAccountsStore(`${dir}/a.sqlite`);
    assert.equal(second.version, 1);
    assert.equal(second.getUser("alice")?.plan, "default");
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task user: adds an admin whose password then verifies; refuses unknown plans", async () => {
  const { runUserCli } = await import("../../core/tools/user_cli.ts");
  const dir = await Deno.makeTempDir();
  const env = { ACCOUNTS_DB: `${dir}/a.sqlite`, PLANS: '{"gold":{}}' };
  const quiet = { log: console.log, error: console.error };
  console.log = console.error = () => {};
  try {
    const pw = () => Promise.resolve("cli-passphrase");
    assert.equal(await runUserCli(["add", "bob", "--admin", "--plan", "gold"], env, pw), 0);
    assert.equal(await runUserCli(["add", "carl", "--plan", "tin"], env, pw), 2);
    assert.equal(await runUserCli(["add", "dave"], env, () => Promise.resolve("short")), 2);
    const store = openAccountsStore(env.ACCOUNTS_DB);
    const bob = store.getUser("bob")!;
    assert.deepEqual([bob.admin, bob.plan], [true, "gold"]);
    assert.equal(await verifyPassword("cli-passphrase", bob.passwordHash), true);
    assert.deepEqual(store.listUsers().map((u) => u.username), ["bob"]);
    store.close();
  } finally {
    Object.assign(console, quiet);
    await Deno.remove(dir, { recursive: true });
  }
});

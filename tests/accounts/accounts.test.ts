import assert from "node:assert/strict";
import { gatewayWith, scriptedFeed, waitFor } from "../helpers.ts";
import { hashKey } from "../../core/access/keys.ts";
import { browser, keyedSocket } from "./_browser.ts";

const ADMIN = { username: "root", password: "root-passphrase-1" };
const ALICE = { username: "alice", password: "alice-passphrase-2" };
const PLANS = JSON.stringify({
  small: { maxConnections: 2, maxSubscriptions: 3, restPerMinute: 50 },
  admin: { maxConnections: 20 },
});

/** Settings of a gateway with accounts in `dir`. */
const accountsIn = (dir: string) => ({
  accountsDb: `${dir}/accounts.sqlite`,
  adminUser: ADMIN.username,
  adminPassword: ADMIN.password,
  plans: PLANS,
});

/** Every byte of the database: the file and its write-ahead log. */
async function databaseBytes(dir: string): Promise<string> {
  let text = "";
  for (const name of ["accounts.sqlite", "accounts.sqlite-wal"]) {
    try {
      text += new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${name}`));
    } catch { /* no WAL */ }
  }
  return text;
}

Deno.test("accounts: users, sessions, keys on /ws and revocation, across a restart", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "accounts-test-" });
  const feed = () => scriptedFeed(["BTCUSDT"]);
  let gateway = await gatewayWith([feed()], accountsIn(dir));
  const admin = browser(gateway.url);
  const alice = browser(gateway.url);
  let key = "";
  let keyId = "";
  let ws: Awaited<ReturnType<typeof keyedSocket>> | undefined;
  try {
    await t.step("with a user in the database, access control is on", async () => {
      const session = await admin.send("GET", "/api/auth/session");
      assert.equal(session.status, 401);
      assert.equal(session.body.error.code, "unauthorized");
      const rest = await fetch(`${gateway.url}/api/symbols`);
      await rest.body?.cancel();
      assert.equal(rest.status, 401);
    });

    await t.step("a wrong password is 401 bad_credentials", async () => {
      const wrong = await admin.signIn(ADMIN.username, "not-the-password");
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, "bad_credentials");
      const nobody = await admin.signIn("nobody", "whatever-password");
      assert.equal(nobody.status, 401);
      assert.equal(nobody.body.error.code, "bad_credentials");
    });

    await t.step(
      "signing in sets an HttpOnly, SameSite=Strict cookie and returns the CSRF token",
      async () => {
        const ok = await admin.signIn(ADMIN.username, ADMIN.password);
        assert.equal(ok.status, 200);
        assert.deepEqual(ok.body.user, { username: "root", admin: true, plan: "admin" });
        assert.match(ok.body.csrf, /^[A-Za-z0-9_-]{43}$/);
        assert.match(
          admin.setCookie!,
          /^qs_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
        );
        const session = await admin.send("GET", "/api/auth/session");
        assert.deepEqual(session.body, { user: ok.body.user, csrf: ok.body.csrf });
        // Behind a TLS proxy the cookie is Secure.
        const https = await browser(gateway.url).send("POST", "/api/auth/signin", ADMIN, {
          headers: { "x-forwarded-proto": "https" },
        });
        assert.match(https.headers.get("set-cookie")!, /; Secure$/);
      },
    );

    await t.step("a state-changing request without the CSRF header is 403 csrf", async () => {
      const newUser = { ...ALICE, plan: "small" };
      const none = await admin.send("POST", "/api/admin/users", newUser, { csrf: false });
      assert.equal(none.status, 403);
      assert.equal(none.body.error.code, "csrf");
      const wrong = await admin.send("POST", "/api/admin/users", newUser, {
        csrf: false,
        headers: { "x-csrf-token": "A".repeat(43) },
      });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.error.code, "csrf");
      assert.equal((await admin.send("GET", "/api/admin/users")).body.users.length, 1);
    });

    await t.step("an admin creates a user with a plan, and can change it", async () => {
      const created = await admin.send("POST", "/api/admin/users", { ...ALICE, plan: "default" });
      assert.equal(created.status, 201);
      assert.deepEqual(
        [created.body.user.username, created.body.user.admin, created.body.user.plan],
        ["alice", false, "default"],
      );
      const again = await admin.send("POST", "/api/admin/users", { ...ALICE, plan: "default" });
      assert.equal(again.body.error.code, "user_exists");
      const unknown = await admin.send("PATCH", "/api/admin/users/alice", { plan: "platinum" });
      assert.equal(unknown.body.error.code, "unknown_plan");
      const patched = await admin.send("PATCH", "/api/admin/users/alice", { plan: "small" });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.user.plan, "small");
      const plans = await admin.send("GET", "/api/admin/plans");
      assert.deepEqual(Object.keys(plans.body.plans).sort(), ["admin", "default", "small"]);
    });

    await t.step("a user is not an admin", async () => {
      assert.equal((await alice.signIn(ALICE.username, ALICE.password)).status, 200);
      const users = await alice.send("GET", "/api/admin/users");
      assert.equal(users.status, 403);
      assert.equal(users.body.error.code, "forbidden");
    });

    await t.step("a user creates a key: shown once, only its SHA-256 is stored", async () => {
      const created = await alice.send("POST", "/api/auth/keys", { name: "laptop" });
      assert.equal(created.status, 201);
      key = created.body.key;
      keyId = created.body.id;
      assert.match(key, /^qs_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.body.plan, "small");
      const listed = await alice.send("GET", "/api/auth/keys");
      assert.equal(listed.body.keys.length, 1);
      assert.equal(listed.body.keys[0].prefix, key.slice(0, 10));
      assert.equal(JSON.stringify(listed.body).includes(key), false);
      const bytes = await databaseBytes(dir);
      assert.equal(bytes.includes(key), false, "the key text is not in the database");
      assert.equal(bytes.includes(await hashKey(key)), true, "its hash is");
      assert.equal(bytes.includes(ALICE.password), false, "nor is a password");
    });

    await t.step("the key works on REST and on /ws: subscribe gets subscribed", async () => {
      const rest = await fetch(`${gateway.url}/api/symbols`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await rest.body?.cancel();
      assert.equal(rest.status, 200);
      const socket = ws = await keyedSocket(gateway.url, key);
      socket.socket.send(
        JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade"], id: 1 }),
      );
      await waitFor(() => socket.frames.some((f) => f.type === "subscribed"));
    });

    await t.step("the admin sees its usage against the plan", async () => {
      const keys = await admin.send("GET", "/api/admin/keys");
      const row = keys.body.keys.find((k: { id: string }) => k.id === keyId);
      assert.equal(row.owner, "alice");
      assert.equal(row.plan, "small");
      assert.deepEqual(row.usage.connections, { now: 1, max: 2 });
      assert.deepEqual(row.usage.restPerMinute.max, 50);
      assert.ok(row.usage.restPerMinute.now >= 1);
      assert.deepEqual(row.usage.subscriptions, { now: 1, maxPerConnection: 3 });
    });

    await t.step("revoking it closes the open connection at once; then it is 401", async () => {
      const revoked = await admin.send("DELETE", `/api/admin/keys/${keyId}`);
      assert.equal(revoked.status, 200);
      assert.equal(revoked.body.closedConnections, 1);
      assert.equal(await ws!.closed, 1008);
      const after = await fetch(`${gateway.url}/api/symbols`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await after.body?.cancel();
      assert.equal(after.status, 401);
      await assert.rejects(keyedSocket(gateway.url, key));
    });

    await t.step("signing out ends the session", async () => {
      const other = await alice.send("POST", "/api/auth/keys", { name: "ci" });
      assert.equal(other.status, 201);
      key = other.body.key;
      assert.equal((await alice.send("POST", "/api/auth/signout")).status, 200);
      assert.equal((await alice.send("GET", "/api/auth/keys")).status, 401);
    });

    await t.step(
      "after a restart on the same database: sign in again, the key still works",
      async () => {
        await gateway.close();
        gateway = await gatewayWith([feed()], accountsIn(dir));
        const again = browser(gateway.url);
        assert.equal((await again.signIn(ALICE.username, ALICE.password)).status, 200);
        const keys = await again.send("GET", "/api/auth/keys");
        assert.deepEqual(keys.body.keys.map((k: { name: string }) => k.name), ["ci"]);
        const ws = await keyedSocket(gateway.url, key);
        ws.socket.send(
          JSON.stringify({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade"], id: 1 }),
        );
        await waitFor(() => ws.frames.some((f) => f.type === "subscribed"));
        ws.socket.close();
        await ws.closed;
      },
    );
  } finally {
    await gateway.close();
    await Deno.remove(dir, { recursive: true });
  }
});

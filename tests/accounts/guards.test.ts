import assert from "node:assert/strict";
import { gatewayWith, scriptedFeed } from "../helpers.ts";
import { browser } from "./_browser.ts";
import { ERROR_CODES } from "../../core/protocol/messages.ts";

const ADMIN = { username: "root", password: "root-passphrase-1" };

async function withGateway(
  fn: (base: string, dir: string) => Promise<void>,
  admin = true,
  overrides: Record<string, unknown> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "accounts-guards-" });
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])], {
    accountsDb: `${dir}/accounts.sqlite`,
    ...(admin ? { adminUser: ADMIN.username, adminPassword: ADMIN.password } : {}),
    ...overrides,
  });
  try {
    await fn(gateway.url, dir);
  } finally {
    await gateway.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("lockout: after 5 failures a username is locked (429 + Retry-After), even with the right password", async () => {
  await withGateway(async (base) => {
    const guesser = browser(base);
    for (let i = 1; i <= 5; i++) {
      const wrong = await guesser.signIn(ADMIN.username, `guess-number-${i}`);
      assert.equal(wrong.status, 401, `attempt ${i}`);
    }
    const right = await guesser.signIn(ADMIN.username, ADMIN.password);
    assert.equal(right.status, 429);
    assert.equal(right.body.error.code, "locked");
    const retryAfter = Number(right.headers.get("retry-after"));
    assert.ok(retryAfter > 14 * 60 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
    // Loopback (a reverse proxy on the same host) is not locked per IP by default.
    const other = await browser(base).signIn("someone-else", "any-password");
    assert.equal(other.status, 401);
  });
});

Deno.test("lockout: 5 failures from one IP lock every username from it", async () => {
  await withGateway(
    async (base) => {
      for (let i = 1; i <= 5; i++) {
        assert.equal((await browser(base).signIn(`user-${i}`, "any-password")).status, 401);
      }
      const right = await browser(base).signIn(ADMIN.username, ADMIN.password);
      assert.equal(right.status, 429);
      assert.equal(right.body.error.code, "locked");
      assert.ok(Number(right.headers.get("retry-after")) > 0);
    },
    true,
    { ipLimitLoopback: true },
  );
});

Deno.test("hostile input gets a 4xx JSON error, never a crash", async () => {
  await withGateway(async (base) => {
    const admin = browser(base);
    assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
    const cases: [
      string,
      string,
      string,
      unknown,
      { raw?: BodyInit; headers?: Record<string, string> },
      number,
      string,
    ][] = [
      [
        "huge body",
        "POST",
        "/api/admin/users",
        undefined,
        { raw: "x".repeat(1_000_000), headers: { "content-type": "application/json" } },
        413,
        "too_large",
      ],
      [
        "bad JSON",
        "POST",
        "/api/admin/users",
        undefined,
        { raw: "{not json", headers: { "content-type": "application/json" } },
        400,
        "bad_json",
      ],
      [
        "not JSON at all",
        "POST",
        "/api/admin/users",
        undefined,
        { raw: "username=x", headers: { "content-type": "application/x-www-form-urlencoded" } },
        415,
        "unsupported_media_type",
      ],
      [
        "SQL-ish username",
        "POST",
        "/api/admin/users",
        { username: "x'; DROP TABLE users;--", password: "long-enough-1", plan: "default" },
        {},
        400,
        "invalid_request",
      ],
      [
        "unknown field",
        "POST",
        "/api/admin/users",
        { username: "bob", password: "long-enough-1", role: "root" },
        {},
        400,
        "invalid_request",
      ],
      [
        "short password",
        "POST",
        "/api/admin/users",
        { username: "bob", password: "short" },
        {},
        400,
        "invalid_request",
      ],
      [
        "SQL-ish path",
        "PATCH",
        "/api/admin/users/x'%20OR%20'1'='1",
        { plan: "default" },
        {},
        404,
        "unknown_user",
      ],
      [
        "SQL-ish key id",
        "DELETE",
        "/api/admin/keys/1%20OR%201=1",
        undefined,
        {},
        404,
        "unknown_key",
      ],
      ["array body", "POST", "/api/auth/keys", [1, 2], {}, 400, "invalid_request"],
      [
        "control characters in a key name",
        "POST",
        "/api/auth/keys",
        { name: "a\u0000b" },
        {},
        400,
        "invalid_request",
      ],
      ["unknown route", "GET", "/api/admin/nothing", undefined, {}, 404, "not_found"],
      ["wrong method", "PUT", "/api/auth/keys", undefined, {}, 405, "method_not_allowed"],
      [
        "foreign origin",
        "POST",
        "/api/auth/keys",
        { name: "x" },
        { headers: { origin: "https://evil.example" } },
        403,
        "forbidden_origin",
      ],
    ];
    for (const [what, method, path, body, options, status, code] of cases) {
      const res = await admin.send(method, path, body, options);
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, code, what);
      assert.ok(code in ERROR_CODES, `${code} is documented`);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/, what);
    }
    const sqlish = await browser(base).signIn("root' --", ADMIN.password);
    assert.equal(sqlish.status, 401);
    // Nothing above broke the users table: the admin is still there and can sign in.
    assert.equal((await browser(base).signIn(ADMIN.username, ADMIN.password)).status, 200);
    assert.equal((await admin.send("GET", "/api/admin/users")).body.users.length, 1);
  });
});

Deno.test("with no users and no keys, access is open and the session says so", async () => {
  await withGateway(async (base) => {
    const session = await browser(base).send("GET", "/api/auth/session");
    assert.equal(session.status, 200);
    assert.deepEqual(session.body, { user: null, access: "open" });
    const rest = await fetch(`${base}/api/symbols`);
    await rest.body?.cancel();
    assert.equal(rest.status, 200);
  }, false);
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])]);
  try {
    const off = await browser(gateway.url).send("GET", "/api/auth/session");
    assert.deepEqual(off.body, { user: null, access: "open" });
    const keys = await browser(gateway.url).send("GET", "/api/auth/keys");
    assert.equal(keys.status, 404);
    assert.equal(keys.body.error.code, "accounts_off");
  } finally {
    await gateway.close();
  }
});

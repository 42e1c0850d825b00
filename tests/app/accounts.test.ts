/**
 * Accounts in the dashboard, in a real browser (Chromium via playwright-core), against a gateway
 * with an accounts database and a first admin: a wrong password is refused, the right one signs
 * in, a key created in the page works on `/ws`, revoking it in the page closes that connection
 * and the key stops working; repeated wrong passwords lock the account even for the right one.
 */
import assert from "node:assert/strict";
import { connect, gatewayWith, scriptedFeed, waitFor } from "../helpers.ts";
import { buildApp } from "../../core/tools/build_app.ts";
import { browserMissing, launch } from "./browser.ts";

const missing = browserMissing();
if (missing) console.warn(`SKIPPED: the browser tests need Chromium: ${missing}`);

const PASSWORD = "correct-horse-battery-9";

Deno.test({
  name: "dashboard accounts: sign-in, wrong password, a key that works on /ws, revocation, lockout",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await buildApp({ quiet: true });
  const dir = await Deno.makeTempDir({ prefix: "app-accounts-" });
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"], { tickMs: 20 })], {
    accountsDb: `${dir}/accounts.sqlite`,
    adminUser: "admin",
    adminPassword: PASSWORD,
  });
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${gateway.url}/app#/accounts`);
    const signIn = page.getByRole("form", { name: "sign in" });
    await signIn.waitFor({ timeout: 15_000 });

    // A wrong password is refused, and says so.
    await page.fill('input[name="username"]', "admin");
    await page.fill('input[name="password"]', "not-the-password");
    await page.click('form[aria-label="sign in"] button[type="submit"]');
    const error = page.getByTestId("signin-error");
    await error.waitFor({ timeout: 10_000 });
    assert.match(await error.innerText(), /wrong username or password/);

    // The right one signs in.
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('form[aria-label="sign in"] button[type="submit"]');
    await page.getByText("Signed in as").waitFor({ timeout: 10_000 }).catch(async (err) => {
      throw new Error(
        `${err.message}\npage: ${(await page.locator("body").innerText()).slice(0, 600)}`,
      );
    });
    assert.match(await page.locator(".accounts .row").first().innerText(), /admin/);

    // A key created in the page is shown once and works on /ws.
    await page.fill('input[name="keyname"]', "strategy-1");
    await page.click('section[aria-label="your API keys"] button[type="submit"]');
    const shown = page.getByTestId("new-key").locator("code");
    await shown.waitFor({ timeout: 10_000 });
    const key = (await shown.innerText()).trim();
    assert.ok(key.length >= 20, `a key was shown: ${key}`);
    const client = await connect(gateway, `/ws?token=${encodeURIComponent(key)}`);
    client.send({ action: "subscribe", symbols: ["BTCUSDT"], channels: ["trade"] });
    await client.next((f) => f.type === "subscribed", 5000, 0, "subscribed with the new key");

    // The admin creates a user with a plan; it is listed.
    const users = page.locator('section[aria-label="users"]');
    await users.locator('input:not([type="password"]):not([type="checkbox"])').first().fill("ann");
    await users.locator('input[type="password"]').fill("ann-password-123");
    await users.getByRole("button", { name: "Create user" }).click();
    await page.getByLabel("plan of ann").waitFor({ timeout: 10_000 });
    await page.screenshot({
      path: new URL("../../docs/screenshots/accounts-admin.png", import.meta.url).pathname,
    });

    // Revoked in the page: the open connection is closed, and the key no longer admits.
    const closed = new Promise<number>((resolve) =>
      client.socket.addEventListener("close", (e) => resolve(e.code))
    );
    await page.getByTestId("own-keys").getByRole("button", { name: "revoke" }).first().click();
    assert.equal(await closed, 1008, "the key's connection was closed");
    await waitFor(
      async () => {
        const res = await fetch(`${gateway.url}/api/symbols`, {
          headers: { authorization: `Bearer ${key}` },
        });
        await res.body?.cancel();
        return res.status === 401;
      },
      5000,
      "the revoked key refused with 401",
    );

    // Five wrong passwords lock the account: even the right password is then refused.
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn.waitFor({ timeout: 10_000 });
    await page.fill('input[name="username"]', "admin");
    for (let i = 0; i < 5; i++) {
      await page.fill('input[name="password"]', `wrong-${i}-password`);
      await page.click('form[aria-label="sign in"] button[type="submit"]');
      await page.waitForResponse((r) => r.url().endsWith("/api/auth/signin"), { timeout: 10_000 });
    }
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('form[aria-label="sign in"] button[type="submit"]');
    await waitFor(
      async () => /locked/.test(await error.innerText()),
      10_000,
      "the lockout message",
    );
    await page.screenshot({
      path: new URL("../../docs/screenshots/accounts-locked.png", import.meta.url).pathname,
    });
  } finally {
    await browser.close();
    await gateway.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/**
 * `deno task user`: manages accounts in `ACCOUNTS_DB` without a running gateway.
 *
 *   deno task user add <name> [--admin] [--plan <plan>]   password from the first line of stdin
 *   deno task user passwd <name>                          new password from stdin; ends sessions
 *   deno task user list
 *
 * Plans are checked against `AUTH_FILE` / `PLANS` like the gateway does. The password is read
 * from stdin (never a flag, which `ps` shows) and never printed. Exit code 2 on a usage error.
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { createKeyStore } from "../access/keys.ts";
import { openAccountsStore } from "../accounts/store.ts";
import { hashPassword } from "../accounts/passwords.ts";

const USAGE = `usage (ACCOUNTS_DB=<file>):
  deno task user add <name> [--admin] [--plan <plan>]   (password: first line of stdin)
  deno task user passwd <name>                          (password: first line of stdin)
  deno task user list`;

const username = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/);
const password = z.string().min(8).max(256);

/** The first line of stdin. */
async function readLine(): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of Deno.stdin.readable) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n") || text.length > 4096) break;
  }
  return text.split(/\r?\n/)[0];
}

/**
 * Runs the command; returns the exit code.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runUserCli(["list"], Deno.env.toObject()));
 * ```
 */
export async function runUserCli(
  args: string[],
  env: Record<string, string | undefined>,
  readPassword: () => Promise<string> = readLine,
): Promise<number> {
  const fail = (message: string) => {
    console.error(`${message}\n${USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { admin: { type: "boolean" }, plan: { type: "string" } },
      allowPositionals: true,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  const [command, name] = parsed.positionals;
  const path = env.ACCOUNTS_DB;
  if (!path) return fail("set ACCOUNTS_DB to the accounts database file");
  const store = openAccountsStore(path);
  try {
    if (command === "list" && name === undefined) {
      for (const u of store.listUsers()) {
        console.log(
          `${u.username}\t${u.admin ? "admin" : "user"}\t${u.plan}${
            u.disabled ? "\tdisabled" : ""
          }`,
        );
      }
      return 0;
    }
    if ((command !== "add" && command !== "passwd") || !username.safeParse(name).success) {
      return fail("give a command and a username (3 to 32 letters, digits, _ . -)");
    }
    const pw = password.safeParse(await readPassword());
    if (!pw.success) return fail("the password (first line of stdin) must be 8 to 256 characters");
    if (command === "passwd") {
      if (!store.getUser(name)) return fail(`no user ${name}`);
      store.updateUser(name, { passwordHash: await hashPassword(pw.data) });
      store.deleteSessionsOf(name);
      console.log(`password of ${name} changed; their sessions ended`);
      return 0;
    }
    const plan = parsed.values.plan ?? "default";
    const file = env.AUTH_FILE ? await Deno.readTextFile(env.AUTH_FILE) : undefined;
    const { plans } = await createKeyStore({ file, plans: env.PLANS });
    if (!plans?.[plan]) return fail(`no plan "${plan}" (AUTH_FILE / PLANS)`);
    if (store.getUser(name)) return fail(`user ${name} exists`);
    store.insertUser({
      username: name,
      passwordHash: await hashPassword(pw.data),
      admin: parsed.values.admin ?? false,
      plan,
      disabled: false,
      createdAt: Date.now(),
    });
    console.log(`user ${name} added (${parsed.values.admin ? "admin" : "user"}, plan ${plan})`);
    return 0;
  } finally {
    store.close();
  }
}

if (import.meta.main) Deno.exit(await runUserCli(Deno.args, Deno.env.toObject()));

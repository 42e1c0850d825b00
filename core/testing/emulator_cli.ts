/**
 * What every exchange emulator's command line (`deno task emulator:<exchange>`) does around its
 * own options: npm:ws reads two environment variables when it loads, so without them granted it
 * would fail with a permission prompt — the command says which `--allow-env` to add and exits
 * with 2 instead; then it starts the emulator, prints where it listens, and closes it on Ctrl-C.
 * @module
 */

/**
 * The environment variables npm:ws reads when it loads.
 * @example
 * ```ts
 * import { WS_ENV } from "@quant-saas/gateway/testing";
 *
 * const flag = `--allow-env=${WS_ENV.join(",")}`;
 * ```
 */
export const WS_ENV = ["WS_NO_BUFFER_UTIL", "WS_NO_UTF_8_VALIDATE"] as const;

/**
 * Runs an emulator from the command line.
 * @example
 * ```ts ignore
 * import { runEmulatorCli } from "@quant-saas/gateway/testing";
 *
 * await runEmulatorCli(
 *   "Kraken",
 *   async () => (await import("./emulator.ts")).startKrakenEmulator(parseCliOptions(Deno.args)),
 *   (emu) => [`KRAKEN_WS_URL=${emu.wsUrl}`],
 * );
 * ```
 */
export async function runEmulatorCli<E extends { port: number; close(): Promise<void> }>(
  name: string,
  start: () => Promise<E>,
  describe: (emu: E) => string[],
): Promise<void> {
  const denied = WS_ENV.filter((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state !== "granted"
  );
  if (denied.length > 0) {
    console.error(`npm:ws reads ${denied.join(", ")} at load: add --allow-env=${WS_ENV.join(",")}`);
    Deno.exit(2);
  }
  const emu = await start();
  console.log(`${name} emulator listening on 127.0.0.1:${emu.port}`);
  for (const line of describe(emu)) console.log(`  ${line}`);
  Deno.addSignalListener("SIGINT", () => {
    emu.close().then(() => Deno.exit(0));
  });
}

/**
 * Browser test set-up: Debian's Chromium driven by playwright-core (headless, `--no-sandbox`),
 * or the reason it cannot run here (the tests then skip and say so).
 */
import { type Browser, chromium, type Page } from "playwright-core";

/** Where Debian's package puts Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  try {
    Deno.statSync(CHROMIUM);
    return undefined;
  } catch {
    return `${CHROMIUM} not found (install it with: apt-get install -y chromium; .ci/run does)`;
  }
}

/** Launches headless Chromium. */
export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

/** Console errors and page errors of a page, collected from now on. */
export function collectErrors(page: Page, ignore: (url: string) => boolean): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !ignore(m.location().url)) {
      errors.push(`console: ${m.text()} (${m.location().url})`);
    }
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** Reads `window.__qs` (the app's exposed state) at `path`, e.g. "chart.lastBar". */
export function appState<T>(page: Page, path: string): Promise<T | undefined> {
  return page.evaluate((p) => {
    let v: unknown = (globalThis as unknown as { __qs?: unknown }).__qs;
    for (const k of p.split(".")) v = (v as Record<string, unknown> | undefined)?.[k];
    return v as T | undefined;
  }, path) as Promise<T | undefined>;
}

/**
 * The web dashboard in a real browser (Chromium via playwright-core) against a gateway on the
 * Binance and Kraken emulators that records to a temporary folder. The Binance emulator moves
 * only when the test ticks it, so the ladder can be compared with `/api/book`, and pausing it
 * makes its feed go stale. Screenshots of every view land in docs/screenshots/.
 */
import assert from "node:assert/strict";
import { startBinanceEmulator } from "../../plugins/binance/emulator/mod.ts";
import { startKrakenEmulator } from "../../plugins/kraken/emulator/mod.ts";
import { binance } from "../../plugins/binance/mod.ts";
import { kraken } from "../../plugins/kraken/mod.ts";
import { pluginConfig } from "../../core/ingest/plugin_config.ts";
import type { FeedSpec } from "../../core/ingest/supervisor.ts";
import { recordingGateway } from "../replay/helpers.ts";
import { getJson, waitFor } from "../helpers.ts";
import { buildApp } from "../../core/tools/build_app.ts";
import { appState, browserMissing, collectErrors, launch } from "./browser.ts";

const missing = browserMissing();
if (missing) console.warn(`SKIPPED: the browser tests need Chromium: ${missing}`);

const SHOTS = new URL("../../docs/screenshots/", import.meta.url);
/** Binance's silence limit here: short, so a paused emulator shows as stale within seconds. */
const STALE_MS = 2500;

Deno.test({
  name: "dashboard: every view in Chromium against the emulators",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const built = await buildApp({ quiet: true });
  const bn = await startBinanceEmulator({
    symbols: ["BTCUSDT", "ETHUSDT"],
    seed: 16,
    autoStart: false,
  });
  const kr = await startKrakenEmulator({ seed: 17 });
  const feeds: FeedSpec[] = [
    {
      plugin: binance,
      workerUrl: new URL("../../plugins/binance/worker.ts", import.meta.url),
      config: pluginConfig(binance, { BINANCE_WS_URL: bn.wsUrl, BINANCE_REST_URL: bn.restUrl }, {
        staleMs: { trade: STALE_MS, quote: STALE_MS, book: STALE_MS, kline: STALE_MS },
        backoffBaseMs: 50,
        backoffCapMs: 200,
        backfillDelayMs: 50,
      }),
      symbols: ["BTCUSDT", "ETHUSDT"],
      channels: ["trade", "quote", "kline", "book"],
    },
    {
      plugin: kraken,
      workerUrl: new URL("../../plugins/kraken/worker.ts", import.meta.url),
      config: pluginConfig(kraken, { KRAKEN_WS_URL: kr.wsUrl }),
      symbols: ["BTC/USDT", "ETH/USDT"],
      channels: ["trade", "quote", "kline", "book"],
    },
  ];
  const rec = await recordingGateway(feeds);
  const { gateway } = rec;
  let ticking: ReturnType<typeof setInterval> | undefined = setInterval(() => bn.tick(), 40);
  const stopTicking = () => {
    clearInterval(ticking);
    ticking = undefined;
  };
  const browser = await launch();
  try {
    await waitFor(
      async () => {
        const { body } = await getJson(gateway, "/health");
        const feedsUp = (body.feeds as { state: string }[]).every((f) => f.state === "connected");
        const books = body.books as { exchange: string; synced: boolean }[];
        return feedsUp && books.filter((b) => b.synced).length === 4;
      },
      20_000,
      "both feeds connected and four books synced",
    );
    // A few seconds of recorded trades: the chart's history.
    const klines = async () => {
      const now = Date.now();
      const { body } = await getJson(
        gateway,
        `/api/history/klines?exchange=binance&symbol=BTCUSDT&interval=1s&from=${
          now - 60_000
        }&to=${now}`,
      );
      return (body.klines as unknown[] | undefined)?.length ?? 0;
    };
    await waitFor(async () => (await klines()) >= 4, 20_000, "four 1-second bars recorded");

    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    // The accounts API is not part of this gateway (404 for /api/auth/session): expected.
    const errors = collectErrors(page, (url) => url.endsWith("/api/auth/session"));

    await t.step(
      "the page loads and the chart shows history, then a live candle update",
      async () => {
        const res = await page.goto(`${gateway.url}/app`);
        assert.deepEqual(res?.status(), 200);
        await page.waitForFunction(
          () => {
            const c = (globalThis as { __qs?: { chart?: { historyBars?: number } } }).__qs?.chart;
            return (c?.historyBars ?? 0) >= 4;
          },
          undefined,
          { timeout: 15_000 },
        );
        const first = await appState<{ time: number; close: number; volume: number }>(
          page,
          "chart.lastBar",
        );
        const updates = (await appState<number>(page, "chart.updates")) ?? 0;
        assert(first, "a last bar after the history");
        await page.waitForFunction(
          ([u, bar]) => {
            const c =
              (globalThis as { __qs?: { chart?: { updates: number; lastBar: typeof bar } } }).__qs
                ?.chart;
            return c !== undefined && c.updates > u &&
              (c.lastBar.time !== bar.time || c.lastBar.volume !== bar.volume);
          },
          [updates, first] as const,
          { timeout: 10_000 },
        );
        const firstCandleMs = await appState<number>(page, "chart.firstCandleMs");
        console.log(
          `first candle ${firstCandleMs} ms after navigation start; bundle ${
            (built.gzipBytes / 1024).toFixed(1)
          } KiB gzip'd JS`,
        );
        assert(typeof firstCandleMs === "number" && firstCandleMs > 0);
        await page.waitForSelector("[data-testid=consolidated]");
        await page.waitForSelector("[data-testid=tape]");
        await page.screenshot({ path: new URL("markets.png", SHOTS).pathname });
      },
    );

    /** The ladder's state and its first bid row equal `/api/book` (the emulator held still). */
    const ladderEqualsBook = async () => {
      let last = "";
      await waitFor(
        async () => {
          const { status, body } = await getJson(
            gateway,
            "/api/book?exchange=binance&symbol=BTCUSDT&depth=5",
          );
          if (status !== 200) return false;
          const bestBid = (body.bestBid as number[])[0], bestAsk = (body.bestAsk as number[])[0];
          const ladder = await appState<{ bestBid: number; bestAsk: number }>(page, "ladder");
          last = JSON.stringify({ api: { bestBid, bestAsk }, ladder });
          return ladder?.bestBid === bestBid && ladder?.bestAsk === bestAsk;
        },
        5000,
        "the ladder to equal /api/book",
      ).catch((err) => {
        throw new Error(`${err.message}: ${last}`);
      });
      // The first bid row shows it once React has rendered the state.
      const { body } = await getJson(gateway, "/api/book?exchange=binance&symbol=BTCUSDT&depth=1");
      const bestBid = (body.bestBid as number[])[0];
      let shown = "";
      await waitFor(
        async () => {
          shown = (await page.locator("[data-testid=ladder] tr.bid td.price").first()
            .textContent()) ?? "";
          return Number(shown.replaceAll(",", "")) === bestBid;
        },
        5000,
        "the ladder's first bid row to show /api/book's best bid",
      ).catch((err) => {
        throw new Error(`${err.message}: shown ${shown}, best bid ${bestBid}`);
      });
    };

    await t.step("the ladder's best bid and ask equal /api/book's", async () => {
      stopTicking(); // the Binance book holds still now
      try {
        await ladderEqualsBook();
      } finally {
        ticking = setInterval(() => bn.tick(), 40);
      }
    });

    await t.step("the tabs are reachable by keyboard", async () => {
      await page.focus("#tab-markets");
      await page.keyboard.press("ArrowRight");
      await page.waitForSelector("#tab-analytics[aria-selected=true]");
      assert.deepEqual(
        await page.evaluate("document.activeElement && document.activeElement.id"),
        "tab-analytics",
      );
    });

    await t.step("the analytics view plots the live figures", async () => {
      await page.waitForFunction(
        () =>
          ((globalThis as { __qs?: { analytics?: { frames: number } } }).__qs?.analytics?.frames ??
            0) >= 20,
        undefined,
        {
          timeout: 15_000,
        },
      );
      // The charts opened with the recent past recomputed from the recording.
      const history = await appState<{ points: number }>(page, "analyticsHistory");
      assert.ok((history?.points ?? 0) > 0, `history points: ${JSON.stringify(history)}`);
      await page.screenshot({ path: new URL("analytics.png", SHOTS).pathname });
    });

    await t.step("a paper order placed in the ticket appears as a fill", async () => {
      await page.click("#tab-paper");
      await page.waitForSelector("[data-testid=account]");
      await page.fill("input[name=quantity]", "0.002");
      await page.click("button.submit");
      await page.waitForSelector("[data-testid=fills] tr[data-order]", { timeout: 10_000 });
      const fill = await appState<
        { exchange: string; symbol: string; side: string; quantity: number }
      >(
        page,
        "paper.lastFill",
      );
      assert.deepEqual([fill?.exchange, fill?.symbol, fill?.side], ["binance", "BTCUSDT", "buy"]);
      assert((fill?.quantity ?? 0) > 0);
      await page.click("text=Route (simulated)");
      await page.waitForSelector("[data-testid=route]", { timeout: 10_000 });
      assert((await page.textContent(".simulated-banner"))!.includes("SIMULATED"));
      await page.screenshot({ path: new URL("paper.png", SHOTS).pathname, fullPage: true });
    });

    await t.step("the accounts view says access control is off", async () => {
      await page.click("#tab-accounts");
      await page.waitForSelector("[data-testid=access-open]");
      await page.screenshot({ path: new URL("accounts.png", SHOTS).pathname });
    });

    await t.step("a phone-width screen shows the markets view", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.click("#tab-markets");
      await page.waitForSelector("[data-testid=ladder]", { timeout: 10_000 });
      const overflow = await page.evaluate(
        "document.documentElement.scrollWidth - innerWidth",
      ) as number;
      assert(overflow <= 0, `the page is ${overflow} px wider than the phone`);
      await page.screenshot({ path: new URL("markets-phone.png", SHOTS).pathname });
      await page.setViewportSize({ width: 1280, height: 720 });
    });

    await t.step(
      "the operations view shows a feed going stale when its emulator is paused",
      async () => {
        await page.click("#tab-operations");
        await page.waitForSelector("[data-feed=binance] .st-connected");
        assert((await page.textContent("[data-feed=binance]"))!.includes("EMULATOR"));
        await page.screenshot({ path: new URL("operations.png", SHOTS).pathname });
        stopTicking();
        bn.pause();
        await page.waitForFunction(
          () => {
            const seen = (globalThis as { __qs?: { ops?: { seen?: Record<string, string[]> } } })
              .__qs?.ops?.seen;
            return (seen?.binance ?? []).includes("stale");
          },
          undefined,
          { timeout: STALE_MS * 4 + 5000 },
        );
        await page.screenshot({ path: new URL("operations-stale.png", SHOTS).pathname });
      },
    );

    await t.step("no console error and no page error", () => {
      assert.deepEqual(errors, []);
    });
  } finally {
    stopTicking();
    await browser.close();
    await rec.close();
    await Promise.all([bn.close(), kr.close()]);
  }
});

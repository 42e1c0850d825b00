/**
 * Load generator (its own process): opens N WebSocket clients to a URL with
 * bounded connect concurrency, subscribes them, and measures deliveries per
 * second and end-to-end latency (receive time − the emulator's µs stamp carried
 * in each trade's `raw`) in an HDR histogram over a window after a warm-up.
 *
 * ```sh
 * deno run -A bench/loadgen.ts --url ws://127.0.0.1:3000/ws --clients 1000 \
 *   --warmup-ms 2000 --window-ms 5000
 * ```
 * It prints JSON lines on stdout: `{"event":"ready",...}` once every client is
 * connected and subscribed, optional `{"event":"tick",...}` every second
 * (`--ticks`), and `{"event":"result",...}` at the end, then exits. With
 * `--wait-go` it waits for a line `go` on stdin after `ready` (the bench runner
 * uses that to start several load generators and its server sampling together).
 *
 * Clients are hand-rolled over `Deno.connect` (bench/ws_raw.ts): no MessageEvent
 * and no string per frame, so one process keeps up with ~10^5 frames/s.
 * @module
 */
import { parseArgs } from "node:util";
import * as hdr from "hdr-histogram-js";
import {
  clientFrame,
  createStampScanner,
  FrameParser,
  nowUs,
  OP,
  openRawWebSocket,
  writeAll,
} from "./ws_raw.ts";

/** Parsed options. */
export interface LoadgenOptions {
  url: string;
  clients: number;
  concurrency: number;
  /** Text frame each client sends after connecting; empty = none. */
  subscribe: string;
  stampField: string;
  warmupMs: number;
  windowMs: number;
  /** Clients to close and reopen after the window (connect → first event timing). */
  reconnect: number;
  waitGo: boolean;
  /** Connect idle; send the subscribe frames only after `go` (clean connect timing). */
  subscribeOnGo: boolean;
  /** Measurement windows back to back after the warm-up. */
  windows: number;
  ticks: boolean;
  /** Tick period (ms) with `ticks`. */
  tickMs: number;
  /** After subscribing, wait for a `measure` line on stdin before the warm-up. */
  waitMeasure: boolean;
  /** After the windows, wait for a `finish` line on stdin before reconnecting and exiting. */
  waitFinish: boolean;
  /** Bytes of each client's read buffer (0 = by N: 64 KiB down to 8 KiB). */
  readBuffer: number;
  /** Ms to wait for every client's first frame (e.g. the subscribe ack) before `ready`. */
  firstFrameTimeoutMs: number;
  label: string;
}

function parseOptions(args: string[]): LoadgenOptions {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string" },
      clients: { type: "string", default: "100" },
      concurrency: { type: "string", default: "256" },
      subscribe: {
        type: "string",
        default: JSON.stringify({
          action: "subscribe",
          symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT"],
          channels: ["trade"],
          raw: true,
        }),
      },
      "no-subscribe": { type: "boolean", default: false },
      "stamp-field": { type: "string", default: "benchTs" },
      "warmup-ms": { type: "string", default: "2000" },
      "window-ms": { type: "string", default: "5000" },
      reconnect: { type: "string", default: "0" },
      "wait-go": { type: "boolean", default: false },
      "subscribe-on-go": { type: "boolean", default: false },
      windows: { type: "string", default: "1" },
      ticks: { type: "boolean", default: false },
      "tick-ms": { type: "string", default: "1000" },
      "wait-measure": { type: "boolean", default: false },
      "wait-finish": { type: "boolean", default: false },
      "read-buffer": { type: "string", default: "0" },
      "first-frame-timeout-ms": { type: "string", default: "5000" },
      label: { type: "string", default: "" },
    },
  });
  if (!values.url) throw new Error("--url is required");
  return {
    url: values.url,
    clients: Number(values.clients),
    concurrency: Number(values.concurrency),
    subscribe: values["no-subscribe"] ? "" : values.subscribe!,
    stampField: values["stamp-field"]!,
    warmupMs: Number(values["warmup-ms"]),
    windowMs: Number(values["window-ms"]),
    reconnect: Number(values.reconnect),
    waitGo: values["wait-go"]!,
    subscribeOnGo: values["subscribe-on-go"]!,
    windows: Number(values.windows),
    ticks: values.ticks!,
    tickMs: Number(values["tick-ms"]),
    waitMeasure: values["wait-measure"]!,
    waitFinish: values["wait-finish"]!,
    readBuffer: Number(values["read-buffer"]),
    firstFrameTimeoutMs: Number(values["first-frame-timeout-ms"]),
    label: values.label!,
  };
}

const newHistogram = () =>
  hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });

type Histogram = ReturnType<typeof newHistogram>;

/** Percentiles of a µs histogram, in ms. */
export function summarize(h: Histogram) {
  const ms = (p: number) => h.totalCount === 0 ? null : h.getValueAtPercentile(p) / 1000;
  return {
    count: h.totalCount,
    p50: ms(50),
    p90: ms(90),
    p99: ms(99),
    p999: ms(99.9),
    max: h.totalCount === 0 ? null : h.maxValue / 1000,
    mean: h.totalCount === 0 ? null : h.mean / 1000,
  };
}

interface Client {
  id: number;
  conn?: Deno.Conn;
  /** Stamped events received. */
  events: number;
  frames: number;
  bytes: number;
  open: boolean;
  closeCode?: number;
  /** First data frame seen (the subscribe ack, usually). */
  gotFrame: boolean;
  /** Resolves on the first stamped event (reconnect timing). */
  onFirstEvent?: (us: number) => void;
}

/** Runs the load generator; resolves with the result object. */
export async function runLoadgen(o: LoadgenOptions, emit: (line: object) => void) {
  const scan = createStampScanner(o.stampField);
  const latency = newHistogram();
  const tickLatency = newHistogram();
  const connectHist = newHistogram();
  let measuring = false;
  let ticking = false;
  let negative = 0;
  const bufSize = o.readBuffer ||
    Math.max(8192, Math.min(65536, Math.floor(256 * 1024 * 1024 / o.clients)));
  const clients: Client[] = [];
  const subscribeBytes = o.subscribe ? clientFrame(OP.text, o.subscribe) : undefined;
  const errors = new Map<string, number>();
  const countError = (msg: string) => errors.set(msg, (errors.get(msg) ?? 0) + 1);
  const closeCodes = new Map<number, number>();
  let totalEvents = 0;
  let totalFrames = 0;
  let totalBytes = 0;
  let totalReads = 0;
  let recvUs = 0;
  let subscribedAll = false;
  const onStamp = (stamp: number) => {
    const lat = recvUs - stamp;
    if (lat < 0) {
      negative++;
      return;
    }
    if (measuring) latency.recordValue(lat);
    if (ticking) tickLatency.recordValue(lat);
  };

  const start = async (c: Client): Promise<number> => {
    const t0 = performance.now();
    const raw = await openRawWebSocket(o.url);
    const connectMs = performance.now() - t0;
    c.conn = raw.conn;
    c.open = true;
    const conn = raw.conn;
    const parser = new FrameParser({
      data(p, s, e) {
        c.frames++;
        totalFrames++;
        c.bytes += e - s;
        totalBytes += e - s;
        c.gotFrame = true;
        const n = scan(p, s, e, onStamp);
        if (n > 0) {
          c.events += n;
          totalEvents += n;
          if (c.onFirstEvent) {
            const cb = c.onFirstEvent;
            c.onFirstEvent = undefined;
            cb(recvUs);
          }
        }
      },
      ping(payload) {
        writeAll(conn, clientFrame(OP.pong, payload)).catch(() => {});
      },
      close(code) {
        c.closeCode = code;
        // Complete the closing handshake (RFC 6455 §5.5.1): the server closes TCP after it.
        writeAll(conn, clientFrame(OP.close, new Uint8Array([code >> 8, code & 0xff])))
          .catch(() => {});
        if (c.open) {
          c.open = false;
          closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
        }
      },
    });
    if (raw.leftover.length > 0) {
      recvUs = nowUs();
      parser.push(raw.leftover);
    }
    if (subscribeBytes && (!o.subscribeOnGo || subscribedAll)) await writeAll(conn, subscribeBytes);
    // Read loop (not awaited).
    (async () => {
      const buf = new Uint8Array(bufSize);
      try {
        while (true) {
          const n = await conn.read(buf);
          if (n === null) break;
          recvUs = nowUs();
          totalReads++;
          parser.push(buf, n);
        }
      } catch (err) {
        if (c.open) countError(`read: ${err instanceof Error ? err.name : err}`);
      }
      if (c.open) {
        c.open = false;
        closeCodes.set(c.closeCode ?? 1006, (closeCodes.get(c.closeCode ?? 1006) ?? 0) + 1);
      }
      try {
        conn.close();
      } catch { /* closed */ }
    })();
    return connectMs;
  };

  // Connect everyone, at most `concurrency` handshakes in flight.
  const tConnect = performance.now();
  let nextIndex = 0;
  let failed = 0;
  const workers = Array.from({ length: Math.min(o.concurrency, o.clients) }, async () => {
    while (nextIndex < o.clients) {
      const c: Client = {
        id: nextIndex++,
        events: 0,
        frames: 0,
        bytes: 0,
        open: false,
        gotFrame: false,
      };
      clients.push(c);
      try {
        const ms = await start(c);
        connectHist.recordValue(Math.max(1, Math.round(ms * 1000)));
      } catch (err) {
        failed++;
        countError(`connect: ${err instanceof Error ? err.message : err}`);
      }
    }
  });
  await Promise.all(workers);
  const connectAllMs = performance.now() - tConnect;
  // Wait for every client's first frame (subscribe ack) so the window sees a stable audience.
  const awaitFirstFrames = async () => {
    const deadline = performance.now() + o.firstFrameTimeoutMs;
    while (performance.now() < deadline && clients.some((c) => c.open && !c.gotFrame)) {
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  if (subscribeBytes && !o.subscribeOnGo) await awaitFirstFrames();
  const connected = clients.filter((c) => c.open).length;
  emit({
    event: "ready",
    label: o.label,
    clients: o.clients,
    connected,
    failed,
    acked: clients.filter((c) => c.gotFrame).length,
    connectAllMs: Math.round(connectAllMs),
    connectMs: summarize(connectHist),
  });

  if (o.waitGo) await waitForLine("go");

  // Per-second ticks (used by the slow-consumer probe).
  let tickTimer: ReturnType<typeof setInterval> | undefined;
  if (o.ticks) {
    let lastEvents = totalEvents;
    let lastT = performance.now();
    ticking = true;
    tickTimer = setInterval(() => {
      const t = performance.now();
      const s = summarize(tickLatency);
      emit({
        event: "tick",
        label: o.label,
        t: Date.now(),
        eventsPerSec: Math.round((totalEvents - lastEvents) * 1000 / (t - lastT)),
        open: clients.filter((c) => c.open).length,
        p50: s.p50,
        p99: s.p99,
        max: s.max,
      });
      tickLatency.reset();
      lastEvents = totalEvents;
      lastT = t;
    }, o.tickMs);
  }

  let subscribeAllMs = 0;
  if (subscribeBytes && o.subscribeOnGo) {
    const t = performance.now();
    subscribedAll = true;
    await Promise.all(
      clients.filter((c) => c.open).map((c) => writeAll(c.conn!, subscribeBytes).catch(() => {})),
    );
    await awaitFirstFrames();
    subscribeAllMs = performance.now() - t;
  }
  const acked = clients.filter((c) => c.gotFrame).length;
  emit({ event: "subscribed", label: o.label, acked, subscribeAllMs: Math.round(subscribeAllMs) });
  if (o.waitMeasure) await waitForLine("measure");

  await sleep(o.warmupMs);
  const windows = [];
  for (let w = 0; w < o.windows; w++) {
    const perClientStart = clients.map((c) => c.events);
    const e0 = totalEvents, f0 = totalFrames, b0 = totalBytes, r0 = totalReads;
    const openAtStart = clients.filter((c) => c.open).length;
    const cpu0 = cpuSeconds();
    latency.reset();
    const t0 = performance.now();
    measuring = true;
    emit({ event: "window_start", label: o.label, window: w, t: Date.now() });
    await sleep(o.windowMs);
    measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds();
    const events = totalEvents - e0;
    const perClient = clients.map((c, i) => c.events - (perClientStart[i] ?? 0))
      .sort((a, b) => a - b);
    const result = {
      event: "window_end",
      label: o.label,
      window: w,
      t: Date.now(),
      windowSec: elapsed,
      openAtStart,
      openAtEnd: clients.filter((c) => c.open).length,
      receiving: perClient.filter((n) => n > 0).length,
      events,
      eventsPerSec: events / elapsed,
      framesPerSec: (totalFrames - f0) / elapsed,
      bytesPerSec: (totalBytes - b0) / elapsed,
      readsPerSec: (totalReads - r0) / elapsed,
      perClientMin: perClient[0] ?? 0,
      perClientMedian: perClient[perClient.length >> 1] ?? 0,
      latencyMs: summarize(latency),
      latencyHistogram: hdr.encodeIntoCompressedBase64(latency),
      loadgenCpuPct: (cpu1 - cpu0) / elapsed * 100,
    };
    emit(result);
    windows.push(result);
  }

  if (o.waitFinish) await waitForLine("finish");

  // Reconnect timing under load: close k clients, reopen, time to first stamped event.
  const reconnect = newHistogram();
  const reconnectHandshake = newHistogram();
  if (o.reconnect > 0) {
    const victims = clients.filter((c) => c.open).slice(0, o.reconnect);
    for (const v of victims) {
      v.open = false;
      try {
        await writeAll(v.conn!, clientFrame(OP.close, new Uint8Array([0x03, 0xe8])));
      } catch { /* closed */ }
      try {
        v.conn!.close();
      } catch { /* closed */ }
    }
    await Promise.all(victims.map(async (_, i) => {
      const c: Client = {
        id: o.clients + i,
        events: 0,
        frames: 0,
        bytes: 0,
        open: false,
        gotFrame: false,
      };
      clients.push(c);
      const t = nowUs();
      const first = new Promise<number>((resolve) => (c.onFirstEvent = resolve));
      try {
        const ms = await start(c);
        reconnectHandshake.recordValue(Math.max(1, Math.round(ms * 1000)));
        const at = await Promise.race([first, sleep(5000).then(() => -1)]);
        if (at > 0) reconnect.recordValue(Math.max(1, Math.round(at - t)));
        else countError("reconnect: no event within 5 s");
      } catch (err) {
        countError(`reconnect: ${err instanceof Error ? err.message : err}`);
      }
    }));
  }

  if (tickTimer !== undefined) clearInterval(tickTimer);
  const result = {
    event: "result",
    label: o.label,
    url: o.url,
    clients: o.clients,
    connected,
    acked,
    failed,
    openAtEnd: clients.filter((c) => c.open).length,
    windows,
    negativeLatencies: negative,
    connectMs: summarize(connectHist),
    connectHistogram: hdr.encodeIntoCompressedBase64(connectHist),
    connectAllMs: Math.round(connectAllMs),
    subscribeAllMs: Math.round(subscribeAllMs),
    reconnectHandshakeMs: summarize(reconnectHandshake),
    reconnectFirstEventMs: summarize(reconnect),
    reconnectHandshakeHistogram: hdr.encodeIntoCompressedBase64(reconnectHandshake),
    reconnectFirstEventHistogram: hdr.encodeIntoCompressedBase64(reconnect),
    closeCodes: Object.fromEntries(closeCodes),
    errors: Object.fromEntries(errors),
    readBufferBytes: bufSize,
  };
  for (const c of clients) {
    if (!c.open) continue;
    c.open = false;
    try {
      c.conn!.close();
    } catch { /* closed */ }
  }
  return result;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** User + system CPU seconds of this process, from /proc/self/stat. */
function cpuSeconds(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

const stdinLines: string[] = [];
let stdinWake: (() => void) | undefined;
let stdinStarted = false;

/** Resolves once a line equal to `expected` has arrived on stdin (lines are consumed). */
async function waitForLine(expected: string): Promise<void> {
  if (!stdinStarted) {
    stdinStarted = true;
    (async () => {
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of Deno.stdin.readable) {
        text += decoder.decode(chunk, { stream: true });
        let nl;
        while ((nl = text.indexOf("\n")) >= 0) {
          stdinLines.push(text.slice(0, nl).trim());
          text = text.slice(nl + 1);
        }
        stdinWake?.();
      }
    })();
  }
  while (true) {
    const i = stdinLines.indexOf(expected);
    if (i >= 0) {
      stdinLines.splice(0, i + 1);
      return;
    }
    await new Promise<void>((r) => (stdinWake = r));
  }
}

if (import.meta.main) {
  const o = parseOptions(Deno.args);
  const result = await runLoadgen(o, (line) => console.log(JSON.stringify(line)));
  console.log(JSON.stringify(result));
  Deno.exit(0);
}

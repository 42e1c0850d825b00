/**
 * bench/parallel_ceiling.ts as the bench runs it (own process, --unstable-net):
 * two isolates share one port, the connections split between them, and every
 * client gets every stamped 200-B frame, paced and saturating.
 * @module
 */
import { DEV_CONFIG } from "../../bench/procs.ts";
import assert from "node:assert/strict";
import { waitFor } from "../helpers.ts";
import { spawn } from "../../bench/procs.ts";

const SCRIPT = new URL("../../bench/parallel_ceiling.ts", import.meta.url).pathname;
const CLIENTS = 20;

interface Seen {
  isolate: number;
  seqs: number[];
  sizes: Set<number>;
  stamped: boolean;
}

async function connect(port: number): Promise<{ ws: WebSocket; seen: Seen }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.binaryType = "arraybuffer";
  const seen: Seen = { isolate: -1, seqs: [], sizes: new Set(), stamped: true };
  const decoder = new TextDecoder();
  ws.onmessage = (e) => {
    if (typeof e.data === "string") {
      seen.isolate = JSON.parse(e.data).isolate;
      return;
    }
    const bytes = new Uint8Array(e.data as ArrayBuffer);
    const text = decoder.decode(bytes);
    seen.sizes.add(bytes.length);
    seen.seqs.push(JSON.parse(text).seq);
    if (!/"benchTs":\d{16},/.test(text)) seen.stamped = false;
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  ws.send("subscribe");
  return { ws, seen };
}

async function closeAll(wss: WebSocket[]): Promise<void> {
  await Promise.all(wss.map((ws) =>
    new Promise((resolve) => {
      ws.onclose = resolve;
      ws.close();
    })
  ));
}

for (const rate of [200, 0]) {
  Deno.test(`parallel ceiling K=2 ${rate ? `paced ${rate}/s` : "saturating"}`, async () => {
    const proc = spawn("parallel", [
      Deno.execPath(),
      "run",
      ...DEV_CONFIG,
      "-A",
      "--unstable-net",
      SCRIPT,
      ...["--port", "0", "--isolates", "2", "--rate", String(rate), "--split-ms", "50"],
    ]);
    try {
      const line = await proc.waitLine((l) => l.includes("listening on"), 20_000);
      const port = Number(/:(\d+) /.exec(line)![1]);
      const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(port)));
      await waitFor(
        () => clients.every((c) => c.seen.seqs.length >= 5),
        10_000,
        "every client to see 5 sequence numbers",
      );
      const split = await proc.waitLine((l) => {
        const m = /"event":"split","clients":\[(.*)\]/.exec(l);
        return m !== null && m[1].split(",").reduce((a, x) => a + Number(x), 0) === CLIENTS;
      }, 5_000);
      await closeAll(clients.map((c) => c.ws));
      for (const { seen } of clients) {
        assert(seen.seqs.length >= 5, `only ${seen.seqs.length} frames`);
        assert.deepEqual([...seen.sizes], [200]);
        assert(seen.stamped, "frame without a µs stamp");
        // No frame lost or reordered on its way through the isolate.
        seen.seqs.forEach((s, i) => i === 0 || assert.equal(s, seen.seqs[i - 1] + 1));
      }
      const isolates = new Set(clients.map((c) => c.seen.isolate));
      assert.deepEqual([...isolates].sort(), [0, 1], "SO_REUSEPORT should use both isolates");
      assert.equal(JSON.parse(split).clients.length, 2);
      await proc.stop("SIGTERM");
      const final = JSON.parse(proc.lines.find((l) => l.startsWith('{"sent"'))!);
      assert.equal(
        final.workers.map((w: { accepted: number }) => w.accepted)
          .reduce((a: number, b: number) => a + b, 0),
        CLIENTS,
      );
      assert.equal(final.skipped, 0);
    } finally {
      await proc.stop("SIGKILL");
    }
  });
}
